"""Attempt layouts: descriptions travel with the question after them; draws never pick a description alone."""

import uuid

from app.models.quiz import Question, QuestionKind
from app.services.quizzes.layout import draw_questions


def bank(*kinds: str) -> list[Question]:
    return [Question(id=uuid.uuid4(), quiz_id=uuid.uuid4(), position=n, kind=QuestionKind(kind), prompt=f"q{n}")
            for n, kind in enumerate(kinds, 1)]


def test_descriptions_stay_right_before_their_question_whatever_the_shuffle():
    pool = bank("description", "single", "essay", "description", "numerical", "single", "description")
    for _ in range(50):
        order = [q.position for q in draw_questions(pool, None, shuffle=True)]
        assert sorted(order) == list(range(1, 8)) and order[-1] == 7
        assert order.index(1) + 1 == order.index(2) and order.index(4) + 1 == order.index(5)


def test_draws_count_questions_not_descriptions():
    pool = bank("description", "single", "single", "description", "single")
    for _ in range(50):
        drawn = draw_questions(pool, 2, shuffle=False)
        answerable = [q for q in drawn if q.kind != QuestionKind.description]
        assert len(answerable) == 2 and [q.position for q in drawn] == sorted(q.position for q in drawn)
        for q in drawn:
            if q.kind == QuestionKind.description:
                assert drawn[drawn.index(q) + 1].position == q.position + 1


def test_no_shuffle_keeps_bank_order():
    pool = bank("single", "description", "matching", "essay")
    assert [q.position for q in draw_questions(list(reversed(pool)), None, shuffle=False)] == [1, 2, 3, 4]
