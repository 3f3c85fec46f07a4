"""A small, durable job runner: jobs are rows; a worker claims one atomically, runs its handler, records the end.

Handlers register by kind (`@job_handler("import_package")`) and get a `Database` and the job's payload; they
open their own units of work. On PostgreSQL several `hocso worker` processes claim with FOR UPDATE SKIP LOCKED;
on SQLite (embedded default) the in-process worker is the only one.
"""

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.db import Database
from app.core.faults import outage
from app.models.base import utcnow
from app.models.jobs import Job, JobKind, JobStatus

log = logging.getLogger("hocso.jobs")
Handler = Callable[[Database, dict[str, Any]], Awaitable[None]]
_handlers: dict[str, Handler] = {}
_running: ContextVar[Job | None] = ContextVar("hocso_running_job", default=None)  # the job a handler runs for
# A running job's worker renews its lease (locked_at) every LEASE_RENEW; a lease not renewed for STALE_AFTER
# means the worker died or lost the database, and the job is claimed again within minutes, not half an hour.
LEASE_RENEW = timedelta(seconds=60)
STALE_AFTER = timedelta(minutes=5)
DEFAULT_MAX_ATTEMPTS = 3  # a job that failed this many times stays failed for an operator to look at
# A failure caused by an outage (database or storage unreachable, app/core/faults.py) is not the job's fault: it
# is retried with a backoff doubling from 30 s to an hour, for a day, whatever max_attempts says. A certificate
# no longer fails for good after a 70-second storage outage.
OUTAGE_FIRST_RETRY = timedelta(seconds=30)
OUTAGE_MAX_RETRY = timedelta(hours=1)
OUTAGE_RETRY_FOR = timedelta(days=1)


