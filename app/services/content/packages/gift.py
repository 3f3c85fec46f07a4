"""GIFT quizzes (Moodle's text format), every question type Moodle's GIFT importer reads.

Single choice `{=right ~wrong ~%50%partly}`, multiple response `{~%50%a ~%50%b ~%-100%c}`, true/false `{T}`
`{FALSE#if wrong#if right}`, short answer `{=a =%50%b}`, numerical `{#1822}` `{#3.1415:0.0005}` `{#3.141..3.142}`
`{#=1822:0 =%50%1822:2}`, matching `{=a -> 1 =b -> 2 =c -> 3}`, essay `{}`, description (no answer block), and
missing word (text after the answer block: the prompt keeps a BLANK where the block was). Also `::title::`,
`[html]`/`[markdown]`/`[plain]`/`[moodle]` formats, `//` comment lines, `$CATEGORY:` lines (the category of the
questions after them), per-answer `#feedback`, general feedback after `####`, and backslash escapes for
`~ = # { } :` (plus `\\n` for a line break). Problems are reported with their line and the question's title.
"""

import re
import unicodedata

from app.core.errors import FieldError
from app.core.i18n import messages
from app.models.quiz import BLANK, QuestionKind, TextFormat
from app.services.content.packages.bank import QuestionSpec, clean_texts, rule_broken
from app.services.content.packages.gift_answers import Refused, classify
from app.services.content.packages.problems import problem

_SYNTAX_VI, _SYNTAX_EN = "Câu hỏi “{title}”: lỗi cú pháp GIFT — ", "Question “{title}”: GIFT syntax error — "
messages({
    "gift_not_utf8": ("Tệp GIFT phải được lưu bằng UTF-8.", "The GIFT file must be saved as UTF-8."),
    "gift_empty": ("Tệp GIFT không có câu hỏi nào.", "The GIFT file has no questions."),
    "gift_unclosed_title": (_SYNTAX_VI + "tiêu đề ::…:: chưa đóng.",
                            _SYNTAX_EN + "the ::title:: is not closed."),
    "gift_unclosed_brace": (_SYNTAX_VI + "“{{” không có “}}” tương ứng.",
                            _SYNTAX_EN + "“{{” without a matching “}}”."),
    "gift_text_before_answer": (_SYNTAX_VI + "có chữ trước đáp án đầu tiên (= hoặc ~).",
                                _SYNTAX_EN + "text before the first = or ~ answer."),
    "gift_empty_answer": (_SYNTAX_VI + "có đáp án rỗng.", _SYNTAX_EN + "an answer is empty."),
    "gift_weight_invalid": ("Câu hỏi “{title}”: trọng số “{weight}” phải là số từ -100 đến 100.",
                            "Question “{title}”: weight “{weight}” must be a number from -100 to 100."),
    "gift_number_invalid": (
        _SYNTAX_VI + "“{number}” không phải là số, số:sai số hoặc khoảng nhỏ..lớn.",
        _SYNTAX_EN + "“{number}” is not a number, number:tolerance or low..high range."),
    "gift_matching_arrow": (_SYNTAX_VI + "một cặp ghép thiếu “->”.", _SYNTAX_EN + "a matching pair lacks “->”."),
})

_ESCAPES = {c: chr(0xE000 + i) for i, c in enumerate("\\~=#{}:")}  # private-use stand-ins while parsing
_RESTORE = {v: k for k, v in _ESCAPES.items()}
_FORMAT = re.compile(r"^\s*\[(html|moodle|plain|markdown)\]", re.IGNORECASE)
_FORMATS = {"html": TextFormat.html, "markdown": TextFormat.markdown}  # [moodle] and [plain] are plain text


def _escape(text: str) -> str:
    out, i = [], 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            nxt = text[i + 1]
            if nxt in _ESCAPES:
                out.append(_ESCAPES[nxt])
                i += 2
                continue
            if nxt == "n":
                out.append("\n")
                i += 2
                continue
        out.append(ch)
        i += 1
    return "".join(out)


