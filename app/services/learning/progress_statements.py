"""The heartbeat's statements, built once per dialect and executed with parameters.

Building a SQLAlchemy statement per request (joins, comparisons, VALUES) cost more of the worker's CPU than
executing it did; a prebuilt statement is compiled once and later executions only bind values. Parameters are
named after the column with a prefix (SQLAlchemy reserves bare column names in UPDATE … SET): `p_` for
progress, `e_` for the event.
"""

from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import and_, bindparam, exists, select, update

from app.core.dialect import bound, insert_on
from app.models.identity import User
from app.models.learning import Enrollment, LessonProgress, ProgressEvent

progress = LessonProgress.__table__
events = ProgressEvent.__table__
STATE = ("intervals", "covered_s", "duration_s", "viewed_at", "completed_at")
ROW = (progress.c.id, progress.c.last_heartbeat_at, *(progress.c[name] for name in STATE))
WRITTEN = (*STATE, "last_heartbeat_at", "updated_at")  # what applying an event may change


def _param(column: Any, prefix: str = "p_") -> Any:
    return bound(column, f"{prefix}{column.key}")


_mine = and_(progress.c.user_id == _param(progress.c.user_id), progress.c.course_id == _param(progress.c.course_id),
             progress.c.lesson_key == _param(progress.c.lesson_key))
_event = and_(events.c.user_id == _param(events.c.user_id, "e_"), events.c.event_id == _param(events.c.event_id, "e_"))

# The progress row, locked, if the learner is enrolled (not left) and the account is active.
LOCKED_ROW = (
    select(*ROW, Enrollment.version_id)
    .join(Enrollment, and_(Enrollment.user_id == progress.c.user_id, Enrollment.course_id == progress.c.course_id))
    .join(User, and_(User.id == progress.c.user_id, User.is_active.is_(True)))
    .where(_mine, Enrollment.left_at.is_(None))
    .with_for_update(of=progress)
)
ROW_BY_KEY = select(*ROW).where(_mine)
STORED_RESPONSE = select(events.c.response, events.c.lesson_id).where(_event)
REPLACE_RESPONSE = update(events).where(_event).values(response=bindparam("new_response", type_=events.c.response.type))
APPLY = update(progress).where(progress.c.id == _param(progress.c.id)).values(
    {name: _param(progress.c[name]) for name in WRITTEN})
_EVENT_COLUMNS = ("id", "user_id", "event_id", "lesson_id", "response", "received_at")
_NEW_ROW_COLUMNS = ("id", "user_id", "course_id", "lesson_key", "intervals", "covered_s", "duration_s", "updated_at")


@dataclass(frozen=True)
class Statements:
    new_row: Any  # INSERT of an empty progress row, doing nothing if one exists
    record_event: Any  # INSERT of the event id and its answer, doing nothing on a replay
    apply: Any  # UPDATE of the progress row; on PostgreSQL it also records the event and runs only if that did
    record_events: Any  # INSERT of many events (parameters by column name), RETURNING the ids of those recorded


@cache
def statements(dialect: str) -> Statements:
    insert = insert_on(dialect)
    record_event = insert(events).values({name: _param(events.c[name], "e_") for name in _EVENT_COLUMNS}) \
        .on_conflict_do_nothing(index_elements=["user_id", "event_id"])
    new_row = insert(progress).values({name: _param(progress.c[name]) for name in _NEW_ROW_COLUMNS}) \
        .on_conflict_do_nothing(index_elements=["user_id", "course_id", "lesson_key"])
    apply = APPLY
    if dialect == "postgresql":
        recorded = record_event.returning(events.c.id).cte("recorded")
        apply = APPLY.where(exists(select(recorded.c.id)))
    record_events = insert(events).on_conflict_do_nothing(index_elements=["user_id", "event_id"]) \
        .returning(events.c.id)
    return Statements(new_row=new_row, record_event=record_event, apply=apply, record_events=record_events)
