"""`python -m bench.api_certificate_memory [N] [--outage]`: does the API server's memory stay flat while it serves
requests and its in-process worker renders N certificates?

Issue 18, item 12: the fault pass saw an API process that also ran the job worker grow from 227 to 411 MB over
240 PDFs. `bench/certificate_memory.py` measured the job path alone (flat); this measures the real server
process: `hocso serve`, one uvicorn worker, `HOCSO_RUN_WORKER_IN_PROCESS=true`, on a fresh migrated PostgreSQL
database (`hocso_bench_apimem`, created and dropped) and moto's S3 server in a process of its own.

A course with a certificate and one text lesson; N learners (rows written here, one password hash for all;
their access tokens signed with the server's key, as /auth/token would) arrive at `--rate` a second and each,
through the HTTP API: enrolls, views the lesson (which completes the course and enqueues its `issue_certificate`
job, as in production), and asks for the completion. Meanwhile a light load (`/healthz`, the catalogue and a
learner's certificates, `--load` requests a second, round robin) runs until the end. The server's RSS is
sampled by pid every 0.5 s until every certificate job has succeeded (the job table is polled every second).

`--no-certificate` is the control: the same learners and load, the course without a certificate, so no job
and no PDF. `--server-env NAME=VALUE` adds to the server's environment.

`--outage` stops moto for `--outage-s` (70) seconds once half the certificates are done, then starts it again on
the same port, empty, with the bucket created again: the jobs that failed meanwhile are retried with the outage
backoff of app/services/jobs.py (30 s, doubling). PDFs stored before the outage are then gone from moto's
memory, so "PDFs stored" counts certificate rows with a `pdf_key` and, apart, the objects left in the bucket.

    PYTHONPATH=. .venv/bin/python -m bench.api_certificate_memory 1000
"""

import argparse
import asyncio
import itertools
import random
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import httpx
import psutil

from bench import server as bench_server
from bench.database import asyncpg_dsn, drop_database, ensure_database, migrate
from bench.moto_s3 import MotoServer
from bench.server import running_server

MB = 1024 * 1024
DATABASE_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/hocso_bench_apimem"
COURSE_SLUG, LESSON_KEY = "ky-nang-so-co-ban", "bai-doc"
JOB_COUNTS = """SELECT status::text, count(*) FROM job WHERE kind = 'issue_certificate' GROUP BY status"""
PDFS_STORED = "SELECT count(*) FROM certificate WHERE pdf_key IS NOT NULL"


async def seed(url: str, count: int, *, certificate: bool = True) -> tuple[uuid.UUID, list[uuid.UUID]]:
    """The course (one module, one required text lesson, certificate on unless told) and `count` learners, as
    rows."""
    from app.core.config import Settings
    from app.core.db import Database
    from app.core.security import hash_secret
    from app.core.text import search_key
    from app.models.base import utcnow
    from app.models.course import Course, CourseVersion, Lesson, Module
    from app.models.identity import Audience, User

    db = Database(Settings(database_url=url, _env_file=None))
    password_hash = hash_secret("bench-only-password")  # slow by design: once for every learner
    try:
        async with db.session() as session:
            course = Course(slug=COURSE_SLUG, published_at=utcnow())
            session.add(course)
            await session.flush()
            version = CourseVersion(course_id=course.id, version=1, status="published", title="Kỹ năng số cơ bản",
                                    search_text="ky nang so co ban", audiences=["citizen", "official"],
                                    certificate=certificate, estimated_minutes=30, published_at=utcnow())
            session.add(version)
            await session.flush()
            module = Module(version_id=version.id, position=1, title="Phần 1")
            session.add(module)
            await session.flush()
            lesson = Lesson(version_id=version.id, module_id=module.id, position=1, key=LESSON_KEY, kind="text",
                            title="Bài 1: An toàn trên mạng", required=True, text_body="Nội dung bài học")
            session.add(lesson)
            users = []
            for n in range(count):
                name = f"Nguyễn Thị Hồng Nhung {n}"
                users.append(User(email=f"hoc-vien-{n}@example.vn", full_name=name, search_text=search_key(name),
                                  audience=Audience.citizen, province_code="01", password_hash=password_hash))
            session.add_all(users)
            await session.flush()
            return lesson.id, [u.id for u in users]
    finally:
        await db.dispose()


