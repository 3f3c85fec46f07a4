"""Async engine and sessions for SQLite (embedded default) and PostgreSQL (production)."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import event, exc
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from app.core.config import Settings


def create_engine(settings: Settings, url: str | None = None) -> AsyncEngine:
    url = url or settings.effective_database_url
    if url.startswith("sqlite"):
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, echo=settings.db_echo, hide_parameters=not settings.db_echo,
                                     connect_args={"timeout": 30})
        _tune_sqlite(engine)
        return engine
    engine = create_async_engine(
        url,
        echo=settings.db_echo,
        # Statement errors (an IntegrityError's message) otherwise carry their parameters: names, phones,
        # password hashes. Only a developer who asked for SQL echo sees them.
        hide_parameters=not settings.db_echo,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_pre_ping=settings.db_pre_ping,
        # PgBouncer in transaction mode cannot keep prepared statements per connection.
        connect_args={"statement_cache_size": 0} if "pgbouncer" in url else {},
    )
    if not settings.db_pre_ping and engine.dialect.driver == "asyncpg":
        _discard_closed_connections(engine)
    return engine


def _discard_closed_connections(engine: AsyncEngine) -> None:
    """A connection the server has closed (a restart, a failover, an idle timeout) is already closed on our
    side once the event loop has read its end: such a one is discarded at checkout for free, and the pool
    hands out another. `pool_pre_ping` finds the same with three round trips per checkout on asyncpg (BEGIN,
    `;`, ROLLBACK: a large share of a one-statement request; docs/benchmarks.md, 2026-12-03 fix 5), and
    also finds a connection a network device dropped without a word, which this cannot see."""

    @event.listens_for(engine.sync_engine, "checkout")
    def _on_checkout(_dbapi_conn, record, _proxy) -> None:  # noqa: ANN001
        if record.driver_connection.is_closed():
            raise exc.DisconnectionError("the server closed this connection")  # the pool retries with another


def _tune_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_conn, _record):  # noqa: ANN001
        # Take isolation control so BEGIN IMMEDIATE below works (pysqlite's implicit BEGIN would defer it).
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn):  # noqa: ANN001
        # One writer at a time: take the write lock up front so concurrent upgrades never deadlock.
        # Autocommit connections (health probes) read without a transaction and never wait for writers.
        if conn.get_execution_options().get("isolation_level") != "AUTOCOMMIT":
            conn.exec_driver_sql("BEGIN IMMEDIATE")


class Database:
    """The engine and session factory one process uses; built by the app factory or the CLI."""

    def __init__(self, settings: Settings, url: str | None = None) -> None:
        self.settings = settings  # job handlers read storage and public URLs from it
        self.engine = create_engine(settings, url)
        self.sessionmaker = async_sessionmaker(self.engine, expire_on_commit=False, class_=AsyncSession)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A unit of work: committed when the block ends normally, rolled back otherwise."""
        async with self.sessionmaker() as session:
            try:
                yield session
                # A request that never touched the database (a cached stats answer, a service token) has
                # no transaction: committing would begin and end an empty one, CPU spent for nothing.
                # `add()` begins one too, so nothing pending is ever skipped.
                if session.in_transaction():
                    await session.commit()
            except BaseException:
                await session.rollback()
                raise

    @asynccontextmanager
    async def autocommit(self) -> AsyncIterator[AsyncConnection]:
        """A connection for a read that is one statement (a feed page): no transaction around it, so no BEGIN
        and COMMIT round trips on PostgreSQL (a statement is its own snapshot) and no write lock on SQLite,
        whose transactions here begin IMMEDIATE."""
        async with self.engine.connect() as conn:
            yield await conn.execution_options(isolation_level="AUTOCOMMIT")

    async def dispose(self) -> None:
        await self.engine.dispose()
