"""A PostgreSQL server of this test run's own, for the tests that read the completion feed.

Why: the feed serves a row only once every transaction older than it has ended (`txid_snapshot_xmin`), and
PostgreSQL transaction ids belong to the whole server, not to one database. A transaction left open in ANY
database of the same server — another test run, a benchmark, someone's psql — holds every feed on that server
back until it ends. That is the feed's design (it never skips a row), and a limitation to know in production
too: the reporting database should not share its server with long-running transactions. On a shared server the
feed tests would wait on strangers and fail, so on PostgreSQL they run against this private server instead
(initdb in a temporary directory, a free loopback port, stopped at the end of the run). On SQLite there is no
horizon and they use the run's database.

Use it in a feed test module: `from tests.private_pg import feed_database_url, settings_on_private_server`
(the second is registered as `settings`, overriding the conftest's for that module only).
"""

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from app.core.config import Settings

START_ATTEMPTS = 3  # a free port can be taken between choosing it and the server binding it
START_TIMEOUT_S = 60


def _pg_bin(name: str) -> str:
    found = shutil.which(name) or next(iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)),
                                       None)
    if found is None:
        pytest.fail(f"{name} not found: PostgreSQL's server binaries are needed for the private feed server")
    return found


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PrivatePostgres:
    """initdb + pg_ctl as the `postgres` user when run as root (PostgreSQL refuses to run as root)."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="hocso-feed-pg-"))
        self.data, self.log = self.root / "data", self.root / "server.log"
        self.port = 0
        self._user = None
        if os.geteuid() == 0:
            self._user = pwd.getpwnam("postgres")
            os.chown(self.root, self._user.pw_uid, self._user.pw_gid)

    def _run(self, *command: str) -> subprocess.CompletedProcess:
        prefix = ["runuser", "-u", "postgres", "--"] if self._user else []
        return subprocess.run([*prefix, *command], capture_output=True, text=True, timeout=START_TIMEOUT_S + 30)

    def start(self) -> None:
        made = self._run(_pg_bin("initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust", "--no-sync",
                         "-E", "UTF8", "--locale=C.UTF-8")
        assert made.returncode == 0, made.stderr
        for _ in range(START_ATTEMPTS):
            self.port = _free_port()
            options = (f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off "
                       "-c synchronous_commit=off -c full_page_writes=off")
            started = self._run(_pg_bin("pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-o", options,
                                "-w", "-t", str(START_TIMEOUT_S), "start")
            if started.returncode == 0:
                return
        log = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
        raise AssertionError(f"private PostgreSQL did not start: {started.stderr}\n{log}")

    def stop(self) -> None:
        if self.data.exists():
            self._run(_pg_bin("pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture(scope="session")
async def feed_database_url(database_url: str) -> AsyncIterator[str]:
    """The run's database on SQLite; on PostgreSQL a migrated database on a private server."""
    if not database_url.startswith("postgresql"):
        yield database_url
        return
    import anyio.to_thread
    from alembic import command

    from tests.conftest import alembic_config

    server = PrivatePostgres()
    try:
        server.start()
        base = f"postgresql+asyncpg://postgres@127.0.0.1:{server.port}"
        admin = create_async_engine(f"{base}/postgres", isolation_level="AUTOCOMMIT")
        async with admin.connect() as conn:
            await conn.execute(text('CREATE DATABASE "hocso_feed"'))
        await admin.dispose()
        url = f"{base}/hocso_feed"
        await anyio.to_thread.run_sync(command.upgrade, alembic_config(url), "head")
        yield url
    finally:
        server.stop()


@pytest.fixture(name="settings")
def settings_on_private_server(settings: Settings, feed_database_url: str) -> Settings:
    """The test settings, with the feed's database on the private server (see the module's docstring)."""
    return settings.model_copy(update={"database_url": feed_database_url})
