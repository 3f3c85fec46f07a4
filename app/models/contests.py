"""Contests ("cuộc thi"): a quiz taken within a window by those who entered, ranked by best score, then shortest
time, then earliest submission; leaderboards frozen when the contest closes.

A contest of a province is open to that province's learners and managed by its admins; a national one
(no province) is managed by ministry admins. `audience` narrows who may enter (officials, citizens, all).
"""

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, model_validator
from pydantic import Field as PydField
from pydantic_core import PydanticCustomError
from sqlalchemy import Index, String, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from app.core.i18n import messages
from app.models.base import JSONType, UTCDateTime, created_at_field, id_field, time_field
from app.models.learning import AnswerIn, ChoicePublic

messages({
    "contest_closes_before_opening": ("Thời điểm kết thúc phải sau thời điểm bắt đầu.",
                                      "The closing time must be after the opening time."),
})


class ContestAudience(StrEnum):
    all = "all"
    official = "official"
    citizen = "citizen"


class Contest(SQLModel, table=True):
    __tablename__ = "contest"

    id: uuid.UUID = id_field()
    title: str = Field(max_length=300)
    province_code: str | None = Field(default=None, max_length=2, index=True)  # None: national
    quiz_id: uuid.UUID = Field(foreign_key="quiz.id", ondelete="RESTRICT")
    audience: ContestAudience = Field(default=ContestAudience.all, sa_type=String(10))
    opens_at: datetime = Field(sa_type=UTCDateTime)
    closes_at: datetime = Field(sa_type=UTCDateTime)
    max_attempts: int = 1
    time_limit_s: int | None = None  # per attempt; an attempt never runs past closes_at either
    questions: int | None = None  # drawn from the quiz's pool per attempt; None: all of them
    created_by: uuid.UUID | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
    created_at: datetime = created_at_field()
    # Set by the first read after the close: the leaderboards as they stood then, never recomputed.
    frozen_at: datetime | None = time_field()
    frozen: dict[str, Any] | None = Field(default=None, sa_type=JSONType)


class ContestEntry(SQLModel, table=True):
    __tablename__ = "contest_entry"

    contest_id: uuid.UUID = Field(foreign_key="contest.id", primary_key=True, ondelete="CASCADE")
    user_id: uuid.UUID = Field(foreign_key="user_account.id", primary_key=True, index=True, ondelete="CASCADE")
    entered_at: datetime = created_at_field()
    province_code: str | None = Field(default=None, max_length=2)  # the learner's current province then
    unit_id: uuid.UUID | None = Field(default=None, foreign_key="org_unit.id", ondelete="SET NULL")
    show_full_name: bool = False  # the learner's choice: otherwise leaderboards shorten the name
    # The name the public boards show, kept at each entry and submission so that the board frozen at the close
    # shows the name of then, not one changed later. None only on entries made before it was kept.
    shown_name: str | None = Field(default=None, max_length=200)


class ContestAttempt(SQLModel, table=True):
    __tablename__ = "contest_attempt"
    __table_args__ = (
        UniqueConstraint("contest_id", "user_id", "number"),
        Index("uq_contest_attempt_open", "contest_id", "user_id", unique=True,
              sqlite_where=text("submitted_at IS NULL"), postgresql_where=text("submitted_at IS NULL")),
    )

    id: uuid.UUID = id_field()
    contest_id: uuid.UUID = Field(foreign_key="contest.id", index=True, ondelete="CASCADE")
    user_id: uuid.UUID = Field(foreign_key="user_account.id", index=True, ondelete="CASCADE")
    number: int
    # [{question_id, kind, choice_ids}] drawn and shuffled at start, fixed for the attempt.
    layout: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSONType)
    answers: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSONType)
    started_at: datetime = created_at_field()
    deadline: datetime = Field(sa_type=UTCDateTime)
    submitted_at: datetime | None = time_field()
    score: float | None = None
    duration_ms: int | None = None  # submitted_at - started_at: the tie-break after the score


# --- API shapes ---------------------------------------------------------------------------------------------


class ContestCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "title": "Cuộc thi tìm hiểu chuyển đổi số tỉnh Thái Nguyên 2026", "province_code": "19",
        "quiz_id": "7d1e0c9a-5b4f-4e2a-9c1d-3f8b6a2e4d10", "audience": "all",
        "opens_at": "2026-12-05T08:00:00+07:00", "closes_at": "2026-12-12T17:00:00+07:00",
        "max_attempts": 2, "time_limit_s": 900, "questions": 20}]})

    title: str = PydField(min_length=1, max_length=300)
    province_code: str | None = PydField(default=None, min_length=2, max_length=2,
                                         description="A province's contest; none: national (ministry admins)")
    quiz_id: uuid.UUID
    audience: ContestAudience = ContestAudience.all
    opens_at: AwareDatetime
    closes_at: AwareDatetime
    max_attempts: int = PydField(default=1, ge=1, le=20)
    time_limit_s: int | None = PydField(default=None, ge=30, le=6 * 3600)
    questions: int | None = PydField(default=None, ge=1, le=500)

    @model_validator(mode="after")
    def _window(self) -> "ContestCreate":
        if self.closes_at <= self.opens_at:
            raise PydanticCustomError("contest_closes_before_opening", "closes_at must be after opens_at")
        return self


class ContestPublic(BaseModel):
    id: uuid.UUID
    title: str
    province_code: str | None
    quiz_id: uuid.UUID
    audience: ContestAudience
    opens_at: datetime
    closes_at: datetime
    max_attempts: int
    time_limit_s: int | None
    questions: int | None
    status: str  # upcoming | open | closed
    frozen_at: datetime | None = None


class EntryIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    show_full_name: bool = PydField(default=False, description="Show my full name on the leaderboard")


class EntryPublic(BaseModel):
    contest_id: uuid.UUID
    entered_at: datetime
    show_full_name: bool
    attempts_used: int
    attempts_left: int


class ContestQuestion(BaseModel):
    id: uuid.UUID
    kind: str
    prompt: str
    choices: list[ChoicePublic]


class ContestAttemptPublic(BaseModel):
    id: uuid.UUID
    contest_id: uuid.UUID
    number: int
    started_at: datetime
    deadline: datetime
    submitted_at: datetime | None = None
    score: float | None = None
    duration_ms: int | None = None
    questions: list[ContestQuestion]


class ContestAnswers(BaseModel):
    answers: list[AnswerIn] = PydField(default_factory=list, max_length=500)


class LeaderboardRow(BaseModel):
    rank: int
    name: str  # shortened unless the learner opted in
    province_code: str | None
    unit: str | None
    score: float
    duration_ms: int
    submitted_at: datetime


class UnitBoardRow(BaseModel):
    rank: int
    unit_id: uuid.UUID
    name: str
    province_code: str
    headcount: int | None
    entrants: int
    finishers: int
    finisher_percent: float | None  # finishers ÷ headcount


class ContestFigures(BaseModel):
    registered: int
    finished: int  # entrants with at least one submitted attempt
    attempts: int  # submitted attempts
    units: int  # distinct units among the entrants


class Leaderboard(BaseModel):
    contest: ContestPublic
    frozen: bool
    as_of: datetime
    figures: ContestFigures
    people: list[LeaderboardRow]
    units: list[UnitBoardRow]
