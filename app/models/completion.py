"""Completions (immutable, one per learner and course) and the counter buckets the national figures read."""

import uuid
from datetime import date, datetime

from pydantic import BaseModel, ConfigDict
from pydantic import Field as PydField
from sqlalchemy import BigInteger, Column, Index, Integer, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.models.base import JSONType, UTCDateTime, created_at_field, utcnow
from app.models.identity import Assurance


class Completion(SQLModel, table=True):
    __tablename__ = "completion"
    __table_args__ = (
        UniqueConstraint("user_id", "course_id"),
        UniqueConstraint("client_id", "external_ref"),
        # The feed pages by (txid, seq): see services/completions feed for why commit order needs txid.
        Index("ix_completion_feed", "txid", "seq"),
        # One province's feed is a range of this index, items included (index-only: a province's rows are 1 in
        # 34 of the table's, so reading them from the heap cost a page read per row). A current unit's
        # completions include those recorded under its former units. PostgreSQL only (SQLite has no INCLUDE).
        Index("ix_completion_province_feed", "current_province_code", "txid", "seq",
              postgresql_include=["feed_item"]),
    )

    # SQLite only auto-increments an INTEGER primary key, hence the variant.
    seq: int | None = Field(default=None, sa_column=Column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True))
    id: uuid.UUID = Field(default_factory=uuid.uuid4, unique=True)
    # PostgreSQL transaction id of the inserting transaction (0 on SQLite, where writers are serialised).
    txid: int = Field(default=0, sa_type=BigInteger)
    # No index of its own: the unique (user_id, course_id) serves lookups by learner (migration 0005).
    user_id: uuid.UUID = Field(foreign_key="user_account.id")
    course_id: uuid.UUID = Field(foreign_key="course.id", index=True)
    course_version: int
    audience: str = Field(sa_type=String(10))
    province_code: str | None = Field(default=None, max_length=2)
    # The current unit province_code belongs to (itself, or a former unit's successor); null when unknown.
    current_province_code: str | None = Field(default=None, max_length=2)
    source: str = Field(default="platform", max_length=10)  # platform | partner
    # How sure HocSo was of who the learner is at that moment (identity.Assurance), frozen like audience.
    assurance: str = Field(default="none", sa_type=String(10), sa_column_kwargs={"server_default": "none"})
    client_id: str | None = Field(default=None, max_length=64)
    external_ref: str | None = Field(default=None, max_length=200)
    completed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    created_at: datetime = created_at_field()
    # The completion as the feed serves it, rendered when recorded (services/feed_items.py says why).
    feed_item: str = Field(sa_type=Text)


class CompletionCounter(SQLModel, table=True):
    """Completions per (local day, audience, province, course, assurance): many small rows, so no single row is
    hot."""

    __tablename__ = "completion_counter"
    __table_args__ = (
        UniqueConstraint("day", "audience", "province_code", "course_id", "assurance",
                         name="uq_completion_counter_bucket"),
        # Stats narrowed to a course or a province read only that slice of a period's buckets.
        Index("ix_completion_counter_course_day", "course_id", "day"),
        Index("ix_completion_counter_province_day", "province_code", "day"),
    )

    id: int | None = Field(default=None, primary_key=True)
    day: date  # in Asia/Ho_Chi_Minh
    audience: str = Field(sa_type=String(10))
    province_code: str = Field(max_length=2)  # "" when unknown
    course_id: uuid.UUID = Field(foreign_key="course.id")
    assurance: str = Field(default="none", sa_type=String(10), sa_column_kwargs={"server_default": "none"})
    count: int = 0


class CompletionYearCounter(SQLModel, table=True):
    """Completions per (local year, audience, province, assurance): the roll-up the national and whole-year
    figures read.

    Bumped with the day bucket in the completion's transaction; a few dozen rows a year, so a year's figure
    is a sum of at most ~130 rows however many completions there are, and per province so no row is hot.
    """

    __tablename__ = "completion_year_counter"
    __table_args__ = (UniqueConstraint("year", "audience", "province_code", "assurance",
                                       name="uq_completion_year_counter_bucket"),)

    id: int | None = Field(default=None, primary_key=True)
    year: int  # in Asia/Ho_Chi_Minh
    audience: str = Field(sa_type=String(10))
    province_code: str = Field(max_length=2)  # "" when unknown
    assurance: str = Field(default="none", sa_type=String(10), sa_column_kwargs={"server_default": "none"})
    count: int = 0


