"""Quiz attempts: drawn and shuffled once, autosaved, graded on the server, limited, and timed.

Rules enforced here rather than trusted to the client:
- the questions (`draw` of the pool) and the order of their choices are fixed when the attempt starts;
- one open attempt per learner and quiz (a partial unique index backs this up) and at most `max_attempts`;
- answers are accepted until the deadline plus GRACE (network latency); a later submission is graded on what
  was saved by then, and an abandoned attempt is graded the same way the next time it is touched;
- two simultaneous submissions grade once: the closing UPDATE only matches while `submitted_at IS NULL`;
- nothing that reveals the right answer (weights, feedback, accepted answers) leaves the server before
  submission; the best score counts toward passing.
"""

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.dialect import insert_for
from app.core.errors import Conflict, FieldError, NotFound, ValidationFailed
from app.core.i18n import messages
from app.core.storage import Storage
from app.models.base import utcnow
from app.models.course import CourseVersion, Lesson
from app.models.identity import User
from app.models.learning import (
    AnswerIn,
    AttemptBrief,
    AttemptPublic,
    LessonProgress,
    QuizAttempts,
)
from app.models.quiz import Choice, Question, QuestionKind, Quiz, QuizAttempt
from app.services.completion.completions import complete_if_met
from app.services.learning.enrollment import require_enrollment
from app.services.quizzes.files import sign_files
from app.services.quizzes.grading import TEXT_ANSWER_KINDS, grade_question, score_of
from app.services.quizzes.layout import draw_questions, layout_item, option_map
from app.services.quizzes.views import question_view

GRACE = timedelta(seconds=30)
SHORT_TEXT_MAX = 500  # short and numerical answers; essays take up to AnswerIn's 10,000 characters

messages({
    "quiz_not_found": ("Không tìm thấy bài kiểm tra.", "Quiz not found."),
    "attempt_not_found": ("Không tìm thấy lượt làm bài.", "Attempt not found."),
    "attempt_open": ("Bạn đang có một lượt làm bài chưa nộp.", "You already have an attempt in progress."),
    "no_attempts_left": ("Bạn đã dùng hết {max} lượt làm bài.", "You have used all {max} attempts."),
    "attempt_submitted": ("Lượt làm bài đã được nộp.", "This attempt has already been submitted."),
    "attempt_time_up": ("Đã hết thời gian làm bài.", "Time is up for this attempt."),
    "answer_unknown_question": (
        "Câu hỏi không thuộc lượt làm bài này.", "This question is not in the attempt."),
    "answer_unknown_choice": (
        "Lựa chọn không thuộc câu hỏi này.", "This choice does not belong to the question."),
    "answer_one_choice": ("Câu hỏi này chỉ chọn một đáp án.", "This question takes a single choice."),
    "answer_text_only": ("Câu hỏi này cần trả lời bằng chữ.", "This question takes a text answer."),
    "answer_choices_only": ("Câu hỏi này cần chọn đáp án.", "This question takes choices, not text."),
    "answer_matches_only": ("Câu hỏi ghép cặp cần trả lời bằng các cặp (matches).",
                            "A matching question takes pairs (matches)."),
    "answer_unknown_match": ("Cặp ghép không thuộc câu hỏi này.", "A pair does not belong to this question."),
    "answer_not_expected": ("Phần mô tả không cần trả lời.", "A description takes no answer."),
    "answer_too_long": ("Câu trả lời dài quá {limit} ký tự.", "The answer is longer than {limit} characters."),
})


def _expired(attempt: QuizAttempt, now: datetime) -> bool:
    return attempt.deadline is not None and now > attempt.deadline + GRACE


Content = tuple[dict[str, Question], dict[str, list[Choice]]]  # questions and their choices, by question id


async def _content(session: AsyncSession, layout: list[dict]) -> Content:
    ids = [uuid.UUID(item["question_id"]) for item in layout]
    found = (await session.execute(select(Question).where(Question.id.in_(ids)))).scalars()
    questions = {str(q.id): q for q in found}
    choices: dict[str, list[Choice]] = {key: [] for key in questions}
    for choice in (await session.execute(select(Choice).where(Choice.question_id.in_(ids))
                                         .order_by(Choice.position))).scalars():
        choices[str(choice.question_id)].append(choice)
    return questions, choices


