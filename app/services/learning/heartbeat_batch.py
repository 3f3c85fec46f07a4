"""Group commit for video heartbeats: the heartbeats that arrive while one batch is being written are written
together in the next, in one transaction of five statements.

Why: at national scale heartbeats are nearly all the write traffic (400,000 learners, one every 30 s each), and
per heartbeat the transaction itself — BEGIN, a locked read, a write, COMMIT, each through the ORM session and
the driver — cost more of the worker's CPU than the rules it applies. A batch pays that once. There is no
timer: the first heartbeat starts writing at once, so a quiet server adds no latency, and a busy one batches
as much as arrived during the previous write.

The batch takes only the common case: the learner's progress row exists, the account is active, the learner is
enrolled in the version the lesson belongs to, the event is new and does not complete the lesson, and no other
event in the batch touches the same learner and lesson or reuses its id. Anything else — a first heartbeat, a
replay, a refused event, a lesson that completes (and may complete the course) — is answered `None`, and the
request takes the full path in progress.record_heartbeat, which applies the same rules one event at a time.
The batch applies them through the same progress.apply_event, so both paths give the same answers.
"""

import asyncio
import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import and_, bindparam, select, tuple_

from app.core.db import Database
from app.core.errors import HocSoError
from app.models.base import time_ordered_id, utcnow
from app.models.identity import User
from app.models.learning import Enrollment, HeartbeatIn
from app.services.learning import progress_statements as sql
from app.services.learning.progress import (
    LessonFacts,
    ProgressRow,
    apply_event,
    cached_lesson_facts,
    credit_budget,
    row_params,
)

logger = logging.getLogger(__name__)
MAX_BATCH = 500  # heartbeats per transaction; more wait for the next one

_slot = tuple_(sql.progress.c.user_id, sql.progress.c.course_id, sql.progress.c.lesson_key)
_LOCKED_ROWS = (
    select(sql.progress.c.user_id, sql.progress.c.course_id, sql.progress.c.lesson_key, *sql.ROW,
           Enrollment.version_id)
    .join(Enrollment, and_(Enrollment.user_id == sql.progress.c.user_id,
                           Enrollment.course_id == sql.progress.c.course_id))
    .join(User, and_(User.id == sql.progress.c.user_id, User.is_active.is_(True)))
    .where(Enrollment.left_at.is_(None), _slot.in_(bindparam("slots", expanding=True)))
    .order_by(sql.progress.c.id)  # rows are locked in this order in every batch: no deadlock between workers
    .with_for_update(of=sql.progress)
)
_KNOWN_EVENTS = select(sql.events.c.user_id, sql.events.c.event_id).where(
    tuple_(sql.events.c.user_id, sql.events.c.event_id).in_(bindparam("events", expanding=True)))


@dataclass
class _Heartbeat:
    user_id: uuid.UUID
    facts: LessonFacts
    event: HeartbeatIn
    answer: asyncio.Future = field(repr=False)

    @property
    def slot(self) -> tuple[uuid.UUID, uuid.UUID, str]:
        return self.user_id, self.facts.course_id, self.facts.key

    def resolve(self, response: dict | None) -> None:
        if not self.answer.done():  # the client may have gone away (its request was cancelled)
            self.answer.set_result(response)


class HeartbeatBatcher:
    """One per worker. `record` answers a heartbeat from a batch, or None when it needs the full path."""

    def __init__(self, db: Database, *, max_batch: int = MAX_BATCH) -> None:
        self.db, self.max_batch = db, max_batch
        self._waiting: list[_Heartbeat] = []
        self._writer: asyncio.Task | None = None
        self._closing = False

    async def record(self, user_id: uuid.UUID, lesson_id: uuid.UUID, event: HeartbeatIn) -> dict | None:
        facts = cached_lesson_facts(lesson_id)
        if facts is None or self._closing:
            return None  # a lesson not seen yet by this worker, or shutting down: the full path takes it
        heartbeat = _Heartbeat(user_id, facts, event, asyncio.get_running_loop().create_future())
        self._waiting.append(heartbeat)
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_waiting())
        return await heartbeat.answer

    async def drain(self) -> None:
        """At shutdown: take no new heartbeats, and write (or hand back to the full path) those waiting, so no
        heartbeat in flight is dropped silently."""
        self._closing = True
        if self._writer is not None:
            await asyncio.shield(self._writer)
        for heartbeat in self._waiting:  # only if the writer died before taking them
            heartbeat.resolve(None)
        self._waiting = []

    async def _write_waiting(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting[:self.max_batch], self._waiting[self.max_batch:]
            try:
                answers = await self._write(batch, utcnow())
            except Exception:  # noqa: BLE001 — each heartbeat then takes the full path, which reports its own error
                logger.warning("heartbeat batch of %d abandoned; applying them one by one", len(batch),
                               exc_info=True)
                answers = {}
            for heartbeat in batch:
                heartbeat.resolve(answers.get(id(heartbeat)))

    async def _write(self, batch: list[_Heartbeat], now: datetime) -> dict[int, dict]:
        """Apply what the batch can and commit; returns the answers by id() of the heartbeat."""
        slots: dict[tuple, _Heartbeat] = {}
        event_ids: set[tuple[uuid.UUID, str]] = set()
        for heartbeat in batch:  # a second event for a slot, or a reused event id, goes the full path
            key = (heartbeat.user_id, heartbeat.event.event_id)
            if heartbeat.slot not in slots and key not in event_ids:
                slots[heartbeat.slot] = heartbeat
                event_ids.add(key)
        answers: dict[int, dict] = {}
        # Transaction exception «heartbeat group commit» (docs/architecture.md).
        async with self.db.session() as session:
            conn = await session.connection()
            statements = sql.statements(conn.dialect.name)
            rows = (await conn.execute(_LOCKED_ROWS, {"slots": list(slots)})).all()
            known = {(seen.user_id, seen.event_id)
                     for seen in (await conn.execute(_KNOWN_EVENTS, {"events": list(event_ids)})).all()}
            events, updates = [], []
            for found in rows:
                columns = found._mapping
                user_id = columns["user_id"]
                heartbeat = slots[(user_id, columns["course_id"], columns["lesson_key"])]
                if columns["version_id"] != heartbeat.facts.version_id or (user_id, heartbeat.event.event_id) in known:
                    continue
                row = ProgressRow.of(columns)
                try:
                    applied = apply_event(heartbeat.facts, row, heartbeat.event, now, credit_budget(row, now))
                except HocSoError:
                    continue
                if applied.completes:
                    continue
                events.append({"id": time_ordered_id(), "user_id": user_id, "event_id": heartbeat.event.event_id,
                               "lesson_id": heartbeat.facts.id, "response": applied.response, "received_at": now})
                updates.append(row_params(row, applied.changes))
                answers[id(heartbeat)] = applied.response
            if events:
                recorded = (await conn.execute(statements.record_events, events)).all()
                if len(recorded) != len(events):
                    # Another worker recorded one of these event ids since the read: start over one by one.
                    raise _EventRaced()
                await conn.execute(sql.APPLY, updates)
        return answers


class _EventRaced(Exception):
    pass
