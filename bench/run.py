"""`make bench`: seed the 10M dataset if missing, start the server, measure /healthz and every scenario,
print the table and save it (var/bench/results-*.json and .md).

    .venv/bin/python -m bench                      # everything, 20 s per scenario at 32 clients
    .venv/bin/python -m bench --only heartbeat --duration 10
"""

import argparse
import asyncio
import os
import platform
import shutil
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import psutil
import uvloop
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from app.core.config import Settings
from app.core.security import KeyRing, access_claims
from bench import learning_scenarios as learning
from bench import scenarios as sc
from bench.context import BenchContext, load_courses
from bench.database import asyncpg_dsn, bench_database_url, migrate
from bench.driver import RunResult, run_load
from bench.report import Extra, Results, Row, markdown, print_table
from bench.seed_10m import is_seeded, seed
from bench.seed_sql import Shape
from bench.server import MemoryWatch, Server, running_server
from bench.video_import import measure_import, set_aside_queued_jobs

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS: list[type[sc.Scenario]] = [
    sc.CatalogueList, sc.CourseDetail, learning.Heartbeat, learning.QuizSubmit, learning.CourseCompletion,
    sc.StatsSummary, sc.CompletionFeed, sc.CompletionFeedSpread, sc.CompletionFeedOneConsumer,
    sc.CompletionFeedProvince,
]


def machine_facts(pg_version: str) -> dict[str, str]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "nproc": str(os.cpu_count()),
        "memory_gb": f"{psutil.virtual_memory().total / 1024**3:.1f}",
        "cpu": cpu,
        "postgresql": pg_version,
        "python": platform.python_version(),
        "load_average_at_start": " ".join(f"{x:.2f}" for x in os.getloadavg()),
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
    }


DB_COUNTERS = """
SELECT coalesce(sessions, 0) AS sessions, xact_commit AS commits, tup_inserted + tup_updated + tup_deleted
       AS rows_written, pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint AS wal_bytes
FROM pg_stat_database WHERE datname = current_database()"""


async def db_counters(dsn: str) -> dict[str, int]:
    """Cumulative counters of the bench database (sessions opened, commits, rows written) and of the WAL
    (cluster-wide: other databases' writes land there too)."""
    conn = await asyncpg.connect(dsn)
    try:
        return dict(await conn.fetchrow(DB_COUNTERS))
    finally:
        await conn.close()


