"""The sign-in throttle's window and lock, and what happens when requests race."""

import asyncio
from datetime import timedelta

from sqlalchemy import select, update

from app.core.errors import HocSoError, RateLimited
from app.models.base import utcnow
from app.models.identity import LoginThrottle, Registration, TokenRequest
from app.services.identity import accounts as identity
from app.services.identity import sign_in as auth
from tests.factories import PASSWORD, make_user

IP = "203.0.113.10"


def password_form(username: str, password: str = PASSWORD) -> TokenRequest:
    return TokenRequest(grant_type="password", username=username, password=password)


async def attempt(db, settings, keyring, form: TokenRequest, ip: str = IP):
    """One sign-in in its own unit of work, committing what a refusal records (as the token endpoint does)."""
    try:
        async with db.session() as session:
            try:
                return await auth.issue_token(session, settings, keyring, form, client_ip=ip)
            except HocSoError as exc:
                if not getattr(exc, "keeps_changes", False):
                    raise
                return exc
    except HocSoError as exc:
        return exc


async def throttle_rows(db) -> list[LoginThrottle]:
    async with db.session() as session:
        return list((await session.execute(select(LoginThrottle))).scalars())


async def test_throttle_rows_hold_no_login_or_ip_in_clear(db, settings, keyring, session):
    user = await make_user(session, phone="+84912345678")
    await attempt(db, settings, keyring, password_form("0912 345 678", "wrong-password"))
    keys = [row.key for row in await throttle_rows(db)]
    assert len(keys) == 2 and {k.split(":")[0] for k in keys} == {"acct", "ip"}
    assert not any("912345678" in k or user.email in k or IP in k for k in keys)


async def test_every_form_of_one_phone_counts_against_the_same_account(db, settings, keyring, session):
    await make_user(session, phone="+84912345678")
    for i, typed in enumerate(["0912345678", "+84 912 345 678", "84912345678"]):
        await attempt(db, settings, keyring, password_form(typed, "wrong-password"), ip=f"203.0.113.{i}")
    account = [r for r in await throttle_rows(db) if r.key.startswith("acct:")]
    assert len(account) == 1 and account[0].failures == 3


async def test_locks_are_short_grow_with_each_failure_and_end(db, settings, keyring, session):
    settings.login_max_failures = 2
    user = await make_user(session)
    for _ in range(2):  # the free failures lock nothing
        await attempt(db, settings, keyring, password_form(user.email, "wrong-password"))
    assert not isinstance(await attempt(db, settings, keyring, password_form(user.email)), HocSoError)
    for _ in range(3):
        await attempt(db, settings, keyring, password_form(user.email, "wrong-password"))
    refused = await attempt(db, settings, keyring, password_form(user.email))
    assert isinstance(refused, RateLimited) and refused.headers["Retry-After"] == "1"  # the 3rd past the free

    await session.execute(update(LoginThrottle).values(locked_until=utcnow() - timedelta(seconds=1)))
    before = utcnow()
    await attempt(db, settings, keyring, password_form(user.email, "wrong-password"))
    after = utcnow()
    account = [r for r in await throttle_rows(db) if r.key.startswith("acct:")][0]
    assert account.failures == 4 and account.locked_until is not None  # the count goes on: a longer lock
    # 2 s from the moment of the failure, however long a loaded machine took to hash the password
    assert before + timedelta(seconds=2) <= account.locked_until <= after + timedelta(seconds=2)
    await session.execute(update(LoginThrottle).values(locked_until=utcnow() - timedelta(seconds=1)))
    assert not isinstance(await attempt(db, settings, keyring, password_form(user.email)), HocSoError)
    assert not [r for r in await throttle_rows(db) if r.key.startswith("acct:")]  # success clears it


async def test_failures_older_than_the_window_are_forgotten(db, settings, keyring, session):
    settings.login_max_failures = 2
    user = await make_user(session)
    await attempt(db, settings, keyring, password_form(user.email, "wrong-password"))
    long_ago = utcnow() - timedelta(seconds=settings.login_lockout_s + 1)
    await session.execute(update(LoginThrottle).values(first_failure_at=long_ago))
    await attempt(db, settings, keyring, password_form(user.email, "wrong-password"))
    assert {r.failures for r in await throttle_rows(db)} == {1}  # not 2: no lock


async def test_stale_counts_of_others_are_pruned(db, settings, keyring, session):
    user = await make_user(session)
    long_ago = utcnow() - timedelta(seconds=settings.login_lockout_s + 1)
    session.add(LoginThrottle(key="acct:someone-else", failures=3, first_failure_at=long_ago))
    await session.flush()
    await attempt(db, settings, keyring, password_form(user.email, "wrong-password"))
    assert "acct:someone-else" not in {r.key for r in await throttle_rows(db)}


async def test_a_registered_password_typed_decomposed_still_signs_in(db, settings, keyring, session):
    await identity.register(session, Registration(
        email="an@example.vn", password="ma\u0323\u0302t-khâ\u0309u-2026", full_name="An",
        province_code="01", audience="citizen"))
    tokens = await attempt(db, settings, keyring, password_form("an@example.vn", "mật-khẩu-2026"))
    assert tokens.access_token and tokens.refresh_token


# --- races, with real commits ---------------------------------------------------------------------------


async def test_concurrent_failures_lock_the_account_without_errors(committed_db, settings, keyring):
    settings.login_max_failures = 3
    async with committed_db.session() as session:
        user = await make_user(session)
    results = await asyncio.gather(*[
        attempt(committed_db, settings, keyring, password_form(user.email, "wrong-password"),
                ip=f"198.51.100.{i}")
        for i in range(settings.login_max_failures + 2)])
    assert all(getattr(r, "status", None) in (401, 429) for r in results), results
    locked = await attempt(committed_db, settings, keyring, password_form(user.email), ip="192.0.2.1")
    assert isinstance(locked, RateLimited)


async def test_one_refresh_token_used_twice_at_once_yields_one_pair(committed_db, settings, keyring):
    async with committed_db.session() as session:
        user = await make_user(session)
    pair = await attempt(committed_db, settings, keyring, password_form(user.email))

    async def use_refresh_token():
        return await attempt_refresh(committed_db, settings, keyring, pair.refresh_token)

    results = await asyncio.gather(use_refresh_token(), use_refresh_token())
    refused = [r for r in results if isinstance(r, HocSoError)]
    assert len(refused) == 1 and refused[0].code == "refresh_token_reused"


async def attempt_refresh(db, settings, keyring, token: str):
    async with db.session() as session:
        try:
            return await auth.refresh_session(session, settings, keyring, token)
        except auth.RefreshTokenReused as exc:
            return exc
