"""The background loops as they run in production: started by the app's lifespan (HOCSO_RUN_WORKER_IN_PROCESS,
as `hocso worker` starts the same two coroutines), working on committed data, and stopped when the app stops.

- the job worker (services/jobs.py work_forever) picks up a certificate job queued by a completion and issues
  the certificate with its PDF in storage;
- housekeeping (services/learning/retention.py housekeeping_forever) prunes old progress events at start and
  again every interval.
Every wait here has a deadline: a loop that stops working fails the test instead of hanging it.
"""

import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta

from sqlalchemy import insert, select

from app.core.storage import build_storage
from app.main import create_app
from app.models.base import utcnow
from app.models.certificate import Certificate
from app.models.learning import ProgressEvent
from app.services.completion.completions import record_completion
from tests.factories import make_course, make_user, text_lesson
from tests.services.learning.test_retention import event_at

DEADLINE_S = 30  # generous for a loaded 2-core machine; a working loop answers in well under a second


async def eventually(check: Callable[[], Awaitable[bool]], what: str) -> None:
    deadline = time.monotonic() + DEADLINE_S
    while not await check():
        assert time.monotonic() < deadline, f"within {DEADLINE_S} s: {what}"
        await asyncio.sleep(0.05)


def running(settings, committed_db, keyring, **overrides):
    """The app's lifespan with the loops on (the test settings turn them off), polling quickly."""
    settings = settings.model_copy(update={"run_worker_in_process": True, "job_poll_interval_s": 0.05,
                                           **overrides})
    app = create_app(settings, database=committed_db, keys=keyring)
    return app.router.lifespan_context(app)


async def test_the_job_worker_issues_a_queued_certificate_with_its_pdf(settings, committed_db, keyring):
    async with committed_db.session() as session:
        user = await make_user(session, full_name="Trần Văn Bình")
        rows = await make_course(session, certificate=True, lessons=[text_lesson("intro")])
        completion, _ = await record_completion(session, user=user, course=rows.course, course_version=1)

    async def issued() -> bool:
        async with committed_db.session() as session:
            cert = (await session.execute(select(Certificate).where(
                Certificate.completion_id == completion.id))).scalar_one_or_none()
        return cert is not None and cert.pdf_key is not None and \
            await build_storage(settings).head(cert.pdf_key) is not None

    assert not await issued()  # queued by the completion, not run by it
    async with asyncio.timeout(DEADLINE_S + 10):
        async with running(settings, committed_db, keyring):
            await eventually(issued, "the worker issues the certificate and stores its PDF")
        # Leaving the lifespan stopped both loops (it waits for them), within the timeout above.


async def test_housekeeping_prunes_at_start_and_again_every_interval(settings, committed_db, keyring):
    days = settings.progress_event_retention_days
    async with committed_db.session() as session:
        user = await make_user(session)
        await session.execute(insert(ProgressEvent), [event_at(user.id, utcnow() - timedelta(days=days + 1), 0),
                                                      event_at(user.id, utcnow(), 1)])

    async def events() -> list[str]:
        async with committed_db.session() as session:
            return list((await session.execute(select(ProgressEvent.event_id).where(
                ProgressEvent.user_id == user.id).order_by(ProgressEvent.event_id))).scalars())

    async with asyncio.timeout(DEADLINE_S * 2 + 10):
        async with running(settings, committed_db, keyring, housekeeping_interval_s=0.2):
            await eventually(lambda: _equal(events(), ["e1"]), "the first round prunes the old event")
            async with committed_db.session() as session:
                await session.execute(insert(ProgressEvent),
                                      [event_at(user.id, utcnow() - timedelta(days=days + 2), 2)])
            await eventually(lambda: _equal(events(), ["e1"]), "a later round prunes the one added since")


async def _equal(value: Awaitable[list[str]], expected: list[str]) -> bool:
    return await value == expected
