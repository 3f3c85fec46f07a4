"""Dependency aliases shared by the routers: the session, the caller, and what the caller may do."""

import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Request
from fastapi.openapi.models import OAuthFlowClientCredentials, OAuthFlowPassword, OAuthFlows
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.client_address import client_address
from app.core.config import Settings
from app.core.db import Database
from app.core.errors import Forbidden, Unauthorized
from app.core.i18n import messages
from app.core.ratelimit import RateLimits
from app.core.security import InvalidToken, KeyRing
from app.core.storage import Storage
from app.models.identity import ADMIN_ROLES, Role, Scope, User
from app.services.identity.access import ClientStatus

messages({
    "invalid_token": ("Mã truy cập không hợp lệ hoặc đã hết hạn.",
                      "The access token is invalid or has expired."),
    "user_token_required": ("Thao tác này cần người dùng đăng nhập, không phải hệ thống kết nối.",
                            "This needs a signed-in user, not a service client."),
    "missing_scope": ("Hệ thống kết nối thiếu quyền {scope}.", "The client lacks the {scope} scope."),
    "province_admin_without_province": ("Tài khoản quản trị tỉnh này chưa được gán tỉnh/thành phố.",
                                        "This province admin account has no province."),
})

# The plain accessors are `async def` on purpose: FastAPI runs a sync dependency in a worker thread, a thread
# hop per dependency per request (an authenticated request had two), for what is an attribute read.
async def get_settings_dep(request: Request) -> Settings:
    return request.app.state.settings


async def get_database(request: Request) -> Database:
    return request.app.state.db


class UnitOfWork:
    """The request's one session, built when first asked for and committed (or rolled back) when the endpoint
    returns, before the response is sent. A request answered from memory (a cached stats answer for a
    service client) never builds one, since building and closing an unused session was a large share of such a
    request's CPU (docs/benchmarks.md, 2026-12-03 fix 3)."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._open = AsyncExitStack()
        self._session: AsyncSession | None = None

    async def session(self) -> AsyncSession:
        if self._session is None:
            self._session = await self._open.enter_async_context(self._db.session())
        return self._session

    async def __aenter__(self) -> "UnitOfWork":
        return self

    async def __aexit__(self, *exc_info: object) -> bool:
        return await self._open.__aexit__(*exc_info)


async def get_unit_of_work(request: Request) -> AsyncIterator[UnitOfWork]:
    async with UnitOfWork(request.app.state.db) as work:
        yield work


WorkDep = Annotated[UnitOfWork, Depends(get_unit_of_work, scope="function")]


async def get_session(work: WorkDep) -> AsyncSession:
    """The request's session (the principal and the endpoint share it)."""
    return await work.session()


def caller_address(request: Request) -> str:
    """The caller's address for per-address limits, through the trusted proxies (app/core/client_address.py)."""
    settings: Settings = request.app.state.settings
    return client_address(request.client.host if request.client else None,
                          request.headers.get("x-forwarded-for"), settings.trusted_proxy_networks)


async def get_rate_limits(request: Request) -> RateLimits:
    return request.app.state.per_worker.rate_limits


async def get_client_status(request: Request) -> ClientStatus:
    return request.app.state.per_worker.client_status


async def get_keys(request: Request) -> KeyRing:
    return request.app.state.keys


async def get_storage(request: Request) -> Storage:
    return request.app.state.storage


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
DatabaseDep = Annotated[Database, Depends(get_database)]
SessionDep = Annotated[AsyncSession, Depends(get_session)]
KeysDep = Annotated[KeyRing, Depends(get_keys)]
StorageDep = Annotated[Storage, Depends(get_storage)]
RateLimitsDep = Annotated[RateLimits, Depends(get_rate_limits)]
ClientStatusDep = Annotated[ClientStatus, Depends(get_client_status)]

TOKEN_URL = "/api/v1/auth/token"
oauth2 = OAuth2PasswordBearer(tokenUrl=TOKEN_URL, scheme_name="OAuth2", auto_error=False)
# The same bearer token comes from either grant of /auth/token; declaring both flows lets Swagger UI's Authorize
# sign in a person (password) or a ministry/province system (client credentials).
oauth2.model.flows = OAuthFlows(
    password=OAuthFlowPassword(tokenUrl=TOKEN_URL, scopes={}),
    clientCredentials=OAuthFlowClientCredentials(tokenUrl=TOKEN_URL, scopes={
        Scope.stats_read.value: "national and provincial figures",
        Scope.completions_read.value: "read the completion feed",
        Scope.completions_write.value: "report partner completions"}),
)


