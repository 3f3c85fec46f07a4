"""What an enrolled learner's player is given: the master playlist URL, the offline MP4, caption files, and
the playlists themselves with every segment URL signed.

Playlist URLs carry an `access` token (HMAC of learner, lesson and expiry) instead of a bearer header, so
native players (iOS, Android) that cannot add headers play them too. Each playlist request checks the token
and, again, that the learner is still enrolled on this lesson's version. Every URL given lives at least as
long as the video plus the usual media TTL, so a learner who pauses can still finish.
"""

import hashlib
import hmac
import math
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.cache import StatsCache
from app.core.config import Settings
from app.core.errors import Forbidden, NotFound
from app.core.i18n import messages
from app.core.storage import MAX_URL_TTL_S, Storage
from app.models.base import utcnow
from app.models.course import Asset, CourseVersion, Lesson, LessonKind
from app.models.learning import Enrollment
from app.models.video import CaptionLink, EncodingStatus, LessonCaption, VideoEncoding
from app.services.video.ladder import LADDER_VERSION
from app.services.video.playlists import SubtitleTrack, Variant, master_playlist, media_playlist

messages({
    "playlist_link_invalid": ("Liên kết danh sách phát không hợp lệ hoặc đã hết hạn.",
                              "The playlist link is invalid or has expired."),
    "playlist_requires_enrollment": ("Chỉ học viên đang theo học khóa này mới xem được video.",
                                     "Only learners enrolled in this course can play the video."),
    "playlist_not_ready": ("Video này chưa có bản HLS; hãy dùng “url”.",
                           "This video has no HLS renditions yet; use “url”."),
})

PLAYLIST_TYPE = "application/vnd.apple.mpegurl"
# A rendition's playlist is the same for every enrolled learner (its URLs name no one), and signing an hour of
# 6 s segments costs ~0.3 s of CPU on S3 (docs/benchmarks.md): each worker keeps it this long.
PLAYLIST_CACHE_S = 300
PLAYLIST_CACHE_ENTRIES = 64  # ~300 KB each for an hour of video on S3
SEGMENT_TYPE = "video/mp4"
CAPTION_TYPE = "text/vtt"


def link_ttl_s(settings: Settings, duration_s: float | None) -> int:
    """The media TTL plus twice the video's length: enough to watch it through with pauses."""
    return min(MAX_URL_TTL_S, settings.media_url_ttl_s + 2 * math.ceil(duration_s or 0))


def _key(settings: Settings) -> bytes:
    # A key of its own, so a playlist token can never be replayed as any other HMAC the service makes.
    return hmac.new(settings.secret_key.encode(), b"hocso-hls-access", hashlib.sha256).digest()


def _signature(settings: Settings, user_id: uuid.UUID, lesson_id: uuid.UUID, expires: int) -> str:
    message = f"{user_id.hex}:{lesson_id.hex}:{expires}".encode()
    return hmac.new(_key(settings), message, hashlib.sha256).hexdigest()[:40]


def access_token(settings: Settings, user_id: uuid.UUID, lesson_id: uuid.UUID, expires: int) -> str:
    return f"{expires}-{user_id.hex}-{_signature(settings, user_id, lesson_id, expires)}"


def read_access(settings: Settings, lesson_id: uuid.UUID, token: str) -> uuid.UUID:
    """The learner a valid, unexpired token was given to; 403 otherwise."""
    try:
        expires_text, user_hex, sig = token.split("-")
        expires, user_id = int(expires_text), uuid.UUID(hex=user_hex)
    except ValueError:
        raise Forbidden("playlist_link_invalid") from None
    expected = _signature(settings, user_id, lesson_id, expires)
    if expires < time.time() or not hmac.compare_digest(expected, sig):
        raise Forbidden("playlist_link_invalid")
    return user_id


@dataclass
class VideoLinks:
    hls_url: str | None = None
    download_url: str | None = None
    download_size: int | None = None
    expires_at: datetime | None = None
    captions: list[CaptionLink] = field(default_factory=list)


async def ready_encoding(session: AsyncSession, asset: Asset) -> VideoEncoding | None:
    return (await session.execute(select(VideoEncoding).where(
        VideoEncoding.source_sha256 == asset.sha256, VideoEncoding.ladder == LADDER_VERSION,
        VideoEncoding.status == EncodingStatus.ready))).scalar_one_or_none()


async def _captions(session: AsyncSession, lesson_id: uuid.UUID) -> list[tuple[str, Asset]]:
    rows = (await session.execute(select(LessonCaption.language, Asset).join(
        Asset, Asset.id == LessonCaption.asset_id).where(LessonCaption.lesson_id == lesson_id)
        .order_by(LessonCaption.language))).all()
    return [(language, asset) for language, asset in rows]


