"""Earned progress: heartbeats and document views, applied idempotently per event id (offline batches apply
the same rules: offline_sync.py).

Video credit is earned, not claimed. The client reports the intervals it played; the server clamps them to the
lesson's duration, merges them into the learner's union, and credits at most
(server wall-clock seconds since the previous accepted heartbeat of that lesson × MAX_SPEED) of new coverage.
The first heartbeat of a lesson has no previous one, so it earns FIRST_HEARTBEAT_CREDIT_S (none): it starts
the clock. Clients therefore send a heartbeat with no intervals when playback starts (the mobile app also when
it downloads a lesson for offline viewing); a single heartbeat claiming the whole video earns nothing.

A heartbeat is the hottest write in the system (400,000 learners, one every 30 s each), so its path is lean: the
lesson comes from a per-process cache (lesson rows never change after import); one statement reads the progress
row, locked FOR UPDATE on PostgreSQL, joined with the enrollment and with the learner's account, which must be
active (so the request needs no separate read of the user row); one statement records the event id (ON
CONFLICT DO NOTHING makes replays free of side effects) and updates the row — a single statement with a
data-modifying CTE on PostgreSQL, two on SQLite. Rows are read and written with Core statements: no ORM unit of
work to flush. docs/benchmarks.md measures it.
"""

import uuid
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import Conflict, Forbidden, NotFound, Unauthorized, ValidationFailed
from app.core.i18n import messages
from app.models.base import time_ordered_id, utcnow
from app.models.course import CourseVersion, Lesson, LessonKind
from app.models.identity import User
from app.models.learning import (
    HeartbeatIn,
    ProgressPublic,
)
from app.services.completion.completions import complete_if_met
from app.services.learning import progress_statements as sql
from app.services.learning.enrollment import require_enrollment
from app.services.learning.intervals import EPSILON, credit, measure

MAX_SPEED = 2  # credit never outruns double-speed playback of the server's clock
FIRST_HEARTBEAT_CREDIT_S = 0.0  # the first heartbeat of a lesson only starts the clock
MAX_STORED_INTERVALS = 500  # a union this fragmented is scripted, not watched; it also bounds the row size
_FACTS_CACHE_SIZE = 20_000

messages({
    "lesson_not_found": ("Không tìm thấy bài học.", "Lesson not found."),
    "interval_invalid": (
        "Mỗi khoảng là [bắt đầu, kết thúc] với 0 ≤ bắt đầu ≤ kết thúc.",
        "Each interval is [start_s, end_s] with 0 <= start <= end.",
    ),
    "lesson_duration_unknown": (
        "Chưa biết thời lượng video của bài học.", "The lesson's video duration is unknown."),
    "viewed_required": (
        "Bài đọc được ghi nhận khi gửi \"viewed\": true.", "Send \"viewed\": true for this lesson."),
    "quiz_progress_by_attempts": (
        "Bài kiểm tra được ghi nhận khi làm đạt, không qua tiến độ.",
        "Quiz lessons are completed by passing the quiz, not by progress events.",
    ),
    "scorm_progress_by_runtime": (
        "Bài SCORM được ghi nhận qua trình phát SCORM (POST /api/v1/lessons/…/launch), không qua tiến độ.",
        "SCORM lessons are recorded by the SCORM player (POST /api/v1/lessons/…/launch), not progress events.",
    ),
    "too_many_intervals": (
        "Quá nhiều đoạn xem rời rạc ({max}).", "Too many separate watched intervals (at most {max}).",
    ),
    "event_id_other_lesson": (
        "Mã sự kiện {event_id} đã được dùng cho bài học {lesson_id}; mỗi sự kiện cần một mã mới.",
        "Event id {event_id} was already used for lesson {lesson_id}; each event needs a new id.",
    ),
})


@dataclass(frozen=True)
class LessonFacts:
    """What a heartbeat needs to know about a lesson; immutable once the package is imported."""

    id: uuid.UUID
    course_id: uuid.UUID
    version_id: uuid.UUID
    key: str
    kind: str
    duration_s: float | None
    video_coverage: float


_facts: OrderedDict[uuid.UUID, LessonFacts] = OrderedDict()


