"""Learners, admins, service clients and the credentials they sign in with."""

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, EmailStr, ValidationInfo, field_validator
from pydantic import Field as SchemaField
from pydantic_core import PydanticCustomError
from sqlalchemy import Column, Index, String
from sqlmodel import Field, SQLModel

from app.core.i18n import messages
from app.models.base import JSONType, UTCDateTime, created_at_field, id_field, time_field
from app.models.identity_fields import (
    PASSWORD_MAX_LENGTH,
    AgencyName,
    EmailAddress,
    NewPassword,
    PersonName,
    PhoneNumber,
    ProvinceCode,
)


class Audience(StrEnum):
    citizen = "citizen"
    official = "official"


class Role(StrEnum):
    learner = "learner"
    content_admin = "content_admin"
    province_admin = "province_admin"
    ministry_admin = "ministry_admin"


ADMIN_ROLES = {Role.content_admin, Role.province_admin, Role.ministry_admin}


class Assurance(StrEnum):
    """How sure HocSo is that an account is one real, unique person (docs/identity.md)."""

    none = "none"  # self-registered, nothing proven
    phone = "phone"  # holds the phone number (one-time code)
    partner = "partner"  # national ID attested by a partner system
    eid = "eid"  # signed in with the national electronic identity


# Weakest to strongest: an account keeps the strongest level it has proven.
ASSURANCE_RANK = {Assurance.none: 0, Assurance.phone: 1, Assurance.partner: 2, Assurance.eid: 3}


def stronger(current: str, proven: str) -> Assurance:
    """The stronger of an account's level and a newly proven one."""
    return max(Assurance(current), Assurance(proven), key=ASSURANCE_RANK.__getitem__)


class Scope(StrEnum):
    stats_read = "stats:read"
    completions_read = "completions:read"
    completions_write = "completions:write"


class User(SQLModel, table=True):
    __tablename__ = "user_account"
    # The completion feed reads each learner's name by id: from this index alone on PostgreSQL (index-only
    # scan), never from the wide heap rows (migration 0004; SQLite ignores INCLUDE).
    __table_args__ = (Index("ix_user_account_id_full_name", "id", postgresql_include=["full_name"]),)

    id: uuid.UUID = id_field()
    phone: str | None = Field(default=None, max_length=16, unique=True)
    email: str | None = Field(default=None, max_length=254, unique=True)
    # Keyed hash of the national ID number (partner completions); the number itself is never stored.
    # One account per person: the unique constraint keeps a national ID on at most one account.
    national_id_hash: str | None = Field(default=None, max_length=64, unique=True)
    assurance: Assurance = Field(default=Assurance.none, sa_type=String(10),
                                 sa_column_kwargs={"server_default": "none"})
    birth_date: date | None = None  # from the national e-ID, when it gives one
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
    assurance: Assurance
    created_at: datetime

    @classmethod
    def of(cls, user: User) -> "UserPublic":
        return cls(
            id=user.id, phone=user.phone, email=user.email, full_name=user.full_name, audience=user.audience,
            effective_audience=user.effective_audience, official_verified=user.is_verified_official,
            role=user.role, province_code=user.province_code, agency=user.agency, assurance=user.assurance,
            created_at=user.created_at,
        )


class TokenPair(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int
    refresh_token: str | None = None
    scope: str | None = None
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "access_token": "eyJhbGciOiJSUzI1NiIsImtpZCI6Ii4uLiJ9.eyJzdWIiOiIuLi4ifQ.c2ln",
        "token_type": "bearer", "expires_in": 900,
        "refresh_token": "q0bF2m9m3C0oJ6N2Kq4y1Tq0s8uXb7Zc2a5d8e1f4g7",
    }]})


messages({
    "value_required": ("Trường này không được để trống.", "This field cannot be empty."),
    "phone_or_email_required": ("Cần số điện thoại hoặc địa chỉ email.",
                                "Give a phone number or an e-mail address."),
    "agency_required": ("Cán bộ, công chức, viên chức cần ghi cơ quan, đơn vị công tác.",
                        "Officials must name the agency they work for."),
    "admin_role_required": ("Vai trò phải là ministry_admin, content_admin hoặc province_admin.",
                            "The role must be ministry_admin, content_admin or province_admin."),
    "province_required": ("Quản trị viên tỉnh cần mã tỉnh, thành phố.",
                          "A province admin needs a province code."),
})


def _required(value: Any) -> Any:
    if value is None:
        raise PydanticCustomError("value_required", "This field cannot be empty")
    return value


# --- Request and response schemas -------------------------------------------------------------------------


