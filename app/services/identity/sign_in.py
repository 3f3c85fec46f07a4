"""Sign-in: the OAuth2 password and client-credentials grants, refresh-token rotation, sign-out, and the
throttle on repeated failures.

Refusals that must leave a trace (a failure counted, a stolen refresh-token family revoked) are raised as
errors with `keeps_changes = True`; the token endpoints' unit of work commits those changes before answering.
"""

import math
import secrets
import uuid
from datetime import datetime, timedelta

import anyio.to_thread
from sqlalchemy import case, delete, literal, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings
from app.core.dialect import insert_for
from app.core.errors import BadRequest, FieldError, RateLimited, Unauthorized, ValidationFailed
from app.core.i18n import messages
from app.core.security import KeyRing, access_claims, digest_token, keyed_hash, verify_secret
from app.models.base import UTCDateTime, utcnow
from app.models.identity import LoginThrottle, RefreshToken, ServiceClient, TokenPair, TokenRequest, User
from app.models.identity_fields import normalise_password
from app.services.identity.accounts import find_by_login, login_identifier

messages({
    "invalid_credentials": ("Sai tên đăng nhập hoặc mật khẩu.", "Wrong username or password."),
    "invalid_client": ("Sai mã hoặc khóa bí mật của hệ thống kết nối.", "Wrong client id or client secret."),
    "invalid_scope": ("Hệ thống kết nối không được cấp quyền: {scopes}.",
                      "The client may not request: {scopes}."),
    "invalid_refresh_token": ("Phiên đăng nhập đã hết hạn hoặc không hợp lệ; vui lòng đăng nhập lại.",
                              "The session has expired or is invalid; please sign in again."),
    "refresh_token_reused": (
        "Mã làm mới đã được dùng trước đó nên mọi phiên liên quan đã bị thu hồi; vui lòng đăng nhập lại.",
        "This refresh token was already used, so its whole session was revoked; please sign in again."),
    "sign_in_locked": ("Đăng nhập sai quá nhiều lần. Vui lòng thử lại sau {retry_after} giây.",
                       "Too many failed sign-ins. Try again in {retry_after} seconds."),
})

_PRUNE_BATCH = 100  # stale throttle rows removed per refused sign-in, so the table stays small


class SignInRefused(Unauthorized):
    """Wrong credentials: the failure is counted (and committed) before the 401 goes out."""

    keeps_changes = True


class RefreshTokenReused(Unauthorized):
    """A rotated refresh token came back: someone holds a copy, so its family is revoked (and committed)."""

    keeps_changes = True


async def issue_token(session: AsyncSession, settings: Settings, keys: KeyRing, form: TokenRequest,
                      *, client_ip: str) -> TokenPair:
    """The token endpoint: users sign in with the password grant, systems with client credentials.
    Both are refused while the account or the caller's IP is locked after repeated failures."""
    if form.grant_type == "client_credentials":
        return await _sign_in_client(session, settings, keys, form, client_ip=client_ip)
    missing = [FieldError("v.missing", field=f) for f in ("username", "password") if not getattr(form, f)]
    if missing:
        raise ValidationFailed(errors=missing)
    return await _sign_in_user(session, settings, keys, str(form.username), str(form.password),
                               client_ip=client_ip)


async def refresh_session(session: AsyncSession, settings: Settings, keys: KeyRing,
                          presented: str) -> TokenPair:
    """A refresh token is good for one use within 30 days; using it returns a new pair in the same family.
    Presenting an already-rotated token revokes the whole family: thief and owner both sign in again."""
    now = utcnow()
    token = await _find_refresh_token(session, presented)
    if token is None or token.revoked_at is not None or token.expires_at <= now:
        raise Unauthorized("invalid_refresh_token")
    # Conditional update: of two concurrent uses of one token, exactly one wins; the other is a reuse.
    rotated = await session.execute(
        update(RefreshToken)
        .where(RefreshToken.id == token.id, RefreshToken.rotated_at.is_(None),
               RefreshToken.revoked_at.is_(None))
        .values(rotated_at=now).execution_options(synchronize_session=False))
    if rotated.rowcount != 1:
        await _revoke_family(session, token.family_id, now)
        raise RefreshTokenReused("refresh_token_reused")
    user = await session.get(User, token.user_id)
    if user is None or not user.is_active:
        raise Unauthorized("invalid_refresh_token")
    return await issue_user_tokens(session, settings, keys, user, family_id=token.family_id)


