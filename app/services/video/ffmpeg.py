"""One ffmpeg run for the whole ladder: the source is decoded once, split, scaled and encoded per rung into
HLS with fragmented-MP4 segments; the offline MP4 is then a copy of one rung's stream, not a second encode.

fMP4 rather than MPEG-TS: measured on a 240p rung, MPEG-TS carried 32% more bytes than the streams themselves
(its 188-byte packets wrap each AAC frame on its own: 64 kbps of audio became 141 kbps), fMP4 about 1%
(docs/benchmarks.md). On 3G that is a quarter of the data. hls.js, iOS ≥ 10 and ExoPlayer play fMP4.

ffmpeg runs as a child process with an argument list (never a shell), a CPU-thread cap, a lower scheduling
priority and a time limit; its progress (`-progress pipe:1`) is passed to a callback.
"""

import resource
import shutil
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import anyio
from anyio.abc import ByteReceiveStream

from app.services.video.ladder import GOP_S, SEGMENT_S, Rung, Source, frame_rate, output_size

NICENESS = "10"  # transcoding yields the CPU to API requests on a shared host
STDERR_KEPT = 4000
Progress = Callable[[float], Awaitable[None]]  # seconds of the source done


class TranscodeFailed(Exception):
    pass


@dataclass(frozen=True)
class Segment:
    seconds: float
    name: str


@dataclass(frozen=True)
class MediaPlaylist:
    init: str  # the fMP4 initialisation segment (EXT-X-MAP)
    segments: list[Segment]


def ladder_command(ffmpeg: str, source_path: Path, source: Source, rungs: list[Rung], out: Path, *,
                   threads: int, preset: str) -> list[str]:
    """The ffmpeg arguments writing `out/<rung>/index.m3u8`, `init.mp4` and `seg_NNNNN.m4s` for every rung."""
    fps = frame_rate(source)
    gop = fps * GOP_S
    labels = [f"[s{i}]" for i in range(len(rungs))]
    graph = [f"[0:v]fps={fps},split={len(rungs)}{''.join(labels)}"]
    for i, rung in enumerate(rungs):
        width, height = output_size(rung, source)
        graph.append(f"[s{i}]scale={width}:{height}:flags=bicubic,setsar=1[v{i}]")
    args = [ffmpeg, "-hide_banner", "-nostdin", "-v", "error", "-progress", "pipe:1", "-nostats",
            "-threads", str(threads), "-i", str(source_path),
            "-filter_threads", str(threads), "-filter_complex", ";".join(graph)]
    for i, rung in enumerate(rungs):
        folder = out / rung.name
        folder.mkdir(parents=True, exist_ok=True)
        args += ["-map", f"[v{i}]", "-map", "0:a:0?",
                 "-c:v", "libx264", "-preset", preset, "-profile:v", "main", "-level:v", rung.level,
                 "-pix_fmt", "yuv420p", "-threads", str(threads),
                 "-b:v", f"{rung.video_kbps}k", "-maxrate", f"{rung.video_kbps * 11 // 10}k",
                 "-bufsize", f"{rung.video_kbps * 2}k",
                 # Keyframes at the same instants in every rung, segments a whole number of GOPs.
                 "-g", str(gop), "-keyint_min", str(gop), "-sc_threshold", "0",
                 "-force_key_frames", f"expr:gte(t,n_forced*{GOP_S})",
                 "-c:a", "aac", "-b:a", f"{rung.audio_kbps}k", "-ac", "2", "-ar", "48000",
                 # The media timeline starts at ~0 (0.07 s of encoder delay), so WebVTT cue times need no
                 # X-TIMESTAMP-MAP: cue 0 is the video's start.
                 "-f", "hls", "-hls_time", str(SEGMENT_S), "-hls_playlist_type", "vod",
                 "-hls_flags", "independent_segments", "-hls_segment_type", "fmp4",
                 "-hls_fmp4_init_filename", "init.mp4",
                 "-hls_segment_filename", str(folder / "seg_%05d.m4s"), str(folder / "index.m3u8")]
    return args


def download_command(ffmpeg: str, playlist: Path, target: Path) -> list[str]:
    """The offline MP4 from a rung's segments, without re-encoding; moov first so it plays while loading."""
    return [ffmpeg, "-hide_banner", "-nostdin", "-v", "error", "-y", "-allowed_extensions", "ALL",
            "-i", str(playlist), "-c", "copy", "-movflags", "+faststart",
            "-f", "mp4", str(target)]


def read_playlist(playlist: Path) -> MediaPlaylist:
    """The initialisation segment and the (duration, file) pairs of a VOD media playlist that ffmpeg wrote."""
    segments, seconds, init = [], None, ""
    for line in playlist.read_text().splitlines():
        line = line.strip()
        if line.startswith("#EXT-X-MAP:"):
            init = line.split('URI="', 1)[1].split('"', 1)[0]
        elif line.startswith("#EXTINF:"):
            seconds = float(line[len("#EXTINF:"):].split(",", 1)[0])
        elif line and not line.startswith("#") and seconds is not None:
            segments.append(Segment(seconds, line))
            seconds = None
    if not init or not segments:
        raise TranscodeFailed(f"ffmpeg wrote an incomplete playlist: {playlist.parent.name}")
    return MediaPlaylist(init, segments)


def children_cpu_s() -> float:
    """User + system CPU of this process's finished children (ffmpeg), for the CPU cost per video."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


async def _drain(stream: ByteReceiveStream | None, keep: bytearray) -> None:
    if stream is None:
        return
    async for chunk in stream:
        keep += chunk
        del keep[:-STDERR_KEPT]


async def _follow(stream: ByteReceiveStream | None, on_progress: Progress | None) -> None:
    if stream is None:
        return
    buffer = b""
    async for chunk in stream:
        buffer += chunk
        *lines, buffer = buffer.split(b"\n")
        for line in lines:
            key, _, value = line.decode(errors="replace").partition("=")
            if key == "out_time_us" and value.strip().isdigit() and on_progress is not None:
                await on_progress(int(value) / 1_000_000)


async def run_ffmpeg(args: list[str], *, timeout_s: float, on_progress: Progress | None = None) -> None:
    """Run ffmpeg to the end; TranscodeFailed with the tail of its errors when it fails or overruns."""
    if shutil.which(args[0]) is None:
        raise TranscodeFailed(f"{args[0]} is not installed (Debian package ffmpeg)")
    nice = shutil.which("nice")
    command = [nice, "-n", NICENESS, *args] if nice else args
    errors = bytearray()
    try:
        with anyio.fail_after(timeout_s):
            async with await anyio.open_process(command) as process:
                async with anyio.create_task_group() as tasks:
                    tasks.start_soon(_drain, process.stderr, errors)
                    tasks.start_soon(_follow, process.stdout, on_progress)
                code = await process.wait()
    except TimeoutError:
        raise TranscodeFailed(f"ffmpeg did not finish within {timeout_s:.0f} s") from None
    if code != 0:
        tail = errors.decode(errors="replace").strip()[-1000:]
        raise TranscodeFailed(f"ffmpeg exited with {code}: {tail}")
