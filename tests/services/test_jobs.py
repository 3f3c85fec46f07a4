import asyncio
from datetime import timedelta

from sqlalchemy import select

from app.models.base import utcnow
from app.models.jobs import Job, JobKind, JobStatus
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


@jobs.job_handler("test.storage-down")
async def _storage_down(db, payload):
    from botocore.exceptions import EndpointConnectionError
    raise EndpointConnectionError(endpoint_url="http://s3.invalid")


async def test_a_job_failing_through_an_outage_is_retried_with_backoff_not_failed(db, session):
    """Issue 18, item 12: three attempts in a minute, then `failed` for ever, lost a certificate for good."""
    job = jobs.enqueue(session, "test.storage-down", {}, max_attempts=1)
    await session.commit()
    delays = []
    for _ in range(8):
        assert await jobs.run_pending(db) == 1
        await session.refresh(job)
        assert job.status == JobStatus.queued and "EndpointConnectionError" in job.error
        delays.append(round((job.run_after - utcnow()).total_seconds() / 30))
        job.run_after = job.created_at
        await session.commit()
    assert delays == [1, 2, 4, 8, 16, 32, 64, 120]  # × 30 s: doubling, at most an hour apart
    job.created_at = utcnow() - jobs.OUTAGE_RETRY_FOR  # a day of outage: now an operator should look
    await session.commit()
    await jobs.run_pending(db)
    await session.refresh(job)
    assert job.status == JobStatus.failed and job.outage == "storage"


async def test_a_running_job_whose_lease_lapsed_is_reclaimed_within_minutes(db, session):
    seen.clear()
    job = jobs.enqueue(session, "test.record", {"n": 2})
    await session.commit()
    job.status, job.locked_at = JobStatus.running, utcnow() - jobs.STALE_AFTER + timedelta(seconds=5)
    await session.commit()
    assert await jobs.run_pending(db) == 0  # its worker may still be renewing the lease
    job.locked_at = utcnow() - jobs.STALE_AFTER - timedelta(seconds=1)
    await session.commit()
    assert await jobs.run_pending(db) == 1 and seen == [{"n": 2}]
    assert timedelta(minutes=5) >= jobs.STALE_AFTER and jobs.LEASE_RENEW < jobs.STALE_AFTER / 2


async def test_a_running_job_renews_its_lease(db, session, monkeypatch):
    monkeypatch.setattr(jobs, "LEASE_RENEW", timedelta(seconds=0.05))

    @jobs.job_handler("test.slow")
    async def _slow(db_, payload):
        await asyncio.sleep(0.3)  # the lease is renewed meanwhile

    job = jobs.enqueue(session, "test.slow", {})
    await session.commit()
    started = utcnow()
    assert await jobs.run_pending(db) == 1
    await session.refresh(job)
    assert (job.locked_at - started).total_seconds() >= 0.1  # renewed after the claim, while it ran


async def _failed(session, kind, *, outage=None, failed_ago=timedelta(hours=7)) -> Job:
    job = jobs.enqueue(session, kind, {}, max_attempts=1)
    job.status, job.attempts, job.error, job.outage = JobStatus.failed, 1, "EndpointConnectionError: …", outage
    job.finished_at = utcnow() - failed_ago
    await session.commit()
    return job


async def test_retry_failed_requeues_failed_jobs_of_one_kind_with_fresh_attempts(db, session):
    certificate = await _failed(session, JobKind.issue_certificate)
    package = await _failed(session, JobKind.import_package)
    assert await jobs.retry_failed(session, kind=JobKind.issue_certificate) == 1
    await session.commit()
    await session.refresh(certificate)
    await session.refresh(package)
    assert certificate.status == JobStatus.queued and certificate.attempts == 0
    assert certificate.run_after <= utcnow() and certificate.finished_at is None
    assert package.status == JobStatus.failed


async def test_housekeeping_requeues_certificates_failed_by_an_outage_once_cooled_off(db, session):
    """Issue 18, item 12: a certificate failed through a day-long storage outage is not lost for good."""
    cooled = await _failed(session, JobKind.issue_certificate, outage="storage")
    recent = await _failed(session, JobKind.issue_certificate, outage="database", failed_ago=timedelta(minutes=5))
    broken = await _failed(session, JobKind.issue_certificate)  # a real error: for an operator to look at
    package = await _failed(session, JobKind.import_package, outage="storage")
    assert await jobs.requeue_outage_failures(db, cooled_off=timedelta(hours=6)) == 1
    for job in (cooled, recent, broken, package):
        await session.refresh(job)
    assert cooled.status == JobStatus.queued
    assert [recent.status, broken.status, package.status] == [JobStatus.failed] * 3


async def test_an_outage_mark_is_cleared_when_the_job_fails_for_another_reason(db, session):
    job = jobs.enqueue(session, "test.explode", {}, max_attempts=1)
    job.outage = "storage"
    await session.commit()
    await jobs.run_pending(db)
    await session.refresh(job)
    assert job.status == JobStatus.failed and job.outage is None
