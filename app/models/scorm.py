"""SCORM lessons and what learners did in them: the SCO behind each `scorm` lesson (written at import), and per
learner the attempts, the browser sessions that reported into them, and their interactions and objectives.

Attempts are keyed by lesson key, like lesson progress, so they carry over to new versions of a course.
"""

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict
from pydantic import Field as PydField
from sqlalchemy import Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.models.base import JSONType, created_at_field, id_field, time_field


class ScormSco(SQLModel, table=True):
    """The SCO (or asset) a `scorm` lesson launches, with what its manifest said about it."""

    __tablename__ = "scorm_sco"

    id: uuid.UUID = id_field()
    lesson_id: uuid.UUID = Field(foreign_key="lesson.id", unique=True, ondelete="CASCADE")
    version_id: uuid.UUID = Field(foreign_key="course_version.id", index=True, ondelete="CASCADE")
    identifier: str = Field(max_length=500)  # the manifest item's identifier
    scorm_version: str = Field(max_length=8)  # 1.2, 2004-2, 2004-3, 2004-4
    scorm_type: str = Field(default="sco", max_length=5)  # sco | asset
    content_prefix: str = Field(max_length=500)  # storage key of the folder holding imsmanifest.xml, with "/"
    launch_path: str = Field(max_length=500)  # inside that folder
    launch_query: str = Field(default="", max_length=1000)
    mastery_score: float | None = None
    launch_data: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    max_time_allowed: str | None = Field(default=None, max_length=50)
    time_limit_action: str | None = Field(default=None, max_length=20)
    completion_threshold: float | None = None
    scaled_passing_score: float | None = None
    completion_rule: str = Field(default="completed_or_passed", max_length=24)
    attempt_limit: int | None = None  # 2004 imsss:attemptLimit; None: as many attempts as the learner asks for

    @property
    def family(self) -> str:
        return "1.2" if self.scorm_version == "1.2" else "2004"


class ScormAttempt(SQLModel, table=True):
    """One attempt at a SCO: its CMI state as last committed, and the statuses the server settled."""

    __tablename__ = "scorm_attempt"
    __table_args__ = (UniqueConstraint("user_id", "course_id", "lesson_key", "number"),
                      Index("ix_scorm_attempt_course_lesson", "course_id", "lesson_key"))

    id: uuid.UUID = id_field()
    user_id: uuid.UUID = Field(foreign_key="user_account.id", ondelete="CASCADE")  # leads the unique index
    course_id: uuid.UUID = Field(foreign_key="course.id", ondelete="CASCADE")
    lesson_key: str = Field(max_length=100)
    number: int = 1
    completion_status: str = Field(default="not attempted", max_length=16)
    success_status: str = Field(default="unknown", max_length=8)
    lesson_status: str | None = Field(default=None, max_length=16)  # 1.2's single status
    score_raw: float | None = None
    score_scaled: float | None = None
    progress_measure: float | None = None
    exit: str | None = Field(default=None, max_length=10)  # of the last session: "suspend" means resume
    cmi: dict[str, str] = Field(default_factory=dict, sa_type=JSONType)  # last accepted values, flattened
    total_time_s: float = 0  # sessions already ended; the open session's time is added on each commit
    completed_at: datetime | None = time_field()  # when the lesson's completion rule was first met
    # The attempt is over (2004: terminated with an exit other than suspend; either version: its time limit with
    # `exit,*` reached): it takes no more state, and the next launch starts a new attempt.
    ended_at: datetime | None = time_field()
    created_at: datetime = created_at_field()
    updated_at: datetime = created_at_field()


class ScormSession(SQLModel, table=True):
    """One launch: the player page reports into it; `last_seq` makes commits idempotent and ordered."""

    __tablename__ = "scorm_session"

    id: uuid.UUID = id_field()
    attempt_id: uuid.UUID = Field(foreign_key="scorm_attempt.id", index=True, ondelete="CASCADE")
    lesson_id: uuid.UUID = Field(foreign_key="lesson.id", ondelete="CASCADE")
    user_id: uuid.UUID = Field(foreign_key="user_account.id", index=True, ondelete="CASCADE")
    started_at: datetime = created_at_field()
    committed_at: datetime | None = time_field()
    terminated_at: datetime | None = time_field()
    superseded_at: datetime | None = time_field()  # a later launch of the same lesson took over: commits refused
    mode: str = Field(default="normal", max_length=8)  # normal | review (an ended attempt, no attempt left)
    last_seq: int = 0
    commits: int = 0
    session_time_s: float = 0


