"""The `import_package` job: unpacking → validating → storing → publishing, all-or-nothing.

Nothing is written before the whole package has been checked. Files then go to storage under a prefix of
their own (`courses/<course>/v<n>-<import>/…`, so two imports can never overwrite each other), and the rows
of the course version are written in one transaction together with the job's success. Any failure after
storing began deletes what was stored; a failed import leaves no course, version or asset rows.

An outage (database or storage unreachable) is not the package's fault: while the job runner will try again
(`jobs.will_retry`) the import goes back to queued and keeps its uploaded zip. Once it has ended, failed or not,
the zip is deleted; a key that could not be deleted is logged.
"""

import logging
import shutil
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import anyio
import anyio.from_thread
import anyio.to_thread
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app.core.db import Database
from app.core.faults import outage
from app.core.i18n import messages
from app.core.storage import CHUNK, Storage, StoredObject, shared_storage
from app.models.base import utcnow
from app.models.course import Course, CourseVersion, ImportJob, ImportOptions, ImportStep
from app.models.jobs import JobKind, JobStatus
from app.services.content.packages.archive import unpack
from app.services.content.packages.problems import PackageInvalid, problem, to_record
from app.services.content.packages.validation import PackagePlan, validate_package
from app.services.content.packages.versions import publish_version, write_version
from app.services.jobs import job_handler, will_retry
from app.services.video.transcode import request_renditions

log = logging.getLogger("hocso.packages")
messages({
    "import_source_missing": ("Không tìm thấy tệp gói đã tải lên.",
                              "The uploaded package file was not found."),
    "import_conflict": ("Một lần nhập khác của khóa học này vừa hoàn tất trước; hãy nhập lại.",
                        "Another import of this course finished first; import the package again."),
    "import_internal_error": ("Lỗi hệ thống khi nhập gói ({reason}); không có gì được lưu. Hãy thử lại.",
                              "System error while importing ({reason}); nothing was kept. Please retry."),
})

JOB_KIND = JobKind.import_package
ProgressCallback = Callable[[ImportStep, int], None]
# Where each step starts, in percent of the whole import; storing is by far the longest for real packages.
_STEP_START = {ImportStep.unpacking: 0, ImportStep.validating: 20, ImportStep.storing: 30,
               ImportStep.publishing: 95}