def _view(attempt: QuizAttempt, questions: dict[str, Question],
          choices: dict[str, list[Choice]]) -> AttemptPublic:
    reveal = attempt.submitted_at is not None
    answers = {a["question_id"]: a for a in attempt.answers}
    shown = [question_view(questions[item["question_id"]], choices.get(item["question_id"], []), item,
                           answers.get(item["question_id"]), reveal)
             for item in attempt.layout
             if item["question_id"] in questions]  # content removed since: the score already recorded stands
    return AttemptPublic(
        id=attempt.id, quiz_id=attempt.quiz_id, number=attempt.number, started_at=attempt.started_at,
        deadline=attempt.deadline, submitted_at=attempt.submitted_at, questions=shown,
        answers=attempt.answers, score=attempt.score if reveal else None,
        passed=attempt.passed if reveal else None)


@dataclass
class Media:
    """Where question images are stored, and how long their signed URLs last."""

    storage: Storage
    url_ttl_s: int


async def _shown(session: AsyncSession, user: User, media: Media | None, view: AttemptPublic) -> AttemptPublic:
    """The view with its question images as signed URLs (emptied without `media` or an active enrollment)."""
    return await sign_files(session, media.storage if media else None, user.id, view,
                            ttl_s=media.url_ttl_s if media else 0)


async def _quiz_in_course(session: AsyncSession,
                          quiz_id: uuid.UUID) -> tuple[Quiz, str, uuid.UUID, uuid.UUID]:
    """The quiz with its lesson key, course and course version."""
    row = (await session.execute(
        select(Quiz, Lesson.key, CourseVersion.course_id, CourseVersion.id)
        .join(Lesson, Lesson.id == Quiz.lesson_id)
        .join(CourseVersion, CourseVersion.id == Lesson.version_id).where(Quiz.id == quiz_id))).first()
    if row is None:
        raise NotFound("quiz_not_found")
    quiz, lesson_key, course_id, version_id = row
    return quiz, lesson_key, course_id, version_id


async def _own_attempt(session: AsyncSession, user: User, attempt_id: uuid.UUID) -> QuizAttempt:
    attempt = await session.get(QuizAttempt, attempt_id)
    if attempt is None or attempt.user_id != user.id:  # 404, not 403: another learner's attempt stays unseen
        raise NotFound("attempt_not_found")
    return attempt


async def start_attempt(session: AsyncSession, user: User, quiz_id: uuid.UUID, *,
                        now: datetime | None = None, media: Media | None = None) -> AttemptPublic:
    """Start an attempt for an enrolled learner: draw `draw` questions from the pool, shuffle questions and
    choices (when the quiz says so), fix that layout for the attempt, and set the deadline."""
    now = now or utcnow()
    quiz, lesson_key, course_id, version_id = await _quiz_in_course(session, quiz_id)
    if (await require_enrollment(session, user.id, course_id)).version_id != version_id:
        raise NotFound("lesson_replaced")  # a quiz of a version the learner has moved on from
    current = (await session.execute(select(QuizAttempt).where(
        QuizAttempt.user_id == user.id, QuizAttempt.quiz_id == quiz.id, QuizAttempt.submitted_at.is_(None))
    )).scalar_one_or_none()
    if current is not None and _expired(current, now):
        await _close(session, user, quiz, current, current.answers, now, await _content(session, current.layout))
    elif current is not None:
        raise Conflict("attempt_open", extra={"attempt_id": str(current.id)})
    used = (await session.execute(select(func.count()).select_from(QuizAttempt).where(
        QuizAttempt.user_id == user.id, QuizAttempt.quiz_id == quiz.id))).scalar_one()
    if quiz.max_attempts is not None and used >= quiz.max_attempts:
        raise Conflict("no_attempts_left", max=quiz.max_attempts)

    pool = draw_questions(list((await session.execute(select(Question).where(Question.quiz_id == quiz.id)))
                               .scalars()), quiz.draw, quiz.shuffle)
    questions = {str(q.id): q for q in pool}
    choices: dict[str, list[Choice]] = {key: [] for key in questions}
    for choice in (await session.execute(select(Choice).where(Choice.question_id.in_([q.id for q in pool]))
                                         .order_by(Choice.position))).scalars():
        choices[str(choice.question_id)].append(choice)
    layout = [layout_item(question, choices[str(question.id)], quiz.shuffle) for question in pool]

    attempt = QuizAttempt(quiz_id=quiz.id, user_id=user.id, course_id=course_id, lesson_key=lesson_key,
                          number=used + 1, layout=layout, answers=[], started_at=now,
                          deadline=now + timedelta(seconds=quiz.time_limit_s) if quiz.time_limit_s else None)
    try:
        async with session.begin_nested():
            session.add(attempt)
    except IntegrityError as exc:  # a simultaneous start won the open-attempt index
        raise Conflict("attempt_open") from exc
    return await _shown(session, user, media, _view(attempt, questions, choices))


