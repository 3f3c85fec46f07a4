"""Builders for course packages in tests: the sample package, variations of it, and hostile zips."""

import importlib.util
import struct
import uuid
import zipfile
from pathlib import Path

from app.core.db import Database
from app.core.storage import Storage
from app.models.course import ImportJob

ROOT = Path(__file__).resolve().parents[2]
SAMPLE_DIR = ROOT / "examples" / "ky-nang-so-co-ban"
SAMPLE_ZIP = ROOT / "examples" / "ky-nang-so-co-ban.zip"

_spec = importlib.util.spec_from_file_location("make_sample_package",
                                               ROOT / "examples" / "make_sample_package.py")
sample_maker = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(sample_maker)


def sample_files() -> dict[str, bytes]:
    """The sample package's files by path, to vary in a test."""
    return {p.relative_to(SAMPLE_DIR).as_posix(): p.read_bytes() for p in sorted(SAMPLE_DIR.rglob("*"))
            if p.is_file()}


def sample_manifest() -> str:
    return (SAMPLE_DIR / "course.yaml").read_text(encoding="utf-8")


def write_zip(path: Path, files: dict[str, bytes], *, compression: int = zipfile.ZIP_DEFLATED) -> Path:
    with zipfile.ZipFile(path, "w", compression=compression) as archive:
        for name, data in files.items():
            info = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            info.compress_type = compression
            archive.writestr(info, data)
    return path


def package_zip(path: Path, *, manifest: str | None = None, drop: tuple[str, ...] = (),
                extra: dict[str, bytes] | None = None, folder: str = "") -> Path:
    """The sample package with its manifest replaced, some files dropped or added, optionally in a folder."""
    files = sample_files()
    if manifest is not None:
        files["course.yaml"] = manifest.encode()
    for name in drop:
        files.pop(name)
    files.update(extra or {})
    return write_zip(path, {folder + name: data for name, data in files.items()})


def webm(duration_ms: float, *, scale: int = 1_000_000) -> bytes:
    """A minimal WebM: EBML header, then a Segment of unknown size with Info (TimecodeScale, Duration)."""
    def element(element_id: bytes, payload: bytes) -> bytes:
        return element_id + bytes([0x80 | len(payload)]) + payload if len(payload) < 127 else \
            element_id + b"\x40" + bytes([len(payload)]) + payload

    header = element(b"\x1a\x45\xdf\xa3", element(b"\x42\x82", b"webm") + element(b"\x42\x87", b"\x04"))
    info = element(b"\x15\x49\xa9\x66", element(b"\x2a\xd7\xb1", scale.to_bytes(3, "big"))
                   + element(b"\x44\x89", struct.pack(">d", duration_ms)))
    void = element(b"\xec", b"\0" * 20)  # something to seek past before Info
    return header + b"\x18\x53\x80\x67" + b"\x01\xff\xff\xff\xff\xff\xff\xff" + void + info


async def import_package(db: Database, storage: Storage, zip_path: Path, *,
                         publish: bool = False) -> ImportJob:
    """Upload a zip like the API does, then run the import job in-process; returns the finished job row."""
    from app.services.content.packages.importer import run_import

    key = f"uploads/{uuid.uuid4()}.zip"
    await storage.put_file(key, zip_path, "application/zip")
    async with db.session() as session:
        job = ImportJob(source_key=key, filename=zip_path.name, publish=publish)
        session.add(job)
    await run_import(db, storage, job.id)
    async with db.session() as session:
        return await session.get(ImportJob, job.id)
