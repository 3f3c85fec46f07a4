"""GIFT quizzes (Moodle's text format), in the subset HocSo grades.

Supported: single choice `{=right ~wrong}`, multiple response with weights `{~%50%a ~%50%b ~%-100%c}`,
true/false `{T}` `{F}` `{TRUE}` `{FALSE}`, short answer `{=a =b}`; `::title::`, `//` comment lines, per-answer
`#feedback`, general feedback after `####`, `$CATEGORY:` lines (ignored), and backslash escapes for
`~ = # { } :` (plus `\\n` for a line break). Matching, numerical, essay, missing-word and description items
are refused by name, with their line and title, so authors learn at once what to change.
"""

import re
import unicodedata
from dataclasses import dataclass, field

from app.core.errors import FieldError
from app.core.i18n import messages
from app.models.quiz import QuestionKind
from app.services.content.packages.problems import problem

_SYNTAX_VI, _SYNTAX_EN = "Câu hỏi “{title}”: lỗi cú pháp GIFT — ", "Question “{title}”: GIFT syntax error — "
messages({
    "gift_not_utf8": ("Tệp GIFT phải được lưu bằng UTF-8.", "The GIFT file must be saved as UTF-8."),
    "gift_empty": ("Tệp GIFT không có câu hỏi nào.", "The GIFT file has no questions."),
    "gift_unsupported_type": (
        "Câu hỏi “{title}”: dạng “{type}” không được hỗ trợ (chỉ hỗ trợ một đáp án, nhiều đáp án có "
        "trọng số, đúng/sai, trả lời ngắn).",
        "Question “{title}”: the “{type}” type is not supported (single choice, weighted multiple "
        "response, true/false and short answer are)."),
    "gift_unclosed_title": (_SYNTAX_VI + "tiêu đề ::…:: chưa đóng.",
                            _SYNTAX_EN + "the ::title:: is not closed."),
    "gift_unclosed_brace": (_SYNTAX_VI + "“{{” không có “}}” tương ứng.",
                            _SYNTAX_EN + "“{{” without a matching “}}”."),
    "gift_text_before_answer": (_SYNTAX_VI + "có chữ trước đáp án đầu tiên (= hoặc ~).",
                                _SYNTAX_EN + "text before the first = or ~ answer."),
    "gift_empty_answer": (_SYNTAX_VI + "có đáp án rỗng.", _SYNTAX_EN + "an answer is empty."),
    "gift_empty_prompt": (_SYNTAX_VI + "thiếu nội dung câu hỏi.", _SYNTAX_EN + "the question text is empty."),
    "gift_several_right": (
        "Câu hỏi “{title}”: có nhiều đáp án “=” cùng đáp án sai; câu nhiều đáp án dùng trọng số ~%50%.",
        "Question “{title}”: several “=” answers next to wrong ones; use weights (~%50%) instead."),
    "gift_no_right": ("Câu hỏi “{title}”: không có đáp án đúng.", "Question “{title}”: no answer is right."),
    "gift_weights_sum": ("Câu hỏi “{title}”: tổng trọng số dương là {total}%, cần đúng 100%.",
                         "Question “{title}”: positive weights add up to {total}%, they must make 100%."),
    "gift_weight_invalid": ("Câu hỏi “{title}”: trọng số “{weight}” phải là số từ -100 đến 100.",
                            "Question “{title}”: weight “{weight}” must be a number from -100 to 100."),
    "gift_too_long": ("Câu hỏi “{title}”: tiêu đề dài quá {limit} ký tự.",
                      "Question “{title}”: the title is longer than {limit} characters."),
})

TRUE_TEXT, FALSE_TEXT = "Đúng", "Sai"
TITLE_MAX = 300
_ESCAPES = {c: chr(0xE000 + i) for i, c in enumerate("\\~=#{}:")}  # private-use stand-ins while parsing
_RESTORE = {v: k for k, v in _ESCAPES.items()}
_TRUE_FALSE = re.compile(r"(TRUE|FALSE|T|F)\s*(?:#([^#]*))?\s*(?:#([^#]*))?", re.IGNORECASE)
_WEIGHT = re.compile(r"^\s*%([^%]*)%")
_FORMAT = re.compile(r"^\s*\[(html|moodle|plain|markdown)\]", re.IGNORECASE)


@dataclass
class GiftChoice:
    text: str
    weight: float
    feedback: str | None = None


@dataclass
class GiftQuestion:
    line: int
    kind: QuestionKind
    title: str | None
    prompt: str
    choices: list[GiftChoice] = field(default_factory=list)
    feedback: str | None = None


class _Refused(Exception):
    def __init__(self, code: str, offset: int, **params: object) -> None:
        super().__init__(code)
        self.code, self.offset, self.params = code, offset, params


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


def _restore(text: str) -> str:
    return "".join(_RESTORE.get(ch, ch) for ch in text).strip()


def _blocks(text: str) -> list[tuple[int, str]]:
    """Questions are separated by blank lines; comment and category lines are dropped."""
    blocks: list[tuple[int, str]] = []
    current: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), 1):
        stripped = raw.strip()
        if stripped.startswith("//") or stripped.startswith("$CATEGORY:"):
            continue
        if not stripped:
            if current:
                blocks.append((start, "\n".join(current)))
                current = []
            continue
        if not current:
            start = number
        current.append(raw)
    if current:
        blocks.append((start, "\n".join(current)))
    return blocks


