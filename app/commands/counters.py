"""`hocso counters verify` and `hocso counters rebuild`: the national counters checked against, and rebuilt
from, the immutable completion rows."""

from typing import Annotated

import typer

from app.commands.common import run_with_db
from app.core.db import Database
from app.services.counters import buckets as counters

app = typer.Typer(help="National completion counters", no_args_is_help=True)


Limit = Annotated[int, typer.Option(min=1, help="List at most this many differences per table")]


@app.command("verify")
def verify(limit: Limit = 1000) -> None:
    """Recount every bucket from the completions; print each difference and exit 1 if there is any."""

    async def check(db: Database) -> counters.VerifyReport:
        async with db.session() as session:
            return await counters.verify(session, limit=limit)

    report = run_with_db(check)
    if report.ok:
        typer.echo("counters agree with the completions")
        return
    for difference in report.differences:
        typer.echo(str(difference))
    more = " (list truncated; there may be more)" if report.truncated else ""
    typer.echo(f"{len(report.differences)} difference(s){more}; `hocso counters rebuild` repairs them",
               err=True)
    raise typer.Exit(1)


@app.command("rebuild")
def rebuild() -> None:
    """Replace every counter bucket with a recount from the completions (in one transaction)."""

    async def recount(db: Database) -> dict[str, int]:
        async with db.session() as session:
            return await counters.rebuild(session)

    rows = run_with_db(recount)
    typer.echo("rebuilt: " + ", ".join(f"{table} {count} rows" for table, count in rows.items()))