class Registration(BaseModel):
    """A learner signing up: phone and/or e-mail, and who they are."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"phone": "0912 345 678", "password": "hoc-so-moi-ngay-2026", "full_name": "Nguyễn Văn An",
         "province_code": "01", "audience": "citizen"},
        {"email": "tran.thi.binh@hanoi.gov.vn", "password": "cong-vu-so-2026", "full_name": "Trần Thị Bình",
         "province_code": "01", "audience": "official", "agency": "Sở Khoa học và Công nghệ Hà Nội"},
    ]})

    phone: PhoneNumber | None = None
    email: EmailAddress | None = SchemaField(default=None, validate_default=True)
    password: NewPassword
    full_name: PersonName
    province_code: ProvinceCode
    audience: Audience
    agency: AgencyName | None = SchemaField(default=None, validate_default=True)

    @field_validator("email")
    @classmethod
    def _phone_or_email(cls, email: str | None, info: ValidationInfo) -> str | None:
        # Only when phone itself was valid and empty: an invalid phone already has its own error.
        if email is None and "phone" in info.data and info.data["phone"] is None:
            raise PydanticCustomError("phone_or_email_required", "Give a phone number or an e-mail address")
        return email

    @field_validator("agency")
    @classmethod
    def _agency_for_officials(cls, agency: str | None, info: ValidationInfo) -> str | None:
        if info.data.get("audience") == Audience.official:
            if not agency:
                raise PydanticCustomError("agency_required", "Officials must name their agency")
            return agency
        return None  # citizens have no agency on record


class ProfileUpdate(BaseModel):
    """What learners may change about themselves; role and audience are not among them."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"full_name": "Nguyễn Văn Ân"}, {"province_code": "79"},
        {"email": "an.nguyen@example.vn", "phone": None},
    ]})

    full_name: PersonName | None = None
    phone: PhoneNumber | None = None
    email: EmailAddress | None = None
    agency: AgencyName | None = None
    province_code: ProvinceCode | None = None

    _not_null = field_validator("full_name", "province_code")(_required)


class AdminAccount(BaseModel):
    """An administrator created by an operator (`hocso users create-admin`)."""

    email: EmailAddress
    password: NewPassword
    role: Role
    province_code: ProvinceCode | None = SchemaField(default=None, validate_default=True)
    full_name: PersonName = "Quản trị viên"

    @field_validator("role")
    @classmethod
    def _admin_role(cls, role: Role) -> Role:
        if role not in ADMIN_ROLES:
            raise PydanticCustomError("admin_role_required", "Not an admin role")
        return role

    @field_validator("province_code")
    @classmethod
    def _province_for_province_admins(cls, code: str | None, info: ValidationInfo) -> str | None:
        if info.data.get("role") == Role.province_admin and not code:
            raise PydanticCustomError("province_required", "A province admin needs a province code")
        return code


class ServiceClientCreate(BaseModel):
    """A ministry or province system that reads statistics or exchanges completions."""

    name: PersonName
    scopes: list[Scope] = SchemaField(min_length=1)
    province_code: ProvinceCode | None = None


class ServiceClientView(BaseModel):
    """A service client as a ministry admin sees it (never its secret)."""

    client_id: str
    name: str
    scopes: list[str]
    province_code: str | None
    is_active: bool


class ServiceClientSecret(BaseModel):
    client_id: str
    client_secret: str = SchemaField(description="Shown only this once; stored hashed")


class TokenRequest(BaseModel):
    """The OAuth2 token form: password grant (RFC 6749 §4.3) or client credentials (§4.4)."""

    grant_type: Literal["password", "client_credentials"] = "password"
    username: str | None = SchemaField(default=None, max_length=254,
                                       description="Phone (any Vietnamese form) or e-mail")
    password: str | None = SchemaField(default=None, max_length=4 * PASSWORD_MAX_LENGTH)
    scope: str = SchemaField(default="", max_length=200,
                             description="Space-separated scopes (client credentials)")
    client_id: str | None = SchemaField(default=None, max_length=64)
    client_secret: str | None = SchemaField(default=None, max_length=200)


class RefreshRequest(BaseModel):
    refresh_token: str = SchemaField(min_length=1, max_length=200)


class UserAdminView(UserPublic):
    """A user as administrators see them in lists."""

    is_active: bool
    official_verified_at: datetime | None

    @classmethod
    def of(cls, user: User) -> "UserAdminView":
        return cls(**UserPublic.of(user).model_dump(), is_active=user.is_active,
                   official_verified_at=user.official_verified_at)


class UserPage(BaseModel):
    items: list[UserAdminView]
    next_cursor: str | None = SchemaField(default=None,
        description="Pass back as `cursor` for the next page; null on the last page")
    total: int = SchemaField(description="Users matching the filters, across all pages")
