"""Certificates: a serial anyone can verify, printed facts frozen at issue, revocation that never hides."""

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel
from pydantic import Field as PydanticField
from sqlalchemy import Index, text
from sqlmodel import Field, SQLModel

from app.models.base import JSONType, created_at_field, id_field, time_field


class CertificateStatus(StrEnum):
    valid = "valid"
    revoked = "revoked"


SUPERSEDED = "superseded"  # the revoked_reason of a certificate replaced by a reissue


class Certificate(SQLModel, table=True):
    __tablename__ = "certificate"
    __table_args__ = (
        # A completion has at most one valid certificate; reissues revoke the old one first.
        Index("uq_certificate_valid_per_completion", "completion_id", unique=True,
              sqlite_where=text("status = 'valid'"), postgresql_where=text("status = 'valid'")),
    )

    id: uuid.UUID = id_field()
    serial: str = Field(max_length=32, unique=True)
    completion_id: uuid.UUID = Field(foreign_key="completion.id", index=True)
    user_id: uuid.UUID = Field(foreign_key="user_account.id", index=True)
    facts: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType)  # what the PDF prints
    pdf_key: str | None = Field(default=None, max_length=500)
    status: str = Field(default="valid", max_length=10)  # valid | revoked
    revoked_reason: str | None = Field(default=None, max_length=500)
    revoked_at: datetime | None = time_field()
    # Indexed so the verification of a reissued certificate finds the one it replaced.
    superseded_by_id: uuid.UUID | None = Field(default=None, foreign_key="certificate.id", index=True)
    issued_at: datetime = created_at_field()


# --- API schemas -------------------------------------------------------------------------------------------


class CertificateFacts(BaseModel):
    """Everything the PDF prints, as frozen when the certificate was issued."""

    full_name: str = PydanticField(examples=["Nguyễn Thị Hồng Nhung"])
    course_title: str = PydanticField(examples=["Kỹ năng số cơ bản"])
    course_slug: str = PydanticField(examples=["ky-nang-so-co-ban"])
    course_version: int = PydanticField(examples=[1])
    hours: float | None = PydanticField(description="Estimated study time in hours, to the half hour",
                                        examples=[1.5])
    completed_on: date = PydanticField(description="Local date (Asia/Ho_Chi_Minh) of the completion")
    province_code: str | None = PydanticField(examples=["01"])
    province_name: str | None = PydanticField(examples=["Hà Nội"])
    audience: str = PydanticField(description="citizen | official", examples=["citizen"])
    issuing_body: str = PydanticField(examples=["Bộ Khoa học và Công nghệ"])
    issuing_place: str | None = PydanticField(default=None, examples=["Hà Nội"],
                                              description="Printed before the date of issue; absent on "
                                                          "certificates issued before it was recorded")


class CertificatePublic(BaseModel):
    id: uuid.UUID
    serial: str = PydanticField(examples=["HS-2026-7K3Q-9XW2-M"])
    status: CertificateStatus
    revoked_reason: str | None = None
    revoked_at: datetime | None = None
    issued_at: datetime
    facts: CertificateFacts
    verify_url: str = PydanticField(description="Public verification page (what the QR code opens)")
    pdf_url: str
    credential_url: str


class CertificateVerification(BaseModel):
    """The public answer for one serial: its status and every printed fact. Revoked certificates stay here."""

    serial: str = PydanticField(examples=["HS-2026-7K3Q-9XW2-M"])
    status: CertificateStatus
    valid: bool
    revoked_reason: str | None = PydanticField(default=None, examples=[None])
    revoked_at: datetime | None = None
    superseded_by: str | None = PydanticField(default=None, description="Serial of the certificate reissued "
                                              "in place of this one")
    replaces: str | None = PydanticField(default=None,
                                         description="Serial of the certificate this one replaced")
    issued_at: datetime
    facts: CertificateFacts
    verify_url: str


class RevokeRequest(BaseModel):
    reason: str = PydanticField(min_length=3, max_length=500, examples=["Cấp nhầm do lỗi nhập liệu"])


class CredentialResponse(BaseModel):
    credential: str = PydanticField(
        description="Open Badges 3.0 OpenBadgeCredential as a compact VC-JWT (RS256)")
    format: str = "vc+jwt"
    issuer: str = PydanticField(description="Issuer profile URL (the `iss` claim)")
    jwks_uri: str = PydanticField(description="Where the public key named by the JWT's `kid` is published")


class CredentialPresentation(BaseModel):
    credential: str = PydanticField(min_length=1, max_length=20_000, description="A compact VC-JWT")


class CredentialChecks(BaseModel):
    signature: bool = PydanticField(description="RS256 signature by a key in our JWKS, named by `kid`")
    issuer: bool = PydanticField(description="`iss` and the credential's issuer are our issuer profile")
    status: bool = PydanticField(description="The certificate exists and is not revoked")


class CredentialVerification(BaseModel):
    valid: bool
    checks: CredentialChecks
    serial: str | None = None
    certificate_status: CertificateStatus | None = None
    revoked_reason: str | None = None
    superseded_by: str | None = None
    reason: str | None = PydanticField(default=None, description="Why the credential did not verify")
