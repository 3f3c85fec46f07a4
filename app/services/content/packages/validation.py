"""The whole package checked before anything is written: manifest, referenced files, media, quizzes.

Blocking (file reads, media probing): run in a worker thread.
"""

import unicodedata
from dataclasses import dataclass, field

import yaml

from app.core.errors import FieldError
from app.core.i18n import messages
from app.models.course import LessonKind
from app.services.content.packages.archive import MANIFEST, Unpacked
from app.services.content.packages.gift import parse_gift
from app.services.content.packages.manifest import CourseSpec, ManifestReader
from app.services.content.packages.media import (
    DOCUMENT_TYPES,
    VIDEO_TYPES,
    MediaProblem,
    Probed,
    probe_document,
    probe_video,
)
from app.services.content.packages.problems import PackageInvalid, problem
from app.services.content.packages.yaml_problems import explain as explain_yaml_error

messages({
    "file_missing": ("Tệp “{path}” không có trong gói.", "The file “{path}” is not in the package."),
    "file_unreferenced": (
        "Tệp không được bài học nào dùng tới; hãy xóa khỏi gói hoặc khai báo trong course.yaml.",
        "No lesson uses this file; remove it from the package or reference it in course.yaml."),
    "quiz_draw_too_large": ("Rút {draw} câu nhưng “{gift}” chỉ có {pool} câu hỏi.",
                            "Draws {draw} questions but “{gift}” holds only {pool}."),
    "gift_too_large": ("Tệp GIFT lớn hơn {limit} byte.", "The GIFT file is larger than {limit} bytes."),
})

MANIFEST_MAX_BYTES = 1024 * 1024
GIFT_MAX_BYTES = 5 * 1024 * 1024
_ALLOWED = {LessonKind.video: VIDEO_TYPES, LessonKind.document: DOCUMENT_TYPES}


@dataclass
class PackagePlan:
    """A package that passed every check: the course to write and the files to store, with what they are."""

    course: CourseSpec
    unpacked: Unpacked
    files: dict[str, Probed] = field(default_factory=dict)  # stored assets by package path

    @property
    def total_bytes(self) -> int:
        return sum(self.unpacked.files[path] for path in self.files)


def _read_manifest(unpacked: Unpacked) -> tuple[CourseSpec | None, list[FieldError]]:
    """The manifest's course, or None when the file cannot be read as YAML at all."""
    path = unpacked.root / MANIFEST
    if path.stat().st_size > MANIFEST_MAX_BYTES:
        return None, [problem("manifest_too_large", MANIFEST, limit=MANIFEST_MAX_BYTES)]
    try:
        text = unicodedata.normalize("NFC", path.read_bytes().decode("utf-8-sig"))
    except UnicodeDecodeError:
        return None, [problem("manifest_not_utf8", MANIFEST)]
    loader = yaml.SafeLoader(text)
    try:
        root = loader.get_single_node()
        if root is None:
            return None, [problem("manifest_missing_field", MANIFEST, 1, name="format")]
        reader = ManifestReader(MANIFEST, loader)
        return reader.course(root), reader.errors
    except yaml.YAMLError as exc:
        return None, [explain_yaml_error(exc, text, MANIFEST)]
    finally:
        loader.dispose()


def _probe(kind: LessonKind, path: str, unpacked: Unpacked) -> Probed:
    target = unpacked.root / path
    return probe_video(target) if kind == LessonKind.video else probe_document(target)


def validate_package(unpacked: Unpacked) -> PackagePlan:
    """Every rule of format v1 at once; raises PackageInvalid with all problems (file and line each)."""
    course, errors = _read_manifest(unpacked)
    if course is None:  # nothing to check files against: the other findings would only be noise
        raise PackageInvalid(errors)
    plan = PackagePlan(course=course, unpacked=unpacked)
    referenced: set[str] = set()
    for lesson in course.lessons:
        if lesson.path is not None:
            referenced.add(lesson.path)
            allowed = _ALLOWED[lesson.kind]
            suffix = "." + lesson.path.rsplit(".", 1)[-1].lower() if "." in lesson.path else ""
            if suffix not in allowed:
                errors.append(problem("media_type_unsupported", MANIFEST, lesson.path_line, ext=suffix or "?",
                                      kind=lesson.kind.value, allowed=", ".join(sorted(allowed))))
            elif lesson.path not in unpacked.files:
                errors.append(problem("file_missing", MANIFEST, lesson.path_line, path=lesson.path))
            elif lesson.path not in plan.files:
                try:
                    plan.files[lesson.path] = _probe(lesson.kind, lesson.path, unpacked)
                except MediaProblem as bad:
                    errors.append(problem(bad.code, lesson.path, ext=suffix, kind=lesson.kind.value,
                                          allowed=", ".join(sorted(allowed))))
        quiz = lesson.quiz
        if quiz is None:
            continue
        referenced.add(quiz.gift)
        if quiz.gift not in unpacked.files:
            errors.append(problem("file_missing", MANIFEST, quiz.line, path=quiz.gift))
            continue
        if unpacked.files[quiz.gift] > GIFT_MAX_BYTES:
            errors.append(problem("gift_too_large", quiz.gift, limit=GIFT_MAX_BYTES))
            continue
        quiz.questions, gift_errors = parse_gift((unpacked.root / quiz.gift).read_bytes(), quiz.gift)
        errors.extend(gift_errors)
        if not gift_errors and quiz.draw and quiz.draw > len(quiz.questions):
            errors.append(problem("quiz_draw_too_large", MANIFEST, quiz.draw_line, draw=quiz.draw,
                                  gift=quiz.gift, pool=len(quiz.questions)))
    errors.extend(problem("file_unreferenced", path) for path in sorted(set(unpacked.files) - referenced))
    if errors:
        raise PackageInvalid(errors)
    return plan
