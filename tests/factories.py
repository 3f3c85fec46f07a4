"""Builders for test data: each returns a persisted row; tokens are signed like the real ones."""

import uuid
from itertools import count

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings
from app.core.security import KeyRing, access_claims, hash_secret
from app.models.base import utcnow
from app.models.identity import Audience, Role, User

_seq = count(1)
PASSWORD = "Mat-khau-rat-manh-2026"
_PASSWORD_HASH = hash_secret(PASSWORD)  # hashing is slow by design; do it once


async def make_user(session: AsyncSession, *, role: Role = Role.learner, audience: Audience = Audience.citizen,
                    province_code: str | None = "01", full_name: str = "Nguyễn Thị Hồng Nhung",
                    verified: bool = False, agency: str | None = None, email: str | None = None,
                    phone: str | None = None) -> User:
    n = next(_seq)
    user = User(
        email=email or f"user{n}-{uuid.uuid4().hex[:6]}@example.vn",
        phone=phone,
        full_name=full_name,
        search_text=full_name.lower(),
        audience=audience,
        role=role,
        province_code=province_code,
        agency=agency or ("Sở Nội vụ" if audience == Audience.official else None),
        official_verified_at=utcnow() if verified else None,
        password_hash=_PASSWORD_HASH,
    )
    session.add(user)
    await session.flush()
    return user


def token_for(keyring: KeyRing, settings: Settings, user: User, *, ttl_s: int = 900) -> str:
    return keyring.sign(access_claims(settings, subject=str(user.id), role=user.role, ttl_s=ttl_s))


def service_token(keyring: KeyRing, settings: Settings, *, scopes: list[str], province: str | None = None,
                  client_id: str = "test-client") -> str:
    extra = {"scope": " ".join(scopes), **({"province": province} if province else {})}
    return keyring.sign(access_claims(settings, subject=f"client:{client_id}", role="service", ttl_s=900,
                                      extra=extra))


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