async def get_attempt(session: AsyncSession, user: User, attempt_id: uuid.UUID, *,
                      now: datetime | None = None, media: Media | None = None) -> AttemptPublic:
    """The learner's own attempt; correct answers and feedback appear only once it is submitted."""
    attempt = await _own_attempt(session, user, attempt_id)
    content = await _content(session, attempt.layout)
    if attempt.submitted_at is None and _expired(attempt, now or utcnow()):
        await _close(session, user, await session.get(Quiz, attempt.quiz_id), attempt, attempt.answers,
                     now or utcnow(), content)
    return await _shown(session, user, media, _view(attempt, *content))


def _text_answer(answer: AnswerIn, item: dict, qid: str, where: str) -> tuple[dict, list[FieldError]]:
    errors = []
    if answer.choice_ids or answer.matches:
        errors.append(FieldError("answer_text_only", field=f"{where}.choice_ids"))
    text = (answer.text or "").strip()
    if item["kind"] != QuestionKind.essay and len(text) > SHORT_TEXT_MAX:
        errors.append(FieldError("answer_too_long", field=f"{where}.text", limit=SHORT_TEXT_MAX))
    return {"question_id": qid, "text": text}, errors


def _matches_answer(answer: AnswerIn, item: dict, qid: str, where: str) -> tuple[dict, list[FieldError]]:
    if answer.choice_ids or answer.text is not None:
        return {}, [FieldError("answer_matches_only", field=f"{where}.matches")]
    options, stems = option_map(item), set(item["choice_ids"])
    pairs = {str(m.choice_id): str(m.option_id) for m in answer.matches or []}
    if not set(pairs) <= stems or not set(pairs.values()) <= set(options):
        return {}, [FieldError("answer_unknown_match", field=f"{where}.matches")]
    return {"question_id": qid, "matches": [{"choice_id": c, "option_id": o} for c, o in pairs.items()]}, []


def _choices_answer(answer: AnswerIn, item: dict, qid: str, where: str) -> tuple[dict, list[FieldError]]:
    ids = list(dict.fromkeys(str(c) for c in answer.choice_ids or []))
    if answer.text is not None or answer.matches:
        return {}, [FieldError("answer_choices_only", field=f"{where}.text")]
    if not set(ids) <= set(item["choice_ids"]):
        return {}, [FieldError("answer_unknown_choice", field=f"{where}.choice_ids")]
    if len(ids) > 1 and item["kind"] != QuestionKind.multiple:
        return {}, [FieldError("answer_one_choice", field=f"{where}.choice_ids")]
    return {"question_id": qid, "choice_ids": ids}, []


def _merge(attempt: QuizAttempt, given: list[AnswerIn]) -> list[dict]:
    """The attempt's answers with `given` applied per question, checked against the attempt's own layout:
    each kind takes its own shape (docs/learning.md)."""
    layout = {item["question_id"]: item for item in attempt.layout}
    merged = {a["question_id"]: a for a in attempt.answers}
    errors = []
    for index, answer in enumerate(given):
        qid, where = str(answer.question_id), f"answers.{index}"
        item = layout.get(qid)
        if item is None:
            errors.append(FieldError("answer_unknown_question", field=f"{where}.question_id"))
            continue
        if item["kind"] == QuestionKind.description:
            errors.append(FieldError("answer_not_expected", field=f"{where}.question_id"))
            continue
        shape = (_text_answer if item["kind"] in TEXT_ANSWER_KINDS else
                 _matches_answer if item["kind"] == QuestionKind.matching else _choices_answer)
        value, problems = shape(answer, item, qid, where)
        errors += problems
        if not problems:
            merged[qid] = value
    if errors:
        raise ValidationFailed(errors=errors)
    return [merged[item["question_id"]] for item in attempt.layout if item["question_id"] in merged]


async def save_answers(session: AsyncSession, user: User, attempt_id: uuid.UUID, given: list[AnswerIn], *,
                       now: datetime | None = None, media: Media | None = None) -> AttemptPublic:
    """Autosave: merge answers per question while the attempt is open and on time (deadline + grace)."""
    now = now or utcnow()
    attempt = await _own_attempt(session, user, attempt_id)
    if attempt.submitted_at is not None:
        raise Conflict("attempt_submitted")
    if _expired(attempt, now):
        raise Conflict("attempt_time_up")
    answers = _merge(attempt, given)
    saved = await session.execute(update(QuizAttempt).where(
        QuizAttempt.id == attempt.id, QuizAttempt.submitted_at.is_(None)).values(
        answers=answers, answers_saved_at=now))
    if not saved.rowcount:
        raise Conflict("attempt_submitted")
    return await _shown(session, user, media, _view(attempt, *await _content(session, attempt.layout)))