@dataclass
class Principal:
    """Who is calling: a signed-in user, or a service client acting with scopes."""

    user: User | None = None
    client_id: str | None = None
    scopes: set[str] = field(default_factory=set)
    province_code: str | None = None  # a province-scoped client or a province admin

    @property
    def is_admin(self) -> bool:
        return self.user is not None and self.user.role in ADMIN_ROLES


def _verified_claims(token: str | None, keys: KeyRing, settings: Settings) -> dict:
    if not token:
        raise Unauthorized()
    try:
        return keys.decode(token, audience=settings.jwt_audience, issuer=settings.jwt_issuer)
    except InvalidToken as exc:
        raise Unauthorized("invalid_token", headers={
            "WWW-Authenticate": 'Bearer realm="hocso", error="invalid_token"'}) from exc


async def get_principal(work: WorkDep, keys: KeysDep, settings: SettingsDep, db: DatabaseDep,
                        client_status: ClientStatusDep, token: Annotated[str | None, Depends(oauth2)]) -> Principal:
    """A service client from its token and its status (re-read every few seconds: a deactivated client stops
    within them); a user from the token and their account, read in the request's session (so a deactivated
    account is refused at once)."""
    claims = _verified_claims(token, keys, settings)
    subject = str(claims.get("sub", ""))
    if claims.get("role") == "service":
        if not await client_status.is_active(db, subject.removeprefix("client:")):
            raise Unauthorized("invalid_token")  # deactivated: its tokens stop within seconds, not at expiry
        return Principal(client_id=subject.removeprefix("client:"),
                         scopes=set(str(claims.get("scope", "")).split()),
                         province_code=claims.get("province"))
    try:
        user_id = uuid.UUID(subject)
    except ValueError:
        raise Unauthorized("invalid_token") from None
    user = await (await work.session()).get(User, user_id)
    if user is None or not user.is_active:
        raise Unauthorized("invalid_token")
    province = user.province_code if user.role == Role.province_admin else None
    if user.role == Role.province_admin and not province:
        # Fail closed: a province admin without a province would otherwise read as unscoped (every province).
        raise Forbidden("province_admin_without_province")
    return Principal(user=user, province_code=province)


async def get_current_user_id(keys: KeysDep, settings: SettingsDep,
                              token: Annotated[str | None, Depends(oauth2)]) -> uuid.UUID:
    """The signed-in user's id, from the verified token alone, for the busiest learner endpoints (heartbeat,
    completion): their own first query reads the account and refuses it unless active, so reading the user
    row here as well would be a second query (see app/services/progress.py, completion_rules.py)."""
    claims = _verified_claims(token, keys, settings)
    if claims.get("role") == "service":
        raise Forbidden("user_token_required")
    try:
        return uuid.UUID(str(claims.get("sub", "")))
    except ValueError:
        raise Unauthorized("invalid_token") from None


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]


async def get_current_user(principal: CurrentPrincipal) -> User:
    if principal.user is None:
        raise Forbidden("user_token_required")
    return principal.user


CurrentUser = Annotated[User, Depends(get_current_user)]
CurrentUserId = Annotated[uuid.UUID, Depends(get_current_user_id)]


def require_roles(*roles: Role):  # noqa: ANN201
    async def check(user: CurrentUser) -> User:
        if user.role not in roles:
            raise Forbidden()
        return user
    return check


AnyAdmin = Annotated[User, Depends(require_roles(*ADMIN_ROLES))]
ContentAdmin = Annotated[User, Depends(require_roles(Role.content_admin, Role.ministry_admin))]
UserAdmin = Annotated[User, Depends(require_roles(Role.province_admin, Role.ministry_admin))]
MinistryAdmin = Annotated[User, Depends(require_roles(Role.ministry_admin))]


def require_scope(scope: str, *, admins: bool = False):  # noqa: ANN201
    """A service client holding `scope`, or (when `admins`) a ministry or province admin."""

    async def check(principal: CurrentPrincipal) -> Principal:
        if principal.user is not None:
            if admins and principal.user.role in (Role.ministry_admin, Role.province_admin):
                return principal
            raise Forbidden()
        if scope not in principal.scopes:
            raise Forbidden("missing_scope", scope=scope)
        return principal
    return check
