"""The `transcode_video` job: one source video (by content hash) → its HLS ladder and offline MP4 in storage.

Rules: at most `HOCSO_VIDEO_MAX_TRANSCODES` run at once across all workers (a job finding every slot taken
waits and tries again later, without using an attempt); a failed attempt is recorded on the encoding and
retried by the job runner, up to MAX_ATTEMPTS, then the encoding is `failed` for an operator to look at.
Nothing here blocks publishing: until an encoding is `ready`, learners are given the original file.
"""

import logging
import shutil
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.db import Database
from app.core.storage import Storage, shared_storage
from app.models.base import utcnow
from app.models.course import Asset
from app.models.jobs import JobKind
from app.models.video import EncodingStatus, VideoEncoding, VideoProgress
from app.services.jobs import STALE_AFTER, enqueue, job_handler
from app.services.video import ffmpeg
from app.services.video.ladder import (
    DOWNLOAD_RUNG,
    LADDER_VERSION,
    Rung,
    Source,
    output_size,
    probe,
    rungs_for,
)

log = logging.getLogger("hocso.video")
JOB_KIND = JobKind.transcode_video
MAX_ATTEMPTS = 3
SLOT_WAIT_S = 30  # how long a job waits when every transcode slot is taken
_SLOT_LOCK = 0x68_6F_63_76  # PostgreSQL advisory lock: "hocv"
TIMEOUT_FLOOR_S = 300
VIDEO_TYPES = ("video/mp4", "video/webm")


def _queue(session: AsyncSession, encoding: VideoEncoding, *, wait_s: float = 0) -> None:
    job = enqueue(session, JOB_KIND, {"encoding_id": str(encoding.id)}, max_attempts=MAX_ATTEMPTS)
    job.run_after = utcnow() + timedelta(seconds=wait_s)


async def request_renditions(session: AsyncSession, version_id: uuid.UUID) -> None:
    """Queue a transcode for each video of an imported version whose bytes have no encoding yet (content
    hash), or whose encoding failed for good (a re-import tries again). Runs in the importer's transaction."""
    assets = (await session.execute(select(Asset).where(
        Asset.version_id == version_id, Asset.content_type.in_(VIDEO_TYPES)))).scalars().all()
    for asset in assets:
        if not asset.sha256:
            continue
        encoding = (await session.execute(select(VideoEncoding).where(
            VideoEncoding.source_sha256 == asset.sha256,
            VideoEncoding.ladder == LADDER_VERSION))).scalar_one_or_none()
        if encoding is None:
            encoding = VideoEncoding(source_sha256=asset.sha256, ladder=LADDER_VERSION,
                                     source_key=asset.storage_key)
            session.add(encoding)
            await session.flush()
        elif encoding.status == EncodingStatus.failed:
            encoding.status, encoding.attempts, encoding.source_key = EncodingStatus.queued, 0, asset.storage_key
        else:
            continue  # ready (reused), or queued/running already
        _queue(session, encoding)


async def _claim(db: Database, encoding_id: uuid.UUID) -> VideoEncoding | None:
    """Take a transcode slot for this encoding; None when it needs no work or must wait for a slot."""
    # Transaction exception «jobs own their sessions» (docs/architecture.md).
    async with db.session() as session:
        if db.dialect == "postgresql":  # two workers must not both see a free slot (SQLite writes serially)
            await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _SLOT_LOCK})
        encoding = await session.get(VideoEncoding, encoding_id, with_for_update=db.dialect == "postgresql")
        if encoding is None or encoding.status in (EncodingStatus.ready, EncodingStatus.failed):
            return None
        now = utcnow()
        running = await session.scalar(select(func.count()).select_from(VideoEncoding).where(
            VideoEncoding.status == EncodingStatus.running, VideoEncoding.id != encoding_id,
            VideoEncoding.locked_at > now - STALE_AFTER))
        if running >= db.settings.video_max_transcodes:
            _queue(session, encoding, wait_s=SLOT_WAIT_S)
            return None
        encoding.status, encoding.locked_at, encoding.percent = EncodingStatus.running, now, 0
        encoding.attempts += 1
        return encoding


