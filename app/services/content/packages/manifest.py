"""`course.yaml` (format `hocso-course/1`) read from PyYAML's node tree, so every problem carries its line.

The reader never stops at the first problem: it checks every field it can and reports them all.
"""

import re
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from app.core.errors import FieldError
from app.core.i18n import messages
from app.models.course import LessonKind
from app.services.content.packages.bank import QuestionSpec
from app.services.scorm.manifest import RULES

messages({
    "manifest_not_utf8": ("course.yaml phải được lưu bằng UTF-8.", "course.yaml must be saved as UTF-8."),
    "manifest_too_large": ("course.yaml lớn hơn {limit} byte.", "course.yaml is larger than {limit} bytes."),
    "manifest_format": ("“format” phải là “{expected}”.", "“format” must be “{expected}”."),
    "manifest_missing_field": ("Thiếu trường bắt buộc “{name}”.", "The required field “{name}” is missing."),
    "manifest_unknown_field": ("Trường “{name}” không được hỗ trợ.", "Unknown field “{name}”."),
    "manifest_duplicate_field": ("Trường “{name}” bị lặp lại.", "The field “{name}” appears twice."),
    "manifest_expected": ("“{name}” phải là {expected}.", "“{name}” must be {expected}."),
    "manifest_pattern": ("“{name}” không đúng dạng ({rule}).", "“{name}” has the wrong form ({rule})."),
    "manifest_range": ("“{name}” phải từ {minimum} đến {maximum}.",
                       "“{name}” must be from {minimum} to {maximum}."),
    "manifest_too_long": ("“{name}” dài quá {limit} ký tự.", "“{name}” is longer than {limit} characters."),
    "manifest_empty_list": ("“{name}” cần ít nhất một mục.", "“{name}” needs at least one item."),
    "manifest_audience": ("Đối tượng “{value}” không hợp lệ (citizen, official).",
                          "Unknown audience “{value}” (citizen, official)."),
    "manifest_quiz_bank": ("Bài kiểm tra cần đúng một trong: gift, moodle_xml.",
                           "A quiz needs exactly one of: gift, moodle_xml."),
    "manifest_lesson_kind": ("Bài học cần đúng một trong: video, document, text, quiz, scorm.",
                             "A lesson needs exactly one of: video, document, text, quiz, scorm."),
    "manifest_duplicate_key": ("Mã bài học “{key}” đã dùng ở dòng {first_line}.",
                               "Lesson key “{key}” is already used on line {first_line}."),
    "manifest_captions_not_video": ("Chỉ bài học video mới có phụ đề (“captions”).",
                                    "Only video lessons have captions (“captions”)."),
    "manifest_completion_not_scorm": ("Chỉ bài học SCORM mới có quy tắc hoàn thành (“completion”).",
                                      "Only SCORM lessons have a completion rule (“completion”)."),
    "manifest_bad_path": ("Đường dẫn “{path}” phải là đường dẫn tương đối trong gói, không có “..”.",
                          "Path “{path}” must be relative inside the package, without “..”."),
})

FORMAT = "hocso-course/1"
AUDIENCES = ("citizen", "official")
SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
LESSON_KEY = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
LANGUAGE = re.compile(r"^[a-z]{2,3}(?:-[A-Za-z0-9]{2,8})?$")
TITLE_MAX, KEY_MAX, SLUG_MAX = 300, 100, 100
_KINDS = ("video", "document", "text", "quiz", "scorm")
_RULE = re.compile(f"^({'|'.join(RULES)})$")
_COURSE_FIELDS = {"format": True, "slug": True, "title": True, "description": False, "language": False,
                  "audiences": True, "estimated_minutes": False, "certificate": False, "completion": False,
                  "modules": True}
_LESSON_FIELDS = {"key": True, "title": True, "required": False, "captions": False, "completion": False,
                  **{k: False for k in _KINDS}}
BANK_FORMATS = ("gift", "moodle_xml")  # a quiz's questions come from exactly one bank file
_QUIZ_FIELDS = {"gift": False, "moodle_xml": False, "pass_score": False, "max_attempts": False, "time_limit_s": False,
                "draw": False, "shuffle": False}


