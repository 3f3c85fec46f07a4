"""An import that meets an outage (issue 18, item 12): retried by the job runner with its upload kept while a
retry will come; once it has ended for good its upload is deleted, and what could not be deleted is logged."""

import logging
import uuid

import pytest
from botocore.exceptions import EndpointConnectionError
from sqlalchemy import select

from app.core.storage import build_storage
from app.models.base import utcnow
from app.models.course import Course, ImportJob
from app.models.jobs import Job, JobStatus
from app.services import jobs
from app.services.content.packages import importer
from tests.factories.packages import SAMPLE_ZIP


class StorageDown:
    """Real storage whose endpoint stops answering (every write and delete) while `down` is set."""

    def __init__(self, inner) -> None:
        self.inner, self.down = inner, True

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def _check(self) -> None:
        if self.down:
            raise EndpointConnectionError(endpoint_url="http://s3.invalid")

    async def put_stream(self, key, chunks, content_type):
        self._check()
        return await self.inner.put_stream(key, chunks, content_type)

    async def delete(self, key):
        self._check()
        return await self.inner.delete(key)


async def queued_import(session, storage) -> tuple[ImportJob, Job]:
    """An uploaded package and its job, as `POST …/uploads/{id}/import` leaves them."""
    key = f"uploads/{uuid.uuid4()}.zip"
    await storage.put_file(key, SAMPLE_ZIP, "application/zip")
    record = ImportJob(source_key=key, filename="p.zip", publish=False)
    session.add(record)
    await session.flush()
    job = jobs.enqueue(session, importer.JOB_KIND, {"import_id": str(record.id)}, max_attempts=1)
    await session.commit()
    return record, job


async def test_an_outage_during_an_import_keeps_it_queued_with_its_upload_until_the_retry(
        db, session, settings, monkeypatch):
    storage = StorageDown(build_storage(settings))
    monkeypatch.setattr(importer, "shared_storage", lambda _settings: storage)
    record, job = await queued_import(session, storage.inner)
    assert await jobs.run_pending(db) == 1
    await session.refresh(record)
    await session.refresh(job)
    assert record.status == JobStatus.queued and record.errors == []  # not failed for ever
    assert job.status == JobStatus.queued and job.outage == "storage"
    assert await storage.inner.head(record.source_key) is not None  # the retry needs it
    storage.down = False
    job.run_after = utcnow()
    await session.commit()
    assert await jobs.run_pending(db) == 1
    await session.refresh(record)
    assert record.status == JobStatus.succeeded, record.errors
    assert await session.scalar(select(Course.id)) is not None
    assert await storage.inner.head(record.source_key) is None


async def test_an_import_failed_for_good_deletes_its_upload(db, session, settings, monkeypatch):
    storage = StorageDown(build_storage(settings))
    monkeypatch.setattr(importer, "shared_storage", lambda _settings: storage)
    record, job = await queued_import(session, storage.inner)
    job.created_at = utcnow() - jobs.OUTAGE_RETRY_FOR  # a day of outage retries is over: this try is the last
    await session.commit()

    async def fails_after_storing(*args, **kwargs):
        raise EndpointConnectionError(endpoint_url="http://s3.invalid")  # the store went away once more
    monkeypatch.setattr(importer, "write_version", fails_after_storing)
    storage.down = False  # back for the files and the deletes
    assert await jobs.run_pending(db) == 1
    await session.refresh(record)
    await session.refresh(job)
    assert record.status == JobStatus.failed and record.errors[0]["message"] == "import_internal_error"
    assert job.status == JobStatus.failed
    assert await storage.inner.head(record.source_key) is None
    assert [p for p in (settings.media_dir / "courses").rglob("*") if p.is_file()] == []


async def test_keys_a_failed_import_could_not_delete_are_logged(db, session, settings, caplog):
    storage = StorageDown(build_storage(settings))
    record, _ = await queued_import(session, storage.inner)
    caplog.set_level(logging.WARNING, logger="hocso.packages")
    with pytest.raises(EndpointConnectionError):
        await importer.run_import(db, storage, record.id)  # outside a job: no retry will come
    await session.refresh(record)
    assert record.status == JobStatus.failed
    left = [r for r in caplog.records if r.getMessage() == "could not delete the upload of a failed import"]
    assert len(left) == 1 and left[0].keys == [record.source_key]
    assert left[0].reason == "EndpointConnectionError"
