"""Commands run against a missing, empty, outdated or unreachable database say so in one sentence (Vietnamese,
English with --lang en), name the database and data directory they looked at, and exit 1: no traceback."""

import sqlite3

import anyio.to_thread
import pytest
from alembic import command
from typer.testing import CliRunner, Result

from app.cli import app as hocso
from app.commands.common import ROOT, alembic_config
from app.core.config import get_settings

PACKAGE = ROOT / "examples" / "ky-nang-so-co-ban.zip"


@pytest.fixture
def data_dir(monkeypatch, tmp_path):
    """An operator's shell whose HOCSO_DATA_DIR holds no database yet."""
    monkeypatch.delenv("HOCSO_DATABASE_URL", raising=False)
    monkeypatch.setenv("HOCSO_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("HOCSO_ENV", "development")
    get_settings.cache_clear()
    yield tmp_path / "var"
    get_settings.cache_clear()


async def invoke(*args: str) -> Result:
    return await anyio.to_thread.run_sync(lambda: CliRunner().invoke(hocso, list(args)))


def one_sentence(result: Result) -> str:
    assert result.exit_code == 1, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.output, result.output
    return lines[0]


async def test_import_without_a_database_says_where_it_looked_and_what_to_run(data_dir):
    said = one_sentence(await invoke("courses", "import", str(PACKAGE)))
    assert said == (f"Không có cơ sở dữ liệu tại {data_dir.resolve() / 'hocso.db'} (HOCSO_DATA_DIR="
                    f"{data_dir.resolve()}): hãy chạy `hocso db upgrade`, với cùng HOCSO_DATA_DIR hoặc "
                    "HOCSO_DATABASE_URL như máy chủ.")
    assert not (data_dir / "hocso.db").exists()  # looking did not create an empty database
    english = one_sentence(await invoke("--lang", "en", "counters", "verify"))
    assert english.startswith("There is no database at ") and "run `hocso db upgrade`" in english


async def test_an_empty_database_file_is_not_migrated(data_dir):
    data_dir.mkdir()
    sqlite3.connect(data_dir / "hocso.db").close()
    said = one_sentence(await invoke("progress", "prune"))
    assert "chưa được khởi tạo" in said and "hocso db upgrade" in said


async def test_a_database_behind_the_code_names_both_revisions(data_dir):
    data_dir.mkdir()
    await anyio.to_thread.run_sync(command.upgrade, alembic_config(), "0005")
    said = one_sentence(await invoke("--lang", "en", "courses", "import", str(PACKAGE)))
    assert "is at revision 0005 and this software needs" in said and "run `hocso db upgrade`" in said


async def test_an_unreachable_database_is_named_without_its_password(monkeypatch, data_dir):
    monkeypatch.setenv("HOCSO_DATABASE_URL", "postgresql+asyncpg://hocso:bi-mat@127.0.0.1:1/hocso")
    get_settings.cache_clear()
    said = one_sentence(await invoke("counters", "verify"))
    assert said.startswith("Không kết nối được tới cơ sở dữ liệu postgresql+asyncpg://hocso:***@127.0.0.1:1/hocso")
    assert "bi-mat" not in said


async def test_a_missing_package_file_is_one_sentence_too(operator_env, committed_db, tmp_path):
    said = one_sentence(await invoke("courses", "import", str(tmp_path / "x.zip")))
    assert said == f"Không có tệp {tmp_path / 'x.zip'}."


async def test_db_upgrade_says_which_database_it_migrated(data_dir):
    result = await invoke("db", "upgrade")
    assert result.exit_code == 0
    assert f"Cơ sở dữ liệu {data_dir.resolve() / 'hocso.db'}" in result.output
    assert "đã ở phiên bản head" in result.output
