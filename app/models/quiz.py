"""Quizzes parsed from GIFT or Moodle XML question banks, and learners' attempts at them."""

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Index, String, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from app.models.base import JSONType, UTCDateTime, created_at_field, id_field, time_field

# Where a missing-word question's blank sits in its prompt: a private-use character that authors' text never
# keeps (parsers strip it), so the blank cannot be confused with underscores an author typed.
BLANK = "\ue0ff"


class QuestionKind(StrEnum):
    single = "single"
    multiple = "multiple"
    true_false = "true_false"
    short_answer = "short_answer"
    numerical = "numerical"
    matching = "matching"
    essay = "essay"  # answers stored, never auto-graded, not counted in the score
    description = "description"  # text shown between questions; no answer


UNGRADED_KINDS = (QuestionKind.essay, QuestionKind.description)


class TextFormat(StrEnum):
    """How a question's texts are written; all are rendered to sanitised HTML before a learner sees them."""

    plain = "plain"
    markdown = "markdown"
    html = "html"


class Quiz(SQLModel, table=True):
    __tablename__ = "quiz"

    id: uuid.UUID = id_field()
    lesson_id: uuid.UUID = Field(foreign_key="lesson.id", unique=True, ondelete="CASCADE")
    pass_score: float = 80
    max_attempts: int | None = None
    time_limit_s: int | None = None
    draw: int | None = None
    shuffle: bool = True


class Question(SQLModel, table=True):
    __tablename__ = "question"

    id: uuid.UUID = id_field()
    quiz_id: uuid.UUID = Field(foreign_key="quiz.id", index=True, ondelete="CASCADE")
    position: int
    kind: QuestionKind = Field(sa_type=String(12))
    title: str | None = Field(default=None, max_length=300)
    prompt: str  # a missing-word prompt holds BLANK where the answer goes
    feedback: str | None = None
    category: str | None = Field(default=None, max_length=500)  # $CATEGORY: / Moodle category path
    format: TextFormat = Field(default=TextFormat.plain, sa_type=String(10))
    points: float = 1  # the question's share of the quiz (Moodle's default mark)


class Choice(SQLModel, table=True):
    """A choice of a single/multiple/true-false question, an accepted answer of a short-answer or numerical
    one (`value` ± `tolerance`; no value accepts any number), or a pair of a matching one (`text` → `match_text`;
    an empty `text` is a distractor on the right side)."""

    __tablename__ = "choice"

    id: uuid.UUID = id_field()
    question_id: uuid.UUID = Field(foreign_key="question.id", index=True, ondelete="CASCADE")
    position: int
    text: str
    weight: float = 0  # percent of the question's credit: 100 right, 0 wrong, negative penalises
    feedback: str | None = None
    match_text: str | None = None
    value: float | None = None
    tolerance: float | None = None


class QuizAttempt(SQLModel, table=True):
    __tablename__ = "quiz_attempt"
    __table_args__ = (
        UniqueConstraint("user_id", "quiz_id", "number"),
        # At most one open attempt per learner and quiz, enforced by the database.
        Index("uq_quiz_attempt_open", "user_id", "quiz_id", unique=True,
              sqlite_where=text("submitted_at IS NULL"), postgresql_where=text("submitted_at IS NULL")),
    )

    id: uuid.UUID = id_field()
    quiz_id: uuid.UUID = Field(foreign_key="quiz.id", index=True, ondelete="CASCADE")
    user_id: uuid.UUID = Field(foreign_key="user_account.id", index=True, ondelete="CASCADE")
    course_id: uuid.UUID = Field(foreign_key="course.id", ondelete="CASCADE")
    lesson_key: str = Field(max_length=100)
    number: int
    # [{question_id, kind, choice_ids, options?}] in the order drawn and shuffled at start; fixed for the attempt
    # (matching: options = [[option id, pair's choice id]], never sent to the learner).
    layout: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSONType)
    answers: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSONType)
    answers_saved_at: datetime | None = time_field()
    started_at: datetime = created_at_field()
    deadline: datetime | None = Field(default=None, sa_type=UTCDateTime)
    submitted_at: datetime | None = time_field()
    score: float | None = None
    passed: bool | None = None
