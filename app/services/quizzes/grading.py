"""Grading of one question, as Moodle grades it, from the stored choices and the learner's saved answer.

Every function returns the share of the question's credit earned, 0–1 (a question never earns less than 0:
a wrong single choice weighted negatively earns 0, where Moodle would subtract), or None for questions that
are not graded automatically (essays: stored for reading, never counted in the score; descriptions).
"""

import math
import re

from app.core.numbers import parse_number
from app.core.text import search_key
from app.models.quiz import UNGRADED_KINDS, Choice, QuestionKind

TEXT_ANSWER_KINDS = (QuestionKind.short_answer, QuestionKind.numerical, QuestionKind.essay)
# Moodle widens every tolerance by a tiny amount so that 0.1 + 0.2 still equals 0.3 (MDL-3225).
_EPSILON = 1e-9


def normalise_answer(text: str) -> str:
    """Case, surrounding/repeated spaces and Vietnamese diacritics do not matter ("Đà Nẵng" == " da nang ")."""
    return search_key(text)


def _short_answer_matches(accepted: str, given: str) -> bool:
    """`*` in an accepted answer stands for any text, as in Moodle (`*` alone accepts anything)."""
    if "*" not in accepted:
        return normalise_answer(accepted) == given
    pattern = ".*".join(re.escape(normalise_answer(part)) for part in accepted.split("*"))
    return re.fullmatch(pattern, given) is not None


def matched_answer(kind: str, choices: list[Choice], answer: dict | None) -> Choice | None:
    """The accepted answer that grades a typed answer (short answer, numerical): as Moodle, the first one in
    the author's order that matches, not the best one."""
    text = (answer or {}).get("text") or ""
    if kind == QuestionKind.short_answer:
        given = normalise_answer(text)
        return next((c for c in choices if given and _short_answer_matches(c.text, given)), None)
    number = parse_number(text)
    if number is None:
        return None
    return next((c for c in choices if c.value is None or (
        abs(number - c.value) <= (c.tolerance or 0) + _EPSILON * max(1.0, abs(c.value)))), None)


def _matching(choices: list[Choice], answer: dict, options: dict[str, str]) -> float:
    """One share per left item whose chosen right side is the item's own (identical right sides count as one,
    since Moodle merges them)."""
    stems = [c for c in choices if c.text]
    if not stems:
        return 0.0
    pair_of = {str(c.id): c for c in choices}
    chosen = {m.get("choice_id"): m.get("option_id") for m in answer.get("matches") or []}
    right = 0
    for stem in stems:
        picked = pair_of.get(options.get(chosen.get(str(stem.id)) or "", ""))
        right += picked is not None and picked.match_text == stem.match_text
    return right / len(stems)


def grade_question(kind: str, choices: list[Choice], answer: dict | None,
                   options: dict[str, str] | None = None) -> float | None:
    """Share of a question's credit earned, 0–1, or None when it is not graded. Single choice and true/false:
    the chosen choice's weight (one choice only); multiple response: the sum of chosen weights within 0–1;
    short answer and numerical: the first accepted answer that matches; matching: the share of items paired
    right (`options` maps the attempt's right-side option ids to a pair's choice id)."""
    if kind in UNGRADED_KINDS:
        return None
    if not answer:
        return 0.0
    if kind in (QuestionKind.short_answer, QuestionKind.numerical):
        matched = matched_answer(kind, choices, answer)
        return min(1.0, max(0.0, matched.weight / 100)) if matched else 0.0
    if kind == QuestionKind.matching:
        return _matching(choices, answer, options or {})
    weights = {str(c.id): c.weight for c in choices}
    chosen = [weights[c] for c in answer.get("choice_ids") or [] if c in weights]
    if kind == QuestionKind.multiple:
        return min(1.0, max(0.0, sum(chosen) / 100))
    return min(1.0, max(0.0, chosen[0] / 100)) if len(chosen) == 1 else 0.0


def score_of(earned: list[tuple[float | None, float]]) -> float:
    """The attempt's score, 0–100: credit earned over the points of the graded questions (essays and
    descriptions are left out of both)."""
    graded = [(share, points) for share, points in earned if share is not None]
    total = sum(points for _, points in graded)
    if not total or not math.isfinite(total):
        return 0.0
    return round(100 * sum(share * points for share, points in graded) / total, 2)
