"""Enrollments, per-lesson progress earned from heartbeats, and the event ids that make sync idempotent."""

import math
import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, field_validator
from pydantic import Field as PydField
from pydantic_core import PydanticCustomError
from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from app.models.base import JSONType, created_at_field, id_field, time_field, time_ordered_id, to_utc
from app.models.quiz_examples import ATTEMPT_EXAMPLE
from app.models.reporting import CourseAssignment
from app.models.scorm import ScoStatus


class Enrollment(SQLModel, table=True):
    __tablename__ = "enrollment"
    __table_args__ = (UniqueConstraint("user_id", "course_id"),)

    id: uuid.UUID = id_field()
    user_id: uuid.UUID = Field(foreign_key="user_account.id", index=True, ondelete="CASCADE")
    course_id: uuid.UUID = Field(foreign_key="course.id", index=True, ondelete="CASCADE")
    version_id: uuid.UUID = Field(foreign_key="course_version.id", ondelete="CASCADE")
    enrolled_at: datetime = created_at_field()
    left_at: datetime | None = time_field()  # un-enrolled; progress is kept for a return
    completed_at: datetime | None = time_field()


class LessonProgress(SQLModel, table=True):
    """Progress is keyed by lesson key, not lesson id, so it carries over to new course versions."""

    __tablename__ = "lesson_progress"
    __table_args__ = (UniqueConstraint("user_id", "course_id", "lesson_key"),)

    id: uuid.UUID = id_field()
    user_id: uuid.UUID = Field(foreign_key="user_account.id", index=True, ondelete="CASCADE")
    course_id: uuid.UUID = Field(foreign_key="course.id", ondelete="CASCADE")
    lesson_key: str = Field(max_length=100)
    intervals: list[list[float]] = Field(default_factory=list, sa_type=JSONType)  # merged, sorted union
    covered_s: float = 0
    duration_s: float | None = None
    last_heartbeat_at: datetime | None = time_field()
    viewed_at: datetime | None = time_field()
    best_score: float | None = None
    completed_at: datetime | None = time_field()
    updated_at: datetime = created_at_field()


class ProgressEvent(SQLModel, table=True):
    """An applied heartbeat; replaying its event_id returns the stored answer instead of applying it again."""

    __tablename__ = "progress_event"
    __table_args__ = (UniqueConstraint("user_id", "event_id"),)

    # Time-ordered, so old events are a range of the primary key (services/retention.py prunes them by it).
    id: uuid.UUID = Field(default_factory=time_ordered_id, primary_key=True)
    user_id: uuid.UUID = Field(foreign_key="user_account.id", ondelete="CASCADE")
    event_id: str = Field(max_length=64)
    lesson_id: uuid.UUID | None = None
    response: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType)
    received_at: datetime = created_at_field()


# --- API schemas: enrollment and progress --------------------------------------------------------------------

MAX_INTERVALS_PER_EVENT = 200
MAX_BATCH_EVENTS = 500


def _check_intervals(intervals: list[list[float]]) -> list[list[float]]:
    for start, end in intervals:
        if not (math.isfinite(start) and math.isfinite(end)) or start < 0 or end < start:
            raise PydanticCustomError("interval_invalid", "intervals are [start_s, end_s], 0 <= start <= end")
    return intervals


Interval = Annotated[list[float], PydField(min_length=2, max_length=2)]


