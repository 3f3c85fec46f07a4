"""The completion feed: every completion exactly once, in an order a consumer can resume from at any time.

Why (txid, seq) and a horizon: `seq` is taken at INSERT, but transactions commit in any order, so a reader
paging by `seq` alone could pass 105 (committed) while 104 is still in flight and never see 104. On PostgreSQL
each completion records the id of the transaction that inserted it, and the feed serves only rows whose
transaction is older than the oldest one still running (`txid_snapshot_xmin(txid_current_snapshot())`). Every
transaction below that horizon has ended, so no row can later appear behind a consumer's cursor, and newer
transactions always get larger ids: paging by (txid, seq) under the horizon never misses and never repeats a
completion. A row becomes visible once every transaction that started before its own has finished (normally
milliseconds). On SQLite writers are serialised (BEGIN IMMEDIATE), so `seq` order is commit order and `txid`
is always 0.
"""

import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any, NamedTuple

from sqlalchemy import JSON, BigInteger, Integer, Select, Text, Uuid, bindparam, cast, func, select, tuple_
from sqlalchemy.dialects.postgresql import ARRAY, array
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from app.core.cache import SharedPages
from app.core.db import Database
from app.core.errors import FieldError, ValidationFailed
from app.core.i18n import messages
from app.core.localtime import local_midnight
from app.core.pagination import decode_cursor, encode_cursor, whole_number
from app.models.completion import Completion
from app.models.identity import Audience
from app.services.geo import load_geography
from app.services.stats.query import resolve_course, resolve_province

MAX_PAGE = 1000
EXPORT_CHUNK = 1000  # rows fetched from the server-side cursor and written out at a time
# Full pages kept per worker for consumers reading the same stretch of the feed (see read_page): a few
# seconds, so a learner's new name shows soon; 32 pages of 1,000 rows are ~13 MB.
SHARED_PAGE_TTL_S = 5.0
SHARED_PAGES = 32

messages({
    "feed_range_reversed": ("Ngày bắt đầu phải trước hoặc bằng ngày kết thúc.", "from must not be after to."),
})


@dataclass(frozen=True)
class FeedFilter:
    province: str | None = None  # a current unit: completions recorded under its former units belong to it
    audience: Audience | None = None
    course_id: uuid.UUID | None = None
    since: datetime | None = None  # UTC, inclusive
    until: datetime | None = None  # UTC, exclusive


def _local_midnight(day: date) -> datetime:
    return local_midnight(day)


async def build_filter(session: AsyncSession, *, province: str | None = None,
                       audience: Audience | None = None, course: str | None = None,
                       first_day: date | None = None, last_day: date | None = None,
                       scoped_province: str | None = None) -> FeedFilter:
    """Validate the feed's filters: `from`/`to` are local days (inclusive), a province includes its former
    units, and a province-scoped client is held to its own province."""
    if first_day and last_day and first_day > last_day:
        raise ValidationFailed(errors=[FieldError("feed_range_reversed", field="from")])
    geo = await load_geography(session)
    found = await resolve_course(session, course)
    return FeedFilter(
        province=resolve_province(geo, province, scoped_province),
        audience=audience, course_id=found.id if found else None,
        since=_local_midnight(first_day) if first_day else None,
        until=_local_midnight(last_day + timedelta(days=1)) if last_day else None,
    )


def _values(f: FeedFilter, after: tuple[int, int] | None) -> dict[str, Any]:
    """The bound values of a feed query: the cursor's position and the filters that are set."""
    values: dict[str, Any] = {"after_txid": after[0], "after_seq": after[1]} if after is not None else {}
    for name in ("province", "audience", "course_id", "since", "until"):
        if getattr(f, name) is not None:
            values[name] = getattr(f, name)
    return values


def _order(bound: frozenset[str]) -> tuple[Any, ...]:
    """The feed's order. With a province it leads with the (fixed) province, which orders the same rows the
    same way but is exactly ix_completion_province_feed's order: PostgreSQL then reads that index, where
    on (txid, seq) alone it preferred the feed index filtered by province (4,700 buffers a page, not 70)."""
    order = (Completion.txid, Completion.seq)
    return (Completion.current_province_code, *order) if "province" in bound else order


