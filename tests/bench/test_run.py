import os
import uuid

import asyncpg
import pytest

from bench.database import asyncpg_dsn
from bench.run import machine_counters, machine_share, prewarm


def test_machine_share_gives_stolen_idle_and_disk_time_and_the_files_read_again():
    before = [100, 0, 50, 1000, 0, 0, 0, 10, 500]
    # 30 user, 10 system, 70 idle, 6 waiting on disk, 4 stolen: 120 ticks in all; 2,000 pages read again
    after = [130, 0, 60, 1070, 6, 0, 0, 14, 2500]
    mb = 2000 * os.sysconf("SC_PAGE_SIZE") / 1e6
    assert machine_share(before, after) == (
        f"machine 3% stolen, 58% idle, 5% waiting on disk, {mb:,.0f} MB of evicted files read again")


def test_machine_share_says_nothing_without_proc():
    assert machine_share(None, [0] * 9) == ""


def test_machine_counters_are_nine_that_only_grow():
    first = machine_counters()
    if first is None:  # no /proc on this system
        return
    assert len(first) == 9
    assert all(b >= a for a, b in zip(first, machine_counters(), strict=True))


@pytest.mark.skipif(not os.environ.get("HOCSO_TEST_DATABASE_URL"), reason="pg_prewarm is PostgreSQL's")
async def test_prewarm_reads_the_relations_and_says_how_much_or_why_not():
    dsn = asyncpg_dsn(os.environ["HOCSO_TEST_DATABASE_URL"])
    table = f"bench_prewarm_{uuid.uuid4().hex[:8]}"
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(f"CREATE TABLE {table} AS SELECT g AS n, repeat('x', 500) AS pad "
                           "FROM generate_series(1, 20000) g")
        said = await prewarm(dsn, (table,))
        assert said.startswith(f"prewarmed {table}: ") and said.endswith(" s")
        assert int(said.split(": ")[1].split(" MB")[0].replace(",", "")) >= 10  # ~11 MB of table read
        assert (await prewarm(dsn, ("no_such_relation",))).startswith("not prewarmed (UndefinedTableError")
        assert await prewarm(dsn, ()) == ""
    finally:
        await conn.execute(f"DROP TABLE IF EXISTS {table}")
        await conn.close()
