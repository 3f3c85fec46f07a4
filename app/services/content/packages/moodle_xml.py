"""Moodle XML question banks (Moodle's "Moodle XML format" export), read with a hardened parser.

Supported question types: multichoice (single and multiple), truefalse, shortanswer, numerical, matching,
essay, description, and category entries (the category of the questions after them). Any other type
(calculated, cloze/multianswer, drag-and-drop, gapselect, ordering, random …) is refused by name with the
question's name and line. Parsing goes through defusedxml: a DOCTYPE that declares entities (the "billion
laughs" bomb, external entities reading local files or URLs) is refused before anything is expanded.

Texts become HTML (Moodle exports HTML; plain and markdown texts are converted) sanitised by nh3; typed
answers (short answer, numerical) and matching right sides stay plain text. Images embedded as base64
`<file>` elements become course assets under `<bank path>.files/` (content-addressed, so a picture used twice
is stored once) and the texts' `@@PLUGINFILE@@/name` references point at them; learners get signed URLs.
"""

import base64
import binascii
import hashlib
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from urllib.parse import unquote

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import DefusedXMLParser

from app.core.errors import FieldError
from app.core.html import plain_text, render_text
from app.core.i18n import messages
from app.models.quiz import BLANK, QuestionKind, TextFormat
from app.services.content.packages.bank import ChoiceSpec, QuestionSpec, clean_texts, rule_broken
from app.services.content.packages.gift_answers import FALSE_TEXT, TRUE_TEXT
from app.services.content.packages.problems import problem

_Q_VI, _Q_EN = "Câu hỏi “{title}”: ", "Question “{title}”: "
messages({
    "moodle_xml_syntax": ("XML không hợp lệ (cột {column} của dòng báo lỗi).",
                          "The XML is not well-formed (column {column} of the line given)."),
    "moodle_xml_entities": (
        "Tệp Moodle XML khai báo thực thể (DOCTYPE/ENTITY); vì an toàn, HocSo không đọc tệp này. Hãy xuất lại "
        "từ Moodle.",
        "The Moodle XML file declares entities (DOCTYPE/ENTITY); for safety HocSo does not read it. Export it "
        "again from Moodle."),
    "moodle_xml_not_quiz": ("Tệp không phải Moodle XML: phần tử gốc phải là <quiz>.",
                            "Not a Moodle XML file: the root element must be <quiz>."),
    "moodle_xml_empty": ("Tệp Moodle XML không có câu hỏi nào.", "The Moodle XML file has no questions."),
    "moodle_xml_unsupported_type": (
        _Q_VI + "dạng “{type}” không được hỗ trợ (hỗ trợ: multichoice, truefalse, shortanswer, numerical, "
        "matching, essay, description).",
        _Q_EN + "the “{type}” type is not supported (multichoice, truefalse, shortanswer, numerical, matching, "
                "essay and description are)."),
    "moodle_xml_bad_number": (_Q_VI + "“{value}” trong <{element}> không phải là số.",
                              _Q_EN + "“{value}” in <{element}> is not a number."),
    "moodle_xml_file_type": (
        _Q_VI + "tệp nhúng “{name}” không phải ảnh PNG, JPEG, GIF hoặc WebP.",
        _Q_EN + "the embedded file “{name}” is not a PNG, JPEG, GIF or WebP image."),
    "moodle_xml_file_too_large": (_Q_VI + "tệp nhúng “{name}” lớn hơn {limit} byte.",
                                  _Q_EN + "the embedded file “{name}” is larger than {limit} bytes."),
    "moodle_xml_file_missing": (_Q_VI + "nội dung dùng tệp “{name}” nhưng câu hỏi không nhúng tệp đó.",
                                _Q_EN + "the text uses the file “{name}”, which the question does not embed."),
})

FILE_MAX_BYTES = 5 * 1024 * 1024
SUPPORTED = {"multichoice", "truefalse", "shortanswer", "numerical", "matching", "essay", "description"}
_PLUGINFILE = re.compile(r"@@PLUGINFILE@@/([^\"'<>\s?#]+)")
_IMAGES = ((b"\x89PNG\r\n\x1a\n", "png", "image/png"), (b"\xff\xd8\xff", "jpg", "image/jpeg"),
           (b"GIF87a", "gif", "image/gif"), (b"GIF89a", "gif", "image/gif"))
_SOURCE_FORMATS = {"html": "html", "markdown": "markdown"}  # moodle_auto_format, plain_text: plain