def cached_lesson_facts(lesson_id: uuid.UUID) -> LessonFacts | None:
    return _facts.get(lesson_id)


async def lesson_facts(session: AsyncSession, lesson_id: uuid.UUID) -> LessonFacts:
    """The lesson's course, key, kind, duration and coverage threshold, from a per-process LRU cache."""
    facts = _facts.get(lesson_id)
    if facts is not None:
        _facts.move_to_end(lesson_id)
        return facts
    row = (await session.execute(
        select(Lesson.id, CourseVersion.course_id, Lesson.version_id, Lesson.key, Lesson.kind,
               Lesson.duration_s, CourseVersion.video_coverage)
        .join(CourseVersion, CourseVersion.id == Lesson.version_id).where(Lesson.id == lesson_id))).first()
    if row is None:
        raise NotFound("lesson_not_found")
    facts = LessonFacts(**row._mapping)
    _facts[lesson_id] = facts
    if len(_facts) > _FACTS_CACHE_SIZE:
        _facts.popitem(last=False)
    return facts


@dataclass
class ProgressRow:
    """The learner's progress on one lesson key, as this transaction read (and locked) it. Completion's rules
    read the same row as `completion.rules.ProgressState`, the read-only facts a rule checks (best score, no
    intervals): the two answer different questions, and completion cannot import learning's shape."""

    id: uuid.UUID
    last_heartbeat_at: datetime | None
    intervals: list[list[float]]
    covered_s: float
    duration_s: float | None
    viewed_at: datetime | None
    completed_at: datetime | None

    @classmethod
    def of(cls, columns: Any) -> "ProgressRow":
        """From a result row's `_mapping` holding `sql.ROW` (other columns beside it are ignored)."""
        return cls(**{name: columns[name] for name in _PROGRESS_ROW_FIELDS})


_PROGRESS_ROW_FIELDS = ("id", "last_heartbeat_at", *sql.STATE)


def progress_view(facts: LessonFacts, state: Any, *, event_id: str | None = None, credited_s: float = 0,
                  course_completed: bool = False) -> ProgressPublic:
    """The lesson's progress as the API shows it, from a progress row, the values it is about to take (a
    dict), or nothing yet (None)."""
    if state is not None and not isinstance(state, dict):
        state = {name: getattr(state, name) for name in sql.STATE}
    state = state or {}
    duration = facts.duration_s or state.get("duration_s")
    covered = state.get("covered_s") or 0
    return ProgressPublic(
        event_id=event_id, lesson_id=facts.id, lesson_key=facts.key, kind=facts.kind, duration_s=duration,
        intervals=state.get("intervals") or [], covered_s=covered,
        coverage=round(min(1.0, covered / duration), 4) if duration else 0, credited_s=credited_s,
        viewed=state.get("viewed_at") is not None, completed=state.get("completed_at") is not None,
        completed_at=state.get("completed_at"), course_completed=course_completed)


def credit_budget(row: ProgressRow, now: datetime) -> float:
    """New video coverage a lesson may earn now: MAX_SPEED × the server time since its previous heartbeat."""
    last = row.last_heartbeat_at
    return FIRST_HEARTBEAT_CREDIT_S if last is None else max(0.0, (now - last).total_seconds()) * MAX_SPEED


@dataclass
class Applied:
    """What one event does to a progress row: the new values, the credit earned, and the answer to store."""

    changes: dict
    credited: float
    completes: bool  # the lesson's requirement is met by this event
    response: dict


