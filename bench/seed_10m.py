"""Load 10,000,000 learners and 10,000,000 completions, with consistent counter buckets, into `hocso_bench`.

    .venv/bin/python -m bench.seed_10m                   # the full dataset (about 6 minutes on 2 cores)
    .venv/bin/python -m bench.seed_10m --learners 100000 --completions 100000   # a quick small one

How it stays fast on 2 cores:
- the database is dropped, recreated and migrated; the loaded tables then lose their indexes, unique and
  foreign keys (definitions read from the catalogue first, put back afterwards: see bench/bulk.py);
- each table is filled by a COPY pipe between two PostgreSQL sessions (`COPY (SELECT … generate_series …) TO
  STDOUT` into `COPY … FROM STDIN (FREEZE)`, binary): generation and insertion run on both cores at once and
  rows are born frozen and all-visible, so no VACUUM pass is needed and index-only scans work at once;
- indexes are built two at a time while the counter buckets are recounted with GROUP BY;
- foreign keys are validated last, once, with a large work_mem.
"""

import argparse
import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import asyncpg
from sqlalchemy import delete
from text_unidecode import unidecode

from app.core.config import Settings
from app.core.db import Database
from app.core.security import hash_secret
from app.models.completion import Programme
from bench import bulk, seed_sql
from bench.catalogue import course_slugs, create_courses
from bench.database import asyncpg_dsn, bench_database_url, drop_database, ensure_database, migrate

LOADED = ["user_account", "completion", "learner_year", "completion_counter", "learner_counter"]
COUNTER_TABLES = {"completion_counter", "learner_counter"}
SEED_YEAR = 2025
YEAR_START = datetime(2024, 12, 31, 17, 0, tzinfo=UTC)  # 1 January 2025, 00:00 in Asia/Ho_Chi_Minh
YEAR_SPAN = timedelta(days=365)
REFORM = datetime(2025, 6, 30, 17, 0, tzinfo=UTC)  # 1 July 2025, 00:00 local: 34 units replace 63
BENCH_PASSWORD = "Bench-hoc-so-2026"

FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ",
          "Ngô"]
MIDDLE = ["Văn", "Thị", "Minh", "Quốc", "Thanh", "Ngọc", "Đức", "Hữu", "Thu"]
GIVEN = ["An", "Bình", "Chi", "Dũng", "Giang", "Hà", "Hải", "Hạnh", "Hiếu", "Hoa", "Hùng", "Hương", "Khánh",
         "Lan", "Linh", "Long", "Mai", "Nam", "Nga", "Phúc", "Quân", "Sơn", "Thảo", "Trang"]


@dataclass
class SeedReport:
    learners: int
    completions: int
    phases: list[tuple[str, float]] = field(default_factory=list)

    @property
    def total_s(self) -> float:
        return sum(s for _, s in self.phases)


class Phases:
    """Times each phase and says when it starts and ends."""

    def __init__(self, report: SeedReport, say: Callable[[str], None]) -> None:
        self.report, self.say = report, say

    async def run(self, name: str, work: Awaitable) -> object:
        self.say(f"{name} …")
        began = time.perf_counter()
        result = await work
        took = time.perf_counter() - began
        self.report.phases.append((name, took))
        self.say(f"{name}: {took:.1f} s")
        return result


def _plain(words: list[str]) -> list[str]:
    return [unidecode(w).lower() for w in words]


async def _create_catalogue(url: str) -> list[str]:
    database = Database(Settings(database_url=url, _env_file=None))
    try:
        async with database.session() as session:
            ids = await create_courses(session, published_at=YEAR_START - timedelta(days=60))
            await session.execute(delete(Programme).where(Programme.year == SEED_YEAR))
            session.add(Programme(year=SEED_YEAR))
        return [str(i) for i in ids]
    finally:
        await database.dispose()


async def _provinces(conn: asyncpg.Connection) -> tuple[list[str], list[str], list[str]]:
    rows = await conn.fetch("SELECT code, name, successor_code FROM admin_unit "
                            "WHERE valid_to IS NOT NULL ORDER BY code")
    if not rows:
        raise RuntimeError("admin_unit holds no former provinces: is the province migration applied?")
    return [r["code"] for r in rows], [r["successor_code"] for r in rows], [r["name"] for r in rows]