@dataclass
class EmbeddedFile:
    """An image embedded in the bank, to be stored as a course asset at `path`."""

    path: str
    data: bytes
    content_type: str


class _Refused(Exception):
    def __init__(self, code: str, line: int | None, **params: object) -> None:
        super().__init__(code)
        self.code, self.line, self.params = code, line, params


class _LineBuilder(ET.TreeBuilder):
    """Remembers the line each element starts on (ElementTree does not), for error messages."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: dict[int, int] = {}
        self.parser: DefusedXMLParser | None = None

    def start(self, tag: str, attrs: dict[str, str]) -> ET.Element:
        element = super().start(tag, attrs)
        self.lines[id(element)] = self.parser.parser.CurrentLineNumber
        return element


def _parse(data: bytes) -> tuple[ET.Element, dict[int, int]]:
    builder = _LineBuilder()
    parser = DefusedXMLParser(target=builder, forbid_dtd=False, forbid_entities=True, forbid_external=True)
    builder.parser = parser
    try:
        parser.feed(data)
        root = parser.close()
    except DefusedXmlException:
        raise _Refused("moodle_xml_entities", parser.parser.CurrentLineNumber) from None
    except ET.ParseError as exc:
        line, column = exc.position
        raise _Refused("moodle_xml_syntax", line, column=column + 1) from None
    if root.tag != "quiz":
        raise _Refused("moodle_xml_not_quiz", 1)
    return root, builder.lines


def _image_type(data: bytes) -> tuple[str, str] | None:
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp", "image/webp"
    return next(((ext, kind) for magic, ext, kind in _IMAGES if data.startswith(magic)), None)


class _Question:
    """One <question> element being read: its texts, files and numbers, each problem naming it."""

    def __init__(self, element: ET.Element, line: int, bank_path: str,
                 files: dict[str, EmbeddedFile]) -> None:
        self.element, self.line, self.bank_path, self.files = element, line, bank_path, files
        self.title = (element.findtext("name/text") or "").strip() or None
        self.own: dict[str, str] = {}  # embedded file name → asset path

    def fail(self, code: str, **params: object) -> _Refused:
        return _Refused(code, self.line, **params)

    def embed(self) -> None:
        for node in self.element.iter("file"):
            name = (node.get("name") or "").strip()
            try:
                data = base64.b64decode("".join((node.text or "").split()), validate=True)
            except (binascii.Error, ValueError):
                raise self.fail("moodle_xml_file_type", name=name) from None
            if len(data) > FILE_MAX_BYTES:
                raise self.fail("moodle_xml_file_too_large", name=name, limit=FILE_MAX_BYTES)
            kind = _image_type(data)
            if kind is None:
                raise self.fail("moodle_xml_file_type", name=name)
            path = f"{self.bank_path}.files/{hashlib.sha256(data).hexdigest()[:32]}.{kind[0]}"
            self.files.setdefault(path, EmbeddedFile(path, data, kind[1]))
            self.own[name] = path

    def html(self, node: ET.Element | None) -> str:
        """The node's <text> as sanitised HTML, its file references pointing at the stored assets."""
        if node is None:
            return ""
        text = (node.findtext("text") or "").replace(BLANK, "")
        rendered = render_text(text, _SOURCE_FORMATS.get(node.get("format", "html"), "plain"))

        def point(match: re.Match) -> str:
            name = unquote(match.group(1))
            if name not in self.own:
                raise self.fail("moodle_xml_file_missing", name=name)
            return "@@PLUGINFILE@@/" + self.own[name]
        return _PLUGINFILE.sub(point, rendered)

    def plain(self, node: ET.Element | None) -> str:
        """A typed answer or a matching right side: plain text whatever the format."""
        text = (node.findtext("text") if node is not None else "") or ""
        return plain_text(text, "html" if node is not None and node.get("format") == "html" else "plain")

    def number(self, raw: str | None, element: str, default: float) -> float:
        if raw is None or not raw.strip():
            return default
        try:
            return float(raw)
        except ValueError:
            raise self.fail("moodle_xml_bad_number", value=raw.strip()[:40], element=element) from None

    def answers(self) -> list[tuple[ET.Element, float, str | None]]:
        return [(a, self.number(a.get("fraction"), "answer fraction", 0), self.html(a.find("feedback")) or None)
                for a in self.element.findall("answer")]


def _choices(q: _Question) -> tuple[QuestionKind, list[ChoiceSpec]]:
    single = (q.element.findtext("single") or "true").strip().lower() in ("true", "1")
    choices = [ChoiceSpec(q.html(a), fraction, feedback) for a, fraction, feedback in q.answers()]
    return (QuestionKind.single if single else QuestionKind.multiple), choices


