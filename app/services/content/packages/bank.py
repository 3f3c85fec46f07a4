"""A question bank as read from GIFT or Moodle XML, before it is written: questions, choices, and the rules
every imported question must meet whichever format it came in (Moodle's own rules where it has them).
"""

from dataclasses import dataclass, field

from app.core.html import plain_text, sanitise_html
from app.core.i18n import messages
from app.models.quiz import BLANK, UNGRADED_KINDS, QuestionKind, TextFormat

_Q_VI, _Q_EN = "Câu hỏi “{title}”: ", "Question “{title}”: "
messages({
    "bank_no_right": (_Q_VI + "không có đáp án đúng.", _Q_EN + "no answer is right."),
    "bank_no_full_credit": (_Q_VI + "cần ít nhất một đáp án được 100%.",
                            _Q_EN + "at least one answer must be worth 100%."),
    "bank_weights_sum": (_Q_VI + "tổng trọng số dương là {total}%, cần đúng 100%.",
                         _Q_EN + "positive weights add up to {total}%, they must make 100%."),
    "bank_matching_size": (
        _Q_VI + "câu ghép cặp cần ít nhất 3 cặp, trong đó ít nhất 2 cặp có vế trái.",
        _Q_EN + "a matching question needs at least three pairs, at least two of them with a left side."),
    "bank_title_too_long": (_Q_VI + "tiêu đề dài quá {limit} ký tự.",
                            _Q_EN + "the title is longer than {limit} characters."),
    "bank_category_too_long": (_Q_VI + "tên nhóm câu hỏi dài quá {limit} ký tự.",
                               _Q_EN + "the category is longer than {limit} characters."),
    "bank_empty_prompt": (_Q_VI + "thiếu nội dung câu hỏi.", _Q_EN + "the question text is empty."),
    "bank_nothing_graded": (
        "Bộ câu hỏi không có câu nào được chấm tự động (chỉ có tự luận và mô tả); lượt làm bài cần ít nhất "
        "một câu được chấm.",
        "The bank has no automatically graded question (only essays and descriptions); an attempt needs at "
        "least one graded question."),
    "bank_draw_essays": (
        "Rút {draw} câu nhưng bộ câu hỏi chỉ có {graded} câu được chấm tự động: một lượt có thể không có câu "
        "nào được chấm.",
        "Draws {draw} questions but only {graded} are graded automatically: an attempt could have none."),
})

TITLE_MAX = 300
CATEGORY_MAX = 500


@dataclass
class ChoiceSpec:
    """A choice, an accepted answer (numerical: `value` ± `tolerance`, no value = any number), or a matching
    pair `text` → `match_text` (empty `text`: a distractor on the right side)."""

    text: str
    weight: float = 0
    feedback: str | None = None
    match_text: str | None = None
    value: float | None = None
    tolerance: float | None = None


@dataclass
class QuestionSpec:
    line: int
    kind: QuestionKind
    title: str | None
    prompt: str  # missing word: BLANK where the answer block was
    choices: list[ChoiceSpec] = field(default_factory=list)
    feedback: str | None = None
    category: str | None = None
    format: TextFormat = TextFormat.plain
    points: float = 1

    @property
    def label(self) -> str:
        """How an error names the question: its title, else the start of its text."""
        if self.title:
            return self.title[:80]
        return plain_text(self.prompt.replace(BLANK, "_____"), self.format)[:60]


def clean_texts(question: QuestionSpec) -> QuestionSpec:
    """HTML questions keep only sanitised HTML; typed answers (short answer, numerical) are compared as text,
    so their markup is dropped."""
    if question.format != TextFormat.html:
        return question
    typed = question.kind in (QuestionKind.short_answer, QuestionKind.numerical)
    question.prompt = sanitise_html(question.prompt)
    question.feedback = sanitise_html(question.feedback) if question.feedback else question.feedback
    for choice in question.choices:
        choice.text = plain_text(choice.text, "html") if typed else sanitise_html(choice.text)
        choice.feedback = sanitise_html(choice.feedback) if choice.feedback else choice.feedback
        if choice.match_text is not None:
            choice.match_text = plain_text(choice.match_text, "html")
    return question


def rule_broken(question: QuestionSpec) -> tuple[str, dict] | None:
    """The first bank rule the question breaks, as (message code, parameters), or None."""
    kind, choices = question.kind, question.choices
    if question.title and len(question.title) > TITLE_MAX:
        return "bank_title_too_long", {"limit": TITLE_MAX}
    if question.category and len(question.category) > CATEGORY_MAX:
        return "bank_category_too_long", {"limit": CATEGORY_MAX}
    if not plain_text(question.prompt.replace(BLANK, ""), question.format) and "<img" not in question.prompt:
        return "bank_empty_prompt", {}
    if kind == QuestionKind.multiple:
        total = sum(c.weight for c in choices if c.weight > 0)
        if total == 0:
            return "bank_no_right", {}
        if abs(total - 100) > 0.5:
            return "bank_weights_sum", {"total": round(total, 2)}
    elif kind in (QuestionKind.single, QuestionKind.true_false):
        if not any(c.weight > 0 for c in choices):
            return "bank_no_right", {}
    elif kind in (QuestionKind.short_answer, QuestionKind.numerical):
        if not any(c.weight >= 100 for c in choices):  # Moodle: "One of the answers should have a score of 100%"
            return "bank_no_full_credit", {}
    elif kind == QuestionKind.matching and (len(choices) < 3 or sum(1 for c in choices if c.text) < 2):
        return "bank_matching_size", {}
    return None


def graded_count(questions: list[QuestionSpec]) -> int:
    return sum(1 for q in questions if q.kind not in UNGRADED_KINDS)


def drawable_count(questions: list[QuestionSpec]) -> int:
    """Questions an attempt draws from: descriptions are not drawn, they go with the question after them."""
    return sum(1 for q in questions if q.kind != QuestionKind.description)
