"""The whole package checked before anything is written: manifest, referenced files, media, quizzes.

Blocking (file reads, media probing): run in a worker thread.
"""

import unicodedata
from dataclasses import dataclass, field

import yaml

from app.core.config import Settings
from app.core.errors import FieldError
from app.core.i18n import messages
from app.models.course import ImportOptions, LessonKind
from app.services.content.packages.archive import MANIFEST, Unpacked
from app.services.content.packages.bank import drawable_count, graded_count
from app.services.content.packages.gift import parse_gift
from app.services.content.packages.manifest import CourseSpec, LessonSpec, ManifestReader, QuizSpec
from app.services.content.packages.media import (
    DOCUMENT_TYPES,
    VIDEO_TYPES,
    MediaProblem,
    Probed,
    probe_document,
    probe_video,
)
from app.services.content.packages.moodle_xml import parse_moodle_xml
from app.services.content.packages.problems import PackageInvalid, problem
from app.services.content.packages.scorm_course import expand_scorm_lessons, scorm_course
from app.services.content.packages.yaml_problems import explain as explain_yaml_error
from app.services.video.captions import check_webvtt

messages({
    "file_missing": ("Tệp “{path}” không có trong gói.", "The file “{path}” is not in the package."),
    "file_unreferenced": (
        "Tệp không được bài học nào dùng tới; hãy xóa khỏi gói hoặc khai báo trong course.yaml.",
        "No lesson uses this file; remove it from the package or reference it in course.yaml."),
    "quiz_draw_too_large": ("Rút {draw} câu nhưng “{gift}” chỉ có {pool} câu hỏi.",
                            "Draws {draw} questions but “{gift}” holds only {pool}."),
    "bank_too_large": ("Tệp câu hỏi lớn hơn {limit} byte.", "The question bank is larger than {limit} bytes."),
})

CAPTION_TYPE = "text/vtt"
MANIFEST_MAX_BYTES = 1024 * 1024
GIFT_MAX_BYTES = 5 * 1024 * 1024
MOODLE_XML_MAX_BYTES = 50 * 1024 * 1024  # base64 images make Moodle exports large; parsed in memory, in a thread
_ALLOWED = {LessonKind.video: VIDEO_TYPES, LessonKind.document: DOCUMENT_TYPES}


@dataclass
class PackagePlan:
    """A package that passed every check: the course to write and the files to store, with what they are."""

    course: CourseSpec
    unpacked: Unpacked
    files: dict[str, Probed] = field(default_factory=dict)  # stored assets by package path
    notices: list[FieldError] = field(default_factory=list)  # ignored or assumed (SCORM sequencing, …)
    storage_prefix: str = ""  # set by the importer: where this version's files are stored

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


def _pool_problems(quiz: QuizSpec) -> list[FieldError]:
    """The questions drawn per attempt must exist, and every attempt must hold a graded question (essays and
    descriptions are not graded)."""
    pool, graded = drawable_count(quiz.questions), graded_count(quiz.questions)
    if quiz.draw and quiz.draw > pool:
        return [problem("quiz_draw_too_large", MANIFEST, quiz.draw_line, draw=quiz.draw, gift=quiz.bank,
                        pool=pool)]
    if not graded:
        return [problem("bank_nothing_graded", quiz.bank)]
    if quiz.draw and pool - graded >= quiz.draw:
        return [problem("bank_draw_essays", MANIFEST, quiz.draw_line, draw=quiz.draw, graded=graded)]
    return []


def _read_bank(quiz: QuizSpec, plan: PackagePlan, referenced: set[str]) -> list[FieldError]:
    """The quiz's questions from its GIFT or Moodle XML file. Images a Moodle XML bank embeds are written
    next to the unpacked files and planned for storing like any other asset."""
    unpacked = plan.unpacked
    if quiz.bank not in unpacked.files:
        return [problem("file_missing", MANIFEST, quiz.line, path=quiz.bank)]
    limit = GIFT_MAX_BYTES if quiz.bank_format == "gift" else MOODLE_XML_MAX_BYTES
    if unpacked.files[quiz.bank] > limit:
        return [problem("bank_too_large", quiz.bank, limit=limit)]
    data = (unpacked.root / quiz.bank).read_bytes()
    if quiz.bank_format == "gift":
        quiz.questions, errors = parse_gift(data, quiz.bank)
    else:
        quiz.questions, embedded, errors = parse_moodle_xml(data, quiz.bank)
        for image in [] if errors else embedded:
            target = unpacked.root / image.path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(image.data)
            unpacked.files[image.path] = len(image.data)
            plan.files[image.path] = Probed(content_type=image.content_type)
            referenced.add(image.path)
    return errors or _pool_problems(quiz)


def _check_captions(lesson: LessonSpec, plan: PackagePlan, referenced: set[str]) -> list[FieldError]:
    """Each WebVTT track: a `.vtt` file in the package, valid WebVTT, every cue inside the video."""
    errors: list[FieldError] = []
    video = plan.files.get(lesson.path) if lesson.path else None
    for path, line in lesson.captions.values():
        referenced.add(path)
        if not path.lower().endswith(".vtt"):
            errors.append(problem("media_type_unsupported", MANIFEST, line, ext="." + path.rsplit(".", 1)[-1]
                                  if "." in path else "?", kind="captions", allowed=".vtt"))
        elif path not in plan.unpacked.files:
            errors.append(problem("file_missing", MANIFEST, line, path=path))
        else:
            _, found = check_webvtt((plan.unpacked.root / path).read_bytes(), path,
                                    video.duration_s if video else None)
            errors.extend(found)
            plan.files.setdefault(path, Probed(CAPTION_TYPE))
    return errors


def validate_package(unpacked: Unpacked, settings: Settings, options: ImportOptions | None = None) -> PackagePlan:
    """Every rule of format v1 (or of a SCORM package) at once; raises PackageInvalid with all problems (file
    and line each). `settings` hold the archive limits a SCORM zip inside the package is unpacked within;
    `options` give a SCORM package what it does not say itself (slug, audiences, …)."""
    if unpacked.format == "scorm":
        course, files, notices = scorm_course(unpacked, options or ImportOptions())
        return PackagePlan(course=course, unpacked=unpacked, files=files, notices=notices)
    course, errors = _read_manifest(unpacked)
    if course is None:  # nothing to check files against: the other findings would only be noise
        raise PackageInvalid(errors)
    scorm_files, scorm_errors, notices = expand_scorm_lessons(course, unpacked, settings)
    errors.extend(scorm_errors)
    plan = PackagePlan(course=course, unpacked=unpacked, files=scorm_files, notices=notices)
    referenced: set[str] = set(scorm_files)
    for lesson in course.lessons:
        if lesson.path is not None and lesson.kind != LessonKind.scorm:
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
        errors.extend(_check_captions(lesson, plan, referenced))
        if lesson.quiz is not None:
            referenced.add(lesson.quiz.bank)
            errors.extend(_read_bank(lesson.quiz, plan, referenced))
    errors.extend(problem("file_unreferenced", path) for path in sorted(set(unpacked.files) - referenced))
    if errors:
        raise PackageInvalid(errors)
    return plan
