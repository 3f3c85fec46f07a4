"""The committed migrations build the schema the models describe, and unwind cleanly."""

import uuid
from datetime import UTC, date, datetime

import anyio.to_thread
import pytest
from alembic import command
from sqlalchemy import inspect, select
from sqlalchemy.ext.asyncio import create_async_engine

from app.models.completion import CompletionCounter, CompletionYearCounter
from app.models.course import Course
from tests.conftest import alembic_config, drop_database_url, new_database_url


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
        await conn.execute(CompletionCounter.__table__.insert(), [
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
