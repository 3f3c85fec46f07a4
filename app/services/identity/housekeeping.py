"""Proofs kept only while they can still matter: phone codes past every limit's window (an hour) and OpenID
sign-ins past their lifetime are deleted by the worker's housekeeping round."""

from datetime import timedelta

from sqlalchemy import delete

from app.core.db import Database
from app.models.base import utcnow
from app.models.verification import OidcSignIn, PhoneCode

KEPT = timedelta(days=1)  # longer than any limit's window or any sign-in's lifetime


async def forget_spent_proofs(db: Database) -> int:
    """Delete phone codes and OpenID sign-ins older than a day; returns how many rows went."""
    cutoff = utcnow() - KEPT
    # Transaction exception «jobs own their sessions» (docs/architecture.md).
    async with db.session() as session:
        codes = (await session.execute(delete(PhoneCode).where(PhoneCode.created_at < cutoff))).rowcount or 0
        flows = (await session.execute(delete(OidcSignIn).where(OidcSignIn.expires_at < cutoff))).rowcount or 0
    return codes + flows
