"""Housekeeping: progress events older than the retention are deleted, in batches, and nothing newer."""

import uuid
from datetime import timedelta

from sqlalchemy import func, insert, select

from app.models.base import first_id_at, time_ordered_id, utcnow
from app.models.learning import ProgressEvent
from app.services.learning.retention import prune_progress_events
from tests.factories import make_user


def test_ids_made_before_a_moment_sort_below_its_first_id_and_later_ones_above():
    now = utcnow()
    assert time_ordered_id() >= first_id_at(now - timedelta(milliseconds=1))
    assert time_ordered_id() < first_id_at(now + timedelta(seconds=5))


def event_at(user_id: uuid.UUID, received_at, n: int) -> dict:
    """An event as the heartbeat path writes it at `received_at` (its id made then)."""
    millis = int(received_at.timestamp() * 1000)
    made_then = uuid.UUID(int=millis << 80 | time_ordered_id().int & (1 << 80) - 1)
    return {"id": made_then, "user_id": user_id, "event_id": f"e{n}", "response": {}, "received_at": received_at}


async def test_events_older_than_the_retention_are_pruned_in_batches_and_newer_ones_kept(committed_db):
    now = utcnow()
    async with committed_db.session() as session:
        user = await make_user(session)
        ages = [30, 20, 15, 14.1, 13.9, 0]  # days
        await session.execute(insert(ProgressEvent), [
            event_at(user.id, now - timedelta(days=days), n) for n, days in enumerate(ages)])
    deleted = await prune_progress_events(committed_db, retention_days=14, batch_size=2)
    async with committed_db.session() as session:
        kept = (await session.execute(select(ProgressEvent.event_id).where(ProgressEvent.user_id == user.id)
                                      .order_by(ProgressEvent.event_id))).scalars().all()
        total = (await session.execute(select(func.count()).select_from(ProgressEvent))).scalar_one()
    assert deleted == 4 and kept == ["e4", "e5"] and total == 2
    assert await prune_progress_events(committed_db, retention_days=14) == 0

