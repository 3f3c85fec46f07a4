"""Heartbeats by group commit: the same answers as one by one, fewer transactions, and the full path for
everything a batch leaves alone."""

import asyncio
import contextlib
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from app.models.base import utcnow
from app.models.identity import User
from app.models.learning import Enrollment, HeartbeatIn, LessonProgress, ProgressEvent
from app.services.learning import heartbeat_batch
from app.services.learning.heartbeat_batch import HeartbeatBatcher
from app.services.learning.progress import record_heartbeat
from tests.factories import make_course, make_user, video

T0 = utcnow().replace(microsecond=0)


def beat(intervals, event_id=None) -> HeartbeatIn:
    return HeartbeatIn(event_id=event_id or uuid.uuid4().hex, intervals=intervals)


@pytest.fixture
def batch_clock(monkeypatch):
    """The batch's server time, set by each test."""
    clock = {"now": T0}
    monkeypatch.setattr(heartbeat_batch, "utcnow", lambda: clock["now"])
    return clock


class CountingDatabase:
    """The test database, counting the units of work the batcher opens."""

    def __init__(self, db) -> None:
        self.db, self.sessions = db, 0

    @contextlib.asynccontextmanager
    async def session(self):
        self.sessions += 1
        async with self.db.session() as session:
            yield session


async def watching(session, count=1, **course):
    """Learners enrolled in a 120 s video whose playback started at T0 (the full path wrote the first beat)."""
    rows = await make_course(session, lessons=[video("intro", 120)], **course)
    lesson = rows.lessons["intro"].id
    users = []
    for _ in range(count):
        user = await make_user(session)
        session.add(Enrollment(user_id=user.id, course_id=rows.course.id, version_id=rows.version.id))
        await session.flush()
        await record_heartbeat(session, user.id, lesson, beat([]), now=T0)
        users.append(user)
    await session.commit()
    return users, lesson


async def progress_of(session, user):
    row = (await session.execute(select(LessonProgress).where(LessonProgress.user_id == user.id))).scalar_one()
    await session.refresh(row)
    return row


async def test_a_batch_answers_and_writes_as_one_by_one_would(db, session, batch_clock):
    (batched, single), lesson = await watching(session, 2)
    batch_clock["now"] = T0 + timedelta(seconds=20)
    answer = await HeartbeatBatcher(db).record(batched.id, lesson, beat([[0, 30], [50, 60]], "e1"))
    expected = await record_heartbeat(session, single.id, lesson, beat([[0, 30], [50, 60]], "e1"),
                                      now=batch_clock["now"])
    assert answer == expected and answer["credited_s"] == 40  # capped at 2 × 20 s, earliest first
    a, b = await progress_of(session, batched), await progress_of(session, single)
    assert (a.intervals, a.covered_s, a.last_heartbeat_at) == (b.intervals, b.covered_s, b.last_heartbeat_at)
    stored = (await session.execute(select(ProgressEvent.response).where(
        ProgressEvent.user_id == batched.id, ProgressEvent.event_id == "e1"))).scalar_one()
    assert stored == answer


@pytest.mark.parametrize("client_ahead", [timedelta(days=2), timedelta(days=-2)], ids=["ahead", "behind"])
async def test_a_batched_claim_beyond_the_budget_earns_twice_the_server_time(db, session, batch_clock,
                                                                             client_ahead):
    # Claims more than the budget (the test above claims exactly it, so there the cap never binds), with a
    # client clock two days off the server's: only the server's 20 s since the previous heartbeat count.
    (user,), lesson = await watching(session)
    batch_clock["now"] = T0 + timedelta(seconds=20)
    event = HeartbeatIn(event_id="ahead", intervals=[[0, 100]], position_s=100, playback_rate=16,
                        client_time=batch_clock["now"] + client_ahead)
    counting = CountingDatabase(db)
    answer = await HeartbeatBatcher(counting).record(user.id, lesson, event)
    assert answer is not None and counting.sessions == 1  # answered by the batch, not the full path
    assert (answer["credited_s"], answer["covered_s"], answer["intervals"]) == (40, 40, [[0, 40]])
    row = await progress_of(session, user)
    assert (row.intervals, row.covered_s, row.last_heartbeat_at) == ([[0, 40]], 40, batch_clock["now"])


async def test_batched_heartbeats_of_many_learners_are_each_capped(db, session, batch_clock):
    users, lesson = await watching(session, 4)
    batch_clock["now"] = T0 + timedelta(seconds=15)
    batcher = HeartbeatBatcher(db)
    answers = await asyncio.gather(*(batcher.record(u.id, lesson, beat([[0, 120]])) for u in users))
    assert [a["credited_s"] for a in answers] == [30] * 4
    assert [(await progress_of(session, u)).covered_s for u in users] == [30] * 4


