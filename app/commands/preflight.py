"""Before a command touches the database: is it there, and migrated? Said in one sentence, never a traceback.

The CLI reads the same settings as the server (HOCSO_* variables and `.env` in the working directory), so a
command run without the server's HOCSO_DATA_DIR or HOCSO_DATABASE_URL looks at another, usually empty, database.
Each sentence names the database it looked at (and for SQLite the data directory) and what to run.
"""

from pathlib import Path

import typer
from alembic.script import ScriptDirectory
from sqlalchemy import make_url, text
from sqlalchemy.exc import DBAPIError

from app.core.config import Settings
from app.core.db import create_engine
from app.core.i18n import messages, t

messages({
    "cli_db_upgraded": ("Cơ sở dữ liệu {where} đã ở phiên bản {revision}.", "The database {where} is at {revision}."),
    "cli_db_missing": (
        "Không có cơ sở dữ liệu tại {where}: hãy chạy `hocso db upgrade`, với cùng HOCSO_DATA_DIR hoặc "
        "HOCSO_DATABASE_URL như máy chủ.",
        "There is no database at {where}: run `hocso db upgrade`, with the same HOCSO_DATA_DIR or "
        "HOCSO_DATABASE_URL as the server."),
    "cli_db_unmigrated": (
        "Cơ sở dữ liệu {where} chưa được khởi tạo (chưa có bảng nào của HocSo): hãy chạy `hocso db upgrade`, "
        "với cùng HOCSO_DATA_DIR hoặc HOCSO_DATABASE_URL như máy chủ.",
        "The database {where} has not been set up (none of HocSo's tables): run `hocso db upgrade`, with the "
        "same HOCSO_DATA_DIR or HOCSO_DATABASE_URL as the server."),
    "cli_db_behind": (
        "Cơ sở dữ liệu {where} đang ở phiên bản {current}, phần mềm này cần phiên bản {head}: hãy chạy "
        "`hocso db upgrade`.",
        "The database {where} is at revision {current} and this software needs {head}: run `hocso db upgrade`."),
    "cli_db_unreachable": (
        "Không kết nối được tới cơ sở dữ liệu {where} ({reason}): hãy kiểm tra HOCSO_DATABASE_URL và máy chủ "
        "cơ sở dữ liệu.",
        "Cannot reach the database {where} ({reason}): check HOCSO_DATABASE_URL and the database server."),
})


def describe(settings: Settings) -> str:
    """Which database, in words: the SQLite file with its data directory, or the URL without its password."""
    if settings.is_sqlite:
        path = make_url(settings.effective_database_url).database or ""
        return f"{path} (HOCSO_DATA_DIR={Path(settings.data_dir).resolve()})"
    return make_url(settings.effective_database_url).render_as_string(hide_password=True)


def migration_heads(script_location: Path) -> set[str]:
    return set(ScriptDirectory(str(script_location)).get_heads())


async def database_problem(settings: Settings, script_location: Path) -> str | None:
    """None when the database exists and is at the newest migration; else the sentence saying what to do."""
    where = describe(settings)
    if settings.is_sqlite:
        path = Path(make_url(settings.effective_database_url).database or "")
        if not path.is_file():  # checked first: connecting would create an empty file
            return t("cli_db_missing", where=where)
    engine = create_engine(settings)
    try:
        async with engine.connect() as conn:
            try:
                current = set((await conn.execute(text("SELECT version_num FROM alembic_version"))).scalars())
            except DBAPIError:
                return t("cli_db_unmigrated", where=where)
    except (DBAPIError, OSError) as exc:
        reason = str(getattr(exc, "orig", exc)).splitlines()[0][:200]
        return t("cli_db_unreachable", where=where, reason=reason)
    finally:
        await engine.dispose()
    heads = migration_heads(script_location)
    if not current:
        return t("cli_db_unmigrated", where=where)
    script = ScriptDirectory(str(script_location))
    known = {rev.revision for rev in script.walk_revisions()}
    if current != heads and current <= known:  # behind; a database newer than this code is left alone
        return t("cli_db_behind", where=where, current=", ".join(sorted(current)), head=", ".join(sorted(heads)))
    return None


async def require_migrated_database(settings: Settings, script_location: Path) -> None:
    """Exit 1 with one sentence on standard error unless the database is there and migrated."""
    if problem := await database_problem(settings, script_location):
        typer.echo(problem, err=True)
        raise typer.Exit(1)