class LearnerYear(SQLModel, table=True):
    """Marks a learner's first completion in a year per audience, so distinct learners are counted once."""

    __tablename__ = "learner_year"

    year: int = Field(primary_key=True)
    audience: str = Field(primary_key=True, sa_type=String(10))
    user_id: uuid.UUID = Field(primary_key=True, foreign_key="user_account.id")
    province_code: str = Field(max_length=2)
    # The assurance of that first completion: distinct learners are counted under it, as under its province.
    assurance: str = Field(default="none", sa_type=String(10), sa_column_kwargs={"server_default": "none"})
    day: date


class LearnerCounter(SQLModel, table=True):
    """Distinct learners per (year, audience, province, assurance), bumped when a LearnerYear row is first
    written."""

    __tablename__ = "learner_counter"
    __table_args__ = (UniqueConstraint("year", "audience", "province_code", "assurance",
                                       name="uq_learner_counter_bucket"),)

    id: int | None = Field(default=None, primary_key=True)
    year: int
    audience: str = Field(sa_type=String(10))
    province_code: str = Field(max_length=2)
    assurance: str = Field(default="none", sa_type=String(10), sa_column_kwargs={"server_default": "none"})
    count: int = 0


class Programme(SQLModel, table=True):
    """Yearly national targets (officials 10,000; citizens 10,000,000 by default)."""

    __tablename__ = "programme"

    year: int = Field(primary_key=True)
    official_target: int = 10_000
    citizen_target: int = 10_000_000
    # Assurance levels whose completions count toward the targets; null: every level (the default).
    counted_assurance: list[str] | None = Field(default=None, sa_type=JSONType)
    updated_at: datetime = created_at_field()


# --- API schemas --------------------------------------------------------------------------------------------


class CertificateLink(BaseModel):
    id: uuid.UUID
    serial: str
    verify_url: str


class CompletionPublic(BaseModel):
    """A learner's completion of a course, as recorded (and frozen) at that moment."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "id": "5b0f7d0e-3c1a-4a7e-9d5e-2f1b8c6a9e10", "course": "ky-nang-so-co-ban", "course_version": 2,
        "completed_at": "2026-03-14T02:30:00Z", "audience": "official", "province_code": "19",
        "certificate": {"id": "0d9c…", "serial": "HS-2026-7K3Q-9XW2",
                        "verify_url": "https://hocso.gov.vn/verify/HS-2026-7K3Q-9XW2"},
    }]})

    id: uuid.UUID
    course: str  # slug
    course_version: int
    completed_at: datetime
    audience: str
    province_code: str | None
    source: str
    assurance: str  # how sure HocSo was of the learner's identity when it was recorded
    certificate: CertificateLink | None = None  # null until the certificate has been issued


class LevelFigures(BaseModel):
    completions: int
    learners: int


class NationalAudienceFigures(BaseModel):
    completions: int
    learners: int  # distinct learners with at least one completion that year
    target: int
    counted_completions: int  # of the assurance levels the programme counts (all by default)
    percent_of_target: float | None  # of counted_completions: two decimals, or three significant figures below 1%
    ratio_of_target: float | None  # counted_completions / target, unrounded
    assurance: dict[str, LevelFigures]  # per level: none, phone, partner, eid


class NationalStats(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "year": 2026, "counted_assurance": ["phone", "partner", "eid"], "audiences": {
            "official": {"completions": 8123, "learners": 5210, "target": 10000, "counted_completions": 8123,
                         "percent_of_target": 81.23, "ratio_of_target": 0.8123, "assurance": {
                             "none": {"completions": 0, "learners": 0},
                             "phone": {"completions": 2100, "learners": 1400},
                             "partner": {"completions": 3023, "learners": 1810},
                             "eid": {"completions": 3000, "learners": 2000}}},
            "citizen": {"completions": 4200311, "learners": 2890122, "target": 10000000,
                        "counted_completions": 4000311, "percent_of_target": 40.0, "ratio_of_target": 0.4000311,
                        "assurance": {
                            "none": {"completions": 200000, "learners": 150000},
                            "phone": {"completions": 2000311, "learners": 1340122},
                            "partner": {"completions": 500000, "learners": 400000},
                            "eid": {"completions": 1500000, "learners": 1000000}}}}}]})

    year: int
    counted_assurance: list[str]
    audiences: dict[str, NationalAudienceFigures]


class ProgrammePublic(BaseModel):
    year: int
    official_target: int
    citizen_target: int
    counted_assurance: list[str]  # assurance levels whose completions count toward the targets
    updated_at: datetime


class ProgrammeUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"official_target": 10000, "citizen_target": 10000000}]})

    official_target: int = PydField(ge=1, le=1_000_000_000)
    citizen_target: int = PydField(ge=1, le=1_000_000_000)
    counted_assurance: list[Assurance] | None = PydField(default=None, min_length=1, description=(
        "Assurance levels whose completions count toward the targets; left out or null: all"))