@dataclass
class Run:
    count: int
    certificates: bool = True
    samples: list[tuple[float, int]] = field(default_factory=list)  # (seconds since start, RSS)
    checkpoints: list[tuple[int, int, int]] = field(default_factory=list)  # (tenth reached, succeeded, RSS)
    jobs: dict[str, int] = field(default_factory=dict)
    completed: list[uuid.UUID] = field(default_factory=list)  # learners whose completion call answered
    learner_errors: list[str] = field(default_factory=list)
    load_requests: int = 0
    load_errors: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def succeeded(self) -> int:
        return self.jobs.get("succeeded", 0)

    @property
    def progress(self) -> int:
        """What the checkpoints count: certificates succeeded, or completions without certificates."""
        return self.succeeded if self.certificates else len(self.completed)


async def learner(client: httpx.AsyncClient, token: str, lesson_id: uuid.UUID, run: Run, user_id: uuid.UUID) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    steps = [("POST", f"/api/v1/courses/{COURSE_SLUG}/enrollments", None, (201,)),
             ("POST", f"/api/v1/lessons/{lesson_id}/progress", {"event_id": f"view-{user_id}", "viewed": True},
              (200,)),
             ("POST", f"/api/v1/courses/{COURSE_SLUG}/completion", None, (200, 201))]
    for method, path, body, ok in steps:
        try:
            r = await client.request(method, path, headers=headers, json=body)
        except httpx.HTTPError as exc:
            run.learner_errors.append(f"{path}: {type(exc).__name__}")
            return
        if r.status_code not in ok:
            run.learner_errors.append(f"{path}: {r.status_code} {r.text[:200]}")
            return
    run.completed.append(user_id)


async def learners(client: httpx.AsyncClient, tokens: dict[uuid.UUID, str], lesson_id: uuid.UUID, run: Run,
                   rate: float) -> None:
    """One learner every 1/rate s (each in a task of its own, so a slow answer does not hold the next back)."""
    tasks, started = [], time.monotonic()
    for n, (user_id, token) in enumerate(tokens.items()):
        await asyncio.sleep(max(0.0, started + n / rate - time.monotonic()))
        tasks.append(asyncio.create_task(learner(client, token, lesson_id, run, user_id)))
    await asyncio.gather(*tasks)


async def light_load(client: httpx.AsyncClient, tokens: dict[uuid.UUID, str], run: Run, per_s: float,
                     stop: asyncio.Event) -> None:
    rng = random.Random(18)
    for n in itertools.count():
        if stop.is_set():
            return
        kind = n % 3
        headers = {}
        if kind == 0:
            path = "/healthz"
        elif kind == 1:
            path = "/api/v1/courses?q=ky+nang" if n % 2 else "/api/v1/courses"
        else:
            who = rng.choice(run.completed) if run.completed else next(iter(tokens))
            path, headers = "/api/v1/me/certificates", {"Authorization": f"Bearer {tokens[who]}"}
        try:
            r = await client.get(path, headers=headers)
            run.load_requests += 1
            if r.status_code != 200:
                run.load_errors.append(f"{path}: {r.status_code}")
        except httpx.HTTPError as exc:
            run.load_errors.append(f"{path}: {type(exc).__name__}")
        await asyncio.sleep(1 / per_s)


