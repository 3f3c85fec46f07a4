"""`python -m bench.transcode`: what the video ladder costs on this machine.

Runs the worker's own transcode (app/services/video: one ffmpeg for the whole ladder, then the offline MP4
copied from the 360p rung) on a source video and reports ffmpeg's CPU time (user + system of the child
processes, from getrusage) per minute of video, the wall time, and each rendition's size against the source.

Without `--source`, it first makes a 1080p30 source with ffmpeg's lavfi: a moving test pattern with temporal
noise (like a camera's grain, which costs bits as real footage does) and a tone, encoded at 8 Mbps like an
admin's upload. Synthetic content: real lectures (a talking head, slides) usually compress better.

    .venv/bin/python -m bench.transcode [--seconds 60] [--threads 2] [--preset veryfast] [--source FILE]
    .venv/bin/python -m bench.transcode --signing   # CPU to sign one hour of segment URLs, S3 and local
"""

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from app.core.config import Settings
from app.core.s3 import S3Storage
from app.core.storage import LocalStorage
from app.services.video import ffmpeg
from app.services.video.ladder import DOWNLOAD_RUNG, frame_rate, output_size, probe, rungs_for


def make_source(path: Path, seconds: int) -> None:
    video = (f"testsrc2=size=1920x1080:rate=30:duration={seconds},"
             "noise=alls=12:allf=t+u,format=yuv420p")
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", video,
                    "-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}",
                    "-c:v", "libx264", "-preset", "veryfast", "-b:v", "8M", "-maxrate", "8M", "-bufsize", "16M",
                    "-c:a", "aac", "-b:a", "128k", "-shortest", str(path)], check=True)


async def measure(source_path: Path, work: Path, *, threads: int, preset: str) -> dict:
    source = probe("ffprobe", str(source_path))
    rungs = rungs_for(source)
    out = work / "out"
    command = ffmpeg.ladder_command("ffmpeg", source_path, source, rungs, out, threads=threads, preset=preset)
    cpu_before, started = ffmpeg.children_cpu_s(), time.perf_counter()
    await ffmpeg.run_ffmpeg(command, timeout_s=24 * 3600)
    ladder_cpu, ladder_wall = ffmpeg.children_cpu_s() - cpu_before, time.perf_counter() - started
    download = next((r for r in rungs if r.name == DOWNLOAD_RUNG), rungs[-1])
    cpu_before = ffmpeg.children_cpu_s()
    await ffmpeg.run_ffmpeg(ffmpeg.download_command("ffmpeg", out / download.name / "index.m3u8",
                                                    out / "download.mp4"), timeout_s=3600)
    download_cpu = ffmpeg.children_cpu_s() - cpu_before
    original = source_path.stat().st_size
    minutes = source.duration_s / 60
    renditions = []
    for rung in rungs:
        playlist = ffmpeg.read_playlist(out / rung.name / "index.m3u8")
        segments = playlist.segments
        size = sum((out / rung.name / name).stat().st_size for name in [playlist.init, *(s.name for s in segments)])
        renditions.append({"name": rung.name, "size": "x".join(map(str, output_size(rung, source))),
                           "bytes": size, "kbps": round(size * 8 / source.duration_s / 1000),
                           "of_original": round(size / original, 3), "segments": len(segments)})
    mp4 = (out / "download.mp4").stat().st_size
    return {
        "source": {"file": source_path.name, "width": source.width, "height": source.height,
                   "fps": frame_rate(source), "seconds": round(source.duration_s, 2), "bytes": original,
                   "kbps": round(original * 8 / source.duration_s / 1000)},
        "threads": threads, "preset": preset, "cpus": os.cpu_count(),
        "ladder_cpu_s": round(ladder_cpu, 1), "ladder_wall_s": round(ladder_wall, 1),
        "cpu_s_per_video_minute": round(ladder_cpu / minutes, 1),
        "wall_s_per_video_minute": round(ladder_wall / minutes, 1),
        "download_cpu_s": round(download_cpu, 2),
        "renditions": renditions,
        "download": {"rung": download.name, "bytes": mp4, "of_original": round(mp4 / original, 3)},
    }


async def signing_cost(segments: int = 600, rounds: int = 3) -> None:
    """CPU of signing a rendition playlist of an hour of 6 s segments, as `links.rendition` does: S3 presigning
    is local computation (boto3 SigV4), so no server is needed; the endpoint is never contacted."""
    settings = Settings(_env_file=None, storage="s3", s3_endpoint_url="http://127.0.0.1:9", s3_path_style=True,
                        s3_access_key_id="bench", s3_secret_access_key="bench")
    stores = {"s3": S3Storage(settings),
              "local": LocalStorage(Path(tempfile.gettempdir()), secret="b" * 32, base_url="http://127.0.0.1")}
    for name, store in stores.items():
        for _ in range(rounds):
            cpu = time.process_time()
            for i in range(segments):
                await store.presigned_get(f"videos/{'a' * 64}/h264-v1/360p/seg_{i:05d}.m4s", ttl_s=9000,
                                          content_type="video/mp4")
            print(f"{name}: {segments} segment URLs signed in {(time.process_time() - cpu) * 1000:.0f} ms CPU")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=60, help="length of the generated source")
    parser.add_argument("--threads", type=int, default=2, help="HOCSO_VIDEO_TRANSCODE_THREADS")
    parser.add_argument("--preset", default="veryfast", help="HOCSO_VIDEO_PRESET")
    parser.add_argument("--source", type=Path, help="a video file to measure instead of the generated one")
    parser.add_argument("--signing", action="store_true", help="measure playlist signing instead")
    args = parser.parse_args()
    if args.signing:
        asyncio.run(signing_cost())
        return
    if not shutil.which("ffmpeg"):
        raise SystemExit("ffmpeg is not installed (Debian package ffmpeg)")
    with tempfile.TemporaryDirectory(prefix="hocso-bench-video-") as tmp:
        work = Path(tmp)
        source = args.source
        if source is None:
            source = work / "source-1080p.mp4"
            make_source(source, args.seconds)
        result = asyncio.run(measure(source, work, threads=args.threads, preset=args.preset))
    print(json.dumps(result, indent=2))
    print(f"\nladder: {result['cpu_s_per_video_minute']} CPU-s and {result['wall_s_per_video_minute']} s "
          f"wall per minute of video ({args.threads} threads, {args.preset})")
    for r in result["renditions"]:
        print(f"  {r['name']:>5} {r['size']:>9} {r['kbps']:>5} kbps {r['bytes'] / 1e6:8.2f} MB "
              f"{r['of_original']:.1%} of the original")
    d = result["download"]
    print(f"  offline MP4 ({d['rung']}) {d['bytes'] / 1e6:.2f} MB = {d['of_original']:.1%} of the original "
          f"({result['source']['bytes'] / 1e6:.2f} MB, {result['source']['kbps']} kbps)")


if __name__ == "__main__":
    main()