def apply_event(facts: LessonFacts, row: ProgressRow, event: HeartbeatIn, now: datetime,
                budget_s: float) -> Applied:
    """The rules of earned progress for one event on one row, without I/O; raises when the event is refused."""
    changes: dict = {"updated_at": now}
    credited = 0.0
    if facts.kind == LessonKind.video:
        if not facts.duration_s:
            raise Conflict("lesson_duration_unknown")
        union, credited = credit(row.intervals or [], event.intervals, facts.duration_s, budget_s)
        if len(union) > MAX_STORED_INTERVALS:
            raise ValidationFailed("too_many_intervals", max=MAX_STORED_INTERVALS)
        covered = measure(union)
        changes |= {"intervals": union, "covered_s": covered, "duration_s": facts.duration_s,
                    "last_heartbeat_at": now}
        reaches = covered / facts.duration_s + EPSILON >= facts.video_coverage
    elif facts.kind in (LessonKind.document, LessonKind.text):
        if event.viewed is not True:
            raise ValidationFailed("viewed_required")
        changes["viewed_at"] = row.viewed_at or now
        reaches = True
    elif facts.kind == LessonKind.scorm:
        raise Conflict("scorm_progress_by_runtime")
    else:
        raise Conflict("quiz_progress_by_attempts")
    completes = reaches and row.completed_at is None
    if completes:
        changes["completed_at"] = now
    preview = {name: changes.get(name, getattr(row, name)) for name in sql.STATE}
    response = progress_view(facts, preview, event_id=event.event_id, credited_s=credited).model_dump(mode="json")
    return Applied(changes, credited, completes, response)


def check_same_lesson(event_id: str, stored_lesson: uuid.UUID | None, lesson_id: uuid.UUID) -> None:
    """A replayed event id must name the lesson it was first used on (rows from before lesson ids were kept
    with events carry none, and answer as before)."""
    if stored_lesson is not None and stored_lesson != lesson_id:
        raise Conflict("event_id_other_lesson", event_id=event_id, lesson_id=str(stored_lesson),
                       extra={"event_id": event_id, "lesson_id": str(stored_lesson)})


def row_params(row: ProgressRow, changes: dict) -> dict:
    """The parameters of progress_sql's UPDATE for `row` after `changes`."""
    return {"p_id": row.id, **{f"p_{name}": changes.get(name, getattr(row, name, None)) for name in sql.WRITTEN}}


