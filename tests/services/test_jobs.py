from sqlalchemy import select

from app.models.jobs import Job, JobStatus
from app.services import jobs

seen: list[dict] = []


@jobs.job_handler("test.record")
async def _record(db, payload):
    seen.append(payload)


@jobs.job_handler("test.explode")
async def _explode(db, payload):
    raise RuntimeError("boom")


async def test_enqueued_job_runs_once_and_is_marked_succeeded(db, session):
    seen.clear()
    jobs.enqueue(session, "test.record", {"n": 1})
    await session.commit()
    assert await jobs.run_pending(db) == 1
    assert seen == [{"n": 1}]
    job = (await session.execute(select(Job))).scalar_one()
    await session.refresh(job)
    assert job.status == JobStatus.succeeded and job.attempts == 1
    assert await jobs.run_pending(db) == 0


async def test_failing_job_backs_off_then_fails_after_max_attempts(db, session):
    job = jobs.enqueue(session, "test.explode", {}, max_attempts=2)
    await session.commit()
    assert await jobs.run_pending(db) == 1
    await session.refresh(job)
    assert job.status == JobStatus.queued and "boom" in job.error  # retried later, not now
    job.run_after = job.created_at
    await session.commit()
    assert await jobs.run_pending(db) == 1
    await session.refresh(job)
    assert job.status == JobStatus.failed and job.attempts == 2


async def test_unknown_job_kind_fails_visibly(db, session):
    job = jobs.enqueue(session, "test.nobody-handles-this", {}, max_attempts=1)
    await session.commit()
    await jobs.run_pending(db)
    await session.refresh(job)
    assert job.status == JobStatus.failed and "no handler" in job.error
