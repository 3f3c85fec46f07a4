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
from typing import Any, Literal

from sqlalchemy import Select, String, func, literal, select, tuple_, type_coerce
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

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

MAX_PAGE = 1000
EXPORT_CHUNK = 1000  # rows fetched from the server-side cursor and written out at a time
CSV_COLUMNS = list(FeedCompletion.model_fields)

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


def _statement(dialect: str, f: FeedFilter, after: tuple[int, int] | None, *,
               raw_ids: bool = False) -> Select:
    def ids(column: Any) -> Any:
        # Exports format ids straight from the driver's value: parsing 300,000 UUID objects costs seconds.
        return type_coerce(column, String).label(column.key) if raw_ids else column

    stmt = (
        select(Completion.txid, Completion.seq, ids(Completion.id), ids(Completion.user_id), User.full_name,
               ids(Completion.course_id), Course.slug, Completion.course_version, Completion.audience,
               Completion.province_code, Completion.source, Completion.client_id, Completion.external_ref,
               Completion.completed_at)
        .join(User, User.id == Completion.user_id)
        .join(Course, Course.id == Completion.course_id)
        .order_by(Completion.txid, Completion.seq)
    )
    if dialect == "postgresql":
        horizon = select(func.txid_snapshot_xmin(func.txid_current_snapshot())).scalar_subquery()
        stmt = stmt.where(Completion.txid < horizon)
    if after is not None:
        position = tuple_(literal(after[0]), literal(after[1]))
        stmt = stmt.where(tuple_(Completion.txid, Completion.seq) > position)
    if f.province_codes is not None:
        stmt = stmt.where(Completion.province_code.in_(f.province_codes))
    if f.audience is not None:
        stmt = stmt.where(Completion.audience == f.audience.value)
    if f.course_id is not None:
        stmt = stmt.where(Completion.course_id == f.course_id)
    if f.since is not None:
        stmt = stmt.where(Completion.completed_at >= f.since)
    if f.until is not None:
        stmt = stmt.where(Completion.completed_at < f.until)
    return stmt


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


async def read_page(session: AsyncSession, f: FeedFilter, *, cursor: str | None, limit: int) -> dict[str, Any]:
    """Up to `limit` completions after `cursor`, oldest transaction first. `next_cursor` resumes after the
    last one served (or stays put when nothing new is ready); `has_more` says whether to fetch again now.

    The page is a plain dict in the FeedPage shape, built from row tuples like the export: validating 1,000
    models per page was most of its cost (profiled in docs/benchmarks.md)."""
    after = decode_cursor(cursor, _position) if cursor else None
    limit = max(1, min(limit, MAX_PAGE))
    stmt = _statement(session.get_bind().dialect.name, f, after, raw_ids=True).limit(limit + 1)
    rows = (await session.execute(stmt)).all()
    geo = await load_geography(session)
    served = rows[:limit]
    next_cursor = encode_cursor(served[-1].txid, served[-1].seq) if served else cursor
    return {"items": [dict(zip(CSV_COLUMNS, _export_values(geo, r), strict=True)) for r in served],
            "next_cursor": next_cursor, "has_more": len(rows) > limit}


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
        stmt = _statement(conn.dialect.name, f, None, raw_ids=True).execution_options(yield_per=EXPORT_CHUNK)
        result = await conn.stream(stmt)  # Core rows: no ORM bookkeeping
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