def _weight(raw: str, offset: int) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise _Refused("gift_weight_invalid", offset, weight=raw) from None
    if not -100 <= value <= 100:
        raise _Refused("gift_weight_invalid", offset, weight=raw)
    return value


def _answers(body: str, base: int) -> list[tuple[str, float | None, str, str | None]]:
    """(marker, weight, text, feedback) for each `=`/`~` answer of an answer block."""
    pieces = re.split(r"([=~])", body)
    if pieces[0].strip():
        raise _Refused("gift_text_before_answer", base)
    found, offset = [], base + len(pieces[0])
    for marker, content in zip(pieces[1::2], pieces[2::2], strict=True):
        weight = None
        if match := _WEIGHT.match(content):
            weight = _weight(match.group(1).strip(), offset)
            content = content[match.end():]
        text, _, feedback = content.partition("#")
        if not _restore(text):
            raise _Refused("gift_empty_answer", offset)
        found.append((marker, weight, _restore(text), _restore(feedback) or None))
        offset += 1 + len(content)
    return found


def _classify(body: str, base: int) -> tuple[QuestionKind, list[GiftChoice]]:
    stripped = body.strip()
    if not stripped:
        raise _Refused("gift_unsupported_type", base, type="essay")
    if stripped.startswith("#"):
        raise _Refused("gift_unsupported_type", base, type="numerical")
    if tf := _TRUE_FALSE.fullmatch(stripped):
        right = tf.group(1).upper().startswith("T")
        if_wrong, if_right = _restore(tf.group(2) or "") or None, _restore(tf.group(3) or "") or None
        return QuestionKind.true_false, [
            GiftChoice(TRUE_TEXT, 100 if right else 0, if_right if right else if_wrong),
            GiftChoice(FALSE_TEXT, 0 if right else 100, if_wrong if right else if_right),
        ]
    if "->" in stripped:
        raise _Refused("gift_unsupported_type", base, type="matching")
    answers = _answers(body, base)
    rights = [a for a in answers if a[0] == "="]
    wrongs = [a for a in answers if a[0] == "~"]
    if not wrongs:
        return QuestionKind.short_answer, [GiftChoice(t, 100 if w is None else w, f) for _, w, t, f in rights]
    if len(rights) > 1:
        raise _Refused("gift_several_right", base)
    if rights:
        _, _, text, feedback = rights[0]
        choices = [GiftChoice(text, 100, feedback)]
        return QuestionKind.single, choices + [GiftChoice(t, w or 0, f) for _, w, t, f in wrongs]
    choices = [GiftChoice(t, w or 0, f) for _, w, t, f in wrongs]
    total = sum(c.weight for c in choices if c.weight > 0)
    if total == 0:
        raise _Refused("gift_no_right", base)
    if abs(total - 100) > 0.5:
        raise _Refused("gift_weights_sum", base, total=round(total, 2))
    return QuestionKind.multiple, choices


def _question(start: int, raw: str) -> GiftQuestion:
    text = _escape(raw)
    i = len(text) - len(text.lstrip())
    title = None
    if text.startswith("::", i):
        end = text.find("::", i + 2)
        if end < 0:
            raise _Refused("gift_unclosed_title", i)
        title = _restore(text[i + 2:end]) or None
        i = end + 2
    if match := _FORMAT.match(text[i:]):
        i += match.end()
    opening = text.find("{", i)
    if opening < 0:
        raise _Refused("gift_unsupported_type", i, type="description")
    closing = text.find("}", opening)
    if closing < 0 or "{" in text[opening + 1:closing]:
        raise _Refused("gift_unclosed_brace", opening)
    prompt = _restore(text[i:opening])
    if text[closing + 1:].strip():
        raise _Refused("gift_unsupported_type", closing, type="missing word")
    if not prompt:
        raise _Refused("gift_empty_prompt", i)
    body = text[opening + 1:closing]
    general = None
    if "####" in body:
        body, general = body.split("####", 1)
        general = _restore(general) or None
    kind, choices = _classify(body, opening + 1)
    if title and len(title) > TITLE_MAX:
        raise _Refused("gift_too_long", 0, limit=TITLE_MAX)
    return GiftQuestion(line=start, kind=kind, title=title, prompt=prompt, choices=choices, feedback=general)


def _label(raw: str) -> str:
    """How an error names a question: its ::title::, else the start of its text."""
    text = _restore(_escape(raw))
    if text.startswith("::") and "::" in text[2:]:
        return text[2:text.index("::", 2)].strip()[:80]
    return " ".join(text.split())[:60]


def parse_gift(data: bytes, file: str) -> tuple[list[GiftQuestion], list[FieldError]]:
    """Every question of a GIFT file, or every problem with its line and question title."""
    try:
        text = unicodedata.normalize("NFC", data.decode("utf-8-sig"))
    except UnicodeDecodeError:
        return [], [problem("gift_not_utf8", file)]
    questions: list[GiftQuestion] = []
    errors: list[FieldError] = []
    for start, raw in _blocks(text):
        try:
            questions.append(_question(start, raw))
        except _Refused as refused:
            line = start + _escape(raw)[:refused.offset].count("\n")
            errors.append(problem(refused.code, file, line, title=_label(raw), **refused.params))
    if not questions and not errors:
        errors.append(problem("gift_empty", file))
    return questions, errors