async def sign_out(session: AsyncSession, presented: str) -> None:
    """Revokes the presented refresh token's whole family; unknown or already revoked tokens change nothing,
    so the answer never tells whether a token was valid. Access tokens already issued expire on their own."""
    token = await _find_refresh_token(session, presented)
    if token is not None and token.revoked_at is None:
        await _revoke_family(session, token.family_id, utcnow())


# --- grants ------------------------------------------------------------------------------------------------


async def _sign_in_user(session: AsyncSession, settings: Settings, keys: KeyRing, username: str,
                        password: str, *, client_ip: str) -> TokenPair:
    identifier = login_identifier(username)
    account = ":".join(identifier) if identifier else username.strip().lower()
    throttle = _throttle_keys(settings, f"user:{account}", client_ip)
    await _refuse_if_locked(session, throttle)
    user = await find_by_login(session, username) if identifier else None
    # Always run one argon2 verification (against a dummy hash for unknown accounts): timing reveals nothing.
    ok = await anyio.to_thread.run_sync(verify_secret, normalise_password(password),
                                        user.password_hash if user else None)
    if not ok or user is None or not user.is_active:
        await _record_failure(session, settings, throttle)
        raise SignInRefused("invalid_credentials")
    await session.execute(delete(LoginThrottle).where(LoginThrottle.key == throttle[0]))
    return await issue_user_tokens(session, settings, keys, user)


async def _sign_in_client(session: AsyncSession, settings: Settings, keys: KeyRing, form: TokenRequest,
                          *, client_ip: str) -> TokenPair:
    client_id = form.client_id or ""
    throttle = _throttle_keys(settings, f"client:{client_id}", client_ip)
    await _refuse_if_locked(session, throttle)
    client = (await session.execute(
        select(ServiceClient).where(ServiceClient.client_id == client_id))).scalar_one_or_none() \
        if client_id else None
    ok = await anyio.to_thread.run_sync(verify_secret, form.client_secret or "",
                                        client.secret_hash if client else None)
    if not ok or client is None or not client.is_active:
        await _record_failure(session, settings, throttle)
        raise SignInRefused("invalid_client", headers={"WWW-Authenticate": 'Basic realm="hocso"'})
    requested = set(form.scope.split()) or set(client.scopes)
    if not requested <= set(client.scopes):
        raise BadRequest("invalid_scope", scopes=" ".join(sorted(requested - set(client.scopes))))
    await session.execute(delete(LoginThrottle).where(LoginThrottle.key == throttle[0]))
    scope = " ".join(sorted(requested))
    extra = {"scope": scope} | ({"province": client.province_code} if client.province_code else {})
    claims = access_claims(settings, subject=f"client:{client.client_id}", role="service",
                           ttl_s=settings.service_token_ttl_s, extra=extra)
    return TokenPair(access_token=keys.sign(claims), expires_in=settings.service_token_ttl_s, scope=scope)


async def check_account_password(session: AsyncSession, settings: Settings, user: User, password: str, *,
                                 client_ip: str) -> bool:
    """A password given outside the token endpoint (linking an e-ID) is a sign-in attempt on that account:
    refused while the account or the address is locked, a wrong one counted against every name it signs in
    with and the address, a right one clearing the account's counts. The caller raises a `keeps_changes`
    refusal when this is False, so the count survives the answer."""
    accounts = [_account_key(settings, f"user:{kind}:{value}")
                for kind, value in (("phone", user.phone), ("email", user.email)) if value]
    throttle = [*accounts, _ip_key(settings, client_ip)]
    await _refuse_if_locked(session, throttle)
    ok = await anyio.to_thread.run_sync(verify_secret, normalise_password(password), user.password_hash)
    if not ok:
        await _record_failure(session, settings, throttle)
        return False
    await session.execute(delete(LoginThrottle).where(LoginThrottle.key.in_(accounts)))
    return True


