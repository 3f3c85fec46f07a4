"""Background jobs: package imports and certificate PDFs run outside the request, claimed one worker at a time."""

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Index, String
from sqlmodel import Field, SQLModel

from app.models.base import JSONType, UTCDateTime, created_at_field, id_field, time_field, utcnow


class JobKind(StrEnum):
    """Every kind of background job; a domain enqueues another's job by naming its kind, never by importing it."""

    import_package = "import_package"
    issue_certificate = "issue_certificate"
    transcode_video = "transcode_video"


class JobStatus(StrEnum):
    queued = "queued"
    running = "running"
    succeeded = "succeeded"
    failed = "failed"


class Job(SQLModel, table=True):
    __tablename__ = "job"
    __table_args__ = (Index("ix_job_claim", "status", "run_after"),)

    id: uuid.UUID = id_field()
    kind: str = Field(max_length=50)
    payload: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType)
    status: JobStatus = Field(default=JobStatus.queued, sa_type=String(10))
    attempts: int = 0
    max_attempts: int = 3
    run_after: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    locked_at: datetime | None = time_field()
    finished_at: datetime | None = time_field()
    error: str | None = None
    # "database" or "storage" when the last failure was that dependency being down (app/core/faults.py): such a
    # failure is re-queued once the outage has passed (app/services/jobs.py `retry_failed`).
    outage: str | None = Field(default=None, max_length=10)
    created_at: datetime = created_at_field()
