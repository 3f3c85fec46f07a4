"""Zip safety and unpacking. Every entry is checked before anything is extracted; extraction then streams each
member to disk in chunks and stops if a member inflates past the size its header declared.

These functions block (zip and file I/O): callers run them in a worker thread.
"""

import re
import stat
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from app.core.config import Settings
from app.core.errors import FieldError
from app.core.i18n import messages
from app.services.content.packages.problems import PackageInvalid, problem

messages({
    "zip_unreadable": ("Không đọc được tệp zip: {reason}.", "The zip file cannot be read: {reason}."),
    "zip_unsafe_path": ("Đường dẫn không an toàn trong gói (“..”, đường dẫn tuyệt đối, ổ đĩa hoặc dấu \\).",
                        "Unsafe path in the package (“..”, absolute or drive path, or a backslash)."),
    "zip_symlink": ("Gói không được chứa liên kết tượng trưng (symlink) hay tệp đặc biệt.",
                    "The package must not contain symbolic links or special files."),
    "zip_encrypted": ("Tệp trong gói được mã hóa; hãy nén lại không đặt mật khẩu.",
                      "The entry is encrypted; zip it again without a password."),
    "zip_duplicate": ("Tên tệp xuất hiện hai lần trong gói.", "The name appears twice in the package."),
    "zip_too_many_entries": ("Gói có {count} mục, vượt giới hạn {limit}.",
                             "The package has {count} entries, more than the limit of {limit}."),
    "zip_too_large": ("Dung lượng giải nén {size} byte vượt giới hạn {limit} byte.",
                      "The unpacked size of {size} bytes exceeds the limit of {limit} bytes."),
    "zip_ratio": ("Tỷ lệ nén {ratio}:1 vượt ngưỡng {limit}:1 (nghi ngờ bom zip).",
                  "Compression ratio {ratio}:1 exceeds {limit}:1 (suspected zip bomb)."),
    "zip_size_mismatch": ("Dữ liệu giải nén lớn hơn kích thước khai báo (nghi ngờ bom zip).",
                          "The entry inflates beyond its declared size (suspected zip bomb)."),
    "manifest_missing": (
        "Không nhận ra định dạng gói: cần course.yaml (gói khóa học HocSo) hoặc imsmanifest.xml (gói SCORM) ở "
        "gốc gói hoặc trong một thư mục gốc duy nhất.",
        "Unrecognised package: it needs course.yaml (a HocSo course package) or imsmanifest.xml (a SCORM "
        "package) at its root or inside one top-level folder."),
    "package_cmi5": ("Đây là gói cmi5 (cmi5.xml); HocSo chưa hỗ trợ gói cmi5.",
                     "This is a cmi5 package (cmi5.xml); cmi5 packages are not supported yet."),
    "package_aicc": ("Đây là gói AICC (tệp .crs/.au/.des); HocSo chưa hỗ trợ gói AICC.",
                     "This is an AICC package (.crs/.au/.des files); AICC packages are not supported yet."),
})

MANIFEST = "course.yaml"
SCORM_MANIFEST = "imsmanifest.xml"
_AICC = (".crs", ".au", ".des", ".cst")
CHUNK = 1024 * 1024
# Tiny files can compress extremely well (a repeated line) without threatening anything; the ratio rule
# guards against large expansions, so it applies to entries above this size and to the archive as a whole.
RATIO_FLOOR_BYTES = 1024 * 1024
# Operating-system litter that zip tools add; skipped, never extracted or reported as unreferenced.
_JUNK = re.compile(r"(^|/)(__MACOSX/.*|\.DS_Store|Thumbs\.db|desktop\.ini)$")
_DRIVE = re.compile(r"^[A-Za-z]:")
_ALLOWED_TYPES = (0, stat.S_IFREG, stat.S_IFDIR)


@dataclass
class Unpacked:
    """The extracted package: `root` holds course.yaml; `files` are the other paths, relative to it."""

    root: Path
    files: dict[str, int] = field(default_factory=dict)  # path -> size
    format: str = "hocso"  # or "scorm": imsmanifest.xml at the root (kept in `files`, and stored)


def _unsafe_name(name: str) -> bool:
    if "\\" in name or "\x00" in name or name.startswith("/") or _DRIVE.match(name):
        return True
    return any(part == ".." for part in PurePosixPath(name).parts)


def _is_link_or_special(info: zipfile.ZipInfo) -> bool:
    mode = info.external_attr >> 16
    return info.create_system == 3 and stat.S_IFMT(mode) not in _ALLOWED_TYPES