def _unescape(text: str) -> str:
    return "".join(_RESTORE.get(ch, ch) for ch in text)


def _restore(text: str) -> str:
    return _unescape(text).strip()


def _blocks(text: str) -> list[tuple[int, str, str | None]]:
    """(first line, text, category) of each question: blank lines separate questions, comment lines are
    dropped, and a `$CATEGORY:` line sets the category of the questions after it."""
    blocks: list[tuple[int, str, str | None]] = []
    current: list[str] = []
    start, category = 0, None
    for number, raw in enumerate(text.splitlines(), 1):
        stripped = raw.strip()
        if stripped.startswith("//"):
            continue
        if stripped.startswith("$CATEGORY:"):
            category = stripped.removeprefix("$CATEGORY:").strip() or None
            continue
        if not stripped:
            if current:
                blocks.append((start, "\n".join(current), category))
                current = []
            continue
        if not current:
            start = number
        current.append(raw)
    if current:
        blocks.append((start, "\n".join(current), category))
    return blocks


def _question(start: int, raw: str, category: str | None) -> QuestionSpec:
    text = _escape(raw.replace(BLANK, "")).strip()
    i, title = 0, None
    if text.startswith("::"):
        end = text.find("::", 2)
        if end < 0:
            raise Refused("gift_unclosed_title", 0)
        title = _restore(text[2:end]) or None
        i = end + 2
    text_format = TextFormat.plain
    if match := _FORMAT.match(text[i:]):
        text_format = _FORMATS.get(match.group(1).lower(), TextFormat.plain)
        i += match.end()
    opening = text.find("{", i)
    if opening < 0:
        return QuestionSpec(line=start, kind=QuestionKind.description, title=title, prompt=_restore(text[i:]),
                            category=category, format=text_format)
    closing = text.find("}", opening)
    if closing < 0 or "{" in text[opening + 1:closing]:
        raise Refused("gift_unclosed_brace", opening)
    before, after = _unescape(text[i:opening]), _unescape(text[closing + 1:])
    # Moodle's rule: an answer block that does not end the question marks a blank (a "missing word").
    prompt = (before + BLANK + after).strip() if after.strip() else before.strip()
    body = text[opening + 1:closing]
    general = None
    if "####" in body:
        body, general = body.split("####", 1)
        general = _restore(general) or None
    kind, choices = classify(body, opening + 1, _restore)
    return QuestionSpec(line=start, kind=kind, title=title, prompt=prompt, choices=choices, feedback=general,
                        category=category, format=text_format)


def _label(raw: str) -> str:
    """How an error names a question: its ::title::, else the start of its text."""
    text = _restore(_escape(raw))
    if text.startswith("::") and "::" in text[2:]:
        return text[2:text.index("::", 2)].strip()[:80]
    return " ".join(text.split())[:60]


def parse_gift(data: bytes, file: str) -> tuple[list[QuestionSpec], list[FieldError]]:
    """Every question of a GIFT file, or every problem with its line and question title."""
    try:
        text = unicodedata.normalize("NFC", data.decode("utf-8-sig"))
    except UnicodeDecodeError:
        return [], [problem("gift_not_utf8", file)]
    questions: list[QuestionSpec] = []
    errors: list[FieldError] = []
    for start, raw, category in _blocks(text):
        try:
            question = _question(start, raw, category)
        except Refused as refused:
            line = start + _escape(raw.strip())[:refused.offset].count("\n")
            errors.append(problem(refused.code, file, line, title=_label(raw), **refused.params))
            continue
        if broken := rule_broken(question):
            code, params = broken
            errors.append(problem(code, file, start, title=_label(raw), **params))
            continue
        questions.append(clean_texts(question))
    if not questions and not errors:
        errors.append(problem("gift_empty", file))
    return questions, errors
