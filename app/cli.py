"""The `hocso` command: serve, worker, database, users and clients, courses, counters, demo data."""

import asyncio
import os
import sys
from typing import Annotated

import typer

from app.commands import register
from app.commands.feedback import terminal_language
from app.core.config import check_production, get_settings
from app.core.i18n import Lang, set_language, t

app = typer.Typer(no_args_is_help=True)
db_app = typer.Typer(help="Database schema", no_args_is_help=True)
app.add_typer(db_app, name="db")
register(app)


@app.callback()
def language(lang: Annotated[Lang | None, typer.Option(
        "--lang", help="vi or en (default: from LANG, Vietnamese unless it is English)")] = None) -> None:
    """HocSo: national self-paced learning platform backend. Reads the same settings as the server
    (HOCSO_* variables, `.env` in the working directory): run it with the server's HOCSO_DATA_DIR or
    HOCSO_DATABASE_URL."""
    set_language(lang or terminal_language())


@app.command()
def serve(workers: int = typer.Option(None, help="Worker processes (default HOCSO_WORKERS)")) -> None:
    """Serve the API with uvicorn on HOCSO_HOST:HOCSO_PORT."""
    check_production(get_settings())  # refused here, with the command line's error output
    _require_migrated_database()
    # The server runs as `python -m app.serve` in this same process (exec), without this command line's modules.
    os.execv(sys.executable, [sys.executable, "-m", "app.serve", *(["--workers", str(workers)] if workers else [])])


@app.command()
def worker() -> None:
    """Run background jobs (package imports, certificate PDFs) and housekeeping until stopped."""
    from app.core.db import Database
    from app.core.logging import configure_logging
    from app.services import jobs
    from app.services.learning import retention

    settings = get_settings()
    check_production(settings)
    _require_migrated_database()
    configure_logging(settings.log_level)

    async def main() -> None:
        import app.services.wiring  # noqa: F401  (job handlers and reactions)

        database = Database(settings)
        stop = asyncio.Event()
        try:
            await asyncio.gather(jobs.work_forever(database, settings.job_poll_interval_s, stop),
                                 retention.housekeeping_forever(database, settings, stop))
        finally:
            await database.dispose()

    asyncio.run(main())


def _require_migrated_database() -> None:
    """Exit 1 with one sentence if the database is missing or behind (app.commands.preflight)."""
    from app.commands.common import script_location
    from app.commands.preflight import require_migrated_database

    asyncio.run(require_migrated_database(get_settings(), script_location()))


@db_app.command("upgrade")
def db_upgrade(revision: str = typer.Argument("head")) -> None:
    """Apply migrations up to REVISION (default: head)."""
    from alembic import command

    from app.commands.common import alembic_config
    from app.commands.preflight import describe

    command.upgrade(alembic_config(), revision)
    typer.echo(t("cli_db_upgraded", where=describe(get_settings()), revision=revision))


def main() -> None:  # pragma: no cover
    sys.exit(app())