@dataclass
class QuizSpec:
    bank: str  # path of the question bank file
    line: int
    bank_format: str = "gift"  # one of BANK_FORMATS
    pass_score: float = 80
    max_attempts: int | None = None
    time_limit_s: int | None = None
    draw: int | None = None
    draw_line: int = 0
    shuffle: bool = True
    questions: list[QuestionSpec] = field(default_factory=list)


@dataclass
class LessonSpec:
    key: str
    title: str
    kind: LessonKind
    line: int
    required: bool = True
    text: str | None = None
    path: str | None = None  # video or document; for scorm, the package folder holding imsmanifest.xml
    path_line: int = 0
    quiz: QuizSpec | None = None
    scorm: Any = None  # services.scorm.manifest.ScoSpec of a SCORM lesson, once the package was read
    scorm_version: str | None = None
    scorm_folder: str = ""  # folder of imsmanifest.xml inside the package, "" or "modules/x/"
    completion: str | None = None  # scorm: the admin's completion rule, replacing the package's default
    captions: dict[str, tuple[str, int]] = field(default_factory=dict)  # language → (WebVTT path, line)


@dataclass
class ModuleSpec:
    title: str
    lessons: list[LessonSpec] = field(default_factory=list)


@dataclass
class CourseSpec:
    slug: str = ""
    title: str = ""
    description: str = ""
    language: str = "vi"
    audiences: list[str] = field(default_factory=lambda: list(AUDIENCES))
    estimated_minutes: int = 0
    certificate: bool = False
    video_coverage: float = 0.9
    modules: list[ModuleSpec] = field(default_factory=list)

    @property
    def lessons(self) -> list[LessonSpec]:
        return [lesson for module in self.modules for lesson in module.lessons]


def line_of(node: Node) -> int:
    return node.start_mark.line + 1


def clean_path(raw: str) -> str | None:
    """A package path as stored in the zip (`media/intro.mp4`), or None when it could escape the package."""
    path = raw.strip().removeprefix("./")
    path = path[:-1] if path.endswith("/") and len(path) > 1 else path  # a folder (scorm: modules/x/)
    if not path or "\\" in path or path.startswith("/") or re.match(r"^[A-Za-z]:", path):
        return None
    if any(part in ("", ".", "..") for part in path.split("/")):
        return None
    return path


