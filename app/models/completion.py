"""Completions (immutable, one per learner and course) and the counter buckets the national figures read."""

import uuid
from datetime import date, datetime

from sqlalchemy import BigInteger, Column, Index, Integer, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.models.base import UTCDateTime, created_at_field, utcnow


class Completion(SQLModel, table=True):
    __tablename__ = "completion"
    __table_args__ = (
        UniqueConstraint("user_id", "course_id"),
        UniqueConstraint("client_id", "external_ref"),
        # The feed pages by (txid, seq): see services/completions feed for why commit order needs txid.
        Index("ix_completion_feed", "txid", "seq"),
    )

    # SQLite only auto-increments an INTEGER primary key, hence the variant.
    seq: int | None = Field(default=None, sa_column=Column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True))
    id: uuid.UUID = Field(default_factory=uuid.uuid4, unique=True)
    # PostgreSQL transaction id of the inserting transaction (0 on SQLite, where writers are serialised).
    txid: int = Field(default=0, sa_type=BigInteger)
    user_id: uuid.UUID = Field(foreign_key="user_account.id", index=True)
    course_id: uuid.UUID = Field(foreign_key="course.id", index=True)
    course_version: int
    audience: str = Field(sa_type=String(10))
    province_code: str | None = Field(default=None, max_length=2)
    source: str = Field(default="platform", max_length=10)  # platform | partner
    client_id: str | None = Field(default=None, max_length=64)
    external_ref: str | None = Field(default=None, max_length=200)
    completed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    created_at: datetime = created_at_field()


class CompletionCounter(SQLModel, table=True):
    """Completions per (audience, province, course, local day): many small rows, so no single row is hot."""

    __tablename__ = "completion_counter"
    __table_args__ = (
        UniqueConstraint("day", "audience", "province_code", "course_id"),
        # Stats narrowed to a course or a province read only that slice of a period's buckets.
        Index("ix_completion_counter_course_day", "course_id", "day"),
        Index("ix_completion_counter_province_day", "province_code", "day"),
    )

    id: int | None = Field(default=None, primary_key=True)
    day: date  # in Asia/Ho_Chi_Minh
    audience: str = Field(sa_type=String(10))
    province_code: str = Field(max_length=2)  # "" when unknown
    course_id: uuid.UUID = Field(foreign_key="course.id")
    count: int = 0


class LearnerYear(SQLModel, table=True):
    """Marks a learner's first completion in a year per audience, so distinct learners are counted once."""

    __tablename__ = "learner_year"

    year: int = Field(primary_key=True)
    audience: str = Field(primary_key=True, sa_type=String(10))
    user_id: uuid.UUID = Field(primary_key=True, foreign_key="user_account.id")
    province_code: str = Field(max_length=2)
    day: date


class LearnerCounter(SQLModel, table=True):
    """Distinct learners per (year, audience, province), bumped when a LearnerYear row is first written."""

    __tablename__ = "learner_counter"
    __table_args__ = (UniqueConstraint("year", "audience", "province_code"),)

    id: int | None = Field(default=None, primary_key=True)
    year: int
    audience: str = Field(sa_type=String(10))
    province_code: str = Field(max_length=2)
    count: int = 0


class Programme(SQLModel, table=True):
    """Yearly national targets (officials 10,000; citizens 10,000,000 by default)."""

    __tablename__ = "programme"

    year: int = Field(primary_key=True)
    official_target: int = 10_000
    citizen_target: int = 10_000_000
    updated_at: datetime = created_at_field()
