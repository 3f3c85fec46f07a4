"""How fast `/dashboard` answers at national scale, in-process (the whole ASGI app over httpx's transport).

    .venv/bin/python -m bench.board                    # hocso_bench if it is seeded, else hocso_board_bench
    .venv/bin/python -m bench.board --buckets-only     # always the buckets-only database

The dashboard reads only the counter buckets, never the completions. When the 10M dataset (`hocso_bench`,
bench/seed_10m.py) is there, it is measured on it. Otherwise a database of buckets alone is built at the same
national scale — every day of 2025 × 34 provinces × 50 courses × 2 audiences = 1,241,000 day buckets holding
about 10.5 million completions, with their year and learner roll-ups — which is what the dashboard's
statements read (building it takes a few seconds; no completion rows, as the page never touches them).

Measured: the page with every cache empty (the stats cache cleared before each request: what the first visitor
after each `stats_cache_ttl_s` pays), then with the cache warm.
"""

import argparse
import asyncio
import statistics
import time
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import httpx

from app.core.config import Settings
from app.core.security import KeyRing
from app.main import create_app
from bench.catalogue import fresh_database_with_courses
from bench.database import asyncpg_dsn, bench_database_url

ROOT = Path(__file__).resolve().parent.parent
BUCKETS_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/hocso_board_bench"
YEAR = 2025  # the year bench/seed_10m.py fills, so both databases are read the same way

BUCKETS = f"""
INSERT INTO completion_counter (day, audience, province_code, course_id, count)
SELECT d::date, a, p.code, c, CASE WHEN a = 'citizen' THEN 16 ELSE 1 END
FROM generate_series(DATE '{YEAR}-01-01', DATE '{YEAR}-12-31', INTERVAL '1 day') AS d,
     (SELECT code FROM admin_unit WHERE valid_to IS NULL) AS p,
     unnest($1::uuid[]) AS c, unnest(ARRAY['official', 'citizen']) AS a;
"""
ROLL_UPS = f"""
INSERT INTO completion_year_counter (year, audience, province_code, count)
SELECT {YEAR}, audience, province_code, sum(count) FROM completion_counter GROUP BY 2, 3;
INSERT INTO learner_counter (year, audience, province_code, count)
SELECT {YEAR}, audience, province_code, sum(count) * 2 / 3 FROM completion_counter GROUP BY 2, 3;
ANALYZE completion_counter; ANALYZE completion_year_counter; ANALYZE learner_counter;
"""


async def seeded(url: str) -> bool:
    try:
        conn = await asyncpg.connect(asyncpg_dsn(url))
    except (asyncpg.InvalidCatalogNameError, OSError):
        return False
    try:
        return bool(await conn.fetchval(
            "SELECT to_regclass('completion_year_counter') IS NOT NULL AND EXISTS "
            "(SELECT 1 FROM completion_year_counter WHERE year = $1)", YEAR))
    finally:
        await conn.close()


async def build_buckets(url: str) -> None:
    ids = await fresh_database_with_courses(url, published_at=datetime(YEAR - 1, 11, 1, tzinfo=UTC))
    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        await conn.execute(BUCKETS, ids)
        await conn.execute(ROLL_UPS)
        rows, total = await conn.fetchrow("SELECT count(*), sum(count) FROM completion_counter")
        print(f"built {url.rsplit('/', 1)[1]}: {rows:,} day buckets, {total:,} completions")
    finally:
        await conn.close()


async def measure(url: str, cold_runs: int, warm_runs: int) -> None:
    data_dir = ROOT / "var" / "bench" / "board"
    settings = Settings(database_url=url, data_dir=data_dir, jwt_keys_dir=data_dir / "keys",
                        run_worker_in_process=False, _env_file=None)
    app = create_app(settings, keys=KeyRing.load(settings, create_dev_key=True))
    page = f"/dashboard?year={YEAR}"
    async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://bench") as client:
        await client.get(page)  # connections opened, statements prepared, pages of the tables in memory
        cold = []
        for _ in range(cold_runs):
            app.state.per_worker.stats.clear()
            start = time.perf_counter()
            r = await client.get(page)
            cold.append((time.perf_counter() - start) * 1000)
            assert r.status_code == 200, r.text[:300]
        warm = []
        for _ in range(warm_runs):
            start = time.perf_counter()
            await client.get(page)
            warm.append((time.perf_counter() - start) * 1000)
        parts = {}
        from app.services.stats import board
        from app.services.stats import figures as stats
        cache = app.state.per_worker.stats
        async with app.state.db.session() as session:
            q = await board.year_query(session, YEAR)
            for name, call in [("national", lambda: board.national(session, YEAR, cache)),
                               ("provinces", lambda: stats.provinces(session, q, "current", cache)),
                               ("months", lambda: stats.timeseries(session, q, "month", cache)),
                               ("courses", lambda: stats.courses(session, q, cache))]:
                cache.clear()
                start = time.perf_counter()
                await call()
                parts[name] = (time.perf_counter() - start) * 1000
    warm.sort()
    print(f"database: {url.rsplit('/', 1)[1]}, year {YEAR}, {len(r.content):,} bytes of HTML")
    print(f"cold (cache emptied), {cold_runs} runs: median {statistics.median(cold):.0f} ms, "
          f"min {min(cold):.0f}, max {max(cold):.0f}")
    print(f"warm, {warm_runs} runs: median {statistics.median(warm):.2f} ms, "
          f"p99 {warm[int(len(warm) * 0.99) - 1]:.2f} ms")
    print("cold parts: " + ", ".join(f"{k} {v:.0f} ms" for k, v in parts.items()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--buckets-only", action="store_true", help="measure on hocso_board_bench")
    parser.add_argument("--rebuild", action="store_true", help="rebuild hocso_board_bench first")
    parser.add_argument("--cold", type=int, default=10)
    parser.add_argument("--warm", type=int, default=300)
    args = parser.parse_args()

    async def run() -> None:
        url = bench_database_url()
        if args.buckets_only or not await seeded(url):
            print(f"{url.rsplit('/', 1)[1]} holds no {YEAR} figures: measuring on the buckets-only database")
            url = BUCKETS_URL
            if args.rebuild or not await seeded(url):
                start = time.perf_counter()
                await build_buckets(url)
                print(f"(built in {time.perf_counter() - start:.1f} s)")
        await measure(url, args.cold, args.warm)

    asyncio.run(run())


if __name__ == "__main__":
    main()
