"""`hocso progress prune`: delete heartbeat event ids past the offline-sync window now, instead of waiting
for the worker's hourly round (services/retention.py)."""

from typing import Annotated

import typer

from app.commands.common import run_with_db
from app.core.config import get_settings
from app.core.db import Database
from app.services.learning import retention

app = typer.Typer(help="Learners' progress records", no_args_is_help=True)

Days = Annotated[int | None, typer.Option(
    min=1, help="Keep this many days (default HOCSO_PROGRESS_EVENT_RETENTION_DAYS)")]


@app.command("prune")
def prune(days: Days = None) -> None:
    """Delete progress events older than the retention; print how many."""
    keep = days or get_settings().progress_event_retention_days

    async def run(db: Database) -> int:
        return await retention.prune_progress_events(db, retention_days=keep)

    typer.echo(f"{run_with_db(run):,} progress events older than {keep} days deleted")