async def submit_attempt(session: AsyncSession, user: User, attempt_id: uuid.UUID,
                         given: list[AnswerIn] | None = None, *,
                         now: datetime | None = None, media: Media | None = None) -> AttemptPublic:
    """Grade the attempt on the server, once. On time, `given` answers are saved with it; late, only what was
    saved by the deadline (plus grace) counts. Submitting again returns the graded attempt unchanged."""
    now = now or utcnow()
    attempt = await _own_attempt(session, user, attempt_id)
    content = await _content(session, attempt.layout)  # graded and shown from one reading
    if attempt.submitted_at is None:
        answers = _merge(attempt, given) if given and not _expired(attempt, now) else attempt.answers
        await _close(session, user, await session.get(Quiz, attempt.quiz_id), attempt, answers, now, content)
    return await _shown(session, user, media, _view(attempt, *content))


async def _close(session: AsyncSession, user: User, quiz: Quiz | None, attempt: QuizAttempt,
                 answers: list[dict], now: datetime, content: Content) -> None:
    """Grade and close an open attempt unless a concurrent call already did (then reload its result).
    `content` is the attempt's questions and choices, read once by the caller, which shows them too."""
    questions, choices = content
    given = {a["question_id"]: a for a in answers}
    score = score_of([(grade_question(item["kind"], choices.get(item["question_id"], []),
                                      given.get(item["question_id"]), option_map(item)),
                       questions[item["question_id"]].points if item["question_id"] in questions else 1)
                      for item in attempt.layout])
    passed = quiz is not None and score >= quiz.pass_score
    closed = await session.execute(update(QuizAttempt).where(
        QuizAttempt.id == attempt.id, QuizAttempt.submitted_at.is_(None)).values(
        answers=answers, submitted_at=now, score=score, passed=passed))
    if not closed.rowcount:
        await session.refresh(attempt)
        return
    await _record_best(session, user, attempt, score, passed, now)


async def _record_best(session: AsyncSession, user: User, attempt: QuizAttempt, score: float, passed: bool,
                       now: datetime) -> None:
    """Keep the best score on the lesson's progress; passing first completes the lesson (maybe the course)."""
    mine = and_(LessonProgress.user_id == user.id, LessonProgress.course_id == attempt.course_id,
                LessonProgress.lesson_key == attempt.lesson_key)
    await session.execute(insert_for(session, LessonProgress).values(
        id=uuid.uuid4(), user_id=user.id, course_id=attempt.course_id, lesson_key=attempt.lesson_key,
        intervals=[], covered_s=0, updated_at=now,
    ).on_conflict_do_nothing(index_elements=["user_id", "course_id", "lesson_key"]))
    row = (await session.execute(select(LessonProgress).where(mine).with_for_update()
                                 .execution_options(populate_existing=True))).scalar_one()
    row.best_score = max(row.best_score or 0, score)
    row.updated_at = now
    newly_passed = passed and row.completed_at is None
    if newly_passed:
        row.completed_at = now
    session.add(row)
    await session.flush()
    if newly_passed:
        await complete_if_met(session, user.id, attempt.course_id)


async def list_attempts(session: AsyncSession, user: User, quiz_id: uuid.UUID) -> QuizAttempts:
    """The learner's attempts at a quiz with the best score and how many attempts remain."""
    quiz, _, course_id, _ = await _quiz_in_course(session, quiz_id)
    await require_enrollment(session, user.id, course_id)
    rows = list((await session.execute(
        select(QuizAttempt).where(QuizAttempt.user_id == user.id, QuizAttempt.quiz_id == quiz.id)
        .order_by(QuizAttempt.number))).scalars())
    scores = [a.score for a in rows if a.score is not None]
    best = max(scores, default=None)
    return QuizAttempts(
        quiz_id=quiz.id, pass_score=quiz.pass_score, max_attempts=quiz.max_attempts,
        attempts_left=max(0, quiz.max_attempts - len(rows)) if quiz.max_attempts is not None else None,
        best_score=best, passed=best is not None and best >= quiz.pass_score,
        attempts=[AttemptBrief(id=a.id, number=a.number, started_at=a.started_at, deadline=a.deadline,
                               submitted_at=a.submitted_at, score=a.score, passed=a.passed) for a in rows])
