"""An attempt's layout: which questions, in which order, with which choices — fixed when it starts.

- `draw` picks among answerable questions; a description is not drawn on its own but travels with the
  question that follows it in the bank (it usually introduces it), so it is shown right before that question
  whatever the shuffle; a description ending the bank stays last.
- Choices of single and multiple choice questions are shuffled (true/false keeps Đúng before Sai).
- Matching: the left items (pairs with a left side) are shuffled, and the right side is offered as options
  with ids made for this attempt (identical right sides merged, distractors included, shuffled), so neither
  the order nor an id tells which right side belongs to which item. The option → pair map stays in the layout,
  which is never sent to the learner.
"""

import random
import uuid

from app.models.quiz import Choice, Question, QuestionKind

_random = random.SystemRandom()
_SHUFFLED = (QuestionKind.single, QuestionKind.multiple, QuestionKind.matching)
_NO_CHOICES = (QuestionKind.short_answer, QuestionKind.numerical, QuestionKind.essay, QuestionKind.description)


def _units(pool: list[Question]) -> list[list[Question]]:
    """Questions in bank order, each with the descriptions just before it."""
    units: list[list[Question]] = []
    waiting: list[Question] = []
    for question in sorted(pool, key=lambda q: q.position):
        waiting.append(question)
        if question.kind != QuestionKind.description:
            units.append(waiting)
            waiting = []
    if waiting:
        units.append(waiting)  # trailing descriptions: kept last below
    return units


def draw_questions(pool: list[Question], draw: int | None, shuffle: bool) -> list[Question]:
    """The attempt's questions in order (see the module docstring)."""
    units = _units(pool)
    tail = units.pop() if units and units[-1][-1].kind == QuestionKind.description else []
    if draw and draw < len(units):
        picked = set(map(id, _random.sample(units, draw)))
        units = [unit for unit in units if id(unit) in picked]
        tail = []  # a closing text belongs to the whole bank, not to a draw of it
    if shuffle:
        _random.shuffle(units)
    return [question for unit in units for question in unit] + tail


def _matching_item(question: Question, own: list[Choice], shuffle: bool) -> dict:
    stems = [str(c.id) for c in own if c.text]
    options: dict[str, str] = {}  # right-side text → the first pair offering it
    for choice in own:
        options.setdefault(choice.match_text or "", str(choice.id))
    offered = [[str(uuid.uuid4()), choice_id] for choice_id in options.values()]
    _random.shuffle(offered)  # always: in bank order the right side would line up with the items
    if shuffle:
        _random.shuffle(stems)
    return {"question_id": str(question.id), "kind": question.kind, "choice_ids": stems, "options": offered}


def layout_item(question: Question, own: list[Choice], shuffle: bool) -> dict:
    """How one question is laid out for the attempt: its choice ids in the order shown (and, for matching,
    the options)."""
    if question.kind == QuestionKind.matching:
        return _matching_item(question, own, shuffle)
    ids = [] if question.kind in _NO_CHOICES else [str(c.id) for c in own]
    if shuffle and question.kind in _SHUFFLED:
        _random.shuffle(ids)
    return {"question_id": str(question.id), "kind": question.kind, "choice_ids": ids}


def option_map(item: dict) -> dict[str, str]:
    """A matching item's option id → the pair (choice id) whose right side it offers."""
    return {option_id: choice_id for option_id, choice_id in item.get("options") or []}
