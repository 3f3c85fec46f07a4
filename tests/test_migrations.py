"""The committed migrations build the schema the models describe, and unwind cleanly."""

import anyio.to_thread
import pytest
from alembic import command
from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import create_async_engine

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
