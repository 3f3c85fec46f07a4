"""Receiving packages: a multipart body streamed part by part into storage (`core/multipart.py`), or a direct
upload to a presigned URL; either way an ImportJob is queued in the caller's transaction and answered 202.
"""

import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings
from app.core.errors import NotFound, PayloadTooLarge
from app.core.i18n import messages
from app.core.multipart import MultipartFile
from app.core.storage import Storage
from app.models.base import utcnow
from app.models.course import ImportJob, ImportJobPublic, ImportOptions, UploadTicket
from app.models.identity import User
from app.services import jobs
from app.services.content.packages.importer import JOB_KIND
from app.services.content.packages.problems import render_record

messages({
    "package_too_large": ("Gói vượt quá giới hạn {limit} byte.",
                          "The package exceeds the {limit}-byte limit."),
    "upload_not_found": ("Không tìm thấy tệp đã tải lên với mã này (hoặc đã được nhập).",
                         "No uploaded file with this id (or it was already imported)."),
    "import_not_found": ("Không tìm thấy lần nhập gói.", "Import not found."),
})

ZIP_TYPE = "application/zip"


def upload_key(upload_id: uuid.UUID) -> str:
    return f"uploads/{upload_id}.zip"


def _queue_import(session: AsyncSession, user: User, key: str, filename: str | None,
                  publish: bool, options: ImportOptions | None = None) -> ImportJob:
    job = ImportJob(source_key=key, filename=filename, publish=publish, created_by=user.id,
                    options=options.model_dump(exclude_defaults=True) if options else {})
    session.add(job)
    # One attempt: an import either ends (succeeded or failed with its reasons) or needs a fresh upload.
    jobs.enqueue(session, JOB_KIND, {"import_id": str(job.id)}, max_attempts=1)
    return job


async def accept_package(session: AsyncSession, storage: Storage, settings: Settings, user: User,
                         body: AsyncIterator[bytes], content_type: str | None, content_length: str | None,
                         *, publish: bool, options: ImportOptions | None = None) -> ImportJobPublic:
    """Stream the `file` field of a multipart body to `uploads/<uuid>.zip` (at most
    HOCSO_PACKAGE_MAX_BYTES) and queue its import. A refused or broken upload leaves nothing stored."""
    envelope = 65536  # multipart boundaries and part headers around the file
    declared = int(content_length) if content_length and content_length.isdigit() else 0
    if declared > settings.package_max_bytes + envelope:
        raise PayloadTooLarge("package_too_large", limit=settings.package_max_bytes)
    upload = MultipartFile(body, content_type, field="file", limit=settings.package_max_bytes,
                           too_large="package_too_large")
    key = upload_key(uuid.uuid4())
    await storage.put_stream(key, upload.chunks(), ZIP_TYPE)
    job = _queue_import(session, user, key, upload.filename, publish, options)
    await session.flush()
    return import_view(job)


async def upload_ticket(storage: Storage, settings: Settings) -> UploadTicket:
    """A presigned PUT for one package; the client then imports it by `upload_id`."""
    upload_id = uuid.uuid4()
    ttl = settings.upload_url_ttl_s
    signed = await storage.presigned_put(upload_key(upload_id), ttl_s=ttl, content_type=ZIP_TYPE)
    return UploadTicket(upload_id=upload_id, url=signed.url, method=signed.method, headers=signed.headers,
                        expires_at=utcnow() + timedelta(seconds=ttl), max_bytes=settings.package_max_bytes)


async def import_upload(session: AsyncSession, storage: Storage, settings: Settings, user: User,
                        upload_id: uuid.UUID, *, publish: bool,
                        options: ImportOptions | None = None) -> ImportJobPublic:
    """Queue the import of a package uploaded through a ticket; it must exist and respect the size limit."""
    stored = await storage.head(upload_key(upload_id))
    if stored is None:
        raise NotFound("upload_not_found")
    if stored.size > settings.package_max_bytes:
        await storage.delete(upload_key(upload_id))
        raise PayloadTooLarge("package_too_large", limit=settings.package_max_bytes)
    job = _queue_import(session, user, upload_key(upload_id), f"{upload_id}.zip", publish, options)
    await session.flush()
    return import_view(job)


def import_view(job: ImportJob) -> ImportJobPublic:
    return ImportJobPublic(id=job.id, status=job.status, step=job.step, percent=job.percent,
                           publish=job.publish, filename=job.filename, course_id=job.course_id,
                           version_id=job.version_id,
                           errors=[render_record(e) for e in job.errors],
                           notices=[render_record(n) for n in job.notices or []], created_at=job.created_at,
                           started_at=job.started_at, finished_at=job.finished_at)


async def get_import(session: AsyncSession, import_id: uuid.UUID) -> ImportJobPublic:
    """An import's status, step, percent and every problem found, in the reader's language."""
    job = await session.get(ImportJob, import_id)
    if job is None:
        raise NotFound("import_not_found")
    return import_view(job)
