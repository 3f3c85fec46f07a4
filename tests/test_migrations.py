"""The committed migrations build the schema the models describe, and unwind cleanly."""

import uuid
from datetime import UTC, date, datetime
from typing import Any

import anyio.to_thread
import pytest
from alembic import command
from sqlalchemy import column, inspect, select, table, text
from sqlalchemy.ext.asyncio import create_async_engine

from app.models.completion import Completion, CompletionCounter, CompletionYearCounter, LearnerCounter, LearnerYear
from app.models.course import Course
from app.models.identity import User
from app.services.completion import feed_items
from tests.conftest import alembic_config, drop_database_url, new_database_url
from tests.factories.reporting import ON_POSTGRES

ADDED_IN_0009 = {"assurance", "birth_date"}


def before_0009(model) -> Any:  # noqa: ANN001
    """The model's table as it was before 0009 added assurance, for rows written at older revisions."""
    return table(model.__tablename__, *(column(c.name, c.type) for c in model.__table__.c
                                         if c.name not in ADDED_IN_0009))


@pytest.fixture
async def empty_url(tmp_path):
    url = await new_database_url(tmp_path)
    yield url
    await drop_database_url(url)


async def _tables(url: str) -> set[str]:
    engine = create_async_engine(url)
    async with engine.connect() as conn:
        names = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
    await engine.dispose()
    return names


async def test_upgrade_check_and_downgrade(empty_url):
    cfg = alembic_config(empty_url)
    await anyio.to_thread.run_sync(command.upgrade, cfg, "head")
    assert {"user_account", "completion", "completion_counter", "admin_unit"} <= await _tables(empty_url)
    # Raises if the models and the migrations disagree (a forgotten migration).
    await anyio.to_thread.run_sync(command.check, cfg)
    await anyio.to_thread.run_sync(command.downgrade, cfg, "base")
    assert await _tables(empty_url) <= {"alembic_version"}


async def test_year_buckets_are_backfilled_from_the_day_buckets(empty_url):
    cfg = alembic_config(empty_url)
    await anyio.to_thread.run_sync(command.upgrade, cfg, "0002")
    engine = create_async_engine(empty_url)
    course_id = uuid.uuid4()
    async with engine.begin() as conn:
        await conn.execute(Course.__table__.insert().values(
            id=course_id, slug="ky-nang-so", enrollment_count=0, created_at=datetime(2025, 1, 1, tzinfo=UTC)))
        await conn.execute(before_0009(CompletionCounter).insert(), [
            {"day": day, "audience": audience, "province_code": province, "course_id": course_id, "count": n}
            for day, audience, province, n in [
                (date(2025, 1, 1), "citizen", "01", 2), (date(2025, 12, 31), "citizen", "01", 3),
                (date(2025, 6, 1), "official", "", 4), (date(2026, 1, 1), "citizen", "01", 5)]])
    await anyio.to_thread.run_sync(command.upgrade, cfg, "head")
    async with engine.connect() as conn:
        y = CompletionYearCounter.__table__.c
        rows = (await conn.execute(select(y.year, y.audience, y.province_code, y.count))).all()
    await engine.dispose()
    assert sorted(tuple(r) for r in rows) == [
        (2025, "citizen", "01", 5), (2025, "official", "", 4), (2026, "citizen", "01", 5)]


async def test_existing_completions_get_their_current_province_and_feed_item(empty_url):
    """0006 renders the items of completions recorded before it, as the write path renders new ones."""
    cfg = alembic_config(empty_url)
    await anyio.to_thread.run_sync(command.upgrade, cfg, "0005")
    engine = create_async_engine(empty_url)
    at = datetime(2025, 3, 1, 2, 30, 0, 250000, tzinfo=UTC)
    user_id, course_id = uuid.uuid4(), uuid.uuid4()
    rows = [(uuid.uuid4(), "06", "19"), (uuid.uuid4(), "19", "19"), (uuid.uuid4(), None, None),
            (uuid.uuid4(), "ZZ", None)]
    async with engine.begin() as conn:
        await conn.execute(before_0009(User).insert().values(
            id=user_id, full_name='Lê "Bé" Na', search_text="", audience="citizen", role="learner",
            is_active=True, created_at=at))
        for n, (completion_id, province, _) in enumerate(rows):
            await conn.execute(Course.__table__.insert().values(
                id=course_id if n == 0 else uuid.uuid4(), slug=f"khoa-{n}", enrollment_count=0, created_at=at))
            await conn.execute(text(
                "INSERT INTO completion (id, txid, user_id, course_id, course_version, audience, province_code,"
                " source, completed_at, created_at) SELECT :id, 0, :user_id, id, 2, 'citizen', :province,"
                " 'platform', :at, :at FROM course WHERE slug = :slug"),
                {"id": completion_id if ON_POSTGRES else completion_id.hex,
                 "user_id": user_id if ON_POSTGRES else user_id.hex, "province": province,
                 "at": at if ON_POSTGRES else at.strftime("%Y-%m-%d %H:%M:%S.%f"), "slug": f"khoa-{n}"})
    await anyio.to_thread.run_sync(command.upgrade, cfg, "head")
    async with engine.connect() as conn:
        c = Completion.__table__.c
        found = {r.id: r for r in (await conn.execute(
            select(c.id, c.course_id, c.current_province_code, c.feed_item))).all()}
    await engine.dispose()
    for n, (completion_id, province, current) in enumerate(rows):
        row = found[completion_id]
        assert row.current_province_code == current
        assert row.feed_item == feed_items.render(
            id=completion_id, user_id=user_id, full_name='Lê "Bé" Na', course_id=row.course_id,
            course_slug=f"khoa-{n}", course_version=2, audience="citizen", assurance="none", province_code=province,
            current_province_code=current, source="platform", client_id=None, external_ref=None, completed_at=at)