async def video_links(session: AsyncSession, storage: Storage, settings: Settings, user_id: uuid.UUID,
                      lesson: Lesson, asset: Asset) -> VideoLinks:
    """For a lesson the caller already let the learner open: HLS and download once the renditions exist
    (the original `url` until then), and caption files whatever the renditions' state."""
    ttl = link_ttl_s(settings, lesson.duration_s)
    links = VideoLinks(expires_at=utcnow() + timedelta(seconds=ttl))
    for language, caption in await _captions(session, lesson.id):
        url = await storage.presigned_get(caption.storage_key, ttl_s=ttl, content_type=CAPTION_TYPE)
        links.captions.append(CaptionLink(language=language, url=url))
    encoding = await ready_encoding(session, asset)
    if encoding is None:
        return links
    token = access_token(settings, user_id, lesson.id, int(time.time()) + ttl)
    links.hls_url = f"{_base(settings, lesson.id)}/master.m3u8?access={token}"
    if encoding.download_key:
        extension_free = lesson.title.strip() or "video"
        links.download_url = await storage.presigned_get(encoding.download_key, ttl_s=ttl,
                                                         content_type="video/mp4",
                                                         filename=f"{extension_free}.mp4")
        links.download_size = encoding.download_size
    return links


def _base(settings: Settings, lesson_id: uuid.UUID) -> str:
    return f"{settings.public_base_url.rstrip('/')}/api/v1/lessons/{lesson_id}/hls"


@dataclass
class _Playable:
    lesson: Lesson
    asset: Asset
    encoding: VideoEncoding


async def _playable(session: AsyncSession, settings: Settings, lesson_id: uuid.UUID, token: str) -> _Playable:
    """The lesson behind a playlist request, once the token and the learner's enrollment are checked."""
    user_id = read_access(settings, lesson_id, token)
    lesson = await session.get(Lesson, lesson_id)
    if lesson is None or lesson.kind != LessonKind.video or lesson.asset_id is None:
        raise NotFound()
    course_id = await session.scalar(select(CourseVersion.course_id).where(
        CourseVersion.id == lesson.version_id))
    enrollment = (await session.execute(select(Enrollment).where(
        Enrollment.user_id == user_id, Enrollment.course_id == course_id))).scalar_one_or_none()
    if enrollment is None or enrollment.left_at is not None or enrollment.version_id != lesson.version_id:
        raise Forbidden("playlist_requires_enrollment")
    asset = await session.get(Asset, lesson.asset_id)
    encoding = await ready_encoding(session, asset)
    if encoding is None:
        raise NotFound("playlist_not_ready")
    return _Playable(lesson, asset, encoding)


async def master(session: AsyncSession, settings: Settings, lesson_id: uuid.UUID, token: str) -> str:
    """Every rendition and subtitle track, their playlist URLs carrying the same token."""
    playable = await _playable(session, settings, lesson_id, token)
    base, query = _base(settings, lesson_id), f"?access={token}"
    variants = [Variant(r, f"{base}/{r['name']}.m3u8{query}") for r in playable.encoding.renditions]
    subtitles = [SubtitleTrack(language, f"{base}/subtitles/{language}.m3u8{query}")
                 for language, _ in await _captions(session, lesson_id)]
    return master_playlist(variants, subtitles)


async def rendition(session: AsyncSession, storage: Storage, settings: Settings, lesson_id: uuid.UUID,
                    name: str, token: str, cache: StatsCache | None = None) -> str:
    """One rendition's media playlist, each segment a signed storage URL. The learner is checked on every
    request; the signed text may come from this worker's cache (signed for PLAYLIST_CACHE_S longer, so every
    URL still lives at least `link_ttl_s`)."""
    playable = await _playable(session, settings, lesson_id, token)
    found = next((r for r in playable.encoding.renditions if r["name"] == name), None)
    if found is None:
        raise NotFound()
    ttl = link_ttl_s(settings, playable.lesson.duration_s) + PLAYLIST_CACHE_S

    async def sign() -> str:
        segments = [(seconds, await storage.presigned_get(key, ttl_s=ttl, content_type=SEGMENT_TYPE))
                    for seconds, key in found["segments"]]
        init = await storage.presigned_get(found["init"], ttl_s=ttl, content_type=SEGMENT_TYPE)
        return media_playlist(segments, init_url=init)
    if cache is None:
        return await sign()
    return await cache.get(("hls", playable.encoding.id, name, ttl), sign)


async def subtitles(session: AsyncSession, storage: Storage, settings: Settings, lesson_id: uuid.UUID,
                    language: str, token: str) -> str:
    """A caption track as a one-segment subtitle playlist (the WebVTT file, signed, spans the video)."""
    playable = await _playable(session, settings, lesson_id, token)
    caption = next((a for lang, a in await _captions(session, lesson_id) if lang == language), None)
    if caption is None:
        raise NotFound()
    ttl = link_ttl_s(settings, playable.lesson.duration_s)
    url = await storage.presigned_get(caption.storage_key, ttl_s=ttl, content_type=CAPTION_TYPE)
    duration = playable.encoding.duration_s or playable.lesson.duration_s or 1
    return media_playlist([(duration, url)])
