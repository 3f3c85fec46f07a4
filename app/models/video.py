"""Video for weak networks: HLS renditions of each source video (by content hash) and caption tracks.

A `VideoEncoding` belongs to the bytes of a source video, not to a course: re-importing the same file (or
using it in another course) reuses its renditions. A `LessonCaption` is one WebVTT track of a video lesson
in one language; its file is an ordinary `Asset` of the course version.
"""

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel
from sqlalchemy import BigInteger, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.models.base import JSONType, created_at_field, id_field, time_field


class EncodingStatus(StrEnum):
    queued = "queued"  # waiting for a worker (also after a failed attempt that will be retried)
    running = "running"
    ready = "ready"
    failed = "failed"  # every attempt failed: learners keep the original file


class VideoEncoding(SQLModel, table=True):
    __tablename__ = "video_encoding"
    __table_args__ = (UniqueConstraint("source_sha256", "ladder"),)

    id: uuid.UUID = id_field()
    source_sha256: str = Field(max_length=64)
    ladder: str = Field(max_length=20)  # the ladder's version: a new ladder re-encodes, an old one is kept
    source_key: str = Field(max_length=500)  # a stored copy of the source (any asset with this hash)
    status: EncodingStatus = Field(default=EncodingStatus.queued, sa_type=String(10), index=True)
    attempts: int = 0
    percent: int = 0
    error: str | None = None
    locked_at: datetime | None = time_field()  # refreshed while ffmpeg runs; a stale one lost its worker
    width: int | None = None  # of the source as displayed (rotation applied)
    height: int | None = None
    duration_s: float | None = None
    # [{name, width, height, bandwidth, average_bandwidth, codecs, size, init: key, segments: [[seconds, key], …]}]
    renditions: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSONType)
    download_key: str | None = Field(default=None, max_length=500)
    download_size: int | None = Field(default=None, sa_type=BigInteger)
    cpu_s: float | None = None  # ffmpeg's user + system CPU seconds for the whole ladder
    created_at: datetime = created_at_field()
    finished_at: datetime | None = time_field()


class LessonCaption(SQLModel, table=True):
    __tablename__ = "lesson_caption"
    __table_args__ = (UniqueConstraint("lesson_id", "language"),)

    id: uuid.UUID = id_field()
    lesson_id: uuid.UUID = Field(foreign_key="lesson.id", ondelete="CASCADE")
    language: str = Field(max_length=10)
    asset_id: uuid.UUID = Field(foreign_key="asset.id", index=True, ondelete="CASCADE")


# --- API schemas ------------------------------------------------------------------------------------------


class CaptionLink(BaseModel):
    language: str
    url: str  # signed WebVTT file, for a <track> element next to `url` or `download_url`


class VideoProgress(BaseModel):
    """Where the renditions of one imported video stand (shown on the import's status)."""

    path: str
    status: EncodingStatus
    percent: int
    attempts: int
    error: str | None = None
    renditions: list[str] = []  # names of the HLS variants once ready, e.g. ["240p", "360p", "720p"]
