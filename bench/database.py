"""The benchmark's own PostgreSQL database (`hocso_bench` by default), apart from tests."""

import os

import asyncpg
from sqlalchemy.engine import make_url

from app.commands.common import ROOT

DEFAULT_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/hocso_bench"


def bench_database_url() -> str:
    return os.environ.get("HOCSO_BENCH_DATABASE_URL", DEFAULT_URL)


def asyncpg_dsn(url: str, database: str | None = None) -> str:
    """The same address in the plain form asyncpg takes (no SQLAlchemy driver suffix)."""
    parsed = make_url(url).set(drivername="postgresql")
    if database:
        parsed = parsed.set(database=database)
    return parsed.render_as_string(hide_password=False)


async def ensure_database(url: str) -> bool:
    """Create the database if it is missing; True when it was created."""
    name = make_url(url).database
    admin = await asyncpg.connect(asyncpg_dsn(url, "postgres"))
    try:
        if await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            return False
        await admin.execute(f'CREATE DATABASE "{name}"')
        return True
    finally:
        await admin.close()


async def drop_database(url: str) -> None:
    name = make_url(url).database
    admin = await asyncpg.connect(asyncpg_dsn(url, "postgres"))
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


def migrate(url: str) -> None:
    """Bring the schema to head with the project's own migrations (never create_all)."""
    from alembic import command
    from alembic.config import Config

    cfg = Config(str(ROOT / "alembic.ini"))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    cfg.attributes["configure_logger"] = False
    command.upgrade(cfg, "head")
