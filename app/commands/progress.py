"""`hocso progress prune`: delete heartbeat event ids past the offline-sync window now, instead of waiting
for the worker's hourly round (services/retention.py)."""

from typing import Annotated

import typer

from app.commands.common import run_with_db
from app.core.config import get_settings
from app.core.db import Database
from app.core.i18n import messages, t
from app.services.learning import retention

app = typer.Typer(help="Learners' progress records", no_args_is_help=True)
messages({"cli_progress_pruned": ("Đã xóa {count} sự kiện tiến độ cũ hơn {days} ngày.",
                                  "{count} progress events older than {days} days deleted.")})

Days = Annotated[int | None, typer.Option(
    min=1, help="Keep this many days (default HOCSO_PROGRESS_EVENT_RETENTION_DAYS)")]


@app.command("prune")
def prune(days: Days = None) -> None:
    """Delete progress events older than the retention; print how many."""
    keep = days or get_settings().progress_event_retention_days

    async def run(db: Database) -> int:
        return await retention.prune_progress_events(db, retention_days=keep)

    typer.echo(t("cli_progress_pruned", count=f"{run_with_db(run):,}", days=keep))
