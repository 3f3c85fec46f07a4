"""The feed's cursors, its pages (joined by PostgreSQL or here, the same bytes), shared pages and its export
stream, below the HTTP layer."""

import asyncio
import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from app.core.cache import SharedPages
from app.core.errors import ValidationFailed
from app.core.pagination import decode_cursor, encode_cursor, whole_number
from app.models.completion import Completion
from app.models.identity import Audience
from app.services.completion.completions import record_completion
from app.services.stats import feed as completion_feed
from app.services.stats.feed import FeedFilter
from tests.factories import make_course, make_user
from tests.factories.reporting import ON_POSTGRES, complete
from tests.private_pg import feed_database_url, settings_on_private_server  # noqa: F401 (the feed's horizon)


@pytest.mark.parametrize("cursor", ["%%%", encode_cursor("12", 3), encode_cursor(1), encode_cursor(1.5, 2)])
async def test_cursors_that_are_not_feed_positions_are_422_on_cursor(db, cursor):
    with pytest.raises(ValidationFailed) as err:
        await completion_feed.read_page(db, FeedFilter(), cursor=cursor, limit=10)
    assert err.value.errors[0]["field"] == "cursor"


# --- page rendering -----------------------------------------------------------------------------------------

AT = datetime(2026, 3, 10, 3, 0, tzinfo=UTC)
# Each row: full name, course slug, audience, province as recorded (and the current unit it belongs to), source,
# client, partner reference, completed at. Names and references carry what JSON must escape, and the
# timestamps what isoformat writes differently (no microseconds; microseconds ending in zeros).
ROWS = [
    ('Nguyễn "Tí" \\ Văn', "ky-nang-so", "citizen", "06", "19", "platform", None, None, AT),
    ("Dòng\nmới\tvà\x01điều\x1fkhiển\x7f", "chu-ky-so", "official", "19", "19", "partner", "so-gd-ha-noi",
     'lớp "A"\\01', AT + timedelta(microseconds=123400)),
    ("Emoji 🎓 và \u2028 tách dòng", "ky-nang-so", "citizen", None, None, "platform", None, None,
     AT + timedelta(seconds=1, microseconds=1)),
    ("</script><b>Lê</b>", "chu-ky-so", "citizen", "", None, "platform", None, None, AT + timedelta(days=40)),
    ("Đặng Thị Ánh Tuyết", "ky-nang-so", "official", "ZZ", None, "partner", "client-2", "x", AT),
]


async def _arrange(db) -> tuple[list[dict], dict[str, object]]:
    """ROWS as completions recorded through the write path, committed; returns each completion as the feed
    must show it, oldest first, and the courses by slug."""
    async with db.session() as session:
        courses = {slug: (await make_course(session, slug=slug, lessons=[])).course
                   for slug in ("ky-nang-so", "chu-ky-so")}
        expected = []
        for name, slug, audience, province, current, source, client, ref, at in ROWS:
            user = await make_user(session, full_name=name, province_code=province or None)
            completion, _ = await record_completion(
                session, user=user, course=courses[slug], course_version=1, completed_at=at, source=source,
                client_id=client, external_ref=ref, audience=audience, province_code=province)
            completion_id = completion.id
            expected.append({
                "id": str(completion_id), "user_id": str(user.id), "full_name": name,
                "course_id": str(courses[slug].id), "course_slug": slug, "course_version": 1,
                "audience": audience, "assurance": "none", "province_code": province,
                "current_province_code": current,
                "source": source, "client_id": client, "external_ref": ref,
                "completed_at": at.isoformat().replace("+00:00", "Z")})
            await session.commit()  # one transaction each, so the feed's (txid, seq) order is this order
    return expected, courses


async def _position(db, completion_id: str) -> str:
    async with db.session() as session:
        row = (await session.execute(select(Completion.txid, Completion.seq).where(
            Completion.id == uuid.UUID(completion_id)))).one()
    return encode_cursor(row.txid, row.seq)


async def test_a_page_is_the_compact_json_of_its_completions(committed_db):
    expected, _ = await _arrange(committed_db)
    body = json.dumps({"items": expected[:3], "next_cursor": await _position(committed_db, expected[2]["id"]),
                       "has_more": True}, ensure_ascii=False, separators=(",", ":")).encode()
    for _ in range(100):  # on PostgreSQL a row is served once no older transaction is open
        page = await completion_feed.read_page(committed_db, FeedFilter(), cursor=None, limit=3)
        if json.loads(page)["has_more"]:
            break
        await asyncio.sleep(0.02)
    assert page == body
    assert page.decode().count("\u2028") == 1 and '"full_name":"Nguyễn \\"Tí\\" \\\\ Văn"' in page.decode()


