"""The app factory's start-up and shutdown: what they do to the process as a whole and to the per-worker objects."""

import asyncio
import contextlib
import gc
from datetime import timedelta

import httpx
from sqlalchemy import select

from app.main import GC_THRESHOLDS
from app.models.base import utcnow
from app.models.learning import Enrollment, LessonProgress
from app.services.learning import heartbeat_batch, progress
from tests.factories import auth, make_course, make_user, token_for, video


@contextlib.asynccontextmanager
async def serving(app):  # noqa: ANN001, ANN201
    """The app between its real start-up and shutdown; the collector's settings are put back afterwards."""
    before = gc.get_threshold()
    gc.unfreeze()
    try:
        async with app.router.lifespan_context(app):
            yield
    finally:
        gc.set_threshold(*before)
        gc.unfreeze()


async def test_start_up_moves_what_is_loaded_out_of_the_collectors_reach_and_raises_its_thresholds(app):
    async with serving(app):
        assert gc.get_threshold() == GC_THRESHOLDS
        assert gc.get_freeze_count() > 0


async def test_a_heartbeat_in_flight_at_shutdown_is_written_not_dropped(app, session, keyring, settings,
                                                                        monkeypatch):
    now = [utcnow()]
    for module in (progress, heartbeat_batch):
        monkeypatch.setattr(module, "utcnow", lambda: now[0])
    rows = await make_course(session, lessons=[video("intro", 120)])
    learner = await make_user(session)
    session.add(Enrollment(user_id=learner.id, course_id=rows.course.id, version_id=rows.version.id))
    await session.commit()
    url, headers = f"/api/v1/lessons/{rows.lessons['intro'].id}/progress", auth(token_for(keyring, settings, learner))

    batcher = app.state.per_worker.heartbeats
    write, taken, closing = batcher._write, asyncio.Event(), asyncio.Event()

    async def written_once_shutdown_began(batch, at):  # noqa: ANN001, ANN202
        taken.set()
        await closing.wait()
        return await write(batch, at)

    monkeypatch.setattr(batcher, "_write", written_once_shutdown_began)
    drain = batcher.drain

    async def draining() -> None:
        closing.set()
        await drain()

    monkeypatch.setattr(batcher, "drain", draining)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        async with serving(app):
            started = await client.post(url, headers=headers, json={"event_id": "start", "intervals": []})
            assert started.status_code == 200  # the full path: the worker now knows the lesson
            now[0] += timedelta(seconds=20)
            in_flight = asyncio.create_task(client.post(url, headers=headers,
                                                        json={"event_id": "hb", "intervals": [[0, 20]]}))
            await taken.wait()  # in the batch, not yet written, when the shutdown begins
        answer = await asyncio.wait_for(in_flight, 10)  # never left waiting for a writer that is gone
    assert answer.status_code == 200 and answer.json()["covered_s"] == 20
    assert (await session.execute(select(LessonProgress.covered_s).where(
        LessonProgress.user_id == learner.id))).scalar_one() == 20


async def test_shutdown_closes_the_rate_limit_storage(app, monkeypatch):
    closed = []
    limits = app.state.per_worker.rate_limits
    close = limits.close

    async def closing() -> None:
        closed.append(True)
        await close()

    monkeypatch.setattr(limits, "close", closing)
    async with serving(app):
        assert closed == []
    assert closed == [True]