def _conditions(dialect: str, bound: frozenset[str]) -> list[Any]:
    """The feed's WHERE: under the horizon, after the cursor, matching the filters named in `bound`. Values
    are bound parameters, so each combination of filters is one statement, built once (`_statement`,
    `_page_statement`)."""
    where: list[Any] = []
    if dialect == "postgresql":
        horizon = select(func.txid_snapshot_xmin(func.txid_current_snapshot())).scalar_subquery()
        where.append(Completion.txid < horizon)
    position = (bindparam("after_txid", type_=BigInteger), bindparam("after_seq", type_=BigInteger))
    if "province" in bound and "after_txid" in bound:
        # The province's rows after the cursor as one index range: the row comparison is where it starts,
        # `<=` where it ends (with `=` instead, PostgreSQL started at the province's first row and filtered).
        province = bindparam("province")
        where += [tuple_(*_order(bound)) > tuple_(province, *position), Completion.current_province_code <= province]
    elif "province" in bound:
        where.append(Completion.current_province_code == bindparam("province"))
    elif "after_txid" in bound:
        where.append(tuple_(*_order(bound)) > tuple_(*position))
    if "audience" in bound:
        where.append(Completion.audience == bindparam("audience"))
    if "course_id" in bound:
        where.append(Completion.course_id == bindparam("course_id"))
    if "since" in bound:
        where.append(Completion.completed_at >= bindparam("since"))
    if "until" in bound:
        where.append(Completion.completed_at < bindparam("until"))
    return where


@lru_cache(maxsize=256)
def _statement(dialect: str, bound: frozenset[str]) -> Select:
    """The feed's rows in order: position and stored item."""
    return (select(Completion.txid, Completion.seq, Completion.feed_item)
            .where(*_conditions(dialect, bound))
            .order_by(*_order(bound)))


class RenderedPage(NamedTuple):
    body: bytes  # the FeedPage JSON
    has_more: bool  # a full page: its rows can never change (see read_page)


async def read_page(db: Database, f: FeedFilter, *, cursor: str | None, limit: int,
                    pages: SharedPages | None = None) -> bytes:
    """Up to `limit` completions after `cursor`, oldest transaction first, as the FeedPage JSON. `next_cursor`
    resumes after the last one served (or stays put when nothing new is ready); `has_more` says whether to
    fetch again now.

    Each completion's item was rendered when it was recorded (services/feed_items.py), so a page is the
    items joined: by PostgreSQL itself (`page_from_database`, the worker only passes the bytes on) or here
    on SQLite (`page_from_rows`). Both give the same bytes for the same rows.

    With `pages`, identical requests share one reading, and a full page (`has_more`) is kept for a few
    seconds: every row it holds is below the horizon and any row committed later sorts after its last one, so
    the same (filter, cursor, limit) can only ever give the same rows. A learner renamed meanwhile shows the
    old name until the page expires. A partial page is never kept: its next rows may arrive any moment."""
    after = decode_cursor(cursor, whole_number(), whole_number()) if cursor else None
    limit = max(1, min(limit, MAX_PAGE))

    async def render() -> RenderedPage:
        # One statement, read outside any transaction (Database.autocommit): the horizon and the rows come
        # from that statement's snapshot, as they did from the first statement of a read-only transaction.
        # Transaction exception «autocommit feed reads» (docs/architecture.md).
        async with db.autocommit() as conn:
            if conn.dialect.name == "postgresql":
                return await page_from_database(conn, f, after=after, cursor=cursor, limit=limit)
            return await page_from_rows(conn, f, after=after, cursor=cursor, limit=limit)

    if pages is None:
        return (await render()).body
    return await pages.get((f, after, cursor, limit), render)


def _page_json(items: bytes, next_cursor: str | None, has_more: bool) -> bytes:
    """The FeedPage envelope, compact as json.dumps writes it, around already rendered items joined by commas.
    One join, so a 400 KB page is copied once here (wrapping the items in brackets first made two more
    copies of it on the way)."""
    return b"".join((b'{"items":[', items, b'],"next_cursor":', json.dumps(next_cursor).encode(),
                     b',"has_more":', b"true" if has_more else b"false", b"}"))


async def page_from_rows(conn: AsyncConnection, f: FeedFilter, *, after: tuple[int, int] | None,
                         cursor: str | None, limit: int) -> RenderedPage:
    """A page joined here from the rows' items."""
    values = _values(f, after)
    stmt = _statement(conn.dialect.name, frozenset(values))
    rows = (await conn.execute(stmt.limit(limit + 1), values)).all()
    served = rows[:limit]
    items = ",".join(row.feed_item for row in served).encode()
    next_cursor = encode_cursor(served[-1].txid, served[-1].seq) if served else cursor
    has_more = len(rows) > limit
    return RenderedPage(_page_json(items, next_cursor, has_more), has_more)