async def test_heartbeats_arriving_together_share_one_transaction(db, session, batch_clock):
    users, lesson = await watching(session, 12)
    batch_clock["now"] = T0 + timedelta(seconds=30)
    counting = CountingDatabase(db)
    batcher = HeartbeatBatcher(counting)
    answers = await asyncio.gather(*(batcher.record(u.id, lesson, beat([[0, 30]])) for u in users))
    assert all(a is not None and a["covered_s"] == 30 for a in answers)
    assert counting.sessions == 1
    assert [(await progress_of(session, u)).covered_s for u in users] == [30] * 12


async def test_a_batch_is_capped_and_the_rest_go_in_the_next(db, session, batch_clock):
    users, lesson = await watching(session, 5)
    batch_clock["now"] = T0 + timedelta(seconds=30)
    counting = CountingDatabase(db)
    batcher = HeartbeatBatcher(counting, max_batch=2)
    answers = await asyncio.gather(*(batcher.record(u.id, lesson, beat([[0, 30]])) for u in users))
    assert all(a is not None for a in answers) and counting.sessions == 3


async def test_the_same_lesson_twice_in_a_batch_sends_the_second_the_full_path(db, session, batch_clock):
    (user,), lesson = await watching(session)
    batch_clock["now"] = T0 + timedelta(seconds=30)
    batcher = HeartbeatBatcher(db)
    first, second = await asyncio.gather(batcher.record(user.id, lesson, beat([[0, 30]])),
                                         batcher.record(user.id, lesson, beat([[30, 60]])))
    assert first["covered_s"] == 30 and second is None


@pytest.mark.parametrize("case", ["first heartbeat", "replayed event", "completes the lesson",
                                  "deactivated account", "left the course", "unknown lesson"])
async def test_what_a_batch_leaves_to_the_full_path(db, session, batch_clock, case):
    (user,), lesson = await watching(session, video_coverage=0.2)
    batch_clock["now"] = T0 + timedelta(seconds=60)
    event = beat([[0, 10]], "seen")
    if case == "first heartbeat":
        await session.execute(LessonProgress.__table__.delete().where(LessonProgress.user_id == user.id))
    elif case == "replayed event":
        await record_heartbeat(session, user.id, lesson, beat([[0, 10]], "seen"), now=T0 + timedelta(seconds=5))
    elif case == "completes the lesson":
        event = beat([[0, 30]])  # 25% of the video, over the course's 20%
    elif case == "deactivated account":
        await session.execute(update(User).where(User.id == user.id).values(is_active=False))
    elif case == "left the course":
        await session.execute(update(Enrollment).where(Enrollment.user_id == user.id).values(left_at=T0))
    elif case == "unknown lesson":
        lesson = uuid.uuid4()
    await session.commit()
    before = (await session.execute(select(ProgressEvent.id).where(ProgressEvent.user_id == user.id))).all()
    assert await HeartbeatBatcher(db).record(user.id, lesson, event) is None
    after = (await session.execute(select(ProgressEvent.id).where(ProgressEvent.user_id == user.id))).all()
    assert after == before  # nothing written: the full path decides


async def test_a_failed_batch_sends_every_heartbeat_the_full_path(db, session, batch_clock, monkeypatch, caplog):
    users, lesson = await watching(session, 3)
    batch_clock["now"] = T0 + timedelta(seconds=30)
    batcher = HeartbeatBatcher(db)

    async def broken(batch, now):
        raise RuntimeError("database went away")

    monkeypatch.setattr(batcher, "_write", broken)
    answers = await asyncio.gather(*(batcher.record(u.id, lesson, beat([[0, 30]])) for u in users))
    assert answers == [None, None, None]
    assert "heartbeat batch of 3 abandoned" in caplog.text


async def test_a_heartbeat_in_flight_at_shutdown_is_written_not_dropped(db, session, batch_clock):
    (learner,), lesson = await watching(session)
    batch_clock["now"] = T0 + timedelta(seconds=20)
    batcher = HeartbeatBatcher(db)
    in_flight = asyncio.create_task(batcher.record(learner.id, lesson, beat([[0, 20]], "last")))
    await asyncio.sleep(0)  # queued in the batcher, not yet answered
    await batcher.drain()
    assert in_flight.done() and (await progress_of(session, learner)).covered_s == 20  # written before drain returned
    assert (await in_flight)["credited_s"] == 20


async def test_after_shutdown_begins_heartbeats_take_the_full_path(db, session, batch_clock):
    (learner,), lesson = await watching(session)
    batcher = HeartbeatBatcher(db)
    await batcher.drain()
    assert await batcher.record(learner.id, lesson, beat([[0, 10]])) is None  # the caller writes it itself
