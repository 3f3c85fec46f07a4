"""Test videos made by ffmpeg's lavfi sources (a few seconds each, small frame rate: CPU is shared), and
course packages holding them. Tests that need ffmpeg skip with the reason when it is not installed."""

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.factories.packages import package_zip, sample_manifest

FFMPEG_MISSING = "ffmpeg/ffprobe are not installed (Debian package ffmpeg; .ci/run installs it)"
VIDEO_LESSON = "{key: gioi-thieu, title: Giới thiệu khóa học, video: media/gioi-thieu.mp4, required: true}"
SECONDS = 7  # two segments of the 6 s segment length
FPS = 8


def need_ffmpeg() -> None:
    if not (shutil.which("ffmpeg") and shutil.which("ffprobe")):
        pytest.skip(FFMPEG_MISSING)


def make_video(path: Path, width: int, height: int, *, seconds: float = SECONDS, fps: int = FPS,
               video_kbps: int = 4000, audio: bool = True) -> Path:
    """A test pattern with a tone, at a high bitrate like an admin's camera original."""
    command = ["ffmpeg", "-v", "error", "-y", "-f", "lavfi",
               "-i", f"testsrc2=size={width}x{height}:rate={fps}:duration={seconds}"]
    if audio:
        command += ["-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}", "-c:a", "aac", "-b:a", "128k"]
    command += ["-c:v", "libx264", "-preset", "ultrafast", "-b:v", f"{video_kbps}k", "-pix_fmt", "yuv420p",
                "-shortest", str(path)]
    subprocess.run(command, check=True, timeout=120)
    return path


@pytest.fixture(scope="session")
def videos(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A 1080p and a 480p source, made once per test run."""
    need_ffmpeg()
    folder = tmp_path_factory.mktemp("videos")
    return {"1080p": make_video(folder / "hd.mp4", 1920, 1080),
            "480p": make_video(folder / "sd.mp4", 854, 480, video_kbps=1500)}


def video_package(path: Path, video: Path, *, captions: dict[str, bytes] | None = None,
                  slug: str | None = None) -> Path:
    """The sample package with its video lesson's file replaced by `video`, and optional WebVTT tracks
    (`{language: bytes}`) stored as `media/gioi-thieu.<language>.vtt`."""
    manifest = sample_manifest()
    extra = {"media/gioi-thieu.mp4": video.read_bytes()}
    if captions:
        tracks = ", ".join(f"{lang}: media/gioi-thieu.{lang}.vtt" for lang in captions)
        manifest = manifest.replace(VIDEO_LESSON, VIDEO_LESSON[:-1] + f", captions: {{{tracks}}}}}")
        extra |= {f"media/gioi-thieu.{lang}.vtt": data for lang, data in captions.items()}
    if slug:
        manifest = manifest.replace("slug: ky-nang-so-co-ban", f"slug: {slug}")
    assert VIDEO_LESSON in sample_manifest()
    return package_zip(path, manifest=manifest, extra=extra)
