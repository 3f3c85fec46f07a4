"""What `?breakdown=assurance` costs on /stats/provinces (and /courses, /timeseries) against the plain answer.

    .venv/bin/python -m bench.stats_breakdown                  # builds hocso_bench_breakdown, measures, drops it
    .venv/bin/python -m bench.stats_breakdown --keep --runs 9  # keeps the database for another run

The seeded 10M dataset (bench/seed_10m.py) records every completion at level `none`, so it cannot show what
grouping by level costs. This builds its own database of buckets alone (never `hocso_bench`), at national scale
with the levels spread as they would be: every day of 2025 × 34 provinces × 50 courses for citizens at each of
the four levels (2,482,000 day buckets), plus one official bucket per day and province (partner or e-ID), with
their year and learner roll-ups. Plain and broken-down answers read the same rows (the buckets are per level
either way); only the number of groups differs. Each figure is the service call with the stats cache off, the
two variants alternated run by run so machine load falls on both alike.
"""

import argparse
import asyncio
import statistics
import time
from datetime import UTC, date, datetime

import asyncpg
from sqlalchemy.engine import make_url

from app.core.cache import StatsCache
from app.core.config import Settings
from app.core.db import Database
from app.services.stats import figures as stats
from app.services.stats.query import build_query
from bench.catalogue import fresh_database_with_courses
from bench.database import DEFAULT_URL, asyncpg_dsn, drop_database

URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/hocso_bench_breakdown"
YEAR = 2025

CITIZEN_BUCKETS = f"""
INSERT INTO completion_counter (day, audience, province_code, course_id, assurance, count)
SELECT d::date, 'citizen', p.code, c, l.level, l.n
FROM generate_series(DATE '{YEAR}-01-01', DATE '{YEAR}-12-31', INTERVAL '1 day') AS d,
     (SELECT code FROM admin_unit WHERE valid_to IS NULL) AS p,
     unnest($1::uuid[]) AS c,
     (VALUES ('none', 6), ('phone', 5), ('partner', 1), ('eid', 4)) AS l(level, n)
"""
OFFICIAL_BUCKETS = f"""
INSERT INTO completion_counter (day, audience, province_code, course_id, assurance, count)
SELECT d::date, 'official', p.code, ($1::uuid[])[1 + extract(doy FROM d)::int % 50],
       CASE WHEN extract(doy FROM d)::int % 2 = 0 THEN 'partner' ELSE 'eid' END, 1
FROM generate_series(DATE '{YEAR}-01-01', DATE '{YEAR}-12-31', INTERVAL '1 day') AS d,
     (SELECT code FROM admin_unit WHERE valid_to IS NULL) AS p
"""
ROLL_UPS = f"""
INSERT INTO completion_year_counter (year, audience, province_code, assurance, count)
SELECT {YEAR}, audience, province_code, assurance, sum(count) FROM completion_counter GROUP BY 2, 3, 4;
INSERT INTO learner_counter (year, audience, province_code, assurance, count)
SELECT {YEAR}, audience, province_code, assurance, sum(count) * 2 / 3 FROM completion_counter GROUP BY 2, 3, 4;
ANALYZE completion_counter; ANALYZE completion_year_counter; ANALYZE learner_counter;
"""


async def build(url: str) -> None:
    ids = await fresh_database_with_courses(url, published_at=datetime(YEAR - 1, 11, 1, tzinfo=UTC))
    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        await conn.execute(CITIZEN_BUCKETS, ids)
        await conn.execute(OFFICIAL_BUCKETS, ids)
        await conn.execute(ROLL_UPS)
        rows, total = await conn.fetchrow("SELECT count(*), sum(count) FROM completion_counter")
        years = await conn.fetchval("SELECT count(*) FROM completion_year_counter")
        print(f"built: {rows:,} day buckets ({total:,} completions), {years} year buckets")
    finally:
        await conn.close()


SHAPES = {
    "provinces, year (year buckets)": ("provinces", {"year": YEAR}),
    "provinces, Q1 (day buckets)": ("provinces", {"first_day": date(YEAR, 1, 1), "last_day": date(YEAR, 3, 31)}),
    "provinces, 1 Jan-30 Dec (day buckets)": ("provinces", {"first_day": date(YEAR, 1, 1),
                                                           "last_day": date(YEAR, 12, 30)}),
    "courses, year (day buckets)": ("courses", {"year": YEAR}),
    "months, year (day buckets)": ("months", {"year": YEAR}),
}


async def measure(url: str, runs: int) -> None:
    database = Database(Settings(database_url=url, _env_file=None))
    no_cache = StatsCache(0)
    calls = {"provinces": lambda s, q, b: stats.provinces(s, q, "current", no_cache, by_assurance=b),
             "courses": lambda s, q, b: stats.courses(s, q, no_cache, by_assurance=b),
             "months": lambda s, q, b: stats.timeseries(s, q, "month", no_cache, by_assurance=b)}
    try:
        async with database.session() as session:
            for label, (kind, period) in SHAPES.items():
                q = await build_query(session, **period)
                times: dict[bool, list[float]] = {False: [], True: []}
                for b in (False, True):
                    await calls[kind](session, q, b)  # warm: pages in memory, geography and titles read
                for _ in range(runs):
                    for b in (False, True):
                        start = time.perf_counter()
                        await calls[kind](session, q, b)
                        times[b].append((time.perf_counter() - start) * 1000)
                plain, split = statistics.median(times[False]), statistics.median(times[True])
                print(f"{label:<40} plain median {plain:8.1f} ms (min {min(times[False]):7.1f})   "
                      f"breakdown median {split:8.1f} ms (min {min(times[True]):7.1f})   x{split / plain:.2f}")
    finally:
        await database.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=URL)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()
    if make_url(args.database_url).database == make_url(DEFAULT_URL).database:
        parser.error("this bench drops and rebuilds its database: give it one of its own, not hocso_bench")

    async def run() -> None:
        start = time.perf_counter()
        await build(args.database_url)
        print(f"(built in {time.perf_counter() - start:.1f} s)")
        try:
            await measure(args.database_url, args.runs)
        finally:
            if not args.keep:
                await drop_database(args.database_url)

    asyncio.run(run())


if __name__ == "__main__":
    main()
