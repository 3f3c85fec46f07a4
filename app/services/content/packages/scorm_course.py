"""SCORM packages as courses: a zip with `imsmanifest.xml` at its root becomes a course of `scorm` lessons, and a
`scorm:` lesson of course.yaml brings a SCORM package folder, or a SCORM zip inside the package, into a HocSo
course (the inner zip unpacked by the same checked `unpack` as the package, within what is left of its limits).

The manifest is read by the SCORM domain (`services.scorm.manifest`); what SCORM does not carry (slug,
audiences, language, certificate, estimated minutes) comes from the import options. Every file of a SCORM
package is stored (content pages load scripts, images and media the manifest need not list).
Blocking (file reads): run in a worker thread, like the rest of validation.
"""

import re
from pathlib import PurePosixPath

from app.core.config import Settings
from app.core.errors import FieldError
from app.core.i18n import messages
from app.core.text import search_key
from app.models.course import ImportOptions, LessonKind
from app.services.content.packages.archive import Unpacked, unpack
from app.services.content.packages.manifest import CourseSpec, LessonSpec, ModuleSpec
from app.services.content.packages.media import Probed
from app.services.content.packages.problems import PackageInvalid, problem
from app.services.scorm.content import content_type
from app.services.scorm.manifest import MANIFEST, ManifestInvalid, ScormManifest, read_manifest

messages({
    "scorm_manifest_too_large": ("imsmanifest.xml lớn hơn {limit} byte.",
                                 "imsmanifest.xml is larger than {limit} bytes."),
    "scorm_folder_missing": ("Thư mục “{path}” không có imsmanifest.xml.",
                             "The folder “{path}” holds no imsmanifest.xml."),
    "scorm_zip_not_scorm": ("Tệp zip “{path}” không phải gói SCORM (không có imsmanifest.xml ở gốc).",
                            "The zip “{path}” is not a SCORM package (no imsmanifest.xml at its root)."),
    "scorm_zip_folder_taken": ("Không giải nén được “{path}”: thư mục “{folder}” đã có trong gói.",
                               "“{path}” cannot be unpacked: the folder “{folder}” is already in the package."),
    "scorm_slug_needed": ("Không tạo được mã khóa học từ tiêu đề; hãy nhập tham số slug.",
                          "No course slug can be made from the title; give the slug import option."),
})

MANIFEST_MAX_BYTES = 4 * 1024 * 1024
SLUG_MAX = 100
def slug_from_title(title: str) -> str:
    """`Kỹ năng số cơ bản` → `ky-nang-so-co-ban` (Vietnamese folded, đ → d), at most 100 characters."""
    slug = re.sub(r"[^a-z0-9]+", "-", search_key(title)).strip("-")
    return slug[:SLUG_MAX].rstrip("-")


def read_package_manifest(unpacked: Unpacked, folder: str = "") -> ScormManifest:
    """The SCORM manifest in `folder` ("" or "modules/x/") of the package; PackageInvalid with every problem."""
    name = folder + MANIFEST
    path = unpacked.root / name
    if name not in unpacked.files:
        raise PackageInvalid([problem("scorm_folder_missing", folder.rstrip("/") or "(zip)", path=folder)])
    if path.stat().st_size > MANIFEST_MAX_BYTES:
        raise PackageInvalid([problem("scorm_manifest_too_large", name, limit=MANIFEST_MAX_BYTES)])
    inside = {p[len(folder):] for p in unpacked.files if p.startswith(folder)}
    try:
        return read_manifest(path.read_bytes(), inside, file=name)
    except ManifestInvalid as bad:
        raise PackageInvalid(bad.errors) from None


def _lesson(sco, manifest: ScormManifest, folder: str, key: str | None = None, title: str | None = None,  # noqa: ANN001
            required: bool = True, completion: str | None = None) -> LessonSpec:
    if completion:  # the admin's rule (course.yaml or the import option) replaces the package's default
        sco.completion_rule = completion
    return LessonSpec(key=key or sco.key, title=title or sco.title, kind=LessonKind.scorm, line=sco.line,
                      required=required, scorm=sco, scorm_version=manifest.version, scorm_folder=folder)


def package_files(unpacked: Unpacked, folder: str = "") -> dict[str, Probed]:
    """Every file under `folder`, with the content type it is served with."""
    return {path: Probed(content_type=content_type(path)) for path in unpacked.files if path.startswith(folder)}


