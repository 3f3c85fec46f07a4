"""Moodle's own GIFT examples file (tests/fixtures/moodle/examples.gift, copied from the Moodle repository)
imports whole: every one of its 43 questions, with the type and answers Moodle gives it."""

from collections import Counter
from pathlib import Path

from app.models.quiz import BLANK, QuestionKind
from app.services.content.packages.gift import parse_gift

EXAMPLES = Path(__file__).parents[2] / "fixtures" / "moodle" / "examples.gift"


def examples():
    questions, errors = parse_gift(EXAMPLES.read_bytes(), "examples.gift")
    assert errors == []
    return questions


def test_every_question_of_moodles_examples_imports():
    questions = examples()
    assert len(questions) == 43
    assert Counter(q.kind for q in questions) == {
        QuestionKind.single: 16, QuestionKind.short_answer: 9, QuestionKind.numerical: 8,
        QuestionKind.true_false: 5, QuestionKind.matching: 3, QuestionKind.multiple: 2}


def test_missing_words_keep_their_blank():
    blanks = [q.prompt for q in examples() if BLANK in q.prompt]
    assert f"Grant is {BLANK} in Grant's tomb." in blanks
    assert f"What is the value of pi (to 3 decimal places)? {BLANK}." in blanks  # numerical with a blank
    assert f"Two plus two equals {BLANK}." in blanks
    assert len(blanks) == 11


def test_escaped_control_characters_and_multi_line_feedback():
    control = next(q for q in examples() if q.title == "GIFT Control Characters")
    assert [c.text for c in control.choices] == ["~", "=", "#", "{", "}", "\\"]
    assert control.choices[-1].weight == 100
    assert control.choices[-1].feedback.startswith("Correct! \\ (backslash) is not a control character.")


def test_numerical_ranges_and_partial_credit():
    numerical = [q for q in examples() if q.kind == QuestionKind.numerical]
    described = [[(c.weight, c.value, round(c.tolerance, 6)) for c in q.choices] for q in numerical]
    assert [(100, 3.1415, 0.0005)] in [[(w, round(v, 6), t) for w, v, t in d] for d in described]
    assert [(100, 1822, 0), (50, 1822, 2)] in described


def test_markdown_question_keeps_its_format_and_categories_default_to_none():
    questions = examples()
    assert [q.format.value for q in questions].count("markdown") == 1
    assert {q.category for q in questions} == {None}
