"""The renditions ladder and what ffprobe says about a source: pure rules, plus the one blocking probe.

Rungs follow the usual mobile ladders (about 300 kbps at 240p, 700 kbps at 360p, 2.5 Mbps at 720p, audio
included) and are never upscaled: a rung exists only when the source's shorter side reaches its height.
"""

import json
import subprocess
from dataclasses import dataclass
from fractions import Fraction

LADDER_VERSION = "h264-v1"  # change it when the rungs or the encoder settings change: videos re-encode
GOP_S = 2  # a keyframe every 2 s in every rung, at the same instants: players switch rungs at any segment
SEGMENT_S = 3 * GOP_S  # each segment starts on a keyframe of every rung
MAX_FPS = 30
DOWNLOAD_RUNG = "360p"
PROBE_TIMEOUT_S = 60


@dataclass(frozen=True)
class Rung:
    name: str
    height: int  # of the shorter side: 360 is 640x360 landscape, 360x640 portrait
    video_kbps: int
    audio_kbps: int
    level: str  # H.264 level, so CODECS in the master playlist is exact

    @property
    def codecs_video(self) -> str:
        return "avc1.4d40" + {"3.0": "1e", "3.1": "1f"}[self.level]  # Main profile


LADDER = (
    Rung("240p", 240, 236, 64, "3.0"),
    Rung("360p", 360, 636, 64, "3.0"),
    Rung("720p", 720, 2372, 128, "3.1"),
)


@dataclass(frozen=True)
class Source:
    width: int  # as displayed (a phone's portrait video recorded with rotation is taller than wide)
    height: int
    duration_s: float
    fps: float
    has_audio: bool

    @property
    def short_side(self) -> int:
        return min(self.width, self.height)


def rungs_for(source: Source) -> list[Rung]:
    """The ladder's rungs at or below the source; a source smaller than the lowest rung gets one rung at its
    own size (never upscaled)."""
    rungs = [rung for rung in LADDER if rung.height <= source.short_side]
    if rungs:
        return rungs
    low = LADDER[0]
    size = source.short_side - source.short_side % 2  # H.264 in 4:2:0 needs even sizes
    return [Rung(f"{size}p", size, low.video_kbps, low.audio_kbps, low.level)]


def output_size(rung: Rung, source: Source) -> tuple[int, int]:
    """(width, height) of a rung for this source: aspect kept, both even."""
    def even(value: float) -> int:
        return max(2, int(round(value / 2)) * 2)
    if source.width >= source.height:
        return even(source.width * rung.height / source.height), rung.height
    return rung.height, even(source.height * rung.height / source.width)


def frame_rate(source: Source) -> int:
    """Constant output rate: the source's, rounded, at most 30 (fewer frames for the same bits on 3G)."""
    return max(1, min(MAX_FPS, round(source.fps) or 25))


class ProbeFailed(Exception):
    pass


def _rate(text: str | None) -> float:
    try:
        value = Fraction(text or "0")
    except (ValueError, ZeroDivisionError):
        return 0.0
    return float(value)


def probe(ffprobe: str, path: str) -> Source:
    """Width, height, rotation, duration, frame rate and audio of a file, from ffprobe's JSON. Blocking."""
    command = [ffprobe, "-v", "error", "-print_format", "json", "-show_streams", "-show_format", path]
    try:
        done = subprocess.run(command, capture_output=True, timeout=PROBE_TIMEOUT_S, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ProbeFailed(f"ffprobe could not run: {exc}") from exc
    if done.returncode != 0:
        raise ProbeFailed(done.stderr.decode(errors="replace").strip()[-500:] or "ffprobe failed")
    info = json.loads(done.stdout)
    streams = info.get("streams", [])
    video = next((s for s in streams if s.get("codec_type") == "video"
                  and not s.get("disposition", {}).get("attached_pic")), None)
    if video is None or not video.get("width") or not video.get("height"):
        raise ProbeFailed("no video stream")
    width, height = int(video["width"]), int(video["height"])
    rotation = int(float(video.get("tags", {}).get("rotate", 0) or 0))
    for side in video.get("side_data_list", []):
        rotation = int(float(side.get("rotation", rotation) or 0))
    if abs(rotation) % 180 == 90:
        width, height = height, width
    duration = float(info.get("format", {}).get("duration") or video.get("duration") or 0)
    if duration <= 0:
        raise ProbeFailed("no duration")
    fps = _rate(video.get("avg_frame_rate")) or _rate(video.get("r_frame_rate"))
    has_audio = any(s.get("codec_type") == "audio" for s in streams)
    return Source(width, height, duration, fps, has_audio)
