"""What a learner sees of an attempt's questions: texts rendered safely, and — only once the attempt is
submitted — the review (earned share, right answers, feedback).

Before submission nothing that reveals a right answer leaves the server: no weights, feedback, accepted
answers, numerical values or tolerances, and for matching no link between the items and the options (their
ids are made per attempt, and the option → pair map stays in the stored layout).
"""

import html

from app.core.html import render_text
from app.models.learning import ChoicePublic, QuestionPublic, QuestionReview
from app.models.quiz import BLANK, Choice, Question, QuestionKind, TextFormat
from app.services.quizzes.grading import grade_question, matched_answer
from app.services.quizzes.layout import option_map

BLANK_HTML = '<span class="hocso-blank" data-blank="1">_____</span>'
_TYPED = (QuestionKind.short_answer, QuestionKind.numerical)


class _Texts:
    """Renders one question's texts: plain stays plain unless the prompt has a blank (then everything is
    HTML, so the blank can be marked); markdown and HTML become sanitised HTML."""

    def __init__(self, question: Question) -> None:
        self.source = TextFormat(question.format)
        self.html = self.source != TextFormat.plain or BLANK in question.prompt

    def prompt(self, text: str) -> str:
        if not self.html:
            return text
        return render_text(text, self.source).replace(BLANK, BLANK_HTML)

    def inline(self, text: str | None) -> str | None:
        if text is None or not self.html:
            return text
        return render_text(text, self.source, inline=True)

    def plain(self, text: str) -> str:
        """A text that is always plain (matching right sides, accepted answers), escaped when HTML is due."""
        return html.escape(text, quote=False) if self.html else text


def _review(question: Question, own: list[Choice], item: dict, answer: dict | None, texts: _Texts) -> QuestionReview:
    kind = question.kind
    options = option_map(item)
    feedback = {str(c.id): texts.inline(c.feedback) for c in own if c.feedback}
    review = QuestionReview(
        earned=grade_question(kind, own, answer, options), correct_choice_ids=[], accepted_answers=[],
        feedback=texts.inline(question.feedback), choice_feedback={})
    if kind in _TYPED:
        review.accepted_answers = [c.text for c in own if c.weight > 0]
        matched = matched_answer(kind, own, answer)
        review.answer_feedback = texts.inline(matched.feedback) if matched else None
    elif kind == QuestionKind.matching:
        offered = {choice_id: option_id for option_id, choice_id in options.items()}
        by_right = {c.match_text: offered.get(str(c.id)) for c in own if str(c.id) in offered}
        review.correct_matches = {str(c.id): by_right[c.match_text] for c in own
                                  if c.text and by_right.get(c.match_text)}
    elif kind == QuestionKind.multiple:
        review.correct_choice_ids = [c.id for c in own if c.weight > 0]
        review.choice_feedback = feedback
    elif kind in (QuestionKind.single, QuestionKind.true_false):  # the best choice(s): 100%, or the top weight
        top = max((c.weight for c in own), default=0)
        review.correct_choice_ids = [c.id for c in own if c.weight == top and top > 0]
        review.choice_feedback = feedback
    return review


def question_view(question: Question, own: list[Choice], item: dict, answer: dict | None,
                  reveal: bool) -> QuestionPublic:
    """One question as laid out for the attempt; `reveal` (submitted) adds its review."""
    texts = _Texts(question)
    by_id = {str(c.id): c for c in own}
    choices = [ChoicePublic(id=by_id[c].id, text=texts.inline(by_id[c].text)) for c in item["choice_ids"]
               if c in by_id]
    options = [ChoicePublic(id=option_id, text=texts.plain(by_id[choice_id].match_text or ""))
               for option_id, choice_id in item.get("options") or [] if choice_id in by_id]
    return QuestionPublic(
        id=question.id, kind=question.kind, text_format="html" if texts.html else "plain",
        prompt=texts.prompt(question.prompt), blank=BLANK in question.prompt, points=question.points,
        choices=choices, options=options,
        review=_review(question, own, item, answer, texts) if reveal else None)
