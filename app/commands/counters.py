"""`hocso counters verify` and `hocso counters rebuild`: the national counters checked against, and rebuilt
from, the immutable completion rows."""

from typing import Annotated

import typer

from app.commands.common import run_with_db
from app.core.db import Database
from app.core.i18n import messages, t
from app.services.counters import buckets as counters

app = typer.Typer(help="National completion counters", no_args_is_help=True)
messages({
    "cli_counters_agree": ("Bộ đếm khớp với các lượt hoàn thành.", "The counters agree with the completions."),
    "cli_counters_differ": ("{count} chỗ khác nhau; `hocso counters rebuild` sửa chúng.",
                            "{count} difference(s); `hocso counters rebuild` repairs them."),
    "cli_counters_differ_truncated": (
        "{count} chỗ khác nhau (danh sách đã cắt bớt, có thể còn nữa); `hocso counters rebuild` sửa chúng.",
        "{count} difference(s) (list truncated; there may be more); `hocso counters rebuild` repairs them."),
    "cli_counters_rebuilt": ("Đã tính lại: {tables}.", "Rebuilt: {tables}."),
    "cli_counters_table_rows": ("{table} {count} dòng", "{table} {count} rows"),
})


Limit = Annotated[int, typer.Option(min=1, help="List at most this many differences per table")]


@app.command("verify")
def verify(limit: Limit = 1000) -> None:
    """Recount every bucket from the completions; print each difference and exit 1 if there is any."""

    async def check(db: Database) -> counters.VerifyReport:
        async with db.session() as session:
            return await counters.verify(session, limit=limit)

    report = run_with_db(check)
    if report.ok:
        typer.echo(t("cli_counters_agree"))
        return
    for difference in report.differences:
        typer.echo(str(difference))
    typer.echo(t("cli_counters_differ_truncated" if report.truncated else "cli_counters_differ",
                 count=len(report.differences)), err=True)
    raise typer.Exit(1)


@app.command("rebuild")
def rebuild() -> None:
    """Replace every counter bucket with a recount from the completions (in one transaction)."""

    async def recount(db: Database) -> dict[str, int]:
        async with db.session() as session:
            return await counters.rebuild(session)

    rows = run_with_db(recount)
    typer.echo(t("cli_counters_rebuilt", tables=", ".join(
        t("cli_counters_table_rows", table=table, count=count) for table, count in rows.items())))
