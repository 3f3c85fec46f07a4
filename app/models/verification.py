"""Proofs of identity in flight and on record: phone one-time codes, OpenID Connect sign-ins and the handoff
codes that end them, and the accounts people hold at external identity providers.

Nothing here keeps a secret in clear: phone numbers, client addresses, codes and `state` values are stored as
keyed hashes or digests (app/core/security.py).
"""

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict
from pydantic import Field as SchemaField
from sqlalchemy import Index, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.models.base import UTCDateTime, created_at_field, id_field, time_field
from app.models.identity_fields import PhoneNumber


class PhoneCode(SQLModel, table=True):
    """One one-time code sent (or, for an unknown number, pretended to be sent) to a phone."""

    __tablename__ = "phone_code"
    __table_args__ = (
        # Resend limits count a phone's and a client address's recent codes.
        Index("ix_phone_code_phone_key_created_at", "phone_key", "created_at"),
        Index("ix_phone_code_client_key_created_at", "client_key", "created_at"),
    )

    id: uuid.UUID = id_field()
    purpose: str = Field(sa_type=String(20))  # sign_in | account (verify a phone, confirm a link)
    phone_key: str = Field(max_length=64)  # keyed hash of (purpose, E.164 number)
    client_key: str = Field(max_length=64)  # keyed hash of the requesting client address
    code_hash: str = Field(max_length=64)  # keyed hash of the code, bound to this row
    attempts: int = 0
    created_at: datetime = created_at_field()
    expires_at: datetime = Field(sa_type=UTCDateTime)
    used_at: datetime | None = time_field()


class OidcSignIn(SQLModel, table=True):
    """One OpenID Connect sign-in from its start to the front end's exchange of its handoff code.

    The PKCE verifier and the nonce are derived from `state` under the service secret, so neither is stored;
    `state` itself is kept only as a digest.
    """

    __tablename__ = "oidc_sign_in"

    id: uuid.UUID = id_field()
    state_hash: str = Field(max_length=64, unique=True)
    provider: str = Field(max_length=40)
    return_to: str = Field(max_length=500)
    # S256 challenge of a verifier only the front end that started the sign-in holds (RFC 7636 shape).
    handoff_challenge: str = Field(max_length=128)
    link_user_id: uuid.UUID | None = Field(default=None, foreign_key="user_account.id", ondelete="CASCADE")
    created_at: datetime = created_at_field()
    expires_at: datetime = Field(sa_type=UTCDateTime)
    callback_at: datetime | None = time_field()  # the provider's answer arrived (a second one is a replay)
    handoff_hash: str | None = Field(default=None, max_length=64, unique=True)
    user_id: uuid.UUID | None = Field(default=None, foreign_key="user_account.id", ondelete="CASCADE")
    exchanged_at: datetime | None = time_field()


class LinkedIdentity(SQLModel, table=True):
    """An account at an external OpenID provider (its issuer's `sub`), linked to one HocSo account."""

    __tablename__ = "linked_identity"
    __table_args__ = (UniqueConstraint("provider", "subject"),)

    id: uuid.UUID = id_field()
    provider: str = Field(max_length=40)
    subject: str = Field(max_length=255)
    user_id: uuid.UUID = Field(foreign_key="user_account.id", index=True, ondelete="CASCADE")
    created_at: datetime = created_at_field()
    last_sign_in_at: datetime | None = time_field()


# --- API schemas -------------------------------------------------------------------------------------------

_CHALLENGE = r"^[A-Za-z0-9_-]{43,128}$"  # base64url, as PKCE's S256 challenge and verifier (RFC 7636 §4)


class IdentityProviderPublic(BaseModel):
    name: str
    title: str
    assurance: str  # what a sign-in with it proves: "eid" for the national gateway


class OidcStart(BaseModel):
    """Start a sign-in with an OpenID provider from an SPA or a mobile app."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "return_to": "https://hoc.hocso.gov.vn/dang-nhap/ket-qua",
        "handoff_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"}]})

    return_to: str = SchemaField(max_length=500, description=(
        "Where HocSo sends the browser back, with `#code=…` (one of HOCSO_OIDC_RETURN_URLS exactly: an SPA page "
        "or a mobile app's redirect URI)"))
    handoff_challenge: str = SchemaField(pattern=_CHALLENGE, description=(
        "BASE64URL(SHA-256(verifier)) of a random verifier the front end keeps; the same verifier must come "
        "with the code, so a code intercepted on its way back is useless"))
    password: str | None = SchemaField(default=None, max_length=512, description=(
        "Linking an e-ID to the signed-in account: its password, or…"))
    phone_code: str | None = SchemaField(default=None, max_length=12, description=(
        "…a code sent to its phone (POST /api/v1/users/me/phone/code)"))


class OidcStarted(BaseModel):
    authorization_url: str
    expires_in: int


class OidcExchange(BaseModel):
    """The front end trades the one-time code for HocSo's tokens (never carried in a URL)."""

    model_config = ConfigDict(extra="forbid")

    code: str = SchemaField(min_length=10, max_length=100)
    code_verifier: str = SchemaField(pattern=_CHALLENGE)


class PhoneCodeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"phone": "0912 345 678"}]})

    phone: PhoneNumber


class PhoneSignIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"phone": "0912 345 678", "code": "482913"}]})

    phone: PhoneNumber
    code: str = SchemaField(min_length=4, max_length=12)


class PhoneCodeCheck(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = SchemaField(min_length=4, max_length=12)


class CodeSent(BaseModel):
    """The same answer whether or not the number is registered."""

    detail: str
    expires_in: int