@pytest.mark.skipif(not ON_POSTGRES, reason="SQLite pages are only joined in Python")
async def test_pages_joined_by_postgresql_are_byte_for_byte_those_joined_here(committed_db):
    expected, courses = await _arrange(committed_db)
    filters = [FeedFilter(), FeedFilter(province="19"), FeedFilter(audience=Audience.official),
               FeedFilter(course_id=courses["chu-ky-so"].id),
               FeedFilter(since=AT + timedelta(microseconds=1), until=AT + timedelta(days=30))]
    async with committed_db.autocommit() as conn:
        for f in filters:
            for limit in (1, 2, 1000):
                cursor, after, pages = None, None, 0
                while True:
                    built_there = await completion_feed.page_from_database(
                        conn, f, after=after, cursor=cursor, limit=limit)
                    built_here = await completion_feed.page_from_rows(
                        conn, f, after=after, cursor=cursor, limit=limit)
                    assert built_there == built_here, (f, limit, pages)
                    cursor, pages = json.loads(built_here.body)["next_cursor"], pages + 1
                    if not built_here.has_more:
                        break
                    after = decode_cursor(cursor, whole_number(), whole_number())
                assert pages >= 1
                # Past the last row: an empty page that keeps the cursor where it is.
                after = decode_cursor(cursor, whole_number(), whole_number())
                empty_there = await completion_feed.page_from_database(conn, f, after=after, cursor=cursor,
                                                                       limit=limit)
                empty_here = await completion_feed.page_from_rows(conn, f, after=after, cursor=cursor,
                                                                  limit=limit)
                assert empty_there == empty_here
                assert json.loads(empty_there.body) == {"items": [], "next_cursor": cursor, "has_more": False}
        everything = await completion_feed.page_from_database(conn, FeedFilter(), after=None, cursor=None,
                                                              limit=1000)
    assert json.loads(everything.body)["items"] == expected


# --- shared pages -------------------------------------------------------------------------------------------


async def test_identical_requests_in_flight_share_one_rendering_and_only_kept_pages_are_served_again():
    pages, renders = SharedPages(60, max_entries=2), []
    release = asyncio.Event()

    async def render(body: bytes, keep: bool):
        renders.append(body)
        await release.wait()
        return body, keep

    waiting = [asyncio.create_task(pages.get("full", lambda: render(b"full", True))) for _ in range(5)]
    await asyncio.sleep(0)
    release.set()
    assert await asyncio.gather(*waiting) == [b"full"] * 5 and renders == [b"full"]
    assert await pages.get("full", lambda: render(b"again", True)) == b"full"
    assert await pages.get("last", lambda: render(b"partial", False)) == b"partial"
    assert await pages.get("last", lambda: render(b"newer", False)) == b"newer"  # never kept
    assert renders == [b"full", b"partial", b"newer"]


async def test_when_the_shared_rendering_fails_each_waiter_renders_for_itself():
    pages, started = SharedPages(60, max_entries=2), asyncio.Event()

    async def failing():
        started.set()
        await asyncio.sleep(0.01)
        raise ValidationFailed(errors=[])

    async def fine():
        return b"page", True

    first = asyncio.create_task(pages.get("k", failing))
    await started.wait()
    waiter = asyncio.create_task(pages.get("k", fine))
    with pytest.raises(ValidationFailed):
        await first
    assert await waiter == b"page"
    assert await pages.get("k", failing) == b"page"  # kept by the waiter's own rendering


async def test_shared_pages_with_ttl_0_render_every_time():
    pages, n = SharedPages(0, max_entries=2), iter(range(10))

    async def render():
        return str(next(n)).encode(), True

    assert [await pages.get("k", render) for _ in range(2)] == [b"0", b"1"]


# --- export -------------------------------------------------------------------------------------------------


async def test_an_export_in_progress_does_not_stop_completions_being_recorded(committed_db):
    async with committed_db.session() as session:
        for _ in range(2):
            await complete(session)
    stream = completion_feed.export(committed_db, FeedFilter())
    try:
        # The first (empty) batch comes once the query runs: from here the export holds its connection and
        # cursor, whether or not the rows are past the feed's horizon yet.
        assert await anext(stream) == []

        async def record_another():
            async with committed_db.session() as session:
                await complete(session)

        # On SQLite a transaction takes the single write lock: the export must not be holding it.
        await asyncio.wait_for(record_another(), timeout=5)
    finally:
        await stream.aclose()
