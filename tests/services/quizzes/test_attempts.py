"""Quiz attempts: fixed draws, no leaked answers, grading rules, limits, deadline and grace, submit once."""

import asyncio
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from app.models.base import utcnow
from app.models.learning import AnswerIn, Enrollment, LessonProgress
from app.models.quiz import QuizAttempt
from app.services.quizzes import attempts
from app.services.quizzes.attempts import get_attempt, save_answers, start_attempt
from app.services.quizzes.attempts import submit_attempt as submit
from app.services.quizzes.grading import grade_question, normalise_answer
from tests.factories import make_course, make_user, quiz
from tests.statements import statements_run

T0 = utcnow().replace(microsecond=0)
QUESTIONS = [
    {"kind": "single", "prompt": "Thủ đô của Việt Nam?",
     "choices": [("Hà Nội", 100), ("Huế", 0), ("Vinh", 0)]},
    {"kind": "multiple", "prompt": "Mật khẩu mạnh gồm?",
     "choices": [("Chữ hoa", 50), ("Chữ số", 50), ("Ngày sinh", -100)]},
    {"kind": "true_false", "prompt": "Nên dùng chung mật khẩu.", "answer": False},
    {"kind": "short_answer", "prompt": "Thành phố bên sông Hàn?", "choices": [("Đà Nẵng", 100)]},
]


async def quiz_setup(session, **options):
    user = await make_user(session)
    rows = await make_course(session, lessons=[quiz("final", QUESTIONS, **options)])
    session.add(Enrollment(user_id=user.id, course_id=rows.course.id, version_id=rows.version.id))
    await session.flush()
    return user, rows


def right_answers(rows) -> list[AnswerIn]:
    """All four questions answered correctly."""
    answers = []
    for question in rows.questions["final"]:
        choices = rows.choices[question.id]
        if question.kind == "short_answer":
            answers.append(AnswerIn(question_id=question.id, text="  da NANG "))
        else:
            right = [c.id for c in choices if c.weight > 0]
            answers.append(AnswerIn(question_id=question.id, choice_ids=right))
    return answers


def wrong_answers(rows) -> list[AnswerIn]:
    return [AnswerIn(question_id=q.id, text="Huế") if q.kind == "short_answer" else
            AnswerIn(question_id=q.id, choice_ids=[next(c.id for c in rows.choices[q.id] if c.weight <= 0)])
            for q in rows.questions["final"]]


# --- grading rules ------------------------------------------------------------------------------------------


def test_short_answers_ignore_case_spaces_and_vietnamese_diacritics():
    assert normalise_answer("  Đà   Nẵng ") == normalise_answer("da nang") == "da nang"
    assert normalise_answer("ĐỒNG THÁP") == "dong thap"
    assert normalise_answer("Huế") != normalise_answer("Hà Nội")


async def test_single_choice_is_all_or_nothing_and_multiple_has_a_floor(session):
    _, rows = await quiz_setup(session)
    single, multiple, true_false, short = rows.questions["final"]
    s, m, tf, sa = (rows.choices[q.id] for q in (single, multiple, true_false, short))
    assert grade_question("single", s, {"choice_ids": [str(s[0].id)]}) == 1
    assert grade_question("single", s, {"choice_ids": [str(s[0].id), str(s[1].id)]}) == 0
    assert grade_question("multiple", m, {"choice_ids": [str(m[0].id)]}) == 0.5
    assert grade_question("multiple", m, {"choice_ids": [str(m[0].id), str(m[2].id)]}) == 0
    assert grade_question("multiple", m, {"choice_ids": [str(m[0].id), str(m[1].id)]}) == 1
    assert grade_question("true_false", tf, {"choice_ids": [str(tf[1].id)]}) == 1  # "Sai" is right here
    assert grade_question("short_answer", sa, {"text": "DA NANG"}) == 1
    assert grade_question("short_answer", sa, {"text": ""}) == 0


# --- starting -----------------------------------------------------------------------------------------------


async def test_draw_picks_n_of_the_pool_and_the_layout_stays_fixed(session):
    user, rows = await quiz_setup(session, draw=2)
    started = await start_attempt(session, user, rows.quizzes["final"].id, now=T0)
    assert len(started.questions) == 2
    again = await get_attempt(session, user, started.id, now=T0)
    assert [(q.id, [c.id for c in q.choices]) for q in again.questions] == \
        [(q.id, [c.id for c in q.choices]) for q in started.questions]


