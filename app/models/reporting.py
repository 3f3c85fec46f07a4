"""Reporting: intakes ("đợt học") where a province assigns courses to learners with a deadline, and the API
shapes of the national figures, the completion feed and partner completions."""

import uuid
from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, computed_field
from pydantic import Field as PydField
from sqlmodel import Field, SQLModel

from app.models.base import UTCDateTime, UtcMoment, created_at_field, id_field
from app.models.identity import Assurance, Audience


class Intake(SQLModel, table=True):
    """An intake (đợt học). The tables keep their round-1 names (`cohort`, `cohort_course`, `cohort_member`, column
    `cohort_id`): renaming them would rewrite production tables for a word; the code says intake everywhere."""

    __tablename__ = "cohort"

    id: uuid.UUID = id_field()
    province_code: str = Field(max_length=2, index=True)
    name: str = Field(max_length=300)
    opens_at: datetime = Field(sa_type=UTCDateTime)
    deadline: datetime = Field(sa_type=UTCDateTime)
    created_by: uuid.UUID | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
    created_at: datetime = created_at_field()


class IntakeCourse(SQLModel, table=True):
    __tablename__ = "cohort_course"

    intake_id: uuid.UUID = Field(foreign_key="cohort.id", primary_key=True, ondelete="CASCADE",
                                 sa_column_kwargs={"name": "cohort_id"})
    course_id: uuid.UUID = Field(foreign_key="course.id", primary_key=True, ondelete="CASCADE")


class IntakeMember(SQLModel, table=True):
    __tablename__ = "cohort_member"

    intake_id: uuid.UUID = Field(foreign_key="cohort.id", primary_key=True, ondelete="CASCADE",
                                 sa_column_kwargs={"name": "cohort_id"})
    user_id: uuid.UUID = Field(foreign_key="user_account.id", primary_key=True, index=True,
                               ondelete="CASCADE")
    added_at: datetime = created_at_field()


# --- stats --------------------------------------------------------------------------------------------------


class StatsPeriod(BaseModel):
    first_day: date  # local days in Asia/Ho_Chi_Minh, both inclusive
    last_day: date
    year: int | None = None  # set when the period is exactly one calendar year


class AssuranceFigures(BaseModel):
    completions: int = 0
    learners: int | None = None


# Per assurance level (every one of none, phone, partner, eid, zero when none), as snapshotted on each
# completion; learners are counted under the level of their first completion of the year. The summary's
# `assurance` and the rows' opt-in `by_assurance` (`?breakdown=assurance`) are this one shape.
ByAssurance = dict[str, AssuranceFigures]


def by_assurance_field() -> Any:
    """`by_assurance` of a row: present only when `breakdown=assurance` was asked for, absent otherwise (not
    null), so the answers without it stay byte for byte what they were."""
    return PydField(default=None, exclude_if=lambda value: value is None, description=(
        "Only with `breakdown=assurance`: the row's completions and learners per assurance level (none, phone, "
        "partner, eid), the same shape as the summary's `assurance`; the levels' completions add up to the "
        "row's `completions`"))


class AudienceFigures(BaseModel):
    completions: int
    learners: int | None = None  # distinct learners; null when the buckets cannot tell (see the route docs)
    target: int | None = None  # the national programme target of the period's year
    # Completions of the assurance levels the programme counts toward its target (all of them by default)
    counted_completions: int = 0
    # Of counted_completions: two decimals, or three significant figures below 1% (22 of 10,000,000: 0.00022);
    # the ratio unrounded
    percent_of_target: float | None = None
    ratio_of_target: float | None = None
    assurance: ByAssurance = {}  # per assurance level (see ByAssurance)


class StatsSummary(BaseModel):
    period: StatsPeriod
    province: str | None = None
    course: str | None = None
    assurance: list[str] | None = None  # the levels asked for (`assurance=`), null for all
    counted_assurance: list[str]  # the levels the year's programme counts toward its target
    audiences: dict[Audience, AudienceFigures]


class UnitFigures(BaseModel):
    completions: int = 0
    learners: int | None = None


