"""GIFT answer blocks (the text between `{` and `}`), read as Moodle's GIFT importer reads them.

The block's type is decided in Moodle's order: empty → essay, `#…` → numerical, any `~` → multiple choice
(single when an answer starts with `=`, each `=` answer fully right; multiple response otherwise), `=… -> …`
→ matching, `T`/`F`/`TRUE`/`FALSE` → true/false, otherwise short answer. Texts arrive with escapes replaced by
private-use stand-ins (see gift.py) so that `=`, `~`, `#` and `:` below are always the unescaped ones.
"""

import re
from collections.abc import Callable

from app.core.numbers import parse_number
from app.models.quiz import QuestionKind
from app.services.content.packages.bank import ChoiceSpec

TRUE_TEXT, FALSE_TEXT = "Đúng", "Sai"
_TRUE_FALSE = re.compile(r"(TRUE|FALSE|T|F)\s*(?:#([^#]*))?\s*(?:#([^#]*))?", re.IGNORECASE)
_WEIGHT = re.compile(r"^\s*%([^%]*)%")


class Refused(Exception):
    """A problem in a question: its message code, where it is (offset in the escaped text) and parameters."""

    def __init__(self, code: str, offset: int, **params: object) -> None:
        super().__init__(code)
        self.code, self.offset, self.params = code, offset, params


def _weight(raw: str, offset: int) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise Refused("gift_weight_invalid", offset, weight=raw) from None
    if not -100 <= value <= 100:
        raise Refused("gift_weight_invalid", offset, weight=raw)
    return value


def _answers(body: str, base: int, restore: Callable[[str], str],
             markers: str = "=~") -> list[tuple[str, float | None, str, str | None, int]]:
    """(marker, weight, text, feedback, offset) for each answer of an answer block."""
    pieces = re.split(f"([{markers}])", body)
    if pieces[0].strip():
        raise Refused("gift_text_before_answer", base)
    found, offset = [], base + len(pieces[0])
    for marker, content in zip(pieces[1::2], pieces[2::2], strict=True):
        weight = None
        if match := _WEIGHT.match(content):
            weight = _weight(match.group(1).strip(), offset)
            content = content[match.end():]
        text, _, feedback = content.partition("#")
        if not restore(text):
            raise Refused("gift_empty_answer", offset)
        found.append((marker, weight, restore(text), restore(feedback) or None, offset))
        offset += 1 + len(content)
    return found


def _numerical(body: str, base: int, restore: Callable[[str], str]) -> list[ChoiceSpec]:
    """`#1822`, `#3.1415:0.0005` (± tolerance), `#3.141..3.142` (a range: its middle ± half its width), or
    several `=%n%value:tolerance#feedback` answers; a trailing `~#feedback` answers any other number."""
    body = body[1:]
    base += 1
    body, tilde, wrong = body.partition("~")
    if not body.lstrip().startswith("="):
        body = "=" + body  # a lone answer, as `{#1822:1}`; the added marker is not in the text
        base -= 1
    choices = []
    for _, weight, text, feedback, offset in _answers(body, base, restore, markers="="):
        low, dots, high = text.partition("..")
        if dots:
            lowest, highest = parse_number(low), parse_number(high)
            if lowest is None or highest is None or highest < lowest:
                raise Refused("gift_number_invalid", offset, number=text)
            value, tolerance = (lowest + highest) / 2, (highest - lowest) / 2
            shown = f"{low.strip()}..{high.strip()}"
        else:
            number, _, margin = text.partition(":")
            value, tolerance = parse_number(number), parse_number(margin) if margin.strip() else 0.0
            if value is None or tolerance is None:
                raise Refused("gift_number_invalid", offset, number=text)
            shown = f"{number.strip()} ± {margin.strip()}" if tolerance else number.strip()
        choices.append(ChoiceSpec(text=shown, weight=100 if weight is None else weight, feedback=feedback,
                                  value=value, tolerance=abs(tolerance)))
    if tilde:
        _, _, feedback = wrong.partition("#")
        choices.append(ChoiceSpec(text="*", weight=0, feedback=restore(feedback) or None))
    return choices


def _matching(body: str, base: int, restore: Callable[[str], str]) -> list[ChoiceSpec]:
    pieces = re.split("(=)", body)
    if pieces[0].strip():
        raise Refused("gift_text_before_answer", base)
    pairs, offset = [], base + len(pieces[0])
    for content in pieces[2::2]:
        left, arrow, right = content.partition("->")
        if not arrow:
            raise Refused("gift_matching_arrow", offset)
        if not restore(right):
            raise Refused("gift_empty_answer", offset)
        pairs.append(ChoiceSpec(text=restore(left), weight=0, match_text=restore(right)))
        offset += 1 + len(content)
    return pairs


def classify(body: str, base: int, restore: Callable[[str], str]) -> tuple[QuestionKind, list[ChoiceSpec]]:
    """The kind of the question and its choices, from the answer block `body` starting at offset `base`."""
    stripped = body.strip()
    if not stripped:
        return QuestionKind.essay, []
    if stripped.startswith("#"):
        return QuestionKind.numerical, _numerical(stripped, base + body.index("#"), restore)
    if "~" not in stripped and "=" in stripped and "->" in stripped:
        return QuestionKind.matching, _matching(body, base, restore)
    if "~" not in stripped and (tf := _TRUE_FALSE.fullmatch(stripped)):
        right = tf.group(1).upper().startswith("T")
        if_wrong, if_right = restore(tf.group(2) or "") or None, restore(tf.group(3) or "") or None
        return QuestionKind.true_false, [
            ChoiceSpec(TRUE_TEXT, 100 if right else 0, if_right if right else if_wrong),
            ChoiceSpec(FALSE_TEXT, 0 if right else 100, if_wrong if right else if_right),
        ]
    answers = _answers(body, base, restore)
    rights = [a for a in answers if a[0] == "="]
    wrongs = [a for a in answers if a[0] == "~"]
    if not wrongs:
        return QuestionKind.short_answer, [ChoiceSpec(t, 100 if w is None else w, f) for _, w, t, f, _ in rights]
    # Several `=` answers beside `~` ones stay single choice, each `=` worth 100% (Moodle's GIFT importer):
    # either right answer earns full credit. Moodle keeps the author's order; the attempt shuffles anyway.
    if rights:
        return QuestionKind.single, [ChoiceSpec(t, 100 if m == "=" else (w or 0), f)
                                     for m, w, t, f, _ in answers]
    return QuestionKind.multiple, [ChoiceSpec(t, w or 0, f) for _, w, t, f, _ in wrongs]
