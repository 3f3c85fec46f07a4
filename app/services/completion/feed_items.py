"""A completion's line in the completion feed, rendered once when it is recorded and kept on the row.

Why stored: a feed page of 1,000 completions rendered at read time cost PostgreSQL 30–40 ms (the learners'
names looked up one by one in a 10M-row table, then 1,000 JSON objects built), so 32 ministry and province
systems catching up on different stretches of the feed needed more database CPU than a whole machine has. A
stored item makes a page one index range scan and a string concatenation (4–6 ms; docs/benchmarks.md).

An item names its completion (`id`), and the feed relies on it: a PostgreSQL page finds its last position
through its last item's id (completion_feed._page_statement).

What an item holds can change only in two ways, and both re-render it (a learner's assurance rising later
does not: the item, like the completion, keeps the level it was completed at): the learner's name is corrected
(`rerender_for_learner`, in the same transaction as the correction), or a reform of provinces changes which
current unit a former code belongs to (a migration re-renders every item, as 0006 first rendered them).

`render` (Python, every write path on both databases) and `item_sql` (PostgreSQL, set-based: migration 0006
and the bench's 10M seed) give the same bytes for the same values; tests/services/test_feed_items.py holds
them to that.
"""

import json
import uuid
from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.models.completion import Completion
from app.models.course import Course
from app.models.reporting import FeedCompletion

FIELDS = tuple(FeedCompletion.model_fields)  # the item's keys, in this order


def render(*, id: uuid.UUID, user_id: uuid.UUID, full_name: str, course_id: uuid.UUID, course_slug: str,
           course_version: int, audience: str, assurance: str, province_code: str | None,
           current_province_code: str | None, source: str, client_id: str | None, external_ref: str | None,
           completed_at: datetime) -> str:
    """The item as compact JSON in FIELDS order (the FeedCompletion shape), completed_at in UTC with "Z"."""
    values = (str(id), str(user_id), full_name, str(course_id), course_slug, course_version, str(audience),
              str(assurance), province_code, current_province_code, source, client_id, external_ref,
              completed_at.astimezone(UTC).isoformat().replace("+00:00", "Z"))
    return json.dumps(dict(zip(FIELDS, values, strict=True)), ensure_ascii=False, separators=(",", ":"))


# row_to_json writes timestamps in the session's time zone and trims fractional zeros, while items carry UTC,
# "Z", and six digits of microseconds unless they are zero (Python's isoformat): so completed_at is text here.
_UTC_TEXT = ("to_char(timezone('UTC', {at}), CASE WHEN date_trunc('second', timezone('UTC', {at})) = "
             "timezone('UTC', {at}) THEN 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"' "
             "ELSE 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"' END)")


def item_sql(**columns: str) -> str:
    """The PostgreSQL expression rendering an item from SQL expressions named like render's arguments."""
    if set(columns) != set(FIELDS):
        raise ValueError(f"item_sql needs exactly {FIELDS}")
    values = ", ".join(
        f"{_UTC_TEXT.format(at=columns[name]) if name == 'completed_at' else columns[name]} AS {name}"
        for name in FIELDS)
    return f"(SELECT row_to_json(item)::text FROM (SELECT {values}) AS item)"


async def rerender_for_learner(session: AsyncSession, user_id: uuid.UUID, full_name: str) -> int:
    """Re-render the items of a learner's completions with their corrected name (a learner has a few
    completions at most; this runs in the caller's transaction). Returns how many were re-rendered."""
    rows = (await session.execute(
        select(Completion.seq, Completion.id, Completion.course_id, Course.slug, Completion.course_version,
               Completion.audience, Completion.assurance, Completion.province_code, Completion.current_province_code,
               Completion.source, Completion.client_id, Completion.external_ref, Completion.completed_at)
        .join(Course, Course.id == Completion.course_id)
        .where(Completion.user_id == user_id))).all()
    for row in rows:
        item = render(id=row.id, user_id=user_id, full_name=full_name, course_id=row.course_id,
                      course_slug=row.slug, course_version=row.course_version, audience=row.audience,
                      assurance=row.assurance,
                      province_code=row.province_code, current_province_code=row.current_province_code,
                      source=row.source, client_id=row.client_id, external_ref=row.external_ref,
                      completed_at=row.completed_at)
        await session.execute(update(Completion).where(Completion.seq == row.seq).values(feed_item=item))
    return len(rows)
