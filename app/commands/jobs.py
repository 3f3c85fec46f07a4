"""`hocso jobs retry`: failed background jobs (package imports, certificates, transcodes) put back in the queue,
for an operator once whatever made them fail (an outage, a fixed bug) has passed."""

from typing import Annotated

import typer

from app.commands.common import run_with_db
from app.core.db import Database
from app.core.i18n import messages, t
from app.models.jobs import JobKind
from app.services import jobs

app = typer.Typer(help="Background jobs", no_args_is_help=True)
messages({
    "cli_jobs_requeued": ("Đã đưa lại {count} việc bị lỗi vào hàng đợi.", "{count} failed job(s) re-queued."),
})

Kind = Annotated[JobKind | None, typer.Option(help="Only jobs of this kind")]


@app.command("retry")
def retry(kind: Kind = None) -> None:
    """Re-queue failed jobs (of one kind, or all) with fresh attempts; the worker runs them at once."""

    async def requeue(db: Database) -> int:
        async with db.session() as session:  # the command's unit of work, committed when the block ends
            return await jobs.retry_failed(session, kind=kind)

    typer.echo(t("cli_jobs_requeued", count=run_with_db(requeue)))