async def page_from_database(conn: AsyncConnection, f: FeedFilter, *, after: tuple[int, int] | None,
                             cursor: str | None, limit: int) -> RenderedPage:
    """A page joined by PostgreSQL: the same keyset query, its items concatenated in order and returned as
    UTF-8 bytes with the page's size and last position, so the worker never decodes 1,000 rows."""
    values = _values(f, after)
    page = (await conn.execute(_page_statement(frozenset(values)), values | {"page_rows": limit})).one()._mapping
    served = min(page["page_count"], limit)
    next_cursor = encode_cursor(*page["page_last_position"]) if served else cursor
    has_more = page["page_count"] > limit
    return RenderedPage(_page_json(page["page_items"] or b"", next_cursor, has_more), has_more)


@lru_cache(maxsize=64)
def _page_statement(bound: frozenset[str]) -> Select:
    """SELECT page_count (rows), page_last_position ([last txid, last seq]) and page_items (the page's items
    joined as UTF-8 bytes), on PostgreSQL. One more row than the page is read, so its count says whether more
    are ready.

    The items are gathered with ARRAY(SELECT … ORDER BY …): SQL's array constructor by query, whose elements
    come in the subquery's order (PostgreSQL appends each row as the ordered scan yields it). The aggregate
    this replaced (row_number, then string_agg ORDER BY row number, with FILTER) copied and sorted the page
    twice more, at a measurable cost in PostgreSQL's CPU (`python -m bench.micro feed_sql`; docs/benchmarks.md,
    2026-12-03 fix 7). The last position is that of the last served item's completion, found
    by its id (uq_completion_id): one index probe, not a second pass over the range. MATERIALIZED keeps
    PostgreSQL from inlining `page`, which ran the scan once for every use of its items."""
    c = Completion.__table__.c
    page_rows = bindparam("page_rows", type_=Integer)
    scan = (select(c.feed_item).where(*_conditions("postgresql", bound))
            .order_by(*_order(bound)).limit(page_rows + 1))
    page = (select(func.array(scan.scalar_subquery(), type_=ARRAY(Text)).label("feed_items"))
            .cte("page").prefix_with("MATERIALIZED"))
    items = page.c.feed_items
    last = items[func.least(func.cardinality(items), page_rows)]
    last_position = (select(array([c.txid, c.seq]))
                     .where(c.id == cast(func.json_extract_path_text(cast(last, JSON), "id"), Uuid))
                     .scalar_subquery())
    served = func.array_to_string(items[1:page_rows], ",")
    return select(func.cardinality(items).label("page_count"), last_position.label("page_last_position"),
                  func.convert_to(served, "UTF8").label("page_items")).select_from(page)


@asynccontextmanager
async def _reading_connection(db: Database) -> AsyncIterator[AsyncConnection]:
    """A connection for one long read. PostgreSQL streams through a server-side cursor, which needs a
    transaction (a read-only one holds no transaction id, so it never holds back the feed's horizon). SQLite
    reads in autocommit: its transactions here start with BEGIN IMMEDIATE, and an export must not hold the
    single write lock for as long as it streams."""
    if db.dialect == "sqlite":
        # Transaction exception «autocommit feed reads» (docs/architecture.md).
        async with db.autocommit() as conn:
            yield conn
        return
    # Transaction exception «autocommit feed reads» (docs/architecture.md).
    async with db.engine.connect() as conn, conn.begin():
        yield conn


async def export(db: Database, f: FeedFilter) -> AsyncIterator[list[str]]:
    """Every completion matching `f` as stored feed items (compact JSON), in batches of EXPORT_CHUNK read from
    a server-side cursor, so memory stays flat however many rows there are. Runs on its own connection: the
    request's session is closed before the body is sent. The formats are written by completion_export."""
    async with _reading_connection(db) as conn:
        values = _values(f, None)
        stmt = _statement(conn.dialect.name, frozenset(values))
        result = await conn.stream(stmt.execution_options(yield_per=EXPORT_CHUNK), values)  # Core rows
        yield []  # the query runs and holds its cursor from here (the caller may start its response)
        async for rows in result.partitions():
            yield [row.feed_item for row in rows]
