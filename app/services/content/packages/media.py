"""What a packaged file really is: video durations read on the server, and document signatures.

MP4 durations come from mutagen (pure Python, reads only the box headers it needs). mutagen does not read
Matroska, so WebM durations come from the small EBML reader below, which reads the Segment's Info element
and seeks past everything else. Both read a few kilobytes whatever the file size. They block: use a thread.
"""

import io
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import mutagen
from mutagen.mp4 import MP4

from app.core.i18n import messages

messages({
    "media_type_unsupported": ("Định dạng “{ext}” không được hỗ trợ cho {kind} (chấp nhận: {allowed}).",
                               "“{ext}” files are not supported for a {kind} (allowed: {allowed})."),
    "media_not_mp4": ("Tệp không phải video MP4 hợp lệ.", "The file is not a valid MP4 video."),
    "media_not_webm": ("Tệp không phải video WebM hợp lệ.", "The file is not a valid WebM video."),
    "media_no_duration": ("Không đọc được thời lượng video.", "The video's duration cannot be read."),
    "media_not_pdf": ("Tệp không phải tài liệu PDF hợp lệ.", "The file is not a valid PDF document."),
})

VIDEO_TYPES = {".mp4": "video/mp4", ".webm": "video/webm"}
DOCUMENT_TYPES = {".pdf": "application/pdf"}

_EBML, _DOCTYPE = 0x1A45DFA3, 0x4282
_SEGMENT, _INFO, _TIMECODE_SCALE, _DURATION = 0x18538067, 0x1549A966, 0x2AD7B1, 0x4489
_MAX_HEADER_BYTES = 64 * 1024
_MAX_ELEMENTS = 10_000


class MediaProblem(Exception):
    """`code` is the message key describing what is wrong with the file."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class Probed:
    content_type: str
    duration_s: float | None = None


def probe_video(path: Path) -> Probed:
    suffix = path.suffix.lower()
    if suffix == ".mp4":
        try:
            length = MP4(path).info.length
        except (mutagen.MutagenError, OSError, ValueError, KeyError, struct.error) as exc:
            raise MediaProblem("media_not_mp4") from exc
    elif suffix == ".webm":
        with path.open("rb") as f:
            length = read_webm_duration(f)
    else:
        raise MediaProblem("media_type_unsupported")
    if not length or length <= 0:
        raise MediaProblem("media_no_duration")
    return Probed(VIDEO_TYPES[suffix], round(float(length), 3))


def probe_document(path: Path) -> Probed:
    if path.suffix.lower() != ".pdf":
        raise MediaProblem("media_type_unsupported")
    with path.open("rb") as f:
        head = f.read(1024)
    if b"%PDF-" not in head:
        raise MediaProblem("media_not_pdf")
    return Probed(DOCUMENT_TYPES[".pdf"])


def _read_vint(f: BinaryIO, *, keep_marker: bool) -> tuple[int, int]:
    """An EBML variable-length integer: (value, byte length); value -1 means 'unknown size'."""
    first = f.read(1)
    if not first:
        raise EOFError
    length = 1
    while length <= 8 and not first[0] & (0x80 >> (length - 1)):
        length += 1
    if length > 8:
        raise MediaProblem("media_not_webm")
    rest = f.read(length - 1)
    if len(rest) != length - 1:
        raise EOFError
    raw = int.from_bytes(first + rest, "big")
    if keep_marker:
        return raw, length
    value = raw & ((1 << (7 * length)) - 1)
    return (-1 if value == (1 << (7 * length)) - 1 else value), length


def _children(data: bytes) -> dict[int, bytes]:
    """The direct children of an element whose body is already in memory (small header elements only)."""
    stream, found = io.BytesIO(data), {}
    while stream.tell() < len(data):
        element, _ = _read_vint(stream, keep_marker=True)
        size, _ = _read_vint(stream, keep_marker=False)
        if size < 0:
            break
        found[element] = stream.read(size)
    return found


def read_webm_duration(f: BinaryIO) -> float | None:
    """Seconds from Segment/Info (Duration × TimecodeScale); None when the file declares no duration."""
    try:
        element, _ = _read_vint(f, keep_marker=True)
        if element != _EBML:
            raise MediaProblem("media_not_webm")
        size, _ = _read_vint(f, keep_marker=False)
        if not 0 < size <= _MAX_HEADER_BYTES:
            raise MediaProblem("media_not_webm")
        if _children(f.read(size)).get(_DOCTYPE, b"").rstrip(b"\0") != b"webm":
            raise MediaProblem("media_not_webm")
        element, _ = _read_vint(f, keep_marker=True)
        if element != _SEGMENT:
            raise MediaProblem("media_not_webm")
        _read_vint(f, keep_marker=False)  # the Segment's size: often unknown for recorded streams
        for _ in range(_MAX_ELEMENTS):
            element, _ = _read_vint(f, keep_marker=True)
            size, _ = _read_vint(f, keep_marker=False)
            if element == _INFO:
                if not 0 < size <= _MAX_HEADER_BYTES:
                    raise MediaProblem("media_not_webm")
                info = _children(f.read(size))
                scale = int.from_bytes(info.get(_TIMECODE_SCALE, b""), "big") or 1_000_000
                raw = info.get(_DURATION)
                if raw is None or len(raw) not in (4, 8):
                    return None
                ticks = struct.unpack(">f" if len(raw) == 4 else ">d", raw)[0]
                return ticks * scale / 1e9
            if size < 0:  # an unknown-size element (a live Cluster) cannot be skipped
                return None
            f.seek(size, 1)
    except (EOFError, struct.error) as exc:
        raise MediaProblem("media_not_webm") from exc
    return None
