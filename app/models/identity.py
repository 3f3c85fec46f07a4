"""Learners, admins, service clients and the credentials they sign in with."""

import uuid
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, EmailStr
from sqlalchemy import Column, String
from sqlmodel import Field, SQLModel

from app.models.base import JSONType, UTCDateTime, created_at_field, id_field, time_field


class Audience(StrEnum):
    citizen = "citizen"
    official = "official"


class Role(StrEnum):
    learner = "learner"
    content_admin = "content_admin"
    province_admin = "province_admin"
    ministry_admin = "ministry_admin"


ADMIN_ROLES = {Role.content_admin, Role.province_admin, Role.ministry_admin}


class Scope(StrEnum):
    stats_read = "stats:read"
    completions_read = "completions:read"
    completions_write = "completions:write"


class User(SQLModel, table=True):
    __tablename__ = "user_account"

    id: uuid.UUID = id_field()
    phone: str | None = Field(default=None, max_length=16, unique=True)
    email: str | None = Field(default=None, max_length=254, unique=True)
    # Keyed hash of the national ID number (partner completions); the number itself is never stored.
    national_id_hash: str | None = Field(default=None, max_length=64, unique=True)
    full_name: str = Field(max_length=200)
    # Lower-case, accent-free copy of name/phone/email, so admin search ignores Vietnamese diacritics.
    search_text: str = Field(default="", sa_column=Column(String(500), nullable=False, index=True))
    audience: Audience = Field(sa_type=String(10))
    role: Role = Field(default=Role.learner, sa_type=String(20))
    province_code: str | None = Field(default=None, max_length=2, index=True)
    agency: str | None = Field(default=None, max_length=200)
    official_verified_at: datetime | None = time_field()
    official_verified_by: uuid.UUID | None = None
    password_hash: str | None = Field(default=None, max_length=200)
    is_active: bool = True
    created_at: datetime = created_at_field()

    @property
    def is_verified_official(self) -> bool:
        return self.audience == Audience.official and self.official_verified_at is not None

    @property
    def effective_audience(self) -> Audience:
        """An official counts as an official only once verified; until then, as a citizen."""
        return Audience.official if self.is_verified_official else Audience.citizen


class RefreshToken(SQLModel, table=True):
    __tablename__ = "refresh_token"

    id: uuid.UUID = id_field()
    user_id: uuid.UUID = Field(foreign_key="user_account.id", index=True, ondelete="CASCADE")
    token_hash: str = Field(max_length=64, unique=True)
    family_id: uuid.UUID = Field(index=True)
    created_at: datetime = created_at_field()
    expires_at: datetime = Field(sa_type=UTCDateTime)
    rotated_at: datetime | None = time_field()
    revoked_at: datetime | None = time_field()


class ServiceClient(SQLModel, table=True):
    __tablename__ = "service_client"

    id: uuid.UUID = id_field()
    client_id: str = Field(max_length=64, unique=True)
    name: str = Field(max_length=200)
    secret_hash: str = Field(max_length=200)
    scopes: list[str] = Field(default_factory=list, sa_type=JSONType)
    province_code: str | None = Field(default=None, max_length=2)
    is_active: bool = True
    created_at: datetime = created_at_field()


class LoginThrottle(SQLModel, table=True):
    """Failed sign-ins per account and per client IP, shared by every worker through the database."""

    __tablename__ = "login_throttle"

    key: str = Field(primary_key=True, max_length=200)
    failures: int = 0
    first_failure_at: datetime | None = time_field()
    locked_until: datetime | None = time_field()


# --- API schemas -------------------------------------------------------------------------------------------


class UserPublic(BaseModel):
    id: uuid.UUID
    phone: str | None
    email: EmailStr | None
    full_name: str
    audience: Audience
    effective_audience: Audience
    official_verified: bool
    role: Role
    province_code: str | None
    agency: str | None
    created_at: datetime

    @classmethod
    def of(cls, user: User) -> "UserPublic":
        return cls(
            id=user.id, phone=user.phone, email=user.email, full_name=user.full_name, audience=user.audience,
            effective_audience=user.effective_audience, official_verified=user.is_verified_official,
            role=user.role, province_code=user.province_code, agency=user.agency, created_at=user.created_at,
        )


class TokenPair(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int
    refresh_token: str | None = None
    scope: str | None = None