class UnassignedFigures(UnitFigures):
    by_assurance: ByAssurance | None = by_assurance_field()


class ProvinceFigures(BaseModel):
    code: str
    name: str
    successor_code: str | None = None  # former units only: the current unit that absorbed it
    completions: int
    learners: int | None = None
    audiences: dict[Audience, UnitFigures]
    by_assurance: ByAssurance | None = by_assurance_field()


class ProvincesStats(BaseModel):
    period: StatsPeriod
    units: Literal["current", "former"]
    province: str | None = None
    course: str | None = None
    items: list[ProvinceFigures]
    unassigned: UnassignedFigures  # completions recorded without a known province


class CourseFigures(BaseModel):
    course_id: uuid.UUID
    slug: str
    title: str | None = None
    completions: int
    learners: int
    audiences: dict[Audience, UnitFigures]
    by_assurance: ByAssurance | None = by_assurance_field()


class CoursesStats(BaseModel):
    period: StatsPeriod
    province: str | None = None
    course: str | None = None
    items: list[CourseFigures]


class TimePoint(BaseModel):
    period: str  # "2026-03-05" (day) or "2026-03" (month)
    completions: int
    audiences: dict[Audience, int]
    by_assurance: ByAssurance | None = by_assurance_field()


class Timeseries(BaseModel):
    period: StatsPeriod
    granularity: Literal["day", "month"]
    province: str | None = None
    course: str | None = None
    points: list[TimePoint]


# --- completion feed and partner completions ----------------------------------------------------------------


class FeedCompletion(BaseModel):
    id: uuid.UUID
    user_id: uuid.UUID
    full_name: str
    course_id: uuid.UUID
    course_slug: str
    course_version: int
    audience: Audience
    assurance: Assurance  # how sure HocSo was of the learner when they completed (snapshotted, docs/identity.md)
    province_code: str | None  # as recorded at completion (may be a former unit)
    current_province_code: str | None  # the current unit it belongs to
    source: str
    client_id: str | None = None
    external_ref: str | None = None
    completed_at: datetime


class FeedPage(BaseModel):
    items: list[FeedCompletion]
    next_cursor: str | None  # resume here, now or later; null only when nothing has been served yet
    has_more: bool  # more rows are ready right now: fetch the next page at once


