"""Taking access away: deactivating accounts and service clients, rotating a client's secret (issue 18, item 8).

A user's access token is refused as soon as their account is inactive (every request reads the account, or its
first query joins it). A service client's token carries no account read, so each worker remembers whether a
client is active for at most CLIENT_STATUS_TTL_S: a deactivated client's tokens stop working within seconds on
every worker, not when they expire. A rotated secret stops new tokens at once; tokens already issued with the
old one run out within HOCSO_SERVICE_TOKEN_TTL_S, or at once if the client is also deactivated.
"""

import secrets
import time
import uuid
from collections.abc import Callable

import anyio.to_thread
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.db import Database
from app.core.errors import Conflict, NotFound
from app.core.i18n import messages
from app.core.security import hash_secret
from app.models.base import utcnow
from app.models.identity import RefreshToken, Role, ServiceClient, User

CLIENT_STATUS_TTL_S = 5.0
_CLIENTS_KEPT = 10_000

messages({
    "user_not_found": ("Không tìm thấy người dùng trong phạm vi của bạn.", "No such user in your scope."),
    "cannot_deactivate_self": ("Không thể tự khóa tài khoản của mình.", "You cannot deactivate your own account."),
    "client_not_found": ("Không tìm thấy hệ thống kết nối {client_id}.", "There is no client {client_id}."),
})


class ClientStatus:
    """Per worker (one in `app/api/per_worker.py`): whether each service client is active, as read at most
    `ttl_s` ago."""

    def __init__(self, ttl_s: float = CLIENT_STATUS_TTL_S, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl_s, self.clock = ttl_s, clock
        self._seen: dict[str, tuple[bool, float]] = {}

    async def is_active(self, db: Database, client_id: str) -> bool:
        """Read on its own short connection, returned at once: a request that needs no session (the feed, a
        cached stats answer) must not hold a second pooled connection for the whole request because of it."""
        now = self.clock()
        seen = self._seen.get(client_id)
        if seen is not None and now - seen[1] < self.ttl_s:
            return seen[0]
        # Transaction exception «service-client status read» (docs/architecture.md).
        async with db.autocommit() as conn:
            active = (await conn.execute(select(ServiceClient.is_active).where(
                ServiceClient.client_id == client_id))).scalar_one_or_none()
        # No row: a client the platform never created (tokens are only ever ours); kept as before.
        verdict = active is not False
        if len(self._seen) >= _CLIENTS_KEPT:
            self._seen.clear()
        self._seen[client_id] = (verdict, now)
        return verdict

    def forget(self, client_id: str) -> None:
        self._seen.pop(client_id, None)


async def set_user_active(session: AsyncSession, admin: User, user_id: uuid.UUID, *, active: bool) -> User:
    """A ministry admin (de)activates any account but their own; a province admin, learners of their province.
    Deactivating also revokes every refresh token, so no new access token can be had."""
    user = await session.get(User, user_id)
    in_scope = user is not None and (admin.role == Role.ministry_admin or (
        admin.role == Role.province_admin and user.role == Role.learner
        and user.province_code is not None and user.province_code == admin.province_code))
    if user is None or not in_scope:
        raise NotFound("user_not_found")  # the same answer as for an account that does not exist
    if user.id == admin.id:
        raise Conflict("cannot_deactivate_self")
    user.is_active = active
    if not active:
        await session.execute(update(RefreshToken).where(
            RefreshToken.user_id == user.id, RefreshToken.revoked_at.is_(None)).values(revoked_at=utcnow()))
    await session.flush()
    return user


async def _client(session: AsyncSession, client_id: str) -> ServiceClient:
    client = (await session.execute(select(ServiceClient).where(
        ServiceClient.client_id == client_id))).scalar_one_or_none()
    if client is None:
        raise NotFound("client_not_found", client_id=client_id)
    return client


async def set_client_active(session: AsyncSession, statuses: ClientStatus, client_id: str, *,
                            active: bool) -> ServiceClient:
    """A deactivated client gets no new token and its tokens stop within CLIENT_STATUS_TTL_S on every worker (at
    once on this one: it forgets what `statuses` remembered)."""
    client = await _client(session, client_id)
    client.is_active = active
    await session.flush()
    statuses.forget(client_id)
    return client


async def rotate_client_secret(session: AsyncSession, client_id: str) -> tuple[ServiceClient, str]:
    """A new secret, shown once and stored hashed; the old one stops working at once."""
    client = await _client(session, client_id)
    secret = secrets.token_urlsafe(32)
    client.secret_hash = await anyio.to_thread.run_sync(hash_secret, secret)
    await session.flush()
    return client, secret