async def test_0015_puts_each_completions_assurance_into_its_feed_item_and_downgrade_takes_it_out(empty_url):
    cfg = alembic_config(empty_url)
    await anyio.to_thread.run_sync(command.upgrade, cfg, "0010")
    engine = create_async_engine(empty_url)
    at = datetime(2026, 3, 10, 3, 0, tzinfo=UTC)
    user_id = uuid.uuid4()
    # Items as 0010's code stored them (no level), and one 0006 rendered with "none" before 0009 knew better;
    # one completion per course (a learner completes a course once).
    levels = {uuid.uuid4(): (uuid.uuid4(), "eid", False), uuid.uuid4(): (uuid.uuid4(), "partner", True),
              uuid.uuid4(): (uuid.uuid4(), "phone", False)}
    expected = {cid: feed_items.render(
        id=cid, user_id=user_id, full_name='Lê "audience":"citizen", Na', course_id=course_id,
        course_slug=f"khoa-{n}", course_version=1, audience="citizen", assurance=level, province_code="01",
        current_province_code="01", source="platform", client_id=None, external_ref=None, completed_at=at)
        for n, (cid, (course_id, level, _)) in enumerate(levels.items())}
    async with engine.begin() as conn:
        await conn.execute(User.__table__.insert().values(
            id=user_id, full_name='Lê "audience":"citizen", Na', search_text="", audience="citizen", role="learner",
            is_active=True, created_at=at))
        for n, (cid, (course_id, level, from_0006)) in enumerate(levels.items()):
            await conn.execute(Course.__table__.insert().values(id=course_id, slug=f"khoa-{n}", enrollment_count=0,
                                                                created_at=at))
            stored = expected[cid].replace(f',"assurance":"{level}"', ',"assurance":"none"' if from_0006 else "")
            await conn.execute(Completion.__table__.insert().values(
                seq=n + 1, id=cid, txid=0, user_id=user_id, course_id=course_id, course_version=1,
                audience="citizen", province_code="01", current_province_code="01", source="platform",
                completed_at=at, created_at=at, feed_item=stored, assurance=level))
    await anyio.to_thread.run_sync(command.upgrade, cfg, "head")
    async with engine.connect() as conn:
        items = dict((await conn.execute(select(Completion.id, Completion.feed_item))).all())
    assert items == expected
    await anyio.to_thread.run_sync(command.downgrade, cfg, "0014")
    async with engine.connect() as conn:
        items = dict((await conn.execute(select(Completion.id, Completion.feed_item))).all())
    await engine.dispose()
    assert all('"assurance"' not in item and "audience" in item for item in items.values())


async def test_0009_moves_partner_attested_learners_and_their_counts_to_partner(empty_url):
    cfg = alembic_config(empty_url)
    await anyio.to_thread.run_sync(command.upgrade, cfg, "0006")
    engine = create_async_engine(empty_url)
    at = datetime(2026, 3, 10, 3, 0, tzinfo=UTC)
    attested, plain, course_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    async with engine.begin() as conn:
        for user_id, national in ((attested, "h" * 64), (plain, None)):
            await conn.execute(before_0009(User).insert().values(
                id=user_id, full_name="Lê Na", search_text="", audience="citizen", role="learner", is_active=True,
                created_at=at, national_id_hash=national))
        await conn.execute(Course.__table__.insert().values(id=course_id, slug="khoa", enrollment_count=0,
                                                            created_at=at))
        for n, (user_id, source) in enumerate(((attested, "partner"), (plain, "platform"))):
            await conn.execute(before_0009(Completion).insert().values(
                seq=n + 1, id=uuid.uuid4(), txid=0, user_id=user_id, course_id=course_id, course_version=1,
                audience="citizen", province_code="01", source=source, completed_at=at, created_at=at,
                feed_item="{}"))
        # The buckets as the write path kept them before assurance existed.
        await conn.execute(before_0009(CompletionCounter).insert().values(
            day=date(2026, 3, 10), audience="citizen", province_code="01", course_id=course_id, count=2))
        await conn.execute(before_0009(CompletionYearCounter).insert().values(
            year=2026, audience="citizen", province_code="01", count=2))
        await conn.execute(before_0009(LearnerYear).insert(), [
            {"year": 2026, "audience": "citizen", "user_id": u, "province_code": "01", "day": date(2026, 3, 10)}
            for u in (attested, plain)])
        await conn.execute(before_0009(LearnerCounter).insert().values(
            year=2026, audience="citizen", province_code="01", count=2))
    await anyio.to_thread.run_sync(command.upgrade, cfg, "head")
    async with engine.connect() as conn:
        users = dict((await conn.execute(select(User.id, User.assurance))).all())
        completions = dict((await conn.execute(select(Completion.user_id, Completion.assurance))).all())
        days = sorted((await conn.execute(select(CompletionCounter.assurance, CompletionCounter.count))).all())
        years = sorted((await conn.execute(select(CompletionYearCounter.assurance, CompletionYearCounter.count))).all())
        marks = dict((await conn.execute(select(LearnerYear.user_id, LearnerYear.assurance))).all())
        learners = sorted((await conn.execute(select(LearnerCounter.assurance, LearnerCounter.count))).all())
    await engine.dispose()
    assert users == {attested: "partner", plain: "none"} and completions == users and marks == users
    assert days == years == learners == [("none", 1), ("partner", 1)]
