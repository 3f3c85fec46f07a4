"""Enrolments, per-lesson progress earned from heartbeats, and the event ids that make sync idempotent."""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from app.models.base import JSONType, created_at_field, id_field, time_field


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

    id: uuid.UUID = id_field()
    user_id: uuid.UUID = Field(foreign_key="user_account.id", ondelete="CASCADE")
    event_id: str = Field(max_length=64)
    lesson_id: uuid.UUID | None = None
    response: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType)
    received_at: datetime = created_at_field()
