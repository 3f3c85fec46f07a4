"""Spent phone codes and OpenID sign-ins are deleted after a day."""

from datetime import timedelta

from sqlalchemy import func, select

from app.models.base import utcnow
from app.models.verification import OidcSignIn, PhoneCode
from app.services.identity.housekeeping import forget_spent_proofs


def code(at) -> PhoneCode:  # noqa: ANN001
    return PhoneCode(purpose="sign_in", phone_key="p", client_key="c", code_hash="h", created_at=at,
                     expires_at=at + timedelta(minutes=5))


def sign_in(at) -> OidcSignIn:  # noqa: ANN001
    return OidcSignIn(state_hash=f"s{at.timestamp()}", provider="vneid", return_to="x", handoff_challenge="c",
                      created_at=at, expires_at=at + timedelta(minutes=10))


async def test_only_proofs_older_than_a_day_are_deleted(db, session):
    now, old = utcnow(), utcnow() - timedelta(days=2)
    session.add_all([code(now), code(old), sign_in(now), sign_in(old)])
    await session.commit()
    assert await forget_spent_proofs(db) == 2
    for model in (PhoneCode, OidcSignIn):
        assert (await session.execute(select(func.count()).select_from(model))).scalar_one() == 1