class ProgressRecorder:
    """Applies one learner's events at one server instant; a batch shares each lesson's credit budget."""

    def __init__(self, session: AsyncSession, user_id: uuid.UUID, now: datetime) -> None:
        self.session, self.user_id, self.now = session, user_id, now
        self._rows: dict[tuple[uuid.UUID, str], ProgressRow] = {}
        self._versions: dict[uuid.UUID, uuid.UUID] = {}  # course -> the version the learner is on
        self._budget: dict[tuple[uuid.UUID, str], float] = {}

    async def apply(self, event: HeartbeatIn, facts: LessonFacts) -> tuple[str, dict]:
        """Returns ("accepted" | "duplicate", response); raises a domain error when the event is refused."""
        try:
            row = await self._progress_row(facts)
        except (Forbidden, NotFound):
            # A replay answers as the first time did, even if the learner has left the course since.
            if (stored := await self.stored_response(event.event_id, facts.id)) is not None:
                return "duplicate", stored
            raise
        slot = (facts.course_id, facts.key)
        if facts.kind == LessonKind.video and slot not in self._budget:
            self._budget[slot] = credit_budget(row, self.now)
        applied = apply_event(facts, row, event, self.now, self._budget.get(slot, 0.0))
        changes, credited, completes, response = (applied.changes, applied.credited, applied.completes,
                                                  applied.response)
        if not await self._save(row, changes, facts, event.event_id, response):
            return "duplicate", await self.stored_response(event.event_id, facts.id) or response
        for name, value in changes.items():
            if name != "updated_at":
                setattr(row, name, value)
        if facts.kind == LessonKind.video:
            self._budget[slot] -= credited
        if completes and await self._complete_course(facts.course_id):
            response["course_completed"] = True
            await self.session.execute(sql.REPLACE_RESPONSE, self._event(event.event_id) | {"new_response": response})
        return "accepted", response

    async def stored_response(self, event_id: str, lesson_id: uuid.UUID) -> dict | None:
        """The answer stored for this learner's event id, if any. Ids are the learner's, not the lesson's:
        one already used on another lesson is a 409 naming that lesson, never the other lesson's answer
        (which would leave this lesson silently unrecorded)."""
        found = (await self.session.execute(sql.STORED_RESPONSE, self._event(event_id))).first()
        if found is None:
            return None
        response, stored_lesson = found
        check_same_lesson(event_id, stored_lesson, lesson_id)
        return response

    def _event(self, event_id: str) -> dict:
        return {"e_user_id": self.user_id, "e_event_id": event_id}

    async def _save(self, row: ProgressRow, changes: dict, facts: LessonFacts, event_id: str,
                    response: dict) -> bool:
        """Record the event id with its answer and apply `changes` to the progress row; False, changing
        nothing, when the learner already used this event id. One statement on PostgreSQL: the UPDATE runs
        only if the event's INSERT did."""
        conn = await self.session.connection()
        statements = sql.statements(conn.dialect.name)
        event = {"e_id": time_ordered_id(), **self._event(event_id), "e_lesson_id": facts.id, "e_response": response,
                 "e_received_at": self.now}
        apply = row_params(row, changes)
        if conn.dialect.name == "postgresql":
            return bool((await conn.execute(statements.apply, event | apply)).rowcount)
        if not (await conn.execute(statements.record_event, event)).rowcount:
            return False
        await conn.execute(statements.apply, apply)
        return True

    async def _complete_course(self, course_id: uuid.UUID) -> bool:
        """A lesson just completed: record the course's completion if that was the last requirement."""
        return await complete_if_met(self.session, self.user_id, course_id) is not None

    async def _progress_row(self, facts: LessonFacts) -> ProgressRow:
        """The learner's progress on this lesson key, locked for this transaction; 401 unless the account is
        active, 403 unless enrolled, 404 `lesson_replaced` for a lesson of a version the learner has moved on
        from (progress follows keys)."""
        slot = (facts.course_id, facts.key)
        row = self._rows.get(slot)
        conn = await self.session.connection()
        mine = {"p_user_id": self.user_id, "p_course_id": facts.course_id, "p_lesson_key": facts.key}
        if row is None:
            found = (await conn.execute(sql.LOCKED_ROW, mine)).first()
            if found is not None:
                columns = found._mapping
                self._versions[facts.course_id] = columns["version_id"]
                row = ProgressRow.of(columns)
            else:
                await self._require_active_account()
                enrollment = await require_enrollment(self.session, self.user_id, facts.course_id)
                self._versions[facts.course_id] = enrollment.version_id
        if self._versions[facts.course_id] != facts.version_id:
            raise NotFound("lesson_replaced")  # the same problem (and message) as opening the lesson
        if row is None:
            await conn.execute(sql.statements(conn.dialect.name).new_row, mine | {
                "p_id": uuid.uuid4(), "p_intervals": [], "p_covered_s": 0, "p_duration_s": facts.duration_s,
                "p_updated_at": self.now})
            row = ProgressRow.of((await conn.execute(sql.ROW_BY_KEY.with_for_update(), mine)).one()._mapping)
        self._rows[slot] = row
        return row

    async def _require_active_account(self) -> None:
        """The access token alone let the request in; a deactivated or deleted account stops here."""
        active = (await self.session.execute(
            select(User.is_active).where(User.id == self.user_id))).scalar_one_or_none()
        if not active:
            raise Unauthorized("invalid_token")


async def record_heartbeat(session: AsyncSession, user_id: uuid.UUID, lesson_id: uuid.UUID, event: HeartbeatIn,
                           *, now: datetime | None = None) -> dict:
    """Apply one progress event for an enrolled learner and answer with the lesson's coverage and completion.

    Replaying an event id changes nothing and returns the answer stored the first time. Reaching the lesson's
    requirement may complete the course (see completions.complete_if_met).
    """
    facts = await lesson_facts(session, lesson_id)
    _, response = await ProgressRecorder(session, user_id, now or utcnow()).apply(event, facts)
    return response


async def lesson_progress(session: AsyncSession, user: User, lesson_id: uuid.UUID) -> ProgressPublic:
    """Where the learner stands on a lesson (zero if they have not started it)."""
    facts = await lesson_facts(session, lesson_id)
    await require_enrollment(session, user.id, facts.course_id)
    row = (await session.execute(sql.ROW_BY_KEY, {
        "p_user_id": user.id, "p_course_id": facts.course_id, "p_lesson_key": facts.key})).first()
    return progress_view(facts, row)