def check_archive(infos: list[zipfile.ZipInfo], settings: Settings) -> list[FieldError]:
    """Every unsafe entry and every broken limit, found without extracting a byte."""
    errors: list[FieldError] = []
    if len(infos) > settings.package_max_entries:
        errors.append(problem("zip_too_many_entries", "(zip)", count=len(infos),
                              limit=settings.package_max_entries))
    seen: set[str] = set()
    total, packed = 0, 0
    for info in infos:
        name = info.filename
        if _unsafe_name(name):
            errors.append(problem("zip_unsafe_path", name))
            continue
        if _is_link_or_special(info):
            errors.append(problem("zip_symlink", name))
        if info.flag_bits & 0x1:
            errors.append(problem("zip_encrypted", name))
        if name in seen:
            errors.append(problem("zip_duplicate", name))
        seen.add(name)
        total += info.file_size
        packed += info.compress_size
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > RATIO_FLOOR_BYTES and ratio > settings.package_max_ratio:
            errors.append(problem("zip_ratio", name, ratio=int(ratio), limit=settings.package_max_ratio))
    if total > settings.package_max_uncompressed_bytes:
        errors.append(problem("zip_too_large", "(zip)", size=total,
                              limit=settings.package_max_uncompressed_bytes))
    overall = total / max(packed, 1)
    if total > RATIO_FLOOR_BYTES and overall > settings.package_max_ratio:
        errors.append(problem("zip_ratio", "(zip)", ratio=int(overall), limit=settings.package_max_ratio))
    return errors


def _package_root(names: list[str]) -> tuple[str, str] | None:
    """('' or 'folder/', format): course.yaml (HocSo) or imsmanifest.xml (SCORM) at the root, or inside the one
    folder everything sits in (as when a folder is zipped). course.yaml wins when both are there."""
    tops = {name.split("/", 1)[0] for name in names}
    for prefix in ["", *(f"{top}/" for top in tops if len(tops) == 1)]:
        for manifest, kind in ((MANIFEST, "hocso"), (SCORM_MANIFEST, "scorm")):
            if prefix + manifest in names:
                return prefix, kind
    return None


def _other_format(names: list[str]) -> str | None:
    """The message naming a format HocSo recognises but does not import (cmi5, AICC), if the zip is one."""
    roots = {name.rsplit("/", 1)[-1].lower() for name in names if name.count("/") <= 1}
    if "cmi5.xml" in roots:
        return "package_cmi5"
    if any(name.endswith(_AICC) for name in roots):
        return "package_aicc"
    return None


def unpack(zip_path: Path, dest: Path, settings: Settings,
           on_bytes: Callable[[int, int], None] | None = None) -> Unpacked:
    """Check the archive, then extract its files under `dest`; raises PackageInvalid listing every problem.

    `on_bytes(done, total)` reports extraction progress.
    """
    try:
        archive = zipfile.ZipFile(zip_path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise PackageInvalid([problem("zip_unreadable", "(zip)", reason=str(exc))]) from exc
    with archive:
        infos = [i for i in archive.infolist() if not _JUNK.search(i.filename)]
        errors = check_archive(infos, settings)
        if errors:
            raise PackageInvalid(errors)
        files = [i for i in infos if not i.is_dir()]
        found = _package_root([i.filename for i in files])
        if found is None:
            other = _other_format([i.filename for i in files])
            raise PackageInvalid([problem(other, "(zip)") if other else problem("manifest_missing", "(zip)")])
        prefix, kind = found
        total = sum(i.file_size for i in files)
        done = 0
        unpacked = Unpacked(root=dest / prefix if prefix else dest, format=kind)
        for info in files:
            target = dest / info.filename
            target.parent.mkdir(parents=True, exist_ok=True)
            written = 0
            try:
                with archive.open(info) as src, target.open("wb") as dst:
                    while chunk := src.read(CHUNK):
                        written += len(chunk)
                        if written > info.file_size:
                            raise PackageInvalid([problem("zip_size_mismatch", info.filename)])
                        dst.write(chunk)
                        done += len(chunk)
                        if on_bytes:
                            on_bytes(done, total)
            except (zipfile.BadZipFile, zlib.error, OSError, EOFError) as exc:  # bad CRC, truncated data
                raise PackageInvalid([problem("zip_unreadable", info.filename, reason=str(exc))]) from exc
            relative = info.filename[len(prefix):]
            if relative != MANIFEST or kind != "hocso":
                unpacked.files[relative] = written
        return unpacked