async def backend_cpu(dsn: str) -> dict[int, float]:
    """CPU seconds so far of each PostgreSQL backend connected to the bench database (the server's pool)."""
    conn = await asyncpg.connect(dsn)
    try:
        # Client backends only: autovacuum workers on the 10M-row tables would otherwise count as requests'.
        rows = await conn.fetch("SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                                "AND backend_type = 'client backend' AND pid <> pg_backend_pid()")
    finally:
        await conn.close()
    seconds = {}
    for pid in (r["pid"] for r in rows):
        try:
            times = psutil.Process(pid).cpu_times()
        except psutil.Error:
            continue
        seconds[pid] = times.user + times.system
    return seconds


def machine_counters() -> list[int] | None:
    """The machine's CPU time so far, all cores (/proc/stat's first line: user nice system idle iowait irq
    softirq steal), then how many evicted file pages have been read back in (/proc/vmstat's
    workingset_refault_file; 0 where the kernel does not count it); None where there is no /proc."""
    try:
        ticks = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
        vmstat = dict(line.split() for line in Path("/proc/vmstat").read_text().splitlines())
    except OSError:
        return None
    return [*ticks, int(vmstat.get("workingset_refault_file", 0))]


def machine_share(before: list[int] | None, after: list[int] | None) -> str:
    """How the machine spent a run, in % of all CPU time: stolen by the hypervisor, idle, waiting on the disk;
    and how much of the files it had cached it read again (pages evicted, then wanted: on this VM the
    kernel's DAMON pages out cold page cache, the database's included). Steal or re-reads mean the run was
    slowed by the machine, not by the code it measures."""
    if before is None or after is None:
        return ""
    spent = [b - a for a, b in zip(before, after, strict=True)]
    total = max(1, sum(spent[:8]))
    reread_mb = spent[8] * os.sysconf("SC_PAGE_SIZE") / 1e6
    return (f"machine {100 * spent[7] / total:.0f}% stolen, {100 * spent[3] / total:.0f}% idle, "
            f"{100 * spent[4] / total:.0f}% waiting on disk, {reread_mb:,.0f} MB of evicted files read again")


async def prewarm(dsn: str, relations: tuple[str, ...]) -> str:
    """Read `relations` into the page cache (pg_prewarm's 'read' mode, creating the extension in the bench
    database if it can) and say how much it read and how long it took, or why it could not."""
    if not relations:
        return ""
    conn = await asyncpg.connect(dsn)
    try:
        began = time.perf_counter()
        await conn.execute("CREATE EXTENSION IF NOT EXISTS pg_prewarm")
        blocks = sum([await conn.fetchval("SELECT pg_prewarm($1::regclass, 'read')", r) for r in relations])
        block_size = int(await conn.fetchval("SELECT current_setting('block_size')"))
        return (f"prewarmed {', '.join(relations)}: {blocks * block_size / 1e6:,.0f} MB "
                f"in {time.perf_counter() - began:.0f} s")
    except asyncpg.PostgresError as exc:
        return f"not prewarmed ({exc.__class__.__name__}: {exc})"
    finally:
        await conn.close()


def backend_cpu_used(before: dict[int, float], after: dict[int, float]) -> float:
    return sum(total - before.get(pid, 0.0) for pid, total in after.items())


class Bench:
    def __init__(self, args: argparse.Namespace, console: Console) -> None:
        self.args, self.console = args, console

    async def measure(
        self, scenario: sc.Scenario, server: Server, ctx: BenchContext, progress: Progress
    ) -> Row:
        args = self.args
        task = progress.add_task(f"{scenario.name}: preparing", total=args.warmup + args.duration, rate="")
        warmed = await prewarm(ctx.dsn, scenario.warm)
        began = time.perf_counter()
        clients = scenario.concurrency or args.concurrency
        await scenario.prepare(ctx, clients, args.warmup + args.duration)
        prepared_s = time.perf_counter() - began
        progress.update(task, description=scenario.name)
        cpu_before, pg_before = server.cpu_seconds(), await backend_cpu(ctx.dsn)
        driver_before, machine_before = time.process_time(), machine_counters()
        counters_before = await db_counters(ctx.dsn)

        def tick(elapsed: float, recorded: int) -> None:
            measured = max(1e-9, elapsed - args.warmup)
            rate = f"{recorded / measured:,.0f} req/s" if elapsed > args.warmup else "warming up"
            progress.update(task, completed=min(elapsed, args.warmup + args.duration), rate=rate)

        with MemoryWatch(server) as memory:
            result: RunResult = await run_load(
                scenario,
                host="127.0.0.1",
                port=server.port,
                concurrency=clients,
                duration_s=args.duration,
                warmup_s=args.warmup,
                max_requests=args.max_requests,
                on_tick=tick,
            )
        progress.update(task, completed=args.warmup + args.duration, rate=f"{result.throughput:,.0f} req/s")
        server_cpu = server.cpu_seconds() - cpu_before
        driver_cpu, share = time.process_time() - driver_before, machine_share(machine_before, machine_counters())
        pg_cpu = backend_cpu_used(pg_before, await backend_cpu(ctx.dsn))
        counted = await db_counters(ctx.dsn)
        delta = {k: counted[k] - counters_before[k] for k in counted}
        opened = delta["sessions"] - 3  # each probe above opens one session itself
        notes = [scenario.note()] if scenario.note() else []
        if warmed:
            notes.append(warmed)
        n = max(1, result.answered)  # server-side counters cover the warm-up too
        # The driver shares the machine with the worker and PostgreSQL: what it spends, they cannot.
        notes.append(f"load driver {driver_cpu * 1000 / n:.2f} ms CPU a request")
        if share:
            notes.append(share)
        if delta["rows_written"] > 0:
            notes.append(f"per request: {delta['rows_written'] / n:.1f} rows written, "
                         f"{delta['commits'] / n:.2f} commits, {delta['wal_bytes'] / n / 1024:.1f} KiB WAL")
        if opened > 0:
            notes.append(f"{opened} new PostgreSQL connections during the run")
        if prepared_s > 1:
            notes.append(f"prepared in {prepared_s:.0f} s")
        if result.exhausted:
            notes.append("stopped early: the prepared pool ran out")
        if result.unexpected:
            notes.append("first non-2xx: " + result.unexpected[0])
        return Row(
            scenario=scenario.name,
            requests=result.count,
            ok=result.ok,
            non_2xx=result.count - result.ok,
            errors=sum(result.errors.values()),
            throughput=result.throughput,
            p50_ms=result.percentile_ms(50),
            p95_ms=result.percentile_ms(95),
            p99_ms=result.percentile_ms(99),
            peak_rss_mb=memory.peak / 1e6,
            server_cpu_ms=server_cpu * 1000 / n,
            db_cpu_ms=pg_cpu * 1000 / n,
            target=scenario.target,
            note="; ".join(notes),
        )

    async def video_import(self, url: str, dsn: str, data_dir: Path, keyring: KeyRing,
                           settings: Settings) -> Extra:
        """A fresh server with its in-process job worker receives and imports the 1 GB-video package."""
        mb = self.args.video_mb
        self.console.print(f"importing a package with a {mb:,} MB video (built once under var/bench/import) …")

        def token_for(user: object, role: str) -> str:
            return keyring.sign(access_claims(settings, subject=str(user), role=role, ttl_s=3600))

        await set_aside_queued_jobs(dsn)
        env = {"HOCSO_JOB_POLL_INTERVAL_S": "0.2"}
        with running_server(url, data_dir, worker_in_process=True, server_cpu=0 if self.args.pin else None,
                            extra_env=env) as server:
            m = await measure_import(server, dsn, token_for, Path(self.args.out) / "import", mb)
        shutil.rmtree(data_dir / "media", ignore_errors=True)  # the stored copy of the video (1 GB)
        value = (f"+{m.growth_mb:.0f} MB RSS (from {m.baseline_rss / 1e6:.0f} to {m.peak_rss / 1e6:.0f} MB); "
                 f"{m.video_bytes / 1e6:,.0f} MB video, {m.seconds:.0f} s, import {m.status}"
                 + (f": {m.detail}" if m.detail else ""))
        return Extra(f"import of a package with a {mb:,} MB video", value, "RSS grows < 100 MB",
                     m.growth_mb < 100 and m.status == "succeeded")

    async def run(self) -> Results:
        args = self.args
        url = args.database_url
        shape = Shape(args.learners, args.completions)
        extras: list[Extra] = []
        if not args.no_seed and not await is_seeded(url, args.learners, args.completions):
            self.console.rule(f"seeding {args.learners:,} learners and {args.completions:,} completions")
            report = await seed(url, args.learners, args.completions, say=self.console.print)
            extras.append(
                Extra(
                    f"seed {args.learners:,} learners + {args.completions:,} completions",
                    f"{report.total_s:.0f} s",
                    "< 900 s",
                    report.total_s < 900,
                )
            )
        else:
            await asyncio.to_thread(migrate, url)
        dsn = asyncpg_dsn(url)
        conn = await asyncpg.connect(dsn)
        try:
            pg_version = await conn.fetchval("SHOW server_version")
            courses = await load_courses(conn)
        finally:
            await conn.close()
        data_dir = Path(args.out).resolve() / "server"
        settings = Settings(
            database_url=url, data_dir=data_dir, jwt_keys_dir=data_dir / "keys", _env_file=None
        )
        keyring = KeyRing.load(settings, create_dev_key=True)
        if args.pin and (os.cpu_count() or 1) >= 2:
            os.sched_setaffinity(0, {1})  # the server gets CPU 0 to itself (PostgreSQL floats)
        selected = [cls() for cls in SCENARIOS if not args.only or cls.key in args.only]
        results = Results(
            machine=machine_facts(pg_version),
            concurrency=args.concurrency,
            duration_s=args.duration,
            healthz_before=0.0,
            healthz_after=0.0,
            extras=extras,
        )
        with running_server(url, data_dir, server_cpu=0 if args.pin else None,
                            extra_env=dict(kv.split("=", 1) for kv in args.server_env),
                            app_factory=args.server_app) as server:
            ctx = BenchContext(
                host="127.0.0.1",
                port=server.port,
                dsn=dsn,
                keyring=keyring,
                settings=settings,
                learners_total=args.learners,
                first_free_learner=shape.rounds[0] + 1,
                courses=courses,
            )
            columns = [
                TextColumn("{task.description:<28}"),
                BarColumn(),
                TimeElapsedColumn(),
                TextColumn("{task.fields[rate]}"),
            ]
            with Progress(*columns, console=self.console) as progress:
                before = await self.measure(sc.Healthz(), server, ctx, progress)
                results.healthz_before = before.throughput
                for scenario in selected:
                    results.rows.append(await self.measure(scenario, server, ctx, progress))
                after = await self.measure(sc.Healthz(), server, ctx, progress)
                results.healthz_after = after.throughput
        if not args.skip_import:
            extras.append(await self.video_import(url, dsn, data_dir, keyring, settings))
        results.rows.insert(0, before)
        before.scenario = "/healthz (before)"
        after.scenario = "/healthz (after)"
        results.rows.append(after)
        for row in results.rows:
            row.ratio = row.throughput / results.healthz if results.healthz else None
        results.machine["load_average_at_end"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
        return results


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="HocSo load benchmark (PostgreSQL, one uvicorn worker)")
    parser.add_argument("--duration", type=float, default=20, help="measured seconds per scenario")
    parser.add_argument("--warmup", type=float, default=3, help="unrecorded seconds before each measurement")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--max-requests", type=int, default=1_000_000, help="hard cap per scenario")
    parser.add_argument("--only", nargs="*", default=[], help="scenario keys to run (default: all)")
    parser.add_argument("--database-url", default=bench_database_url())
    parser.add_argument("--learners", type=int, default=10_000_000)
    parser.add_argument("--completions", type=int, default=10_000_000)
    parser.add_argument("--no-seed", action="store_true", help="never seed, use the database as it is")
    parser.add_argument("--no-pin", dest="pin", action="store_false", help="do not pin client and server")
    parser.add_argument("--server-env", nargs="*", default=[], metavar="HOCSO_X=value",
                        help="extra settings for the server (experiments: pool sizes, log level)")
    parser.add_argument("--skip-import", action="store_true", help="skip the 1 GB video import")
    parser.add_argument("--video-mb", type=int, default=1024, help="size of the imported video")
    parser.add_argument("--server-app", default=None, metavar="MODULE:FACTORY",
                        help="serve another app factory (experiments, see bench/experiments.py)")
    parser.add_argument("--out", default=str(ROOT / "var" / "bench"))
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    console = Console(width=None if sys.stdout.isatty() else 150)
    results = uvloop.run(Bench(args, console).run())
    print_table(results, console)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    results.save(out / f"results-{stamp}.json")
    (out / f"results-{stamp}.md").write_text(markdown(results))
    console.print(f"saved {out / f'results-{stamp}.json'} and .md")


if __name__ == "__main__":
    main()