async def issue_user_tokens(session: AsyncSession, settings: Settings, keys: KeyRing, user: User,
                            *, family_id: uuid.UUID | None = None) -> TokenPair:
    """A 15-minute access JWT and a fresh opaque refresh token (stored only as its SHA-256); a new sign-in
    starts a new family (password, phone code or e-ID alike)."""
    family_id = family_id or uuid.uuid4()
    refresh = secrets.token_urlsafe(32)
    session.add(RefreshToken(user_id=user.id, token_hash=digest_token(refresh), family_id=family_id,
                             expires_at=utcnow() + timedelta(days=settings.refresh_token_ttl_days)))
    await session.flush()
    claims = access_claims(settings, subject=str(user.id), role=user.role, ttl_s=settings.access_token_ttl_s)
    return TokenPair(access_token=keys.sign(claims), expires_in=settings.access_token_ttl_s,
                     refresh_token=refresh)


async def _find_refresh_token(session: AsyncSession, presented: str) -> RefreshToken | None:
    digest = digest_token(presented)
    found = await session.execute(select(RefreshToken).where(RefreshToken.token_hash == digest))
    return found.scalar_one_or_none()


async def _revoke_family(session: AsyncSession, family_id: uuid.UUID, now: datetime) -> None:
    await session.execute(
        update(RefreshToken).where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=now).execution_options(synchronize_session=False))


# --- throttle: failures per account and per client IP, in the database so every worker sees them ---------


def _throttle_keys(settings: Settings, account: str, client_ip: str) -> list[str]:
    """[account key, IP key]; keyed hashes, so the table holds no phone, e-mail or IP address in clear."""
    return [_account_key(settings, account), _ip_key(settings, client_ip)]


def _account_key(settings: Settings, account: str) -> str:
    return f"acct:{keyed_hash(settings.secret_key, 'sign-in-account', account)}"


def _ip_key(settings: Settings, client_ip: str) -> str:
    return f"ip:{keyed_hash(settings.secret_key, 'sign-in-ip', client_ip)}"


async def _refuse_if_locked(session: AsyncSession, keys: list[str]) -> None:
    now = utcnow()
    locked = (await session.execute(select(LoginThrottle.locked_until).where(
        LoginThrottle.key.in_(keys), LoginThrottle.locked_until > now))).scalars().all()
    if locked:
        wait = max(until - now for until in locked).total_seconds()
        raise RateLimited(max(1, math.ceil(wait)), "sign_in_locked")


def lock_seconds(failures: int, threshold: int, cap_s: int) -> int:
    """Progressive: the failure after `threshold` free ones locks for 1 s, each further one doubles it, up to
    `cap_s`. Nobody gets a long lock-out switch for someone else's account, and guessing stays slow."""
    if failures <= threshold:
        return 0
    return min(cap_s, 2 ** min(failures - threshold - 1, 30))


async def _record_failure(session: AsyncSession, settings: Settings, keys: list[str]) -> None:
    """Count one failure on each key with an atomic UPDATE (safe with concurrent workers), then lock the key
    for as long as its count calls for: an account's key after login_max_failures free failures, the
    address's (`ip:`) after login_ip_max_failures, much higher: many learners share a carrier NAT or an office."""
    T = LoginThrottle
    now = utcnow()
    window_start = now - timedelta(seconds=settings.login_lockout_s)
    at_now = literal(now, UTCDateTime())
    # A count whose window has passed starts again from this failure; one that ended a lock keeps growing.
    stale = or_(T.first_failure_at.is_(None), T.first_failure_at < window_start)
    for key in keys:
        threshold = settings.login_ip_max_failures if key.startswith("ip:") else settings.login_max_failures
        await session.execute(insert_for(session, T).values(key=key, failures=0)
                              .on_conflict_do_nothing(index_elements=["key"]))
        failures = (await session.execute(
            update(T).where(T.key == key)
            .values(failures=case((stale, 1), else_=T.failures + 1),
                    first_failure_at=case((stale, at_now), else_=T.first_failure_at))
            .returning(T.failures).execution_options(synchronize_session=False))).scalar_one()
        if wait := lock_seconds(failures, threshold, settings.login_max_lock_s):
            await session.execute(update(T).where(T.key == key).values(locked_until=now + timedelta(seconds=wait))
                                  .execution_options(synchronize_session=False))
    # Forget counts nobody can hit any more; SKIP LOCKED so two refusals never wait on each other's rows.
    stale_keys = (select(T.key).where(T.first_failure_at < window_start,
                                      or_(T.locked_until.is_(None), T.locked_until <= now))
                  .limit(_PRUNE_BATCH).with_for_update(skip_locked=True))
    await session.execute(delete(T).where(T.key.in_(stale_keys)).execution_options(synchronize_session=False))
