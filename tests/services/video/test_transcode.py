"""The transcode job: failures retried then reported (the original still served), renditions reused by
content hash, and the limit on transcodes running at once."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.core.storage import build_storage
from app.models.base import utcnow
from app.models.jobs import Job, JobStatus
from app.models.video import EncodingStatus, VideoEncoding
from app.services import jobs
from app.services.content.packages.uploads import get_import
from app.services.video.transcode import JOB_KIND, MAX_ATTEMPTS, SLOT_WAIT_S, transcode
from tests.factories.packages import import_package
from tests.factories.videos import video_package, videos  # noqa: F401  (fixture)


@pytest.fixture
def settings(settings):
    return settings.model_copy(update={"video_renditions": True})


async def transcode_jobs(session) -> list[Job]:
    return (await session.execute(select(Job).where(Job.kind == JOB_KIND).order_by(Job.created_at))).scalars().all()


async def test_a_failing_transcode_is_retried_then_reported_and_never_blocks_the_course(
        db, session, settings, videos, tmp_path, monkeypatch):  # noqa: F811
    db.settings = settings.model_copy(update={"ffmpeg_path": "false"})  # an ffmpeg that always fails
    storage = build_storage(db.settings)
    job = await import_package(db, storage, video_package(tmp_path / "p.zip", videos["480p"]), publish=True)
    assert job.status == "succeeded"  # published at once; renditions come later
    [queued] = await transcode_jobs(session)
    for attempt in range(1, MAX_ATTEMPTS + 1):
        assert await jobs.run_pending(db) == 1
        encoding = (await session.execute(select(VideoEncoding))).scalar_one()
        await session.refresh(encoding)
        await session.refresh(queued)
        assert encoding.attempts == attempt and "ffmpeg exited with 1" in encoding.error
        if attempt < MAX_ATTEMPTS:  # retried after the runner's back-off, not at once
            assert encoding.status == EncodingStatus.queued and queued.status == JobStatus.queued
            assert queued.run_after > utcnow()
            assert await jobs.run_pending(db) == 0
            queued.run_after = utcnow() - timedelta(seconds=1)
            await session.flush()
    assert encoding.status == EncodingStatus.failed and queued.status == JobStatus.failed
    [video] = (await get_import(session, job.id)).videos
    assert video.status == "failed" and video.attempts == MAX_ATTEMPTS and "ffmpeg exited with 1" in video.error
    assert list((settings.data_dir / "tmp").iterdir()) == []  # the work folder is removed each time

    # Re-importing the same video tries again (the failure may have been the machine's, not the file's).
    again = await import_package(db, storage, video_package(tmp_path / "q.zip", videos["480p"]), publish=True)
    assert again.status == "succeeded"
    await session.refresh(encoding)
    assert encoding.status == EncodingStatus.queued and encoding.attempts == 0
    assert len(await transcode_jobs(session)) == 2


async def test_unchanged_video_reuses_its_renditions(db, session, settings, videos, tmp_path):  # noqa: F811
    storage = build_storage(settings)
    first = await import_package(db, storage, video_package(tmp_path / "p.zip", videos["480p"]), publish=True)
    assert await jobs.run_pending(db) == 1
    second = await import_package(db, storage, video_package(tmp_path / "q.zip", videos["480p"], slug="ban-sao"),
                                  publish=True)
    assert await jobs.run_pending(db) == 0  # nothing to transcode: same bytes, same ladder
    assert await session.scalar(select(func.count()).select_from(VideoEncoding)) == 1
    for job in (first, second):
        [video] = (await get_import(session, job.id)).videos
        assert video.status == "ready" and video.renditions == ["240p", "360p"]


async def test_a_transcode_waits_while_every_slot_is_taken(db, session, settings):
    busy = VideoEncoding(source_sha256="a" * 64, ladder="h264-v1", source_key="x/a.mp4",
                         status=EncodingStatus.running, locked_at=utcnow())
    waiting = VideoEncoding(source_sha256="b" * 64, ladder="h264-v1", source_key="x/b.mp4")
    session.add_all([busy, waiting])
    await session.flush()
    await transcode(db, build_storage(settings), waiting.id)  # HOCSO_VIDEO_MAX_TRANSCODES = 1
    await session.refresh(waiting)
    assert waiting.status == EncodingStatus.queued and waiting.attempts == 0  # no attempt used
    [later] = await transcode_jobs(session)
    assert later.payload == {"encoding_id": str(waiting.id)}
    assert later.run_after >= utcnow() + timedelta(seconds=SLOT_WAIT_S - 5)

    busy.locked_at = utcnow() - jobs.STALE_AFTER - timedelta(minutes=1)  # its worker died: the slot is free
    await session.flush()
    with pytest.raises(Exception, match="no stored copy of the source video is left"):
        await transcode(db, build_storage(settings), waiting.id)
    await session.refresh(waiting)
    assert waiting.attempts == 1 and "no stored copy" in waiting.error  # it ran, and said why it failed