async def test_no_correctness_data_before_submission(session):
    user, rows = await quiz_setup(session)
    started = await start_attempt(session, user, rows.quizzes["final"].id, now=T0)
    body = started.model_dump_json()
    for leaked in ("weight", "feedback", "correct", "Đà Nẵng", "Phản hồi", "accepted"):
        assert leaked not in body
    short = next(q for q in started.questions if q.kind == "short_answer")
    true_false = next(q for q in started.questions if q.kind == "true_false")
    assert short.choices == [] and [c.text for c in true_false.choices] == ["Đúng", "Sai"]
    assert started.score is None and started.passed is None


async def test_one_open_attempt_at_a_time(session):
    user, rows = await quiz_setup(session)
    first = await start_attempt(session, user, rows.quizzes["final"].id, now=T0)
    with pytest.raises(Conflict) as refused:
        await start_attempt(session, user, rows.quizzes["final"].id, now=T0)
    assert refused.value.code == "attempt_open" and refused.value.extra["attempt_id"] == str(first.id)


async def test_max_attempts_is_enforced(session):
    user, rows = await quiz_setup(session, max_attempts=2)
    for _ in range(2):
        attempt = await start_attempt(session, user, rows.quizzes["final"].id, now=T0)
        await submit(session, user, attempt.id, wrong_answers(rows), now=T0)
    with pytest.raises(Conflict) as refused:
        await start_attempt(session, user, rows.quizzes["final"].id, now=T0)
    assert refused.value.code == "no_attempts_left"


async def test_attempts_need_an_enrolment_and_stay_private(session):
    user, rows = await quiz_setup(session)
    stranger = await make_user(session)
    with pytest.raises(Forbidden) as refused:
        await start_attempt(session, stranger, rows.quizzes["final"].id, now=T0)
    assert refused.value.code == "not_enrolled"
    attempt = await start_attempt(session, user, rows.quizzes["final"].id, now=T0)
    with pytest.raises(NotFound):
        await get_attempt(session, stranger, attempt.id)


# --- answering and grading ----------------------------------------------------------------------------------


async def test_answers_must_fit_the_attempt(session):
    user, rows = await quiz_setup(session)
    attempt = await start_attempt(session, user, rows.quizzes["final"].id, now=T0)
    single = rows.questions["final"][0]
    with pytest.raises(ValidationFailed) as refused:
        await save_answers(session, user, attempt.id, [
            AnswerIn(question_id=uuid.uuid4(), choice_ids=[]),
            AnswerIn(question_id=single.id, choice_ids=[c.id for c in rows.choices[single.id][:2]]),
            AnswerIn(question_id=single.id, choice_ids=[uuid.uuid4()]),
        ], now=T0)
    assert [e["message"] for e in refused.value.errors] == [
        "answer_unknown_question", "answer_one_choice", "answer_unknown_choice"]


async def test_submission_grades_on_the_server_and_reveals_answers(session):
    user, rows = await quiz_setup(session, pass_score=75)
    attempt = await start_attempt(session, user, rows.quizzes["final"].id, now=T0)
    answers = right_answers(rows)
    answers[1] = AnswerIn(question_id=answers[1].question_id,
                          choice_ids=[rows.choices[answers[1].question_id][0].id])  # half of multiple
    await save_answers(session, user, attempt.id, answers, now=T0)
    graded = await submit(session, user, attempt.id, now=T0 + timedelta(seconds=5))
    assert (graded.score, graded.passed) == (87.5, True)
    review = {q.kind: q.review for q in graded.questions}
    assert review["short_answer"].accepted_answers == ["Đà Nẵng"] and review["multiple"].earned == 0.5
    progress = (await session.execute(
        select(LessonProgress).where(LessonProgress.user_id == user.id))).scalar_one()
    assert progress.best_score == 87.5 and progress.completed_at is not None


async def test_a_submission_reads_its_questions_once(session):
    """Grading and the graded view come from one reading of the questions and choices (it was read twice)."""
    user, rows = await quiz_setup(session)
    attempt = await start_attempt(session, user, rows.quizzes["final"].id, now=T0)
    with statements_run(session) as seen:
        graded = await submit(session, user, attempt.id, right_answers(rows), now=T0)
    reads = [" ".join(s.split()).split(" WHERE ")[0] for s in seen if s.lstrip().upper().startswith("SELECT")]
    assert graded.passed and len(graded.questions) == len(QUESTIONS)
    assert sum(r.endswith("FROM question") for r in reads) == 1
    assert sum(r.endswith("FROM choice") for r in reads) == 1


