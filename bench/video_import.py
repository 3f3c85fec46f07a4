"""The 1 GB video import: how much the server's memory grows while it receives and imports a package whose
video is 1 GB.

The package is a real one (course.yaml + an MP4 the importer probes with mutagen, written by the sample
package's own H.264 writer in examples/make_sample_package.py), zipped without compression. It is uploaded
through `POST /api/v1/admin/course-packages` as a streamed multipart body, and the server imports it with its
in-process job worker; the server's RSS is sampled every 50 ms from before the upload until the import ends.
"""

import asyncio
import importlib.util
import json
import time
import uuid
import zipfile
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from bench.context import bearer
from bench.driver import require_loopback
from bench.server import Server

ROOT = Path(__file__).resolve().parent.parent
SLUG = "bench-video-1gb"
MANIFEST = f"""format: hocso-course/1
slug: {SLUG}
title: Video dài 1 GB (đo bộ nhớ khi nhập)
description: Gói dùng để đo bộ nhớ của máy chủ khi nhập một video 1 GB.
language: vi
audiences: [citizen, official]
estimated_minutes: 60
modules:
  - title: Video
    lessons:
      - {{key: video-dai, title: Video dài, video: media/video-dai.mp4, required: true}}
"""
CHUNK = 1024 * 1024
BOUNDARY = "hocso-bench-" + uuid.uuid4().hex


@dataclass
class ImportMeasurement:
    video_bytes: int
    zip_bytes: int
    baseline_rss: int
    peak_rss: int
    seconds: float
    status: str
    detail: str

    @property
    def growth_mb(self) -> float:
        return (self.peak_rss - self.baseline_rss) / 1e6


def _sample_maker():  # noqa: ANN202
    spec = importlib.util.spec_from_file_location("make_sample_package", ROOT / "examples/make_sample_package.py")
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(module)
    return module


def build_package(work: Path, video_mb: int) -> tuple[Path, int]:
    """The package zip (built once per size and kept); returns its path and the video's size."""
    target = work / f"package-video-{video_mb}mb.zip"
    video = work / "package" / "media" / "video-dai.mp4"
    if target.exists() and video.exists():
        return target, video.stat().st_size
    maker = _sample_maker()
    video.parent.mkdir(parents=True, exist_ok=True)
    (work / "package" / "course.yaml").write_text(MANIFEST, encoding="utf-8")
    idr = maker._avcc_sample(maker.sps(), maker.pps(), maker.idr_picture(0, (40, 120, 200)))
    frames = [(idr, True)] * (video_mb * 1024 * 1024 // len(idr) + 1)
    maker.write_mp4(video, frames)
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_STORED) as archive:
        archive.write(work / "package" / "course.yaml", "course.yaml")
        archive.write(video, "media/video-dai.mp4")
    return target, video.stat().st_size


async def set_aside_queued_jobs(dsn: str) -> int:
    """Certificate jobs queued by the completion scenario would run first in the import server's worker (a
    PDF each, minutes for thousands): they are marked failed with a reason, so only the import is measured."""
    conn = await asyncpg.connect(dsn)
    try:
        done = await conn.execute("""
            UPDATE job SET status = 'failed', finished_at = now(),
                           error = 'set aside by the benchmark before measuring an import'
            WHERE status = 'queued'""")
        return int(done.split()[-1])
    finally:
        await conn.close()


async def _content_admin(dsn: str) -> uuid.UUID:
    """A content admin for the upload (created once; the bench signs its token like /auth/token would)."""
    conn = await asyncpg.connect(dsn)
    try:
        user_id = uuid.UUID("00000000-0000-4000-8000-00000000b0b0")
        await conn.execute("""
            INSERT INTO user_account (id, email, full_name, search_text, audience, role, is_active, created_at)
            VALUES ($1, 'bench-content-admin@example.vn', 'Quản trị nội dung (bench)', 'quan tri noi dung bench',
                    'official', 'content_admin', true, now())
            ON CONFLICT (id) DO NOTHING""", user_id)
        return user_id
    finally:
        await conn.close()


async def _upload(port: int, headers: tuple, package: Path) -> dict:
    """POST the package as multipart/form-data, streamed from disk 1 MB at a time."""
    require_loopback("127.0.0.1")
    head = (f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{package.name}\"\r\n"
            "Content-Type: application/zip\r\n\r\n").encode()
    tail = f"\r\n--{BOUNDARY}--\r\n".encode()
    length = len(head) + package.stat().st_size + len(tail)
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        lines = ["POST /api/v1/admin/course-packages HTTP/1.1", f"Host: 127.0.0.1:{port}",
                 f"Content-Type: multipart/form-data; boundary={BOUNDARY}", f"Content-Length: {length}",
                 *[f"{k}: {v}" for k, v in headers]]
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + head)
        with package.open("rb") as f:
            while chunk := f.read(CHUNK):
                writer.write(chunk)
                await writer.drain()
        writer.write(tail)
        await writer.drain()
        status_line = await reader.readline()
        response_headers = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").lower()
        size = int(response_headers.split("content-length:")[1].split("\r\n")[0])
        body = await reader.readexactly(size)
    finally:
        writer.close()
    if b" 202 " not in status_line:
        raise RuntimeError(f"upload answered {status_line!r}: {body[:500]!r}")
    return json.loads(body)


async def _poll(port: int, headers: tuple, import_id: str, timeout_s: float) -> dict:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            lines = [f"GET /api/v1/admin/imports/{import_id} HTTP/1.1", f"Host: 127.0.0.1:{port}",
                     "Connection: close", *[f"{k}: {v}" for k, v in headers]]
            writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
            raw = await reader.read()
        finally:
            writer.close()
        job = json.loads(raw.split(b"\r\n\r\n", 1)[1])
        if job["status"] in ("succeeded", "failed"):
            return job
        await asyncio.sleep(0.5)
    raise TimeoutError(f"import {import_id} did not finish within {timeout_s} s")


async def measure_import(server: Server, ctx_dsn: str, token_for, work: Path, video_mb: int = 1024,  # noqa: ANN001
                         timeout_s: float = 900) -> ImportMeasurement:
    """Upload and import the package once; RSS growth = peak during upload+import − RSS just before."""
    package, video_bytes = await asyncio.to_thread(build_package, work, video_mb)
    admin = await _content_admin(ctx_dsn)
    headers = bearer(token_for(admin, "content_admin"))
    await asyncio.sleep(1)  # let the previous load's garbage settle
    baseline = server.rss()
    peak = [baseline]
    stop = asyncio.Event()

    async def sample() -> None:
        while not stop.is_set():
            peak[0] = max(peak[0], server.rss())
            await asyncio.sleep(0.05)

    sampler = asyncio.create_task(sample())
    began = time.perf_counter()
    try:
        accepted = await _upload(server.port, headers, package)
        job = await _poll(server.port, headers, accepted["id"], timeout_s)
    finally:
        stop.set()
        await sampler
    detail = "; ".join(e.get("message", "") for e in job.get("errors", []))[:300]
    return ImportMeasurement(video_bytes, package.stat().st_size, baseline, peak[0],
                             time.perf_counter() - began, job["status"], detail)