class _Reporter:
    """Percent and liveness on the encoding row, at most one write per 5% (or per minute)."""

    def __init__(self, db: Database, encoding_id: uuid.UUID, duration_s: float) -> None:
        self.db, self.encoding_id, self.duration_s = db, encoding_id, duration_s
        self.percent, self.written_at = 0, utcnow()

    async def __call__(self, done_s: float) -> None:
        percent = min(99, int(done_s * 100 / max(self.duration_s, 0.001)))
        now = utcnow()
        if percent - self.percent < 5 and now - self.written_at < timedelta(minutes=1):
            return
        self.percent, self.written_at = percent, now
        # Transaction exception «jobs own their sessions» (docs/architecture.md).
        async with self.db.session() as session:
            encoding = await session.get(VideoEncoding, self.encoding_id)
            if encoding is not None:
                encoding.percent, encoding.locked_at = percent, now


async def _source_key(db: Database, encoding: VideoEncoding, storage: Storage) -> str:
    """The recorded copy of the source, or any other stored asset with the same bytes."""
    if await storage.head(encoding.source_key) is not None:
        return encoding.source_key
    # Transaction exception «jobs own their sessions» (docs/architecture.md).
    async with db.session() as session:
        keys = (await session.execute(select(Asset.storage_key).where(
            Asset.sha256 == encoding.source_sha256))).scalars().all()
    for key in keys:
        if await storage.head(key) is not None:
            return key
    raise ffmpeg.TranscodeFailed("no stored copy of the source video is left")


async def _encode(db: Database, encoding: VideoEncoding, workdir: Path, storage: Storage
                  ) -> tuple[Source, list[Rung], Path]:
    settings = db.settings
    source_path = workdir / "source"
    await storage.download_to(await _source_key(db, encoding, storage), source_path)
    try:
        source = await anyio.to_thread.run_sync(probe, settings.ffprobe_path, str(source_path))
    except Exception as exc:  # ProbeFailed, or ffprobe's JSON unreadable
        raise ffmpeg.TranscodeFailed(f"the source cannot be read as video: {exc}") from exc
    rungs = rungs_for(source)
    out = workdir / "out"
    command = ffmpeg.ladder_command(settings.ffmpeg_path, source_path, source, rungs, out,
                                    threads=settings.video_transcode_threads, preset=settings.video_preset)
    timeout = TIMEOUT_FLOOR_S + source.duration_s * settings.video_transcode_timeout_ratio
    await ffmpeg.run_ffmpeg(command, timeout_s=timeout,
                            on_progress=_Reporter(db, encoding.id, source.duration_s))
    download = next((r for r in rungs if r.name == DOWNLOAD_RUNG), rungs[-1])
    await ffmpeg.run_ffmpeg(ffmpeg.download_command(settings.ffmpeg_path, out / download.name / "index.m3u8",
                                                    out / "download.mp4"), timeout_s=timeout)
    return source, rungs, out


async def _store(storage: Storage, prefix: str, source: Source, rungs: list[Rung], out: Path,
                 stored: list[str]) -> dict[str, Any]:
    """Upload every segment and the MP4; returns the encoding's rendition facts, measured from the files."""
    renditions = []
    for rung in rungs:
        playlist = await anyio.to_thread.run_sync(ffmpeg.read_playlist, out / rung.name / "index.m3u8")
        init = f"{prefix}/{rung.name}/{playlist.init}"
        stored.append(init)
        size = (await storage.put_file(init, out / rung.name / playlist.init, "video/mp4")).size
        listed, peak, seconds, media_bytes = [], 0.0, 0.0, 0
        for segment in playlist.segments:
            key = f"{prefix}/{rung.name}/{segment.name}"
            stored.append(key)
            obj = await storage.put_file(key, out / rung.name / segment.name, "video/mp4")
            size += obj.size
            media_bytes += obj.size
            seconds += segment.seconds
            peak = max(peak, obj.size * 8 / max(segment.seconds, 0.5))
            listed.append([segment.seconds, key])
        width, height = output_size(rung, source)
        codecs = rung.codecs_video + (",mp4a.40.2" if source.has_audio else "")
        # AVERAGE-BANDWIDTH over the media segments only (the init segment is fetched once, not per second
        # played), and BANDWIDTH, the peak, never below it: RFC 8216 §4.3.4.2 makes BANDWIDTH the upper bound.
        average = int(media_bytes * 8 / max(seconds, 0.001))
        renditions.append({"name": rung.name, "width": width, "height": height, "codecs": codecs, "init": init,
                           "bandwidth": max(int(peak) + 1, average), "average_bandwidth": average,
                           "size": size, "segments": listed})
    key = f"{prefix}/download.mp4"
    stored.append(key)
    download = await storage.put_file(key, out / "download.mp4", "video/mp4")
    return {"renditions": renditions, "download_key": key, "download_size": download.size}


