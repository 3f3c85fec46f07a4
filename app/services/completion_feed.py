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

import csv
import io
import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any, Literal, NamedTuple

from sqlalchemy import (
    BigInteger,
    Integer,
    Select,
    String,
    Text,
    bindparam,
    case,
    cast,
    func,
    literal_column,
    select,
    true,
    tuple_,
    type_coerce,
)
from sqlalchemy.dialects.postgresql import ARRAY, aggregate_order_by, array
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.sql.elements import Grouping

from app.core.db import Database
from app.core.errors import FieldError, ValidationFailed
from app.core.i18n import messages
from app.core.pagination import decode_cursor, encode_cursor
from app.models.completion import Completion
from app.models.course import Course
from app.models.identity import Audience, User
from app.models.reporting import FeedCompletion
from app.services.geo import Geography, load_geography
from app.services.stats import LOCAL_TZ, recorded_codes, resolve_course, resolve_province
from app.services.stats_cache import SharedPages

MAX_PAGE = 1000
EXPORT_CHUNK = 1000  # rows fetched from the server-side cursor and written out at a time
CSV_COLUMNS = list(FeedCompletion.model_fields)
# Full pages kept per worker for consumers reading the same stretch of the feed (see read_page): a few
# seconds, so a learner's new name shows soon; 32 pages of 1,000 rows are ~13 MB.
SHARED_PAGE_TTL_S = 5.0
SHARED_PAGES = 32

messages({
    "feed_range_reversed": ("Ngày bắt đầu phải trước hoặc bằng ngày kết thúc.", "from must not be after to."),
})


@dataclass(frozen=True)
class FeedFilter:
    province_codes: tuple[str, ...] | None = None
    audience: Audience | None = None
    course_id: uuid.UUID | None = None
    since: datetime | None = None  # UTC, inclusive
    until: datetime | None = None  # UTC, exclusive


def _local_midnight(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=LOCAL_TZ).astimezone(UTC)


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
        province_codes=recorded_codes(geo, resolve_province(geo, province, scoped_province)),
        audience=audience, course_id=found.id if found else None,
        since=_local_midnight(first_day) if first_day else None,
        until=_local_midnight(last_day + timedelta(days=1)) if last_day else None,
    )


def _position(values: list) -> tuple[int, int]:
    """The (txid, seq) a feed cursor stands for."""
    txid, seq = values
    if not (type(txid) is int and type(seq) is int):
        raise ValueError("not a feed position")
    return txid, seq


def _values(f: FeedFilter, after: tuple[int, int] | None) -> dict[str, Any]:
    """The bound values of a feed query: the cursor's position and the filters that are set."""
    values: dict[str, Any] = {"after_txid": after[0], "after_seq": after[1]} if after is not None else {}
    for name in ("province_codes", "audience", "course_id", "since", "until"):
        if getattr(f, name) is not None:
            values[name] = getattr(f, name)
    return values


def _conditions(dialect: str, bound: frozenset[str]) -> list[Any]:
    """The feed's WHERE: under the horizon, after the cursor, matching the filters named in `bound`. Values
    are bound parameters, so each combination of filters is one statement, built once (`_page_statement`)."""
    where: list[Any] = []
    if dialect == "postgresql":
        horizon = select(func.txid_snapshot_xmin(func.txid_current_snapshot())).scalar_subquery()
        where.append(Completion.txid < horizon)
    if "after_txid" in bound:
        position = tuple_(bindparam("after_txid", type_=BigInteger), bindparam("after_seq", type_=BigInteger))
        where.append(tuple_(Completion.txid, Completion.seq) > position)
    if "province_codes" in bound:
        where.append(Completion.province_code.in_(bindparam("province_codes", expanding=True)))
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
def _statement(dialect: str, bound: frozenset[str], *, raw_ids: bool = False) -> Select:
    def ids(column: Any) -> Any:
        # Exports format ids straight from the driver's value: parsing 300,000 UUID objects costs seconds.
        return type_coerce(column, String).label(column.key) if raw_ids else column

    return (
        select(Completion.txid, Completion.seq, ids(Completion.id), ids(Completion.user_id), User.full_name,
               ids(Completion.course_id), Course.slug, Completion.course_version, Completion.audience,
               Completion.province_code, Completion.source, Completion.client_id, Completion.external_ref,
               Completion.completed_at)
        .join(User, User.id == Completion.user_id)
        .join(Course, Course.id == Completion.course_id)
        .where(*_conditions(dialect, bound))
        .order_by(Completion.txid, Completion.seq)
    )


def _uuid_text(value: Any) -> str:
    """The dashed form of an id, from SQLite's 32 hex digits or PostgreSQL's native UUID."""
    text = str(value)
    if len(text) == 32:
        return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"
    return text