def job_handler(kind: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        _handlers[kind] = fn
        return fn
    return register


def enqueue(session: AsyncSession, kind: str, payload: dict[str, Any], *,
            max_attempts: int = DEFAULT_MAX_ATTEMPTS) -> Job:
    """Add a job in the caller's transaction, so it exists exactly when the work that asked for it commits."""
    job = Job(kind=kind, payload=payload, max_attempts=max_attempts)
    session.add(job)
    return job


async def _claim(db: Database) -> Job | None:
    # Transaction exception «jobs own their sessions» (docs/architecture.md).
    async with db.session() as session:
        now = utcnow()
        query = (
            select(Job)
            .where(
                ((Job.status == JobStatus.queued) & (Job.run_after <= now))
                | ((Job.status == JobStatus.running) & (Job.locked_at < now - STALE_AFTER))
            )
            .order_by(Job.run_after)
            .limit(1)
        )
        if db.dialect == "postgresql":
            query = query.with_for_update(skip_locked=True)
        job = (await session.execute(query)).scalar_one_or_none()
        if job is None:
            return None
        job.status, job.locked_at, job.attempts = JobStatus.running, now, job.attempts + 1
        return job


def outage_retry_delay(attempts: int) -> timedelta:
    """30 s, 1 min, 2 min … at most an hour between tries while a dependency is down."""
    return min(OUTAGE_MAX_RETRY, OUTAGE_FIRST_RETRY * 2 ** min(max(attempts - 1, 0), 20))


async def _finish(db: Database, job_id: uuid.UUID, error: str | None, *, outage: str | None = None) -> None:
    # Transaction exception «jobs own their sessions» (docs/architecture.md).
    async with db.session() as session:
        job = await session.get(Job, job_id)
        assert job is not None
        job.outage = outage
        if error is None:
            job.status, job.finished_at = JobStatus.succeeded, utcnow()
        elif not _retried(job, outage):
            job.status, job.finished_at, job.error = JobStatus.failed, utcnow(), error
        elif outage is not None:
            job.status, job.error = JobStatus.queued, error
            job.run_after = utcnow() + outage_retry_delay(job.attempts)
        else:  # back off and retry
            job.status, job.error = JobStatus.queued, error
            job.run_after = utcnow() + timedelta(seconds=10 * 2 ** job.attempts)


def _retried(job: Job, outage: str | None) -> bool:
    """Whether a failure of this attempt is tried again: an outage for a day, anything else max_attempts times."""
    if outage is not None and utcnow() - job.created_at < OUTAGE_RETRY_FOR:
        return True
    return job.attempts < job.max_attempts


def will_retry(outage: str | None) -> bool:
    """For a handler about to fail: whether the runner will try its job again (so it must keep what a retry
    needs, such as an uploaded package), by the rule `_finish` applies. False outside a job (the CLI)."""
    job = _running.get()
    return job is not None and _retried(job, outage)


async def retry_failed(session: AsyncSession, *, kind: str | None = None, outage_only: bool = False,
                       failed_before: datetime | None = None) -> int:
    """Put failed jobs back in the queue with fresh attempts, due now; returns how many. `outage_only` keeps to
    failures caused by a dependency being down, `failed_before` to those failed at least that long ago. The
    caller commits (the CLI, or the housekeeping sweep)."""
    query = update(Job).where(Job.status == JobStatus.failed)
    if kind is not None:
        query = query.where(Job.kind == kind)
    if outage_only:
        query = query.where(Job.outage.is_not(None))
    if failed_before is not None:
        query = query.where(Job.finished_at <= failed_before)
    requeued = await session.execute(query.values(status=JobStatus.queued, attempts=0, run_after=utcnow(),
                                                  finished_at=None, locked_at=None))
    await session.flush()
    return requeued.rowcount


async def requeue_outage_failures(db: Database, *, cooled_off: timedelta) -> int:
    """Housekeeping: certificate jobs that failed only because storage or the database stayed down are
    re-queued once failed for `cooled_off`, so a long outage never leaves a learner without their certificate."""
    # Transaction exception «jobs own their sessions» (docs/architecture.md).
    async with db.session() as session:
        return await retry_failed(session, kind=JobKind.issue_certificate, outage_only=True,
                                  failed_before=utcnow() - cooled_off)


async def run_one(db: Database) -> bool:
    """Claim and run one due job; False when there was none."""
    job = await _claim(db)
    if job is None:
        return False
    handler = _handlers.get(job.kind)
    error = down = None
    done = asyncio.Event()
    lease = asyncio.create_task(_renew_lease(db, job.id, done))
    running = _running.set(job)
    try:
        if handler is None:
            raise LookupError(f"no handler for job kind {job.kind!r}")
        await handler(db, job.payload)
    except Exception as exc:  # noqa: BLE001 - a failed job is recorded, not allowed to kill the worker
        down = outage(exc)
        if down is None:
            log.exception("job failed", extra={"job_id": str(job.id), "kind": job.kind})
        else:
            log.warning("job waits for the %s to come back", down, extra={"job_id": str(job.id), "kind": job.kind})
        error = f"{type(exc).__name__}: {exc}"[:2000]
    finally:
        _running.reset(running)
        done.set()  # stopped between renewals, never cancelled in the middle of one
        await lease
    await _finish(db, job.id, error, outage=down)
    return True


async def _renew_lease(db: Database, job_id: uuid.UUID, done: asyncio.Event) -> None:
    """Keep the claim fresh while the handler runs, so only a job whose worker is gone looks stale."""
    while True:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(done.wait(), LEASE_RENEW.total_seconds())
        if done.is_set():
            return
        try:
            # Transaction exception «jobs own their sessions» (docs/architecture.md).
            async with db.session() as session:
                await session.execute(update(Job).where(Job.id == job_id, Job.status == JobStatus.running)
                                      .values(locked_at=utcnow()))
        except Exception:  # noqa: BLE001 - the database is away: the lease lapses and the job is reclaimed
            log.warning("job lease not renewed", extra={"job_id": str(job_id)}, exc_info=True)


async def run_pending(db: Database, limit: int = 1000) -> int:
    """Run due jobs until none is left (tests and the CLI use this); returns how many ran."""
    ran = 0
    while ran < limit and await run_one(db):
        ran += 1
    return ran


async def work_forever(db: Database, poll_interval_s: float, stop: asyncio.Event) -> None:
    while not stop.is_set():
        try:
            busy = await run_one(db)
        except Exception:  # noqa: BLE001 - e.g. the database restarting; keep the worker alive
            log.exception("job worker loop error")
            busy = False
        if not busy:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), poll_interval_s)