class HeartbeatIn(BaseModel):
    """A video heartbeat (`intervals` played since the last one) or, for documents and text, `viewed`."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"event_id": "b7f4c0e2-hb-0007", "position_s": 95.5, "intervals": [[60, 95.5]], "playback_rate": 1.0,
         "client_time": "2026-03-14T09:30:00+07:00"},
        {"event_id": "b7f4c0e2-view-1", "viewed": True},
    ]})

    event_id: str = PydField(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:\-]+$")
    position_s: float | None = PydField(default=None, ge=0, allow_inf_nan=False)
    intervals: list[Interval] = PydField(default_factory=list, max_length=MAX_INTERVALS_PER_EVENT)
    playback_rate: float | None = PydField(default=None, gt=0, le=16, allow_inf_nan=False)
    client_time: datetime | None = None
    viewed: bool | None = None

    _intervals_ok = field_validator("intervals")(_check_intervals)

    @field_validator("client_time")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        # A client that omits the offset is taken to mean UTC, so events still sort against each other.
        return to_utc(value) if value is not None else None


class BatchEventIn(HeartbeatIn):
    """One event of an offline batch: a heartbeat that also names its lesson and when it happened."""

    lesson_id: uuid.UUID
    client_time: datetime


class ProgressBatchIn(BaseModel):
    # Events are validated one by one in the service, so one malformed event never rejects the others.
    events: list[Any] = PydField(min_length=1, max_length=MAX_BATCH_EVENTS)


class ProgressPublic(BaseModel):
    event_id: str | None = None
    lesson_id: uuid.UUID
    lesson_key: str
    kind: str
    duration_s: float | None = None
    intervals: list[list[float]] = []
    covered_s: float = 0
    coverage: float = 0  # covered / duration, 0–1
    credited_s: float = 0  # new coverage this event earned
    viewed: bool = False
    completed: bool = False
    completed_at: datetime | None = None
    course_completed: bool = False


class BatchEventResult(BaseModel):
    event_id: str | None
    status: Literal["accepted", "duplicate", "rejected"]
    reason: str | None = None  # message code, for rejected events
    detail: str | None = None
    progress: ProgressPublic | None = None


class ProgressBatchResult(BaseModel):
    accepted: int
    duplicate: int
    rejected: int
    results: list[BatchEventResult]  # in the order the events were sent


class CourseBrief(BaseModel):
    id: uuid.UUID
    slug: str
    title: str
    version: int


class LessonBrief(BaseModel):
    id: uuid.UUID
    key: str
    title: str
    kind: str


class EnrollmentRecord(BaseModel):
    """An enrollment as the enroll call answers it."""

    course_id: uuid.UUID
    course: str  # slug
    version: int  # the version the learner studies (the published one)
    enrolled_at: datetime
    completed_at: datetime | None = None


class EnrollmentPublic(BaseModel):
    course: CourseBrief
    enrolled: bool = True  # false: assigned in an intake, not enrolled yet (see docs/intakes.md)
    enrolled_at: datetime | None = None
    completed_at: datetime | None = None
    progress_percent: int  # share of required lessons met, 0–100
    next_lesson: LessonBrief | None = None  # the first lesson still to do, in course order
    assignment: CourseAssignment | None = None  # the intake that assigned this course, if any


class EnrollmentPage(BaseModel):
    items: list[EnrollmentPublic]
    next_cursor: str | None = None


class Requirement(BaseModel):
    lesson_id: uuid.UUID
    lesson_key: str
    title: str
    kind: str
    met: bool
    coverage: float | None = None  # videos: share watched
    required_coverage: float | None = None
    best_score: float | None = None  # quizzes
    pass_score: float | None = None
    viewed: bool | None = None  # documents and text
    scorm: ScoStatus | None = None  # SCORM lessons: the SCO's status and score in the attempt that counts


class CompletionStatus(BaseModel):
    course: CourseBrief
    enrolled: bool
    completed: bool
    requirements: list[Requirement]
    completion: dict[str, Any] | None = None


# --- API schemas: quiz attempts -----------------------------------------------------------------------------


class MatchIn(BaseModel):
    choice_id: uuid.UUID  # a left item of the matching question
    option_id: uuid.UUID  # one of the question's `options` in this attempt


class AnswerIn(BaseModel):
    """By question kind: `choice_ids` (single, multiple, true_false), `text` (short_answer, numerical — a
    decimal comma is fine — and essay), `matches` (matching). Descriptions take no answer."""

    question_id: uuid.UUID
    choice_ids: list[uuid.UUID] | None = PydField(default=None, max_length=50)
    text: str | None = PydField(default=None, max_length=10_000, description="Essays up to 10,000 characters; "
                                "short and numerical answers up to 500")
    matches: list[MatchIn] | None = PydField(default=None, max_length=100)


class AnswersIn(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"answers": [
        {"question_id": "0b7c3f7e-8a61-4c55-9a3e-5f0f2b9d1c11", "choice_ids": ["6f1d…"]},
        {"question_id": "9a2e51d4-1f0b-4a57-8f3c-0e9d8c7b6a55", "text": "Hà Nội"},
        {"question_id": "5d0c9e7a-2b1f-4c3d-8e9f-0a1b2c3d4e5f", "text": "3,1415"},
        {"question_id": "7e6d5c4b-3a29-4180-9f8e-7d6c5b4a3928", "matches": [
            {"choice_id": "c1…", "option_id": "o3…"}, {"choice_id": "c2…", "option_id": "o1…"}]},
        {"question_id": "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d", "text": "Bài luận của tôi…"}]}]})

    answers: list[AnswerIn] = PydField(max_length=500)


class SubmitIn(BaseModel):
    """Optional final answers, saved together with the submission when it is on time."""

    answers: list[AnswerIn] | None = PydField(default=None, max_length=500)


class ChoicePublic(BaseModel):
    id: uuid.UUID
    text: str  # in the question's `text_format`


class QuestionReview(BaseModel):
    """Shown only once the attempt is submitted."""

    earned: float | None  # share of the question's credit, 0–1; null: not graded (essay, description)
    correct_choice_ids: list[uuid.UUID]
    accepted_answers: list[str]  # short answer and numerical ("3.1415 ± 0.0005", "3.141..3.142")
    feedback: str | None
    choice_feedback: dict[str, str]
    correct_matches: dict[str, str] = {}  # matching: left choice id → the right option id
    answer_feedback: str | None = None  # short answer, numerical: feedback of the answer that graded it


class QuestionPublic(BaseModel):
    id: uuid.UUID
    kind: str  # single | multiple | true_false | short_answer | numerical | matching | essay | description
    text_format: Literal["plain", "html"] = "plain"  # html: sanitised, safe to insert as markup
    prompt: str
    blank: bool = False  # missing word: the prompt (html) holds one <span data-blank> where the answer goes
    points: float = 1
    choices: list[ChoicePublic]  # matching: the left items
    options: list[ChoicePublic] = []  # matching: the right side, shuffled, ids valid for this attempt only
    review: QuestionReview | None = None


class AttemptPublic(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [ATTEMPT_EXAMPLE]})

    id: uuid.UUID
    quiz_id: uuid.UUID
    number: int
    started_at: datetime
    deadline: datetime | None  # answers saved after deadline + 30 s grace are refused
    submitted_at: datetime | None = None
    questions: list[QuestionPublic]
    answers: list[dict[str, Any]]
    score: float | None = None  # 0–100 over graded questions (essays and descriptions left out), after submission
    passed: bool | None = None


class AttemptBrief(BaseModel):
    id: uuid.UUID
    number: int
    started_at: datetime
    deadline: datetime | None
    submitted_at: datetime | None
    score: float | None
    passed: bool | None


class QuizAttempts(BaseModel):
    quiz_id: uuid.UUID
    pass_score: float
    max_attempts: int | None
    attempts_left: int | None
    best_score: float | None
    passed: bool
    attempts: list[AttemptBrief]