async def seed(url: str, learners: int, completions: int, say: Callable[[str], None] = print) -> SeedReport:
    """Recreate the bench database and load the dataset; returns the time of each phase."""
    shape = seed_sql.Shape(learners, completions)
    r0, r1, r2 = shape.rounds
    perm_a, perm_b, perm_inv = shape.permutation
    report = SeedReport(learners, completions)
    phases = Phases(report, say)
    dsn = asyncpg_dsn(url)

    async def recreate() -> None:
        await drop_database(url)
        await ensure_database(url)
        await asyncio.to_thread(migrate, url)  # alembic runs its own event loop

    await phases.run("database recreated and migrated", recreate())
    courses = await phases.run("50 courses", _create_catalogue(url))
    conn = await bulk.connect(dsn)
    try:
        former, successor, former_name = await _provinces(conn)
        objects = await bulk.read_schema(conn, LOADED)
        await phases.run("constraints and indexes dropped", bulk.drop(conn, objects))
    finally:
        await conn.close()

    params: dict[str, object] = {
        "learners": learners, "completions": completions, "r0": r0, "r1": r1, "r2": r2, "perm_a": perm_a,
        "perm_b": perm_b, "perm_inv": perm_inv, "start": YEAR_START, "span_s": YEAR_SPAN.total_seconds(),
        "reform": REFORM, "courses": courses, "course_slugs": course_slugs(), "former": former, "successor": successor,
        "former_name": former_name, "family": FAMILY, "middle": MIDDLE, "given": GIVEN,
        "family_plain": _plain(FAMILY), "middle_plain": _plain(MIDDLE), "given_plain": _plain(GIVEN),
        "password_hash": await asyncio.to_thread(hash_secret, BENCH_PASSWORD),
    }

    async def loading_txid(consumer: asyncpg.Connection) -> dict[str, object]:
        # Completions carry the id of the transaction that inserted them; the feed pages by (txid, seq).
        return {"txid": await consumer.fetchval("SELECT txid_current()")}

    await phases.run(f"{learners:,} learners (COPY pipe)",
                     bulk.pipe(dsn, seed_sql.USERS, params, "user_account", seed_sql.USER_COLUMNS))
    await phases.run(f"{completions:,} completions (COPY pipe)",
                     bulk.pipe(dsn, seed_sql.COMPLETIONS, params, "completion", seed_sql.COMPLETION_COLUMNS,
                               before=loading_txid))
    await phases.run(f"{r0:,} learner-year marks (COPY pipe)",
                     bulk.pipe(dsn, seed_sql.LEARNER_YEARS, params, "learner_year",
                               seed_sql.LEARNER_YEAR_COLUMNS))
    big_tables = set(LOADED) - COUNTER_TABLES
    await phases.run("counter buckets recounted + indexes built (2 sessions)", bulk.run_two_at_a_time(
        dsn, [seed_sql.COMPLETION_COUNTERS, seed_sql.LEARNER_COUNTERS, *objects.index_builds(big_tables)]))
    await phases.run("counter indexes built",
                     bulk.run_two_at_a_time(dsn, objects.index_builds(COUNTER_TABLES)))
    await phases.run("keys attached, foreign keys validated", bulk.attach_keys(dsn, objects))
    await phases.run("sequences set, statistics gathered", _finish(dsn))
    return report


async def _finish(dsn: str) -> None:
    conn = await bulk.connect(dsn)
    try:
        await conn.execute("SELECT setval(pg_get_serial_sequence('completion', 'seq'), "
                           "(SELECT coalesce(max(seq), 0) + 1 FROM completion), false)")
        await conn.execute("VACUUM (ANALYZE) completion_counter, completion_year_counter, learner_counter")
        await conn.execute("ANALYZE user_account, completion, learner_year")
    finally:
        await conn.close()


IS_SEEDED = """
SELECT EXISTS (SELECT 1 FROM user_account WHERE id = md5('hocso-bench-user-' || $1::bigint)::uuid)
   AND EXISTS (SELECT 1 FROM completion WHERE id = md5('hocso-bench-completion-' || $2::bigint)::uuid)
   AND NOT EXISTS (SELECT 1 FROM user_account WHERE id = md5('hocso-bench-user-' || ($1::bigint + 1))::uuid)
"""


async def is_seeded(url: str, learners: int, completions: int) -> bool:
    """True when the bench database already holds a dataset of exactly this size (its last learner and
    completion exist, and no learner after the last)."""
    try:
        conn = await asyncpg.connect(asyncpg_dsn(url))
    except (OSError, asyncpg.InvalidCatalogNameError):
        return False
    try:
        return bool(await conn.fetchval(IS_SEEDED, learners, completions))
    except asyncpg.UndefinedTableError:
        return False
    finally:
        await conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--learners", type=int, default=10_000_000)
    parser.add_argument("--completions", type=int, default=10_000_000)
    parser.add_argument("--database-url", default=bench_database_url())
    args = parser.parse_args()
    report = asyncio.run(seed(args.database_url, args.learners, args.completions))
    print(f"seeded {report.learners:,} learners and {report.completions:,} completions "
          f"in {report.total_s:.0f} s")


if __name__ == "__main__":
    main()