def _true_false(q: _Question) -> tuple[QuestionKind, list[ChoiceSpec]]:
    by_text = {q.plain(a).lower(): (fraction, feedback) for a, fraction, feedback in q.answers()}
    right, if_right = by_text.get("true", (0, None))
    wrong, if_wrong = by_text.get("false", (0, None))
    return QuestionKind.true_false, [ChoiceSpec(TRUE_TEXT, right, if_right), ChoiceSpec(FALSE_TEXT, wrong, if_wrong)]


def _short_answer(q: _Question) -> tuple[QuestionKind, list[ChoiceSpec]]:
    return QuestionKind.short_answer, [ChoiceSpec(q.plain(a), fraction, feedback)
                                       for a, fraction, feedback in q.answers()]


def _numerical(q: _Question) -> tuple[QuestionKind, list[ChoiceSpec]]:
    choices = []
    for answer, fraction, feedback in q.answers():
        text = q.plain(answer)
        tolerance = abs(q.number(answer.findtext("tolerance"), "tolerance", 0))
        value = None if text == "*" else q.number(text, "answer", 0)
        shown = text if not tolerance else f"{text} ± {answer.findtext('tolerance').strip()}"
        choices.append(ChoiceSpec(shown, fraction, feedback, value=value, tolerance=tolerance))
    return QuestionKind.numerical, choices


def _matching(q: _Question) -> tuple[QuestionKind, list[ChoiceSpec]]:
    pairs = []
    for sub in q.element.findall("subquestion"):
        left = q.html(sub)
        pairs.append(ChoiceSpec(left if plain_text(left, "html") or "<img" in left else "", 0,
                                match_text=q.plain(sub.find("answer"))))
    return QuestionKind.matching, [p for p in pairs if p.match_text]


_BUILDERS = {"multichoice": _choices, "truefalse": _true_false, "shortanswer": _short_answer,
             "numerical": _numerical, "matching": _matching,
             "essay": lambda q: (QuestionKind.essay, []), "description": lambda q: (QuestionKind.description, [])}


def _question(element: ET.Element, line: int, bank_path: str, category: str | None,
              files: dict[str, EmbeddedFile]) -> QuestionSpec:
    q = _Question(element, line, bank_path, files)
    kind_name = element.get("type", "")
    if kind_name not in SUPPORTED:
        raise q.fail("moodle_xml_unsupported_type", type=kind_name or "?")
    q.embed()
    kind, choices = _BUILDERS[kind_name](q)
    return QuestionSpec(line=line, kind=kind, title=q.title, prompt=q.html(element.find("questiontext")),
                        choices=choices, feedback=q.html(element.find("generalfeedback")) or None,
                        category=category, format=TextFormat.html,
                        points=q.number(element.findtext("defaultgrade"), "defaultgrade", 1))


def parse_moodle_xml(data: bytes, file: str) -> tuple[list[QuestionSpec], list[EmbeddedFile], list[FieldError]]:
    """Every question of a Moodle XML bank with the images it embeds, or every problem (line and name)."""
    try:
        root, lines = _parse(data)
    except _Refused as refused:
        return [], [], [problem(refused.code, file, refused.line, **refused.params)]
    questions: list[QuestionSpec] = []
    files: dict[str, EmbeddedFile] = {}
    errors: list[FieldError] = []
    category = None
    for element in root.findall("question"):
        line = lines.get(id(element))
        if element.get("type") == "category":
            category = (element.findtext("category/text") or "").strip() or None
            continue
        try:
            question = _question(element, line, file, category, files)
        except _Refused as refused:
            title = (element.findtext("name/text") or "").strip()[:80] or f"#{len(questions) + len(errors) + 1}"
            errors.append(problem(refused.code, file, refused.line, title=title, **refused.params))
            continue
        if broken := rule_broken(question):
            code, params = broken
            errors.append(problem(code, file, line, title=question.label, **params))
            continue
        questions.append(clean_texts(question))
    if not questions and not errors:
        errors.append(problem("moodle_xml_empty", file))
    used = {path for q in questions for path in _PLUGINFILE.findall(_all_text(q))}
    return questions, [f for path, f in files.items() if path in used], errors


def _all_text(question: QuestionSpec) -> str:
    return " ".join([question.prompt, question.feedback or "",
                     *(f"{c.text} {c.feedback or ''}" for c in question.choices)])
