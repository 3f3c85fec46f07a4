"""Housekeeping: data kept only as long as it serves its purpose.

Progress events exist so that a replayed heartbeat (a retry, an offline batch sent twice) returns its first
answer instead of being applied again. That matters for as long as a client may still replay: the offline
sync window. At 400,000 learners they are ~1.15 billion rows a day (docs/benchmarks.md), so they are deleted
once older than `progress_event_retention_days`, and offline events older than that are refused at sync
(services/progress.py), so a pruned event can never be applied twice.
"""

import asyncio
import contextlib
import logging
from datetime import timedelta

from sqlalchemy import delete, select

from app.core.config import Settings
from app.core.db import Database
from app.models.base import first_id_at, utcnow
from app.models.learning import ProgressEvent
from app.services import jobs
from app.services.identity.housekeeping import forget_spent_proofs

log = logging.getLogger("hocso.retention")
PRUNE_BATCH = 10_000  # rows deleted per transaction: short locks, bounded WAL per commit


async def prune_progress_events(db: Database, *, retention_days: int, batch_size: int = PRUNE_BATCH) -> int:
    """Delete progress events received more than `retention_days` ago, a batch per transaction; returns how
    many were deleted.

    Event ids are time-ordered, so the old events are the low end of the primary key: each batch is a range
    scan of it, not a scan of the table. On PostgreSQL a batch skips rows another pruner has locked, so
    several workers pruning at once neither wait on nor deadlock with each other."""
    cutoff = utcnow() - timedelta(days=retention_days)
    old = (select(ProgressEvent.id)
           .where(ProgressEvent.id < first_id_at(cutoff), ProgressEvent.received_at < cutoff)
           .order_by(ProgressEvent.id).limit(batch_size))
    if db.dialect == "postgresql":
        old = old.with_for_update(skip_locked=True)
    deleted = 0
    while True:
        # Transaction exception «jobs own their sessions» (docs/architecture.md).
        async with db.session() as session:
            count = (await session.execute(delete(ProgressEvent).where(
                ProgressEvent.id.in_(old)))).rowcount
        deleted += count
        if count < batch_size:
            return deleted


async def housekeeping_forever(db: Database, settings: Settings, stop: asyncio.Event) -> None:
    """Prune, and re-queue certificate jobs failed by an outage, at start and every `housekeeping_interval_s`
    until `stop` is set (run beside the job worker)."""
    while not stop.is_set():
        try:
            deleted = await prune_progress_events(db, retention_days=settings.progress_event_retention_days)
            if deleted:
                log.info("progress events pruned", extra={"deleted": deleted})
            await forget_spent_proofs(db)
            requeued = await jobs.requeue_outage_failures(
                db, cooled_off=timedelta(seconds=settings.job_outage_requeue_after_s))
            if requeued:
                log.info("certificate jobs failed by an outage re-queued", extra={"requeued": requeued})
        except Exception:  # noqa: BLE001 - e.g. the database restarting; try again next round
            log.exception("housekeeping failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), settings.housekeeping_interval_s)
