"""Registration, sign-in (OAuth2 password and client credentials), refresh and sign-out."""

import base64
import binascii
from collections.abc import AsyncIterator
from typing import Annotated
from urllib.parse import unquote_plus

from fastapi import Depends, Form, Request, Response, status
from sqlalchemy.ext.asyncio import AsyncSession

from app.api.deps import DatabaseDep, KeysDep, RateLimitsDep, SessionDep, SettingsDep, caller_address
from app.api.problems import problem
from app.api.v1 import v1_router
from app.core.errors import HocSoError, RateLimited
from app.core.i18n import messages
from app.core.ratelimit import retry_after
from app.models.identity import RefreshRequest, Registration, TokenPair, TokenRequest, UserPublic
from app.services.identity import accounts as identity
from app.services.identity import sign_in as auth

router = v1_router("/auth", tags=["auth"])


messages({"register_rate_limited": ("Quá nhiều lượt đăng ký từ địa chỉ này. Vui lòng thử lại sau {retry_after} giây.",
                                    "Too many registrations from this address. Try again in {retry_after} seconds.")})


async def _session_keeping_refusals(db: DatabaseDep) -> AsyncIterator[AsyncSession]:
    """Like SessionDep, but a refusal marked `keeps_changes` (a counted failure, a revoked token family)
    is committed before it is answered; any other error rolls back as usual."""
    refusal: HocSoError | None = None
    # Transaction exception «sign-in refusals commit» (docs/architecture.md).
    async with db.session() as session:
        try:
            yield session
        except HocSoError as exc:
            if not getattr(exc, "keeps_changes", False):
                raise
            refusal = exc
    if refusal is not None:
        raise refusal


TokenSession = Annotated[AsyncSession, Depends(_session_keeping_refusals, scope="function")]


def _basic_credentials(request: Request) -> tuple[str, str] | None:
    """Client id and secret from `Authorization: Basic` (RFC 6749 §2.3.1: each part form-url-encoded)."""
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic" or not value:
        return None
    try:
        client_id, sep, secret = base64.b64decode(value.strip(), validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return (unquote_plus(client_id), unquote_plus(secret)) if sep else None


def no_store(response: Response) -> None:
    # RFC 6749 §5.1: token responses must not be cached.
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"


@router.post(
    "/register", status_code=status.HTTP_201_CREATED, response_model=UserPublic,
    summary="Register a citizen or an official",
    responses={409: problem("Phone or e-mail already used"),
               422: problem("Invalid fields, each named with its message"),
               429: problem("Too many registrations from this address; see Retry-After")},
)
async def register(data: Registration, request: Request, session: SessionDep, settings: SettingsDep,
                   limits: RateLimitsDep) -> UserPublic:
    """Phone (any Vietnamese form, stored as E.164) and/or e-mail, a password (at least 8 characters and not
    a common one), full name, a current province code and the audience. Officials name their agency and
    count as citizens until a province or ministry admin verifies them. At most HOCSO_REGISTER_RATE_PER_HOUR
    (30) attempts per address an hour, so the 409 for a used phone or e-mail is no faster a way to find
    accounts than signing in."""
    wait = await limits.hit("register", caller_address(request), limit=settings.register_rate_per_hour,
                            window_s=3600)
    if wait is not None:
        raise RateLimited(retry_after(wait), "register_rate_limited")
    return UserPublic.of(await identity.register(session, data))


@router.post(
    "/token", response_model=TokenPair, response_model_exclude_none=True,
    summary="Sign in (OAuth2 password grant) or get a service token (client credentials)",
    responses={400: problem("Scope not granted to the client"),
               401: problem("Wrong credentials"),
               429: problem("Locked after repeated failures; see Retry-After")},
)
async def issue_token(form: Annotated[TokenRequest, Form()], request: Request, response: Response,
                      session: TokenSession, settings: SettingsDep, keys: KeysDep) -> TokenPair:
    """`grant_type=password`: `username` is a phone number (any Vietnamese form) or e-mail. Returns a
    15-minute access token and a 30-day refresh token.
    `grant_type=client_credentials`: `client_id` and `client_secret` as form fields or HTTP Basic, optional
    `scope` (a subset of the client's scopes); no refresh token.
    Past 5 failures within 15 minutes on one account (100 from one address) each further failure locks it a
    little longer: 1 s, doubling, at most 60 s (429 with Retry-After)."""
    if form.grant_type == "client_credentials" and (basic := _basic_credentials(request)):
        form = form.model_copy(update={"client_id": basic[0], "client_secret": basic[1]})
    no_store(response)
    return await auth.issue_token(session, settings, keys, form, client_ip=caller_address(request))


@router.post(
    "/refresh", response_model=TokenPair, response_model_exclude_none=True,
    summary="Exchange a refresh token for a new token pair",
    responses={401: problem("Unknown, expired, revoked or already used refresh token")},
)
async def refresh(body: RefreshRequest, response: Response, session: TokenSession, settings: SettingsDep,
                  keys: KeysDep) -> TokenPair:
    """Each refresh token works once. Presenting one that was already exchanged revokes every token of that
    sign-in (someone else has a copy), and the user must sign in again."""
    no_store(response)
    return await auth.refresh_session(session, settings, keys, body.refresh_token)


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT, summary="Sign out (revoke a refresh token)")
async def logout(body: RefreshRequest, session: SessionDep) -> Response:
    """Revokes the refresh token and every token rotated from the same sign-in. Always 204, so the answer
    does not tell whether the token was valid."""
    await auth.sign_out(session, body.refresh_token)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