async def _discard(storage: Storage, keys: list[str]) -> None:
    for key in keys:
        try:
            await storage.delete(key)
        except Exception:  # noqa: BLE001 - keep deleting; an orphaned segment only costs bytes
            log.exception("could not delete a segment of a failed transcode", extra={"key": key})


async def _record_failure(db: Database, encoding_id: uuid.UUID, error: str) -> None:
    # Transaction exception «jobs own their sessions» (docs/architecture.md).
    async with db.session() as session:
        encoding = await session.get(VideoEncoding, encoding_id)
        if encoding is None:
            return
        encoding.error, encoding.locked_at = error[:2000], None
        if encoding.attempts >= MAX_ATTEMPTS:
            encoding.status, encoding.finished_at = EncodingStatus.failed, utcnow()
        else:  # the job runner retries it after its back-off
            encoding.status = EncodingStatus.queued


async def transcode(db: Database, storage: Storage, encoding_id: uuid.UUID) -> None:
    """Encode the ladder of one source video. A failure is recorded on the encoding, then raised so the job
    runner retries it; the original stays what learners get until this succeeds."""
    encoding = await _claim(db, encoding_id)
    if encoding is None:
        return
    workdir = db.settings.data_dir / "tmp" / f"transcode-{encoding_id.hex}"
    stored: list[str] = []
    cpu_before = ffmpeg.children_cpu_s()
    try:
        await anyio.to_thread.run_sync(lambda: workdir.mkdir(parents=True, exist_ok=True))
        source, rungs, out = await _encode(db, encoding, workdir, storage)
        cpu_s = ffmpeg.children_cpu_s() - cpu_before
        prefix = f"videos/{encoding.source_sha256}/{LADDER_VERSION}"
        facts = await _store(storage, prefix, source, rungs, out, stored)
        # Transaction exception «jobs own their sessions» (docs/architecture.md).
        async with db.session() as session:
            row = await session.get(VideoEncoding, encoding_id)
            row.status, row.percent, row.error, row.finished_at = EncodingStatus.ready, 100, None, utcnow()
            row.width, row.height, row.duration_s = source.width, source.height, source.duration_s
            row.renditions, row.download_key = facts["renditions"], facts["download_key"]
            row.download_size, row.cpu_s, row.locked_at = facts["download_size"], round(cpu_s, 2), None
        log.info("video renditions ready", extra={"encoding_id": str(encoding_id), "cpu_s": round(cpu_s, 2),
                                                  "renditions": [r.name for r in rungs]})
    except Exception as exc:
        await _discard(storage, stored)
        await _record_failure(db, encoding_id, f"{type(exc).__name__}: {exc}")
        raise
    finally:
        await anyio.to_thread.run_sync(lambda: shutil.rmtree(workdir, ignore_errors=True))


@job_handler(JOB_KIND)
async def transcode_video_job(db: Database, payload: dict[str, Any]) -> None:
    await transcode(db, shared_storage(db.settings), uuid.UUID(payload["encoding_id"]))


async def video_progress(session: AsyncSession, version_id: uuid.UUID) -> list[VideoProgress]:
    """Each video of a course version and its renditions' state (not requested yet shows as queued)."""
    rows = (await session.execute(
        select(Asset.path, VideoEncoding).outerjoin(VideoEncoding, (
            VideoEncoding.source_sha256 == Asset.sha256) & (VideoEncoding.ladder == LADDER_VERSION))
        .where(Asset.version_id == version_id, Asset.content_type.in_(VIDEO_TYPES))
        .order_by(Asset.path))).all()
    return [VideoProgress(path=path, status=EncodingStatus.queued, percent=0, attempts=0) if encoding is None
            else VideoProgress(path=path, status=encoding.status, percent=encoding.percent,
                               attempts=encoding.attempts, error=encoding.error,
                               renditions=[r["name"] for r in encoding.renditions])
            for path, encoding in rows]