class ManifestReader:
    """Turns the composed YAML tree into a CourseSpec, collecting every problem on the way."""

    def __init__(self, file: str, loader: yaml.SafeLoader) -> None:
        self.file, self.loader = file, loader
        self.errors: list[FieldError] = []

    def fail(self, code: str, node: Node, name: str | None = None, **params: Any) -> None:
        self.errors.append(FieldError(code, file=self.file, line=line_of(node), field=name or None, name=name,
                                      **params))

    def fields(self, node: Node, allowed: dict[str, bool], name: str) -> dict[str, Node] | None:
        if not isinstance(node, MappingNode):
            self.fail("manifest_expected", node, name, expected="mapping (key: value)")
            return None
        found: dict[str, Node] = {}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, ScalarNode) else None
            label = f"{name}.{key}" if name else str(key)
            if key in found:
                self.fail("manifest_duplicate_field", key_node, label)
            elif key not in allowed:
                self.fail("manifest_unknown_field", key_node, label)
            else:
                found[key] = value_node
        for key, required in allowed.items():
            if required and key not in found:
                self.fail("manifest_missing_field", node, f"{name}.{key}" if name else key)
        return found

    def scalar(self, node: Node, name: str, kinds: tuple[type, ...], expected: str,
               nullable: bool = False) -> Any:
        """The node's value if it has one of `kinds` (booleans never count as numbers), else an error."""
        if isinstance(node, ScalarNode):
            try:
                value = self.loader.construct_object(node, deep=True)
            except yaml.YAMLError:
                value = ...
            if value is None and nullable:
                return None
            if isinstance(value, kinds) and not (isinstance(value, bool) and bool not in kinds):
                return value
        self.fail("manifest_expected", node, name, expected=expected)
        return ...

    def text(self, node: Node, name: str, *, limit: int | None = None, pattern: re.Pattern | None = None,
             rule: str = "", allow_empty: bool = False) -> str | None:
        value = self.scalar(node, name, (str,), "text")
        if value is ...:
            return None
        value = value.strip()
        if not value and not allow_empty:
            self.fail("manifest_expected", node, name, expected="non-empty text")
        elif limit and len(value) > limit:
            self.fail("manifest_too_long", node, name, limit=limit)
        elif pattern and not pattern.match(value):
            self.fail("manifest_pattern", node, name, rule=rule)
        else:
            return value
        return None

    def number(self, node: Node, name: str, minimum: float, maximum: float, *, integer: bool,
               nullable: bool = False) -> Any:
        kinds = (int,) if integer else (int, float)
        value = self.scalar(node, name, kinds, "an integer" if integer else "a number", nullable)
        if value is None or value is ...:
            return value
        if not minimum <= value <= maximum:
            self.fail("manifest_range", node, name, minimum=minimum, maximum=maximum)
            return ...
        return value

    def course(self, root: Node) -> CourseSpec:
        spec = CourseSpec()
        found = self.fields(root, _COURSE_FIELDS, "")
        if found is None:
            return spec
        if "format" in found:
            value = self.scalar(found["format"], "format", (str,), "text")
            if value is not ... and value != FORMAT:
                self.fail("manifest_format", found["format"], "format", expected=FORMAT)
        readers = {
            "slug": lambda n: self.text(n, "slug", limit=SLUG_MAX, pattern=SLUG, rule="a-z, 0-9, -"),
            "title": lambda n: self.text(n, "title", limit=TITLE_MAX),
            "description": lambda n: self.text(n, "description", allow_empty=True),
            "language": lambda n: self.text(n, "language", limit=10, pattern=LANGUAGE, rule="vi, en, …"),
            "estimated_minutes": lambda n: self.number(n, "estimated_minutes", 0, 100_000, integer=True),
            "certificate": lambda n: self.scalar(n, "certificate", (bool,), "true or false"),
        }
        for name, read in readers.items():
            if name in found:
                value = read(found[name])
                if value is not None and value is not ...:
                    setattr(spec, name, value)
        if "audiences" in found:
            spec.audiences = self.audiences(found["audiences"])
        if "completion" in found:
            completion = self.fields(found["completion"], {"video_coverage": False}, "completion")
            if completion and "video_coverage" in completion:
                coverage = self.number(completion["video_coverage"], "completion.video_coverage", 0.01, 1,
                                       integer=False)
                if coverage is not ...:
                    spec.video_coverage = float(coverage)
        if "modules" in found:
            spec.modules = self.modules(found["modules"])
        self.check_unique_keys(spec)
        return spec

    def sequence(self, node: Node, name: str) -> list[Node]:
        if not isinstance(node, SequenceNode):
            self.fail("manifest_expected", node, name, expected="a list")
            return []
        if not node.value:
            self.fail("manifest_empty_list", node, name)
        return list(node.value)

    def audiences(self, node: Node) -> list[str]:
        chosen: list[str] = []
        for item in self.sequence(node, "audiences"):
            value = self.scalar(item, "audiences", (str,), "text")
            if value is ...:
                continue
            if value not in AUDIENCES:
                self.fail("manifest_audience", item, "audiences", value=value)
            elif value not in chosen:
                chosen.append(value)
        return chosen

    def modules(self, node: Node) -> list[ModuleSpec]:
        modules = []
        for m, item in enumerate(self.sequence(node, "modules")):
            name = f"modules[{m}]"
            found = self.fields(item, {"title": True, "lessons": True}, name)
            if found is None:
                continue
            module = ModuleSpec(title=self.text(found["title"], f"{name}.title", limit=TITLE_MAX) or ""
                                if "title" in found else "")
            if "lessons" in found:
                for n, lesson_node in enumerate(self.sequence(found["lessons"], f"{name}.lessons")):
                    if (lesson := self.lesson(lesson_node, f"{name}.lessons[{n}]")) is not None:
                        module.lessons.append(lesson)
            modules.append(module)
        return modules

    def lesson(self, node: Node, name: str) -> LessonSpec | None:
        found = self.fields(node, _LESSON_FIELDS, name)
        if found is None:
            return None
        kinds = [k for k in _KINDS if k in found]
        if len(kinds) != 1:
            self.fail("manifest_lesson_kind", node, name)
        key = self.text(found["key"], f"{name}.key", limit=KEY_MAX, pattern=LESSON_KEY,
                        rule="a-z, 0-9, -, _") if "key" in found else None
        title = self.text(found["title"], f"{name}.title", limit=TITLE_MAX) if "title" in found else None
        required = True
        if "required" in found:
            value = self.scalar(found["required"], f"{name}.required", (bool,), "true or false")
            required = True if value is ... else value
        if key is None or title is None or len(kinds) != 1:
            return None
        kind = kinds[0]
        lesson = LessonSpec(key=key, title=title, kind=LessonKind(kind), line=line_of(node),
                            required=required)
        target = found[kind]
        if kind == "text":
            lesson.text = self.text(target, f"{name}.text")
        elif kind in ("video", "document", "scorm"):
            lesson.path, lesson.path_line = self.path(target, f"{name}.{kind}"), line_of(target)
            if kind == "scorm" and lesson.path:
                lesson.path = lesson.path.rstrip("/")
        else:
            lesson.quiz = self.quiz(target, f"{name}.quiz")
        if "completion" in found:
            if kind == "scorm":
                lesson.completion = self.text(found["completion"], f"{name}.completion", pattern=_RULE,
                                              rule=", ".join(RULES))
            else:
                self.fail("manifest_completion_not_scorm", found["completion"], f"{name}.completion")
        if "captions" in found:
            if kind == "video":
                lesson.captions = self.captions(found["captions"], f"{name}.captions")
            else:
                self.fail("manifest_captions_not_video", found["captions"], f"{name}.captions")
        if lesson.text is None and lesson.path is None and lesson.quiz is None:
            return None
        return lesson

    def path(self, node: Node, name: str) -> str | None:
        raw = self.text(node, name)
        if raw is None:
            return None
        path = clean_path(raw)
        if path is None:
            self.fail("manifest_bad_path", node, name, path=raw)
        return path

    def captions(self, node: Node, name: str) -> dict[str, tuple[str, int]]:
        """`{vi: media/bai-1.vi.vtt, en: …}`: one WebVTT file per language."""
        if not isinstance(node, MappingNode):
            self.fail("manifest_expected", node, name, expected="mapping (language: file)")
            return {}
        tracks: dict[str, tuple[str, int]] = {}
        for key_node, value_node in node.value:
            language = key_node.value if isinstance(key_node, ScalarNode) else ""
            label = f"{name}.{language}"
            if not LANGUAGE.match(language):
                self.fail("manifest_pattern", key_node, label, rule="vi, en, …")
            elif language in tracks:
                self.fail("manifest_duplicate_field", key_node, label)
            elif (path := self.path(value_node, label)) is not None:
                tracks[language] = path, line_of(value_node)
        return tracks

    def quiz(self, node: Node, name: str) -> QuizSpec | None:
        found = self.fields(node, _QUIZ_FIELDS, name)
        if found is None:
            return None
        banks = [key for key in BANK_FORMATS if key in found]
        if len(banks) != 1:
            self.fail("manifest_quiz_bank", node, name)
            return None
        bank = self.path(found[banks[0]], f"{name}.{banks[0]}")
        if bank is None:
            return None
        quiz = QuizSpec(bank=bank, line=line_of(found[banks[0]]), bank_format=banks[0])
        limits = {"pass_score": (0, 100, False), "max_attempts": (1, 1000, True),
                  "time_limit_s": (1, 7 * 24 * 3600, True), "draw": (1, 10_000, True)}
        for key, (low, high, integer) in limits.items():
            if key in found:
                value = self.number(found[key], f"{name}.{key}", low, high, integer=integer,
                                    nullable=key != "pass_score")
                if value is not ...:
                    setattr(quiz, key, value)
        if "draw" in found:
            quiz.draw_line = line_of(found["draw"])
        if "shuffle" in found:
            value = self.scalar(found["shuffle"], f"{name}.shuffle", (bool,), "true or false")
            quiz.shuffle = True if value is ... else value
        return quiz

    def check_unique_keys(self, spec: CourseSpec) -> None:
        first: dict[str, int] = {}
        for lesson in spec.lessons:
            if lesson.key in first:
                self.errors.append(FieldError("manifest_duplicate_key", file=self.file, line=lesson.line,
                                              key=lesson.key, first_line=first[lesson.key]))
            else:
                first[lesson.key] = lesson.line