class ScormInteraction(SQLModel, table=True):
    __tablename__ = "scorm_interaction"
    __table_args__ = (UniqueConstraint("attempt_id", "position"),)

    id: uuid.UUID = id_field()
    attempt_id: uuid.UUID = Field(foreign_key="scorm_attempt.id", ondelete="CASCADE")
    position: int  # n of cmi.interactions.n
    identifier: str = Field(default="", sa_column=Column(Text, nullable=False))
    type: str | None = Field(default=None, max_length=16)
    result: str | None = Field(default=None, max_length=20)
    learner_response: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    weighting: float | None = None
    latency_s: float | None = None
    timestamp: str | None = Field(default=None, max_length=40)
    description: str | None = Field(default=None, max_length=250)


class ScormObjective(SQLModel, table=True):
    __tablename__ = "scorm_objective"
    __table_args__ = (UniqueConstraint("attempt_id", "position"),)

    id: uuid.UUID = id_field()
    attempt_id: uuid.UUID = Field(foreign_key="scorm_attempt.id", ondelete="CASCADE")
    position: int
    identifier: str = Field(default="", sa_column=Column(Text, nullable=False))
    success_status: str | None = Field(default=None, max_length=16)
    completion_status: str | None = Field(default=None, max_length=16)
    score_raw: float | None = None
    score_scaled: float | None = None
    progress_measure: float | None = None


# --- API schemas --------------------------------------------------------------------------------------------


class LaunchPublic(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "launch_url": "https://hocso.example/scorm/play/6b1…?token=…", "session_id": "6b1f…",
        "attempt": 1, "expires_at": "2026-12-03T22:00:00Z"}]})

    launch_url: str
    session_id: uuid.UUID
    attempt: int
    mode: str = "normal"  # or "review": the attempt ended and the attempt limit leaves no other
    expires_at: datetime


class RuntimeState(BaseModel):
    """What the player gives the SCO at `Initialize`: the server-decided elements and the saved state."""

    session_id: uuid.UUID
    scorm_version: str
    scorm_type: str
    attempt: int
    entry: str  # ab-initio | resume | ""
    credit: str
    mode: str
    learner_id: str
    learner_name: str
    launch_data: str
    mastery_score: float | None
    scaled_passing_score: float | None
    completion_threshold: float | None
    max_time_allowed: str | None
    time_limit_action: str | None
    total_time: str
    location: str
    suspend_data: str
    cmi: dict[str, str]  # flattened values to load into the runtime (includes the above under their names)
    commit_url: str  # a path on this origin
    last_seq: int


class CommitIn(BaseModel):
    """One commit from the player: a sequence number (per session, increasing) and flattened CMI values."""

    seq: int = PydField(ge=1, le=10_000_000)
    values: dict[str, Any] = PydField(default_factory=dict, max_length=20_000)
    terminate: bool = False
    token: str | None = PydField(default=None, max_length=2000, description="for sendBeacon, which sends no "
                                                                            "headers")


class RefusedElement(BaseModel):
    """One element of a commit that its version's data model refuses; the commit's other elements are kept."""

    field: str  # values.<element name>
    message: str


class CommitResult(BaseModel):
    result: bool = True
    error_code: int = 0
    applied: bool  # false for a replayed or out-of-order commit, which changes nothing
    completion_status: str
    success_status: str
    lesson_status: str | None
    score_raw: float | None
    score_scaled: float | None
    total_time_s: float
    lesson_completed: bool
    course_completed: bool = False
    attempt_ended: bool = False  # the next launch starts a new attempt (or reviews this one)
    refused: list[RefusedElement] = []


class ScoStatus(BaseModel):
    """A learner's result at a SCO: the status and score of the attempt that counts (`counted`: `best_met`, the
    best-scoring attempt that met the lesson, the first of equals; `latest` while none has), the time summed over
    all attempts, and how many there were."""

    lesson_id: uuid.UUID | None = None
    lesson_key: str
    title: str | None = None
    attempt: int  # the number of the attempt shown (0: none yet)
    counted: Literal["best_met", "latest"] = "latest"
    completion_status: str
    success_status: str
    lesson_status: str | None
    score_raw: float | None
    score_scaled: float | None
    total_time_s: float  # all attempts
    attempts: int
    completed_at: datetime | None


class ScormReportRow(BaseModel):
    """One learner at one SCO, as `ScoStatus` counts it."""

    user_id: uuid.UUID
    full_name: str
    province_code: str | None
    lesson_key: str
    lesson_title: str
    attempts: int
    attempt: int
    counted: Literal["best_met", "latest"]
    completion_status: str
    success_status: str
    lesson_status: str | None
    score_raw: float | None
    score_scaled: float | None
    total_time_s: float  # all attempts
    completed_at: datetime | None


class ScormReport(BaseModel):
    course_id: uuid.UUID
    slug: str
    title: str
    lessons: list[dict[str, str]]  # key, title of each SCORM lesson of the published (or newest) version
    rows: list[ScormReportRow]