async def test_the_best_score_counts(session):
    user, rows = await quiz_setup(session)
    quiz_id = rows.quizzes["final"].id
    scores = []
    for answers in (wrong_answers(rows), right_answers(rows), wrong_answers(rows)):
        attempt = await start_attempt(session, user, quiz_id, now=T0)
        scores.append((await submit(session, user, attempt.id, answers, now=T0)).score)
    summary = await attempts.list_attempts(session, user, quiz_id)
    assert scores == [0, 100, 0] and summary.best_score == 100 and summary.passed


async def test_submitting_twice_grades_once(session):
    user, rows = await quiz_setup(session)
    attempt = await start_attempt(session, user, rows.quizzes["final"].id, now=T0)
    first = await submit(session, user, attempt.id, right_answers(rows), now=T0)
    second = await submit(session, user, attempt.id, wrong_answers(rows), now=T0 + timedelta(seconds=9))
    assert (second.score, second.submitted_at) == (first.score, first.submitted_at) == (100, T0)


# --- deadline and grace -------------------------------------------------------------------------------------


async def test_saves_are_accepted_within_the_grace_and_refused_after(session):
    user, rows = await quiz_setup(session, time_limit_s=60)
    attempt = await start_attempt(session, user, rows.quizzes["final"].id, now=T0)
    assert attempt.deadline == T0 + timedelta(seconds=60)
    await save_answers(session, user, attempt.id, right_answers(rows)[:1],
                       now=T0 + timedelta(seconds=89))  # 60 s limit + 30 s grace
    with pytest.raises(Conflict) as refused:
        await save_answers(session, user, attempt.id, right_answers(rows), now=T0 + timedelta(seconds=91))
    assert refused.value.code == "attempt_time_up"


async def test_a_late_submission_is_graded_on_what_was_saved_by_the_deadline(session):
    user, rows = await quiz_setup(session, time_limit_s=60)
    attempt = await start_attempt(session, user, rows.quizzes["final"].id, now=T0)
    await save_answers(session, user, attempt.id, right_answers(rows)[:2], now=T0 + timedelta(seconds=30))
    # Two minutes in: the answers sent with the submission are too late to count.
    late = await submit(session, user, attempt.id, right_answers(rows), now=T0 + timedelta(seconds=120))
    assert late.score == 50 and not late.passed


async def test_a_submission_within_the_grace_counts_its_answers(session):
    user, rows = await quiz_setup(session, time_limit_s=60)
    attempt = await start_attempt(session, user, rows.quizzes["final"].id, now=T0)
    on_time = await submit(session, user, attempt.id, right_answers(rows), now=T0 + timedelta(seconds=85))
    assert on_time.score == 100


async def test_an_abandoned_attempt_is_graded_when_the_next_one_starts(session):
    user, rows = await quiz_setup(session, time_limit_s=60)
    quiz_id = rows.quizzes["final"].id
    first = await start_attempt(session, user, quiz_id, now=T0)
    await save_answers(session, user, first.id, right_answers(rows), now=T0 + timedelta(seconds=10))
    second = await start_attempt(session, user, quiz_id, now=T0 + timedelta(hours=1))
    closed = await session.get(QuizAttempt, first.id)
    assert second.number == 2 and closed.submitted_at is not None and closed.score == 100


# --- concurrency --------------------------------------------------------------------------------------------


async def test_simultaneous_submits_grade_once(committed_db, monkeypatch):
    async with committed_db.session() as session:
        user, rows = await quiz_setup(session)
        attempt = await start_attempt(session, user, rows.quizzes["final"].id)
    gradings = []
    record_best = attempts._record_best

    async def counting(*args, **kwargs):
        gradings.append(1)
        await record_best(*args, **kwargs)

    monkeypatch.setattr(attempts, "_record_best", counting)

    async def submit_in_own_transaction(answers):
        async with committed_db.session() as session:
            return await submit(session, user, attempt.id, answers)

    results = await asyncio.gather(*(submit_in_own_transaction(right_answers(rows)) for _ in range(4)))
    assert len(gradings) == 1
    assert {(r.score, r.submitted_at) for r in results} == {(results[0].score, results[0].submitted_at)}
