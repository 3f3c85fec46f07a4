"""`python -m bench.certificate_memory [N] [--postgres] [--s3]`: does a process's memory stay flat while it
renders N certificates?

The fault pass saw an API process that also ran the job worker grow from 227 to 411 MB over 240 PDFs (issue 18,
item 12). This runs the worker's own code path in one process: N learners complete a course with a certificate
(each completion enqueues an `issue_certificate` job, as in production), then `jobs.run_pending` runs them:
issue the certificate, render its PDF in a thread, store it. By default against a fresh, migrated SQLite
database and local storage in a temporary directory, so it needs no server; `--postgres` uses a fresh database
on the machine's PostgreSQL (`hocso_bench_certificates`, created and dropped), `--s3` a moto S3 server in a
process of its own (so the objects it keeps in memory are not counted here), as the fault pass had.

Prints the process's RSS before the jobs run, every N/10 jobs, at the end, and its peak (sampled every 5 ms in a
thread, since a PDF's buffers come and go between two checkpoints).

    .venv/bin/python -m bench.certificate_memory 1000 --postgres --s3
"""

import argparse
import asyncio
import gc
import os
import shutil
import tempfile
import threading
import time
from contextlib import nullcontext
from pathlib import Path

import psutil

from bench.moto_s3 import moto_server

MB = 1024 * 1024


PG_SERVER = "postgresql+asyncpg://postgres@127.0.0.1:5432"
PG_DATABASE = "hocso_bench_certificates"


def _environment(data: Path, *, postgres: bool, s3: dict[str, str] | None) -> None:
    """Settings come from the environment (as the worker reads them): a private data directory, and the stores."""
    os.environ.update({"HOCSO_DATA_DIR": str(data), "HOCSO_ENV": "development", "HOCSO_STORAGE": "local"})
    os.environ.pop("HOCSO_DATABASE_URL", None)
    if postgres:
        os.environ["HOCSO_DATABASE_URL"] = f"{PG_SERVER}/{PG_DATABASE}"
    if s3:
        os.environ.update(s3)


async def _fresh_pg_database() -> None:
    import asyncpg
    conn = await asyncpg.connect("postgresql://postgres@127.0.0.1:5432/postgres")
    try:
        await conn.execute(f"DROP DATABASE IF EXISTS {PG_DATABASE} WITH (FORCE)")
        await conn.execute(f"CREATE DATABASE {PG_DATABASE}")
    finally:
        await conn.close()


async def _drop_pg_database() -> None:
    import asyncpg
    conn = await asyncpg.connect("postgresql://postgres@127.0.0.1:5432/postgres")
    try:
        await conn.execute(f"DROP DATABASE IF EXISTS {PG_DATABASE} WITH (FORCE)")
    finally:
        await conn.close()


async def _completions(db, count: int) -> None:  # noqa: ANN001
    from app.core.security import hash_secret
    from app.core.text import search_key
    from app.models.base import utcnow
    from app.models.course import Course, CourseVersion
    from app.models.identity import Audience, User
    from app.services.completion.completions import record_completion

    password_hash = hash_secret("bench-only-password")  # hashing is slow by design: once for every learner
    async with db.session() as session:
        course = Course(slug="ky-nang-so-co-ban", published_at=utcnow())
        session.add(course)
        await session.flush()
        session.add(CourseVersion(course_id=course.id, version=1, status="published", title="Kỹ năng số cơ bản",
                                  search_text="ky nang so co ban", audiences=["citizen", "official"],
                                  certificate=True, estimated_minutes=90, published_at=utcnow()))
        await session.flush()
        for n in range(count):
            name = f"Nguyễn Thị Hồng Nhung {n}"
            user = User(email=f"hoc-vien-{n}@example.vn", full_name=name, search_text=search_key(name),
                        audience=Audience.citizen, province_code="01", password_hash=password_hash)
            session.add(user)
            await session.flush()
            await record_completion(session, user=user, course=course, course_version=1)


def _peak_sampler(process: psutil.Process, stop: threading.Event) -> list[int]:
    peak = [process.memory_info().rss]

    def sample() -> None:
        while not stop.is_set():
            peak[0] = max(peak[0], process.memory_info().rss)
            time.sleep(0.005)

    threading.Thread(target=sample, daemon=True).start()
    return peak


async def measure(count: int) -> list[str]:
    from alembic import command

    import app.services.wiring  # noqa: F401  (job handlers, as the worker registers them)
    from app.commands.common import alembic_config
    from app.core.config import get_settings
    from app.core.db import Database
    from app.core.storage import build_storage
    from app.models.jobs import Job, JobStatus
    from app.services import jobs

    settings = get_settings()
    if settings.storage == "s3":
        await build_storage(settings).ensure_bucket()  # type: ignore[attr-defined]
    await asyncio.to_thread(command.upgrade, alembic_config(), "head")
    db = Database(settings)
    try:
        await _completions(db, count)
        gc.collect()
        process, stop = psutil.Process(), threading.Event()
        before = process.memory_info().rss
        peak = _peak_sampler(process, stop)
        stores = f"{db.engine.dialect.name} + {settings.storage} storage"
        lines = [f"{count} certificates, one process (issue, render, store), {stores}",
                 f"RSS before: {before / MB:.0f} MB"]
        started, done, step = time.perf_counter(), 0, max(count // 10, 1)
        while done < count:
            ran = await jobs.run_pending(db, limit=min(step, count - done))
            if ran == 0:
                break
            done += ran
            lines.append(f"  after {done:>5}: {process.memory_info().rss / MB:.0f} MB")
        stop.set()
        after = process.memory_info().rss
        async with db.session() as session:
            from sqlalchemy import func, select

            from app.models.certificate import Certificate
            succeeded = await session.scalar(select(func.count()).select_from(Job)
                                             .where(Job.status == JobStatus.succeeded))
            pdfs = await session.scalar(select(func.count()).select_from(Certificate)
                                        .where(Certificate.pdf_key.is_not(None)))
        lines += [f"RSS after: {after / MB:.0f} MB (growth {(after - before) / MB:+.0f} MB), "
                  f"peak {peak[0] / MB:.0f} MB",
                  f"{succeeded} jobs succeeded, {pdfs} PDFs stored, "
                  f"{time.perf_counter() - started:.0f} s ({(time.perf_counter() - started) / max(done, 1) * 1000:.0f}"
                  " ms a certificate)"]
        return lines
    finally:
        await db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.certificate_memory")
    parser.add_argument("count", type=int, nargs="?", default=1000)
    parser.add_argument("--postgres", action="store_true", help=f"a fresh {PG_DATABASE} on 127.0.0.1:5432")
    parser.add_argument("--s3", action="store_true", help="a moto S3 server in its own process")
    args = parser.parse_args()
    data = Path(tempfile.mkdtemp(prefix="hocso-bench-certificates-"))
    try:
        with moto_server() if args.s3 else nullcontext() as moto:
            _environment(data, postgres=args.postgres, s3=moto.env() if moto else None)
            if args.postgres:
                asyncio.run(_fresh_pg_database())
            print(*asyncio.run(measure(args.count)), sep="\n")
    finally:
        if args.postgres:
            asyncio.run(_drop_pg_database())
        shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    main()