def scorm_course(unpacked: Unpacked, options: ImportOptions) -> tuple[CourseSpec, dict[str, Probed],
                                                                      list[FieldError]]:
    """A SCORM zip as a course spec, the files to store, and the notices of what was ignored or assumed."""
    manifest = read_package_manifest(unpacked)
    slug = options.slug or slug_from_title(manifest.title)
    if not slug:
        raise PackageInvalid([problem("scorm_slug_needed", MANIFEST)])
    course = CourseSpec(slug=slug, title=manifest.title, description=manifest.description,
                        language=options.language, audiences=list(options.audiences),
                        estimated_minutes=options.estimated_minutes, certificate=options.certificate)
    course.modules = [ModuleSpec(title=module.title, lessons=[
        _lesson(sco, manifest, "", completion=options.completion) for sco in module.scos])
        for module in manifest.modules]
    return course, package_files(unpacked), manifest.notices


def _unpack_inner_zip(unpacked: Unpacked, path: str, settings: Settings) -> str:
    """A SCORM zip named by course.yaml, unpacked beside itself (`modules/x.zip` → `modules/x/`) with the archive
    rules of packages and the size and entry budget the outer package left; returns the folder holding its
    imsmanifest.xml. Problems name the inner entry as `modules/x.zip › entry`."""
    del unpacked.files[path]  # the lesson's, whatever comes of it: its files are stored, never the zip itself
    folder = str(PurePosixPath(path).with_suffix("")) + "/"
    if any(name.startswith(folder) for name in unpacked.files):
        raise PackageInvalid([problem("scorm_zip_folder_taken", path, path=path, folder=folder)])
    left = settings.model_copy(update={
        "package_max_uncompressed_bytes": max(0, settings.package_max_uncompressed_bytes - sum(
            unpacked.files.values())),
        "package_max_entries": max(0, settings.package_max_entries - len(unpacked.files))})
    try:
        inner = unpack(unpacked.root / path, unpacked.root / folder, left)
    except PackageInvalid as bad:
        raise PackageInvalid([FieldError(e["message"], file=f"{path} › {e.get('file', '(zip)')}"[:300],
                                         line=e.get("line"), **e.params) for e in bad.errors]) from None
    if inner.format != "scorm":
        raise PackageInvalid([problem("scorm_zip_not_scorm", path, path=path)])
    folder = inner.root.relative_to(unpacked.root).as_posix() + "/"  # the inner zip's one top folder, if any
    unpacked.files.update({folder + name: size for name, size in inner.files.items()})
    return folder


def expand_scorm_lessons(course: CourseSpec, unpacked: Unpacked, settings: Settings) -> tuple[
        dict[str, Probed], list[FieldError], list[FieldError]]:
    """course.yaml's `scorm:` lessons read from their folders or zips: a one-SCO package stays the lesson as
    written; a package of several SCOs becomes one lesson per SCO (`key--sco-key`, "Title: SCO title") in its
    place. Returns the files to store, problems, and notices."""
    files: dict[str, Probed] = {}
    errors: list[FieldError] = []
    notices: list[FieldError] = []
    for module in course.modules:
        expanded: list[LessonSpec] = []
        for lesson in module.lessons:
            if lesson.kind != LessonKind.scorm or lesson.path is None:
                expanded.append(lesson)
                continue
            folder = lesson.path + "/"
            try:
                if lesson.path.lower().endswith(".zip") and lesson.path in unpacked.files:
                    folder = _unpack_inner_zip(unpacked, lesson.path, settings)
                files.update(package_files(unpacked, folder))  # the folder's files are the lesson's, never litter
                manifest = read_package_manifest(unpacked, folder)
            except PackageInvalid as bad:
                errors.extend(bad.errors)
                continue
            notices.extend(manifest.notices)
            scos = manifest.scos
            if len(scos) == 1:
                expanded.append(_lesson(scos[0], manifest, folder, lesson.key, lesson.title, lesson.required,
                                        lesson.completion))
            else:
                expanded += [_lesson(sco, manifest, folder, f"{lesson.key}--{sco.key}"[:100],
                                     f"{lesson.title}: {sco.title}"[:300], lesson.required, lesson.completion)
                             for sco in scos]
        module.lessons = expanded
    return files, errors, notices
