"""Bulk-loading mechanics for PostgreSQL: take a table's keys and indexes off, pipe rows in with COPY, and put
everything back, two sessions at a time (this machine has two cores)."""

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import asyncpg

from bench import seed_sql


async def connect(dsn: str) -> asyncpg.Connection:
    conn = await asyncpg.connect(dsn, command_timeout=None)
    # Bulk work: large sort memory for index builds and hash joins; commits need not wait for the disk flush
    # (a crash simply means seeding again). Our own two sessions are the parallelism.
    await conn.execute("SET synchronous_commit = off; SET maintenance_work_mem = '1GB'; "
                       "SET work_mem = '512MB'; SET max_parallel_maintenance_workers = 0")
    return conn


@dataclass
class SchemaObjects:
    """Constraints and indexes of the loaded tables, as the catalogue defines them right now (so changes made
    to the schema by others are followed, never hard-coded here)."""

    foreign_keys: list[tuple[str, str, str]]  # table, name, definition
    keys: list[tuple[str, str, str, str]]  # table, name, "PRIMARY KEY" | "UNIQUE", CREATE UNIQUE INDEX …
    indexes: list[tuple[str, str, str]]  # table, name, CREATE INDEX …

    def index_builds(self, tables: set[str]) -> list[str]:
        """CREATE [UNIQUE] INDEX statements of `tables`, the largest tables first."""
        order = {"completion": 0, "user_account": 1}
        builds = [(t, d) for t, _, _, d in self.keys] + [(t, d) for t, _, d in self.indexes]
        builds = [(t, d) for t, d in builds if t.split(".")[-1] in tables]
        return [d for t, d in sorted(builds, key=lambda b: order.get(b[0].split(".")[-1], 2))]


async def read_schema(conn: asyncpg.Connection, tables: list[str]) -> SchemaObjects:
    names = [f"public.{t}" for t in tables]
    fks = await conn.fetch("""
        SELECT conrelid::regclass::text AS tbl, conname, pg_get_constraintdef(oid) AS def
        FROM pg_constraint
        WHERE contype = 'f' AND (conrelid = ANY($1::regclass[]) OR confrelid = ANY($1::regclass[]))""", names)
    keys = await conn.fetch("""
        SELECT conrelid::regclass::text AS tbl, conname, contype::text AS contype,
               pg_get_indexdef(conindid) AS def
        FROM pg_constraint WHERE contype IN ('p', 'u') AND conrelid = ANY($1::regclass[])""", names)
    indexes = await conn.fetch("""
        SELECT indrelid::regclass::text AS tbl, indexrelid::regclass::text AS name,
               pg_get_indexdef(indexrelid) AS def
        FROM pg_index i
        WHERE indrelid = ANY($1::regclass[]) AND NOT EXISTS (
            SELECT 1 FROM pg_constraint c
            WHERE c.conindid = i.indexrelid AND c.contype IN ('p', 'u', 'x'))""",
                               names)
    return SchemaObjects(
        foreign_keys=[(r["tbl"], r["conname"], r["def"]) for r in fks],
        keys=[(r["tbl"], r["conname"], "PRIMARY KEY" if r["contype"] == "p" else "UNIQUE", r["def"])
              for r in keys],
        indexes=[(r["tbl"], r["name"], r["def"]) for r in indexes],
    )


async def drop(conn: asyncpg.Connection, objects: SchemaObjects) -> None:
    for table, name, _ in objects.foreign_keys:
        await conn.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    for table, name, _, _ in objects.keys:
        await conn.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    for _, name, _ in objects.indexes:
        await conn.execute(f"DROP INDEX {name}")


async def attach_keys(dsn: str, objects: SchemaObjects) -> None:
    """Turn the rebuilt unique indexes back into their constraints, then validate the foreign keys."""
    conn = await connect(dsn)
    try:
        for table, name, kind, _ in objects.keys:
            await conn.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {kind} USING INDEX "{name}"')
        for table, name, definition in objects.foreign_keys:
            await conn.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
    finally:
        await conn.close()


async def pipe(dsn: str, select_sql: str, params: dict[str, object], table: str, columns: list[str],
               before: Callable[[asyncpg.Connection], Awaitable[dict[str, object]]] | None = None) -> None:
    """COPY the rows of `select_sql` from one session straight into `table` through another, in binary, with
    FREEZE: generation and insertion run on both cores at once and Python only forwards byte chunks."""
    producer, consumer = await connect(dsn), await connect(dsn)
    try:
        chunks: asyncio.Queue[bytes | None] = asyncio.Queue(maxsize=256)
        async with consumer.transaction():
            await consumer.execute(f"TRUNCATE {table}")  # FREEZE needs the table emptied in this transaction
            if before:
                params = {**params, **await before(consumer)}
            sql, args = seed_sql.bind(select_sql, params)

            async def produce() -> None:
                try:
                    await producer.copy_from_query(sql, *args, output=chunks.put, format="binary")
                finally:
                    await chunks.put(None)

            async def source():  # noqa: ANN202
                while (chunk := await chunks.get()) is not None:
                    yield chunk

            async with asyncio.TaskGroup() as group:
                group.create_task(produce())
                group.create_task(consumer.copy_to_table(table, source=source(), columns=columns,
                                                         format="binary", freeze=True))
    finally:
        await producer.close()
        await consumer.close()


async def run_two_at_a_time(dsn: str, statements: list[str], sessions: int = 2) -> None:
    """Run independent statements on `sessions` connections, in list order (put the longest first)."""
    queue: asyncio.Queue[str] = asyncio.Queue()
    for statement in statements:
        queue.put_nowait(statement)

    async def worker() -> None:
        conn = await connect(dsn)
        try:
            while not queue.empty():
                await conn.execute(queue.get_nowait())
        finally:
            await conn.close()

    await asyncio.gather(*(worker() for _ in range(sessions)))