async def watch(process: psutil.Process, run: Run, dsn: str, started: float, stop: asyncio.Event) -> None:
    """RSS every 0.5 s; the job table every second; a checkpoint each time another tenth of the certificates
    has succeeded."""
    conn = await asyncpg.connect(dsn)
    step, next_mark, tick = max(run.count // 10, 1), max(run.count // 10, 1), 0
    try:
        while not stop.is_set():
            rss = process.memory_info().rss
            run.samples.append((time.monotonic() - started, rss))
            if tick % 2 == 0:
                run.jobs = {status: n for status, n in await conn.fetch(JOB_COUNTS)}
                while run.progress >= next_mark:
                    run.checkpoints.append((next_mark, run.progress, rss))
                    next_mark += step
            tick += 1
            await asyncio.sleep(0.5)
    finally:
        await conn.close()


async def outage_midway(moto: MotoServer, run: Run, seconds: float, started: float) -> None:
    while run.succeeded < run.count // 2:
        await asyncio.sleep(0.5)
    before = run.succeeded
    moto.stop()
    run.notes.append(f"moto stopped at {time.monotonic() - started:.0f} s ({before} certificates succeeded)")
    await asyncio.sleep(seconds)
    await asyncio.to_thread(moto.start)
    await asyncio.to_thread(moto.create_bucket)
    run.notes.append(f"moto started again, empty, bucket re-created, at {time.monotonic() - started:.0f} s "
                     f"({run.succeeded} succeeded, {run.jobs.get('queued', 0)} queued, "
                     f"{run.jobs.get('failed', 0)} failed)")


@dataclass
class Worker:
    proc: subprocess.Popen
    rss_start: int


@contextmanager
def _split_worker(wanted: bool, data: Path, extra_env: dict[str, str]) -> Iterator[Worker | None]:
    """`hocso worker` in a process of its own, with the server's settings, when asked for."""
    if not wanted:
        yield None
        return
    env = bench_server.server_env(DATABASE_URL, data, worker_in_process=False, port=0, extra=extra_env)
    hocso = Path(sys.executable).parent / "hocso"
    with open(data / "worker.log", "ab") as log:
        proc = subprocess.Popen([str(hocso), "worker"], env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        time.sleep(5)  # its imports, before its memory is read
        yield Worker(proc, psutil.Process(proc.pid).memory_info().rss)
    finally:
        proc.terminate()
        proc.wait(30)


async def measure(args: argparse.Namespace, data: Path, moto: MotoServer) -> list[str]:
    from app.core.config import Settings
    from app.core.security import KeyRing, access_claims

    lesson_id, user_ids = await seed(DATABASE_URL, args.count, certificate=not args.no_certificate)
    settings = Settings(database_url=DATABASE_URL, data_dir=data, jwt_keys_dir=data / "keys", _env_file=None,
                        public_base_url="http://127.0.0.1")
    keyring = KeyRing.load(settings, create_dev_key=True)  # the server loads the same key from data/keys
    tokens = {u: keyring.sign(access_claims(settings, subject=str(u), role="learner", ttl_s=4 * 3600))
              for u in user_ids}
    run = Run(args.count, certificates=not args.no_certificate)
    server_env = {**moto.env(), **dict(kv.split("=", 1) for kv in args.server_env)}
    with running_server(DATABASE_URL, data, worker_in_process=not args.split_worker,
                        extra_env=server_env) as server, _split_worker(args.split_worker, data, server_env) as worker:
        process = psutil.Process(server.pid)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{server.port}", timeout=60,
                                     limits=httpx.Limits(max_connections=20)) as client:
            for _ in range(10):  # the first requests' imports and caches, before "before"
                await client.get("/api/v1/courses")
                await client.get("/healthz")
            await asyncio.sleep(1)
            before = process.memory_info().rss
            started, stop = time.monotonic(), asyncio.Event()
            watcher = asyncio.create_task(watch(process, run, asyncpg_dsn(DATABASE_URL), started, stop))
            load = asyncio.create_task(light_load(client, tokens, run, args.load, stop))
            outage = (asyncio.create_task(outage_midway(moto, run, args.outage_s, started))
                      if args.outage else None)
            await learners(client, tokens, lesson_id, run, args.rate)
            learners_done = time.monotonic() - started
            expected = len(run.completed) if run.certificates else 0
            deadline = started + args.timeout
            while run.succeeded < expected and time.monotonic() < deadline:
                await asyncio.sleep(1)
            if outage is not None:
                await outage
            wall = time.monotonic() - started
            stop.set()
            await asyncio.gather(watcher, load)
            end = process.memory_info().rss
            if worker is not None:
                run.notes.append(f"separate `hocso worker` process: RSS {worker.rss_start / MB:.0f} MB at start, "
                                 f"{psutil.Process(worker.proc.pid).memory_info().rss / MB:.0f} MB at the end")
            conn = await asyncpg.connect(asyncpg_dsn(DATABASE_URL))
            try:
                run.jobs = {status: n for status, n in await conn.fetch(JOB_COUNTS)}
                pdfs = await conn.fetchval(PDFS_STORED)
                retried = await conn.fetchval("SELECT count(*) FROM job WHERE kind = 'issue_certificate' "
                                              "AND attempts > 1")
            finally:
                await conn.close()
            if run.progress >= run.count and (not run.checkpoints or run.checkpoints[-1][0] < run.count):
                run.checkpoints.append((run.count, run.progress, end))  # reached after the last poll
            objects = await asyncio.to_thread(moto.object_count)
    peak_t, peak = max(run.samples, key=lambda s: s[1]) if run.samples else (0.0, before)
    lines = [f"{args.count} learners through the API at {args.rate:g}/s, light load {args.load:g} requests/s; "
             + ("hocso serve (1 worker) and `hocso worker` apart" if args.split_worker
                else "hocso serve (1 worker, job worker in process)") + " on PostgreSQL + moto S3"
             + (f", moto stopped {args.outage_s:g} s midway" if args.outage else "")
             + (", the course WITHOUT a certificate (control)" if args.no_certificate else "")
             + "".join(f", server {kv}" for kv in args.server_env),
             f"RSS before: {before / MB:.0f} MB"]
    what = "certificates" if run.certificates else "completions"
    lines += [f"  after {mark:>5} {what}: {rss / MB:.0f} MB" + (f" (seen at {n})" if n != mark else "")
              for mark, n, rss in run.checkpoints]
    lines += [f"RSS peak: {peak / MB:.0f} MB (at {peak_t:.0f} s), end: {end / MB:.0f} MB "
              f"(growth {(end - before) / MB:+.0f} MB); {len(run.samples)} samples",
              f"{len(run.completed)} completions answered ({len(run.learner_errors)} learner errors), "
              f"learners done at {learners_done:.0f} s",
              f"jobs: {dict(sorted(run.jobs.items()))}, {retried} retried; {pdfs} certificates with a PDF stored, "
              f"{objects} objects in the bucket",
              f"light load: {run.load_requests} requests, {len(run.load_errors)} not 200",
              f"wall time {wall:.0f} s" + (f" ({wall / max(run.succeeded, 1) * 1000:.0f} ms a certificate)"
                                            if run.certificates else ""),
              *run.notes]
    if run.learner_errors:
        lines.append(f"first learner errors: {run.learner_errors[:3]}")
    if run.load_errors:
        lines.append(f"first load errors: {sorted(set(run.load_errors))[:5]}")
    if args.samples:
        Path(args.samples).write_text("".join(f"{t:.1f}\t{rss / MB:.1f}\n" for t, rss in run.samples))
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.api_certificate_memory")
    parser.add_argument("count", type=int, nargs="?", default=1000)
    parser.add_argument("--rate", type=float, default=2.0, help="learners arriving a second (default 2)")
    parser.add_argument("--load", type=float, default=4.0, help="light-load requests a second (default 4)")
    parser.add_argument("--outage", action="store_true", help="stop moto midway, then start it again")
    parser.add_argument("--outage-s", type=float, default=70.0)
    parser.add_argument("--no-certificate", action="store_true",
                        help="control: the same learners and load, the course without a certificate (no PDFs)")
    parser.add_argument("--server-env", action="append", default=[], metavar="NAME=VALUE",
                        help="more environment for the server (e.g. MALLOC_ARENA_MAX=2); repeatable")
    parser.add_argument("--split-worker", action="store_true",
                        help="run the job worker as its own `hocso worker` process; RSS above is the API's")
    parser.add_argument("--timeout", type=float, default=3600.0, help="give up waiting for the jobs after this")
    parser.add_argument("--samples", help="write every RSS sample (seconds, MB) to this file")
    args = parser.parse_args()
    data = Path(tempfile.mkdtemp(prefix="hocso-bench-apimem-"))
    moto = MotoServer()
    try:
        asyncio.run(drop_database(DATABASE_URL))
        asyncio.run(ensure_database(DATABASE_URL))
        migrate(DATABASE_URL)
        moto.start()
        moto.create_bucket()
        print(*asyncio.run(measure(args, data, moto)), sep="\n")
    finally:
        moto.stop()
        asyncio.run(drop_database(DATABASE_URL))
        shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    main()
