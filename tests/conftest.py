"""Test fixtures: a freshly migrated database per test run, isolated per test.

- SQLite (default): a temporary file database.
- PostgreSQL: when HOCSO_TEST_DATABASE_URL is set, a throw-away database is created next to it for this run
  (so parallel runs never collide) and dropped at the end.

Each test's `db` runs inside one outer transaction that is rolled back afterwards; the code under test still
commits normally (its commits become savepoints). Tests that need real concurrency use `committed_db`, which
gives real connections and empties the tables after the test.
"""

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
import redis
from alembic import command
from alembic.config import Config
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, create_async_engine

from app.core.config import Settings
from app.core.db import Database
from app.core.security import KeyRing
from app.main import create_app
from app.models.base import metadata

ROOT = Path(__file__).resolve().parent.parent
pytest_plugins = ["tests.browser"]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "calendar: reads today's date; tests/test_clock.py reruns it moved")
KEEP_TABLES = {"admin_unit", "alembic_version"}  # reference data seeded by migrations


def alembic_config(url: str) -> Config:
    cfg = Config(str(ROOT / "alembic.ini"))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    cfg.attributes["configure_logger"] = False
    return cfg


async def _create_pg_database(base_url: str) -> str:
    url = make_url(base_url).set(drivername="postgresql+asyncpg")
    name = f"hocso_t_{uuid.uuid4().hex[:10]}"
    admin = create_async_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    await admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


async def _drop_pg_database(url: str) -> None:
    parsed = make_url(url)
    admin = create_async_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
    await admin.dispose()


async def new_database_url(tmp_dir: Path) -> str:
    base = os.environ.get("HOCSO_TEST_DATABASE_URL")
    if base:
        return await _create_pg_database(base)
    return f"sqlite+aiosqlite:///{tmp_dir / f'test-{uuid.uuid4().hex[:8]}.db'}"


async def drop_database_url(url: str) -> None:
    if url.startswith("postgresql"):
        await _drop_pg_database(url)


@pytest.fixture(scope="session")
async def database_url(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[str]:
    url = await new_database_url(tmp_path_factory.mktemp("db"))
    import anyio.to_thread

    # Alembic's env.py runs its own event loop, so it runs in a thread.
    await anyio.to_thread.run_sync(command.upgrade, alembic_config(url), "head")
    yield url
    await drop_database_url(url)


@pytest.fixture(scope="session")
def keys_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("keys")


@pytest.fixture
def settings(database_url: str, keys_dir: Path, tmp_path: Path) -> Settings:
    return Settings(
        env="test", data_dir=tmp_path, database_url=database_url, jwt_keys_dir=keys_dir,
        run_worker_in_process=False, secret_key="test-secret-" + "x" * 32, public_base_url="http://test",
        video_renditions=False,  # transcoding is CPU-heavy: only tests/services/video and tests/api/test_video
        _env_file=None,
    )


@pytest.fixture(scope="session")
def keyring(keys_dir: Path, database_url: str) -> KeyRing:
    settings = Settings(env="test", jwt_keys_dir=keys_dir, database_url=database_url, _env_file=None)
    return KeyRing.load(settings, create_dev_key=True)


class RollbackDatabase(Database):
    """Every session joins one connection's outer transaction, rolled back when the test ends."""

    def __init__(self, settings: Settings, connection: AsyncConnection) -> None:
        super().__init__(settings)
        self.connection = connection

    @property
    def dialect(self) -> str:
        return self.connection.dialect.name

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        async with AsyncSession(bind=self.connection, expire_on_commit=False,
                                join_transaction_mode="create_savepoint") as session:
            try:
                yield session
                await session.commit()
            except BaseException:
                await session.rollback()
                raise

    @asynccontextmanager
    async def autocommit(self) -> AsyncIterator[AsyncConnection]:
        yield self.connection  # inside the test's transaction, so it sees what the test arranged


@pytest.fixture
async def db(settings: Settings) -> AsyncIterator[Database]:
    engine = Database(settings).engine
    async with engine.connect() as conn:
        transaction = await conn.begin()
        database = RollbackDatabase(settings, conn)
        try:
            yield database
        finally:
            await transaction.rollback()
            await database.engine.dispose()
    await engine.dispose()


@pytest.fixture
async def committed_db(settings: Settings) -> AsyncIterator[Database]:
    """Real connections and real commits, for concurrency tests; tables are emptied afterwards."""
    database = Database(settings)
    try:
        yield database
    finally:
        async with database.engine.begin() as conn:
            for table in reversed(metadata.sorted_tables):
                if table.name not in KEEP_TABLES:
                    await conn.execute(table.delete())
        await database.dispose()


@pytest.fixture
async def session(db: Database) -> AsyncIterator[AsyncSession]:
    """A session for arranging data and checking results directly; it shares the test's transaction."""
    async with db.session() as s:
        yield s


def make_app(settings: Settings, database: Database, keyring: KeyRing):  # noqa: ANN201
    return create_app(settings, database=database, keys=keyring)


@pytest.fixture
def app(settings: Settings, db: Database, keyring: KeyRing):  # noqa: ANN201
    return make_app(settings, db, keyring)


@pytest.fixture
async def client(app) -> AsyncIterator[httpx.AsyncClient]:  # noqa: ANN001
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        yield c


@pytest.fixture
def operator_env(monkeypatch: pytest.MonkeyPatch, settings: Settings) -> AsyncIterator[None]:
    """`hocso` commands read their settings from the environment, like an operator's shell on the server."""
    from app.core.config import get_settings

    monkeypatch.setenv("HOCSO_DATABASE_URL", settings.effective_database_url)
    monkeypatch.setenv("HOCSO_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("HOCSO_ENV", "test")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


REDIS_URL = os.environ.get("HOCSO_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture(scope="session")
def redis_url() -> str:
    """The Redis the shared-limit tests run against; skipped, saying so, when none answers."""
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.RedisError:
        pytest.skip(f"no Redis at {REDIS_URL} (.ci/run starts one)")
    return REDIS_URL