def _export_values(geo: Geography, row: Any) -> tuple:
    """One completion in CSV_COLUMNS order, as the JSON pages show it (no model validation: the hot path)."""
    (_, _, completion_id, user_id, full_name, course_id, slug, version, audience, province, source, client_id,
     external_ref, completed_at) = row
    return (
        _uuid_text(completion_id), _uuid_text(user_id), full_name, _uuid_text(course_id), slug, version,
        audience, province, geo.current_code(province) if province else None, source, client_id, external_ref,
        completed_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
    )


class RenderedPage(NamedTuple):
    body: bytes  # the FeedPage JSON
    has_more: bool  # a full page: its rows can never change (see read_page)


async def read_page(session: AsyncSession, f: FeedFilter, *, cursor: str | None, limit: int,
                    pages: SharedPages | None = None) -> bytes:
    """Up to `limit` completions after `cursor`, oldest transaction first, as the FeedPage JSON. `next_cursor`
    resumes after the last one served (or stays put when nothing new is ready); `has_more` says whether to
    fetch again now.

    PostgreSQL renders the page itself (`page_from_database`), so the worker only passes its bytes on; SQLite
    pages are rendered here from row tuples (`page_from_rows`). Both give the same bytes for the same rows.

    With `pages`, identical requests share one rendering, and a full page (`has_more`) is kept for a few
    seconds: every row it holds is below the horizon and any row committed later sorts after its last one, so
    the same (filter, cursor, limit) can only ever give the same rows. A learner renamed meanwhile shows the
    old name until the page expires. A partial page is never kept: its next rows may arrive any moment."""
    after = decode_cursor(cursor, _position) if cursor else None
    limit = max(1, min(limit, MAX_PAGE))

    async def render() -> RenderedPage:
        if session.get_bind().dialect.name == "postgresql":
            return await page_from_database(session, f, after=after, cursor=cursor, limit=limit)
        return await page_from_rows(session, f, after=after, cursor=cursor, limit=limit)

    if pages is None:
        return (await render()).body
    return await pages.get((f, after, cursor, limit), render)


def _page_json(items: bytes, next_cursor: str | None, has_more: bool) -> bytes:
    """The FeedPage envelope around an already rendered `[…]` of items, compact as json.dumps writes it."""
    return b"".join((b'{"items":', items, b',"next_cursor":', json.dumps(next_cursor).encode(),
                     b',"has_more":', b"true" if has_more else b"false", b"}"))


async def page_from_rows(session: AsyncSession, f: FeedFilter, *, after: tuple[int, int] | None,
                         cursor: str | None, limit: int) -> RenderedPage:
    """A page rendered in Python from row tuples (no model validation: 1,000 of those per page were most of
    its cost, see docs/benchmarks.md)."""
    values = _values(f, after)
    stmt = _statement(session.get_bind().dialect.name, frozenset(values), raw_ids=True)
    rows = (await session.execute(stmt.limit(limit + 1), values)).all()
    geo = await load_geography(session)
    served = rows[:limit]
    items = json.dumps([dict(zip(CSV_COLUMNS, _export_values(geo, r), strict=True)) for r in served],
                       ensure_ascii=False, separators=(",", ":"))
    next_cursor = encode_cursor(served[-1].txid, served[-1].seq) if served else cursor
    has_more = len(rows) > limit
    return RenderedPage(_page_json(items.encode(), next_cursor, has_more), has_more)


async def page_from_database(session: AsyncSession, f: FeedFilter, *, after: tuple[int, int] | None,
                             cursor: str | None, limit: int) -> RenderedPage:
    """A page rendered by PostgreSQL: the same keyset query, each row turned into its JSON object with
    row_to_json and the objects joined in order, returned as UTF-8 bytes with the page's size and last
    position. Rendering 1,000 rows in Python cost the worker ~18 ms a page; here it is a few ms of the
    database's CPU and the worker copies bytes (figures in docs/reporting.md)."""
    geo = await load_geography(session)
    codes = sorted(set(geo.current) | set(geo.former))
    values = _values(f, after) | {"codes": codes, "currents": [geo.current_code(code) for code in codes]}
    row = (await session.execute(_page_statement(frozenset(values)), values | {"page_rows": limit})).one()
    count, last, items = row
    served = min(count, limit)
    next_cursor = encode_cursor(*last) if served else cursor
    has_more = count > limit
    return RenderedPage(_page_json(b"[" + (items or b"") + b"]", next_cursor, has_more), has_more)


# Only `completed_at` needs formatting by hand: row_to_json writes timestamps in the session's time zone and
# trims fractional zeros, while the feed writes UTC, "Z", and six digits of microseconds unless they are zero
# (Python's isoformat).
_UTC_SECONDS = 'YYYY-MM-DD"T"HH24:MI:SS"Z"'
_UTC_MICROSECONDS = 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'


