"""Certificates: a serial anyone can verify, the printed facts frozen at issue, and revocation that never hides."""

import uuid
from datetime import datetime
from typing import Any

from sqlmodel import Field, SQLModel

from app.models.base import JSONType, created_at_field, id_field, time_field


class Certificate(SQLModel, table=True):
    __tablename__ = "certificate"

    id: uuid.UUID = id_field()
    serial: str = Field(max_length=32, unique=True)
    completion_id: uuid.UUID = Field(foreign_key="completion.id", index=True)
    user_id: uuid.UUID = Field(foreign_key="user_account.id", index=True)
    facts: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType)  # what the PDF prints
    pdf_key: str | None = Field(default=None, max_length=500)
    status: str = Field(default="valid", max_length=10)  # valid | revoked
    revoked_reason: str | None = Field(default=None, max_length=500)
    revoked_at: datetime | None = time_field()
    superseded_by_id: uuid.UUID | None = Field(default=None, foreign_key="certificate.id")
    issued_at: datetime = created_at_field()