class PartnerCompletionIn(BaseModel):
    """A completion from an in-person class or a partner system. Give `national_id` or `phone` (or both)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "national_id": "001190012345", "full_name": "Trần Văn Bình", "audience": "official",
        "province_code": "19", "course": "ky-nang-so-co-ban", "completed_at": "2026-03-14T09:30:00+07:00",
        "external_ref": "lop-tn-2026-03/0042", "agency": "UBND xã Phú Lương",
    }]})

    national_id: str | None = PydField(default=None, max_length=20)
    phone: str | None = PydField(default=None, max_length=30)
    full_name: str = PydField(min_length=1, max_length=200)
    audience: Audience
    province_code: str = PydField(min_length=2, max_length=2)
    course: str = PydField(min_length=1, max_length=100)
    completed_at: UtcMoment | None = None
    # No control characters: a reference is printable, and it keeps a feed item within an index row's size.
    external_ref: str = PydField(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f\x7f]+$")
    agency: str | None = PydField(default=None, max_length=200)


class PartnerBatchIn(BaseModel):
    items: list[dict[str, Any]] = PydField(
        min_length=1, max_length=1000,
        description="Up to 1,000 completions, each shaped as the body of POST /api/v1/completions; "
                    "each is checked on its own, and `row` in the answer is its index in this list.")


PartnerStatus = Literal["created", "duplicate", "already_completed", "rejected"]


class PartnerResult(BaseModel):
    row: int | None = None
    status: PartnerStatus
    learner_id: uuid.UUID | None = None
    completion: FeedCompletion | None = None
    errors: list[dict[str, Any]] = PydField(default_factory=list)


class PartnerBatchOut(BaseModel):
    created: int
    duplicates: int
    already_completed: int
    rejected: int
    results: list[PartnerResult]


# --- intakes ----------------------------------------------------------------------------------------------


class IntakeCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "name": "Đợt 1/2026 – cán bộ cấp xã", "courses": ["ky-nang-so-co-ban"],
        "opens_at": "2026-03-01T00:00:00+07:00", "deadline": "2026-04-30T23:59:59+07:00",
    }]})

    name: str = PydField(min_length=1, max_length=300)
    courses: list[str] = PydField(min_length=1, max_length=50, description="Published courses, by id or slug")
    opens_at: UtcMoment
    deadline: UtcMoment = PydField(description="Must be after opens_at")
    province_code: str | None = PydField(
        default=None, min_length=2, max_length=2,
        description="A current province code; default: the admin's own. A province admin can name only theirs")


class IntakeCoursePublic(BaseModel):
    id: uuid.UUID
    slug: str
    title: str | None = None  # the published version's title


class IntakePublic(BaseModel):
    id: uuid.UUID
    province_code: str
    name: str
    opens_at: datetime
    deadline: datetime
    courses: list[IntakeCoursePublic]
    member_count: int
    created_by: uuid.UUID | None = None
    created_at: datetime


class IntakePage(BaseModel):
    items: list[IntakePublic]
    next_cursor: str | None = None


class MembersUploadResult(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "rows": 3, "added": 1, "already_members": 1, "rejected": 1,
        "errors": [{"row": 4, "field": "phone", "message": "Số điện thoại di động Việt Nam không hợp lệ."}],
    }]})

    rows: int  # data rows read (blank lines skipped)
    added: int
    already_members: int
    rejected: int
    errors: list[dict[str, Any]]  # {row (CSV line number), field, message}


class AssignmentFigures(BaseModel):
    """Counted per assignment: one member × one course of the intake."""

    assigned: int
    enrolled: int  # enrolled (or already completed)
    completed: int  # completed, whenever (a completion before the intake opened counts)
    completed_on_time: int  # completed by the deadline
    completion_rate: float  # completed / assigned, 0–1 (0 when nothing is assigned)
    completion_percent: float  # one decimal, rounded half up
    completed_of_assigned: str  # "375 / 409 = 91.7%"


class IntakeFigures(AssignmentFigures):
    members: int
    members_completed: int  # members who completed every course of the intake


class AgencyReport(IntakeFigures):
    agency: str | None  # as on the learner's profile; null when none is recorded


class CourseReport(AssignmentFigures):
    course: IntakeCoursePublic


class OverdueAssignment(BaseModel):
    user_id: uuid.UUID
    full_name: str
    agency: str | None
    course_id: uuid.UUID
    course: str  # slug
    course_title: str | None = None  # the published version's title (none once the course is withdrawn)
    enrolled: bool


def renamed_from(new: str):  # noqa: ANN201
    """A key renamed on 3 December 2026, still sent under its old name for one release (docs/intakes.md)."""
    return computed_field(description=f"Deprecated: the old name of `{new}`, sent for one more release; read "
                                      f"`{new}`.", json_schema_extra={"deprecated": True})


class IntakeReport(IntakeFigures):
    intake: IntakePublic
    as_of: datetime
    deadline_passed: bool
    by_agency: list[AgencyReport]
    by_course: list[CourseReport]
    overdue_count: int  # assignments not completed once the deadline has passed (0 before it)
    overdue: list[OverdueAssignment]  # sorted by agency, name, course; at most `overdue_limit`

    @renamed_from("intake")
    @property
    def cohort(self) -> IntakePublic:
        return self.intake


class CourseAssignment(BaseModel):
    """The intake that assigned a course to a learner, shown in GET /api/v1/me/enrollments."""

    intake_id: uuid.UUID
    intake_name: str
    opens_at: datetime
    deadline: datetime

    @renamed_from("intake_id")
    @property
    def cohort_id(self) -> uuid.UUID:
        return self.intake_id

    @renamed_from("intake_name")
    @property
    def cohort_name(self) -> str:
        return self.intake_name
