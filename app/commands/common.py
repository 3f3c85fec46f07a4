"""Helpers shared by the sub-commands."""

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

from alembic.config import Config

from app.core.config import get_settings
from app.core.db import Database

T = TypeVar("T")
ROOT = Path(__file__).resolve().parents[2]


def alembic_config() -> Config:
    # A source checkout has alembic.ini at its root; the container image keeps it in the working directory.
    ini = ROOT / "alembic.ini" if (ROOT / "alembic.ini").exists() else Path.cwd() / "alembic.ini"
    cfg = Config(str(ini))
    cfg.set_main_option("sqlalchemy.url", get_settings().effective_database_url.replace("%", "%%"))
    return cfg


def script_location() -> Path:
    return Path(alembic_config().get_main_option("script_location") or ROOT / "alembic")


def run_with_db(fn: Callable[[Database], Awaitable[T]]) -> T:
    """Run an async command body with a database that is disposed afterwards; first, exit 1 with one sentence
    if the database is missing or not migrated (app.commands.preflight)."""
    from app.commands.preflight import require_migrated_database

    async def main() -> T:
        await require_migrated_database(get_settings(), script_location())
        database = Database(get_settings())
        try:
            return await fn(database)
        finally:
            await database.dispose()

    return asyncio.run(main())