@lru_cache(maxsize=64)
def _page_statement(bound: frozenset[str]) -> Select:
    """SELECT rows, [last txid, last seq], convert_to(string_agg(row_to_json(…))) of one page (PostgreSQL).

    The page's completions are picked first, from completion alone (keyset scan, LIMIT), and only those rows
    are joined to their learner and course: so the planner can never choose to join before limiting (its
    row estimates for the txid horizon are poor), and the learner's name comes from the covering index
    ix_user_account_id_full_name by an index-only scan."""
    c = Completion.__table__.c
    rn = func.row_number().over(order_by=(c.txid, c.seq)).label("rn")
    page_rows = bindparam("page_rows", type_=Integer)
    page = (select(c.txid, c.seq, c.id, c.user_id, c.course_id, c.course_version, c.audience, c.province_code,
                   c.source, c.client_id, c.external_ref, c.completed_at, rn)
            .where(*_conditions("postgresql", bound))
            .order_by(c.txid, c.seq).limit(page_rows + 1).subquery("page"))
    user, course = User.__table__, Course.__table__
    codes = bindparam("codes", type_=ARRAY(String))
    currents = Grouping(bindparam("currents", type_=ARRAY(String)))
    at = func.timezone("UTC", page.c.completed_at)  # a UTC timestamp, whatever the session's time zone
    fields = {
        "id": page.c.id, "user_id": page.c.user_id, "full_name": user.c.full_name,
        "course_id": page.c.course_id, "course_slug": course.c.slug, "course_version": page.c.course_version,
        "audience": page.c.audience, "province_code": page.c.province_code,
        "current_province_code": currents[func.array_position(codes, page.c.province_code)],
        "source": page.c.source, "client_id": page.c.client_id, "external_ref": page.c.external_ref,
        "completed_at": func.to_char(at, case(
            (func.date_trunc("second", at) == at, _UTC_SECONDS), else_=_UTC_MICROSECONDS)),
    }
    assert list(fields) == CSV_COLUMNS  # the JSON keys, in the order page_from_rows writes them
    doc = select(*(value.label(name) for name, value in fields.items())).correlate(page, user, course)
    doc = doc.lateral("doc")
    served = page.c.rn <= page_rows
    objects = cast(func.row_to_json(doc.table_valued()), Text)
    return (
        select(func.count(),
               func.max(array([page.c.txid, page.c.seq])).filter(served),
               func.convert_to(func.string_agg(objects, aggregate_order_by(literal_column("','"), page.c.rn))
                               .filter(served), "UTF8"))
        .select_from(page.join(user, user.c.id == page.c.user_id)
                     .join(course, course.c.id == page.c.course_id)
                     .join(doc, true()))
    )


@asynccontextmanager
async def _reading_connection(db: Database) -> AsyncIterator[AsyncConnection]:
    """A connection for one long read. PostgreSQL streams through a server-side cursor, which needs a
    transaction (a read-only one holds no transaction id, so it never holds back the feed's horizon). SQLite
    reads in autocommit: its transactions here start with BEGIN IMMEDIATE, and an export must not hold the
    single write lock for as long as it streams."""
    async with db.engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            yield await conn.execution_options(isolation_level="AUTOCOMMIT")
        else:
            async with conn.begin():
                yield conn


async def open_export(session: AsyncSession, db: Database, f: FeedFilter,
                      fmt: Literal["csv", "ndjson"]) -> AsyncIterator[bytes]:
    """The body of an export, ready to stream once the request's own session has closed."""
    return export(db, await load_geography(session), f, fmt)


async def export(db: Database, geo: Geography, f: FeedFilter,
                 fmt: Literal["csv", "ndjson"]) -> AsyncIterator[bytes]:
    """Every completion matching `f`, streamed from a server-side cursor in chunks, so memory stays flat
    however many rows there are. Runs on its own connection: the request's session is closed before the body
    is sent. CSV starts with a UTF-8 byte-order mark so Excel reads Vietnamese names correctly."""
    async with _reading_connection(db) as conn:
        values = _values(f, None)
        stmt = _statement(conn.dialect.name, frozenset(values), raw_ids=True)
        result = await conn.stream(stmt.execution_options(yield_per=EXPORT_CHUNK), values)  # Core rows
        if fmt == "csv":
            yield _csv_lines([CSV_COLUMNS], bom=True)
        async for rows in result.partitions():
            values = [_export_values(geo, r) for r in rows]
            if fmt == "csv":
                yield _csv_lines(values)
            else:
                yield "".join(json.dumps(dict(zip(CSV_COLUMNS, v, strict=True)), ensure_ascii=False) + "\n"
                              for v in values).encode()


def _csv_lines(rows: list[Any], *, bom: bool = False) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return (("\ufeff" if bom else "") + buffer.getvalue()).encode()