class _Progress:
    """Records step and percent on the job row (so admins can poll it) and tells an optional callback."""

    def __init__(self, db: Database, import_id: uuid.UUID, callback: ProgressCallback | None) -> None:
        self.db, self.import_id, self.callback = db, import_id, callback
        self.step: ImportStep | None = None
        self.percent = -1

    async def report(self, step: ImportStep, percent: int) -> None:
        if step == self.step and percent - self.percent < 2:
            return  # a row write per 2% is plenty for a progress bar
        self.step, self.percent = step, percent
        if self.callback:
            self.callback(step, percent)
        # Transaction exception «jobs own their sessions» (docs/architecture.md).
        async with self.db.session() as session:
            job = await session.get(ImportJob, self.import_id)
            if job is not None:
                job.step, job.percent = step, percent

    async def within(self, step: ImportStep, done: int, total: int) -> None:
        start = _STEP_START[step]
        end = min(v for v in [*_STEP_START.values(), 100] if v > start)
        await self.report(step, start + (end - start) * done // max(total, 1))


async def _next_version(db: Database, slug: str) -> tuple[uuid.UUID, int]:
    # Transaction exception «jobs own their sessions» (docs/architecture.md).
    async with db.session() as session:
        course = (await session.execute(select(Course).where(Course.slug == slug))).scalar_one_or_none()
        if course is None:
            return uuid.uuid4(), 1
        latest = await session.scalar(select(func.max(CourseVersion.version))
                                      .where(CourseVersion.course_id == course.id))
        return course.id, (latest or 0) + 1


async def _store_files(storage: Storage, plan: PackagePlan, prefix: str, stored_keys: list[str],
                       progress: _Progress) -> dict[str, tuple[str, StoredObject]]:
    total, done = plan.total_bytes, 0
    stored: dict[str, tuple[str, StoredObject]] = {}

    async def read(path: Path) -> AsyncIterator[bytes]:
        nonlocal done
        async with await anyio.open_file(path, "rb") as src:
            while chunk := await src.read(CHUNK):
                done += len(chunk)
                yield chunk
                await progress.within(ImportStep.storing, done, total)

    for path, probed in plan.files.items():
        key = f"{prefix}/{path}"
        stored_keys.append(key)  # before the upload: a half-written object is cleaned up as well
        chunks = read(plan.unpacked.root / path)
        stored[path] = key, await storage.put_stream(key, chunks, probed.content_type)
    return stored


async def _discard(storage: Storage, keys: list[str], what: str) -> None:
    """Delete `keys`, going on past failures (storage may be the very thing that is down); the keys left behind
    are logged in one line for an operator to delete. Keys hold ids and package paths, never personal data."""
    left = []
    for key in keys:
        try:
            await storage.delete(key)
        except Exception as exc:  # noqa: BLE001 - keep deleting the rest
            left.append(key)
            reason = type(exc).__name__
    if left:
        log.warning("could not delete %s", what, extra={"keys": left, "reason": reason})


async def _finish_failed(db: Database, import_id: uuid.UUID, errors: list[dict[str, Any]]) -> None:
    # Transaction exception «jobs own their sessions» (docs/architecture.md).
    async with db.session() as session:
        job = await session.get(ImportJob, import_id)
        if job is not None:
            job.status, job.errors, job.finished_at = JobStatus.failed, errors, utcnow()


async def run_import(db: Database, storage: Storage, import_id: uuid.UUID, *,
                     on_progress: ProgressCallback | None = None) -> None:
    """Import the package of an ImportJob. All-or-nothing: on any failure the job is `failed` with every
    problem listed, and neither rows nor stored files of the new version remain."""
    # Transaction exception «jobs own their sessions» (docs/architecture.md).
    async with db.session() as session:
        job = await session.get(ImportJob, import_id)
        if job is None or job.status in (JobStatus.succeeded, JobStatus.failed):
            return  # a job that already ended is not run twice
        job.status, job.started_at, job.errors = JobStatus.running, utcnow(), []
        source_key, publish = job.source_key, job.publish
        options = ImportOptions.model_validate(job.options or {})
    progress = _Progress(db, import_id, on_progress)
    workdir = db.settings.data_dir / "tmp" / f"import-{import_id.hex}"
    stored_keys: list[str] = []
    try:
        await progress.report(ImportStep.unpacking, 0)
        await anyio.to_thread.run_sync(lambda: workdir.mkdir(parents=True, exist_ok=True))
        zip_path = workdir / "package.zip"
        try:
            await storage.download_to(source_key, zip_path)
        except FileNotFoundError:
            raise PackageInvalid([problem("import_source_missing", "(zip)")]) from None

        def on_bytes(done: int, total: int) -> None:
            anyio.from_thread.run(progress.within, ImportStep.unpacking, done, total)

        unpacked = await anyio.to_thread.run_sync(unpack, zip_path, workdir / "files", db.settings, on_bytes)
        await anyio.to_thread.run_sync(zip_path.unlink)  # the unpacked copy is all we need now
        await progress.report(ImportStep.validating, _STEP_START[ImportStep.validating])
        plan = await anyio.to_thread.run_sync(validate_package, unpacked, db.settings, options)
        course_id, number = await _next_version(db, plan.course.slug)
        await progress.report(ImportStep.storing, _STEP_START[ImportStep.storing])
        plan.storage_prefix = f"courses/{course_id}/v{number}-{import_id.hex[:8]}"
        stored = await _store_files(storage, plan, plan.storage_prefix, stored_keys, progress)
        await progress.report(ImportStep.publishing, _STEP_START[ImportStep.publishing])
        # Transaction exception «jobs own their sessions» (docs/architecture.md).
        async with db.session() as session:
            course, version = await write_version(session, plan, course_id, number, stored)
            if db.settings.video_renditions:  # transcoded later by a job; publishing never waits for it
                await request_renditions(session, version.id)
            if publish:
                await publish_version(session, course, version)
            job = await session.get(ImportJob, import_id)
            job.status, job.step, job.percent = JobStatus.succeeded, ImportStep.publishing, 100
            job.finished_at = utcnow()
            job.course_id, job.version_id = course.id, version.id
            job.notices = [to_record(notice) for notice in plan.notices]
        if on_progress:
            on_progress(ImportStep.publishing, 100)
    except PackageInvalid as invalid:
        await _discard(storage, stored_keys, "stored files of a refused import")
        await _finish_failed(db, import_id, [to_record(e) for e in invalid.errors])
    except IntegrityError as conflict:
        log.warning("import lost a race for its course or version", extra={"error": str(conflict.orig)})
        await _discard(storage, stored_keys, "stored files of a refused import")
        await _finish_failed(db, import_id, [to_record(problem("import_conflict", "course.yaml"))])
    except Exception as exc:
        await _discard(storage, stored_keys, "stored files of a failed import")
        if will_retry(outage(exc)):
            # The database or storage is down: the job runner tries again after its backoff, and that try
            # needs the import still open and the uploaded zip still there.
            await _wait_for_retry(db, import_id)
            raise
        reason = type(exc).__name__
        try:
            await _finish_failed(db, import_id, [to_record(problem("import_internal_error", "(import)",
                                                                    reason=reason))])
        except Exception:  # noqa: BLE001 - the database may be what is down: the upload is still deleted
            log.warning("could not mark an import failed", extra={"import_id": str(import_id)}, exc_info=True)
        await _discard(storage, [source_key], "the upload of a failed import")
        raise
    finally:
        await anyio.to_thread.run_sync(lambda: shutil.rmtree(workdir, ignore_errors=True))
    # The uploaded zip is no longer needed once the import has ended (success or refusal).
    await _discard(storage, [source_key], "the upload of an ended import")


async def _wait_for_retry(db: Database, import_id: uuid.UUID) -> None:
    """Back to queued, as before it started, so the retry runs it (`run_import` skips ended imports)."""
    try:
        # Transaction exception «jobs own their sessions» (docs/architecture.md).
        async with db.session() as session:
            job = await session.get(ImportJob, import_id)
            if job is not None:
                job.status, job.step, job.percent = JobStatus.queued, None, 0
    except Exception:  # noqa: BLE001 - the database is down: the row stays `running`, which a retry runs too
        log.warning("import left running until its retry", extra={"import_id": str(import_id)}, exc_info=True)


@job_handler(JOB_KIND)
async def import_package_job(db: Database, payload: dict[str, Any]) -> None:
    await run_import(db, shared_storage(db.settings), uuid.UUID(payload["import_id"]))


async def import_file(db: Database, storage: Storage, path: Path, *, publish: bool,
                      created_by: uuid.UUID | None = None, options: ImportOptions | None = None,
                      on_progress: ProgressCallback | None = None) -> ImportJob:
    """Import a zip from the local disk in this process (the CLI and demo seeding): it is uploaded like any
    package, recorded as an ImportJob, and imported at once. Returns the finished job."""
    key = f"uploads/{uuid.uuid4()}.zip"
    await storage.put_file(key, path, "application/zip")
    # Transaction exception «jobs own their sessions» (docs/architecture.md).
    async with db.session() as session:
        job = ImportJob(source_key=key, filename=path.name[:300], publish=publish, created_by=created_by,
                        options=options.model_dump(exclude_defaults=True) if options else {})
        session.add(job)
    await run_import(db, storage, job.id, on_progress=on_progress)
    # Transaction exception «jobs own their sessions» (docs/architecture.md).
    async with db.session() as session:
        return await session.get(ImportJob, job.id)


async def ensure_course(db: Database, storage: Storage, path: Path, slug: str, *,
                        created_by: uuid.UUID | None = None) -> ImportJob | None:
    """Import and publish the package unless a course with `slug` exists already (demo seeding)."""
    # Transaction exception «jobs own their sessions» (docs/architecture.md).
    async with db.session() as session:
        if await session.scalar(select(Course.id).where(Course.slug == slug)) is not None:
            return None
    return await import_file(db, storage, path, publish=True, created_by=created_by)
