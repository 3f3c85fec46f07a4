"""Offline progress: a batch of heartbeats and document views recorded without a connection (the mobile app),
applied in the order they happened with the same rules and credit budget as live heartbeats (progress.py)."""

import uuid
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import HocSoError
from app.core.i18n import messages, t
from app.models.base import utcnow
from app.models.learning import BatchEventIn, BatchEventResult, ProgressBatchResult, ProgressEvent
from app.services.learning.progress import ProgressRecorder, check_same_lesson, lesson_facts

messages({
    "invalid_event": ("Sự kiện không hợp lệ: {error}", "Invalid event: {error}"),
    "event_too_old": ("Sự kiện đã quá {days} ngày, không thể đồng bộ.",
                      "The event is more than {days} days old and can no longer be synced."),
})


async def sync_batch(session: AsyncSession, user_id: uuid.UUID, events: list[Any], *, keep_days: int,
                     now: datetime | None = None) -> ProgressBatchResult:
    """Apply an offline batch in client_time order, idempotently per event id, answering per event.

    A malformed or refused event is reported as rejected with its reason and never stops the others. Events
    of one lesson share that lesson's credit budget (wall-clock since its previous accepted heartbeat × 2), so
    a batch earns no more than the same events sent live. Events that happened more than `keep_days` ago are
    refused: event ids are kept that long (services/retention.py), so an older one could be applied twice.
    """
    recorder = ProgressRecorder(session, user_id, now or utcnow())
    oldest = recorder.now - timedelta(days=keep_days)
    results: list[BatchEventResult | None] = [None] * len(events)
    valid: list[tuple[datetime, int, BatchEventIn]] = []
    for index, raw in enumerate(events):
        try:
            event = BatchEventIn.model_validate(raw)
        except ValidationError as exc:
            raw_id = raw.get("event_id") if isinstance(raw, dict) else None
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first.get("loc", ()))
            results[index] = BatchEventResult(
                event_id=raw_id if isinstance(raw_id, str) else None, status="rejected",
                reason="invalid_event", detail=t("invalid_event", error=f"{where}: {first.get('msg', '')}"))
            continue
        if event.client_time < oldest:
            results[index] = BatchEventResult(event_id=event.event_id, status="rejected", reason="event_too_old",
                                              detail=t("event_too_old", days=keep_days))
            continue
        valid.append((event.client_time, index, event))
    valid.sort(key=lambda item: (item[0], item[1]))

    known: dict[str, tuple[dict, uuid.UUID | None]] = {}
    if valid:  # events applied before (online, or by an earlier sync) in one query
        known = {seen.event_id: (seen.response, seen.lesson_id) for seen in (await session.execute(
            select(ProgressEvent.event_id, ProgressEvent.response, ProgressEvent.lesson_id).where(
                ProgressEvent.user_id == user_id,
                ProgressEvent.event_id.in_({e.event_id for _, _, e in valid})))).all()}
    for _, index, event in valid:
        try:
            if event.event_id in known:
                response, stored_lesson = known[event.event_id]
                check_same_lesson(event.event_id, stored_lesson, event.lesson_id)
                results[index] = BatchEventResult(event_id=event.event_id, status="duplicate", progress=response)
                continue
            status, response = await recorder.apply(event, await lesson_facts(session, event.lesson_id))
        except HocSoError as exc:
            results[index] = BatchEventResult(event_id=event.event_id, status="rejected", reason=exc.code,
                                              detail=t(exc.code, **exc.params))
            continue
        known[event.event_id] = (response, event.lesson_id)
        results[index] = BatchEventResult(event_id=event.event_id, status=status, progress=response)

    final = [r for r in results if r is not None]
    return ProgressBatchResult(
        accepted=sum(r.status == "accepted" for r in final),
        duplicate=sum(r.status == "duplicate" for r in final),
        rejected=sum(r.status == "rejected" for r in final), results=final)
