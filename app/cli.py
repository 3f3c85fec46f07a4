"""The `hocso` command: serve, worker, database, users and clients, courses, counters, demo data."""

import asyncio
import os
import sys

import typer

from app.commands import register
from app.core.config import check_production, get_settings

app = typer.Typer(help="HocSo: national self-paced learning platform backend", no_args_is_help=True)
db_app = typer.Typer(help="Database schema", no_args_is_help=True)
app.add_typer(db_app, name="db")
register(app)


@app.command()
def serve(workers: int = typer.Option(None, help="Worker processes (default HOCSO_WORKERS)")) -> None:
    """Serve the API with uvicorn on HOCSO_HOST:HOCSO_PORT."""
    check_production(get_settings())  # refused here, with the command line's error output
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


@db_app.command("upgrade")
def db_upgrade(revision: str = typer.Argument("head")) -> None:
    """Apply migrations up to REVISION (default: head)."""
    from alembic import command

    from app.commands.common import alembic_config

    command.upgrade(alembic_config(), revision)
    typer.echo(f"database at {revision}")


def main() -> None:  # pragma: no cover
    sys.exit(app())
