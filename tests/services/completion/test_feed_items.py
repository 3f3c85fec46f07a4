"""Feed items: PostgreSQL's set-based renderer gives the write path's bytes, and a corrected name reaches the
items of the learner's completions (and nobody else's) in the same transaction."""

import asyncio
import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, text

from app.models.completion import Completion
from app.models.identity import ProfileUpdate
from app.services.completion import feed_items
from app.services.completion.completions import record_completion
from app.services.identity import accounts as identity
from app.services.stats import feed as completion_feed
from app.services.stats.feed import FeedFilter
from tests.factories import make_course, make_user
from tests.factories.reporting import ON_POSTGRES, complete
from tests.private_pg import feed_database_url, settings_on_private_server  # noqa: F401 (the feed's horizon)

AT = datetime(2026, 3, 10, 3, 0, tzinfo=UTC)
# What JSON must escape, what isoformat writes differently (no microseconds; trailing zeros), and nulls.
ITEMS = [
    dict(full_name='Nguyễn "Tí" \\ Văn', course_slug="ky-nang-so", audience="citizen", assurance="eid",
         province_code="06", current_province_code="19", source="platform", client_id=None, external_ref=None,
         completed_at=AT),
    dict(full_name="Dòng\nmới\tvà\x01điều\x1fkhiển\x7f", course_slug="chu-ky-so", audience="official",
         assurance="partner", province_code="19", current_province_code="19", source="partner",
         client_id="so-gd-ha-noi", external_ref='lớp "A"\\01', completed_at=AT + timedelta(microseconds=123400)),
    dict(full_name="Emoji 🎓 và \u2028 tách dòng </script>", course_slug="ky-nang-so", audience="citizen",
         assurance="none", province_code=None, current_province_code=None, source="platform", client_id=None,
         external_ref=None, completed_at=AT + timedelta(seconds=1, microseconds=1)),
]


def _typed(name: str) -> str:
    kind = {"id": "uuid", "user_id": "uuid", "course_id": "uuid", "course_version": "int",
            "completed_at": "timestamptz"}.get(name, "text")
    return f"CAST(:{name} AS {kind})"


@pytest.mark.skipif(not ON_POSTGRES, reason="the set-based renderer is PostgreSQL's")
@pytest.mark.parametrize("values", ITEMS)
async def test_postgresql_renders_an_item_byte_for_byte_as_the_write_path_does(session, values):
    values = {"id": uuid.uuid4(), "user_id": uuid.uuid4(), "course_id": uuid.uuid4(), "course_version": 3} | values
    expression = feed_items.item_sql(**{name: _typed(name) for name in feed_items.FIELDS})
    # Whatever the session's time zone: items are in UTC.
    await session.execute(text("SET LOCAL TIME ZONE 'Asia/Ho_Chi_Minh'"))
    rendered = (await session.execute(text(f"SELECT {expression}"), values)).scalar_one()
    assert rendered == feed_items.render(**values)


def test_an_item_is_the_feed_completion_as_compact_json():
    values = {"id": uuid.uuid4(), "user_id": uuid.uuid4(), "course_id": uuid.uuid4(), "course_version": 3}
    item = feed_items.render(**values, **ITEMS[1])
    assert list(json.loads(item)) == list(feed_items.FIELDS)
    assert json.loads(item)["completed_at"] == "2026-03-10T03:00:00.123400Z"
    assert '"full_name":"Dòng\\nmới\\tvà\\u0001điều\\u001fkhiển\x7f"' in item and ": " not in item


def test_item_sql_refuses_a_missing_field():
    with pytest.raises(ValueError, match="item_sql needs exactly"):
        feed_items.item_sql(id="c.id")


async def test_a_corrected_name_re_renders_the_learners_items_and_no_one_elses(session):
    learner = await make_user(session, full_name="Nguyen Van A")
    other = await make_user(session, full_name="Trần Thị B")
    mine = [await complete(session, user=learner) for _ in range(2)]
    theirs = await complete(session, user=other)
    before = dict((await session.execute(select(Completion.id, Completion.feed_item))).all())
    await identity.update_profile(session, learner, ProfileUpdate(full_name="Nguyễn Văn Á"))
    items = dict((await session.execute(select(Completion.id, Completion.feed_item))).all())
    # The learner's items differ from before in the name alone; the other learner's item is unchanged.
    for c in mine:
        assert json.loads(items[c.id]) == json.loads(before[c.id]) | {"full_name": "Nguyễn Văn Á"}
        assert items[c.id] != before[c.id]
    assert items[theirs.id] == before[theirs.id]

async def test_the_province_feed_is_the_current_units_completions_former_codes_included(committed_db):
    async with committed_db.session() as session:
        former = await complete(session, province="06")  # a former unit absorbed by 19 on 1 July 2025
        below = await complete(session, province="01")  # codes either side of 19 in the province index
        current = await complete(session, province="19")
        above = await complete(session, province="20")
    seen, cursor = [], None
    for _ in range(200):  # one a page, so every page after the first starts from a cursor
        page = json.loads(await completion_feed.read_page(committed_db, FeedFilter(province="19"), cursor=cursor,
                                                          limit=1))
        seen += page["items"]
        cursor = page["next_cursor"]
        if len(seen) == 2 and not page["has_more"]:
            break
        if not page["has_more"]:
            await asyncio.sleep(0.02)  # on PostgreSQL a row is served once no older transaction is open
    assert [i["id"] for i in seen] == [str(former.id), str(current.id)]
    assert [(i["province_code"], i["current_province_code"]) for i in seen] == [("06", "19"), ("19", "19")]
    assert {str(below.id), str(above.id)}.isdisjoint(i["id"] for i in seen)


async def test_the_largest_item_a_completion_can_carry_fits_the_province_index(session):
    # PostgreSQL refuses an index row over ~2,700 bytes, and the province index holds the items: a name of
    # 200 characters that each need a 6-byte escape and a partner reference of 200 four-byte characters (the
    # longest each may be; references cannot hold control characters) must still record.
    course = (await make_course(session, slug="k" * 100, lessons=[])).course
    learner = await make_user(session, full_name="\x01" * 200)
    completion, created = await record_completion(
        session, user=learner, course=course, course_version=1, source="partner", client_id="c" * 64,
        external_ref="🎓" * 200, province_code="01")
    item = (await session.execute(select(Completion.feed_item).where(Completion.id == completion.id))).scalar_one()
    assert created and len(item.encode()) > 2000
