"""Entering a contest and taking it: only within its window, only for those it is open to, only as many attempts
as it allows. Nothing is accepted once it closes: an entry or a submission at or after `closes_at` is refused,
and an attempt's own deadline never runs past the close."""

import random
import uuid
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import Conflict, FieldError, Forbidden, NotFound, ValidationFailed
from app.core.i18n import messages
from app.models.base import utcnow
from app.models.contests import (
    Contest,
    ContestAnswers,
    ContestAttempt,
    ContestAttemptPublic,
    ContestAudience,
    ContestEntry,
    ContestQuestion,
    EntryPublic,
)
from app.models.identity import User
from app.models.learning import ChoicePublic
from app.models.quiz import Choice, Question
from app.models.units import UnitOfficial
from app.services.contests.contests import shown_name, status
from app.services.geo import load_geography
from app.services.quizzes.grading import grade_question, score_of
from app.services.quizzes.layout import layout_item, option_map

_random = random.SystemRandom()

messages({
    "contest_not_open_yet": ("Cuộc thi chưa bắt đầu.", "The contest has not opened yet."),
    "contest_closed": ("Cuộc thi đã kết thúc, không nhận thêm bài.", "The contest has closed: nothing more is "
                       "accepted."),
    "contest_not_eligible": ("Cuộc thi này không dành cho bạn (đối tượng hoặc tỉnh, thành phố).",
                             "This contest is not open to you (audience or province)."),
    "contest_not_entered": ("Bạn chưa đăng ký dự thi.", "You have not entered this contest."),
    "contest_attempt_open": ("Bạn đang có một lượt thi chưa nộp.", "You already have an attempt in progress."),
    "contest_no_attempts_left": ("Bạn đã dùng hết {max} lượt thi.", "You have used all {max} attempts."),
    "contest_attempt_not_found": ("Không tìm thấy lượt thi.", "Attempt not found."),
    "contest_attempt_submitted": ("Lượt thi đã được nộp.", "This attempt has already been submitted."),
    "contest_attempt_time_up": ("Đã hết thời gian làm bài của lượt thi.", "Time is up for this attempt."),
    "contest_answer_unknown": ("Câu hỏi hoặc lựa chọn không thuộc lượt thi này.",
                               "The question or choice is not part of this attempt."),
})


def require_open(contest: Contest, now: datetime) -> None:
    state = status(contest, now)
    if state == "upcoming":
        raise Conflict("contest_not_open_yet")
    if state == "closed":
        raise Conflict("contest_closed")


async def _eligible(session: AsyncSession, contest: Contest, user: User) -> str | None:
    """The learner's current province if the contest is open to them; refuses (403) otherwise."""
    geo = await load_geography(session)
    province = geo.current_code(user.province_code) if user.province_code else None
    audience_ok = contest.audience == ContestAudience.all or user.effective_audience == contest.audience
    if not user.is_active or not audience_ok or (contest.province_code and province != contest.province_code):
        raise Forbidden("contest_not_eligible")
    return province


async def _attempts_used(session: AsyncSession, contest: Contest, user: User) -> int:
    return (await session.execute(select(func.count()).select_from(ContestAttempt).where(
        ContestAttempt.contest_id == contest.id, ContestAttempt.user_id == user.id))).scalar_one()


async def _entry_public(session: AsyncSession, contest: Contest, user: User, entry: ContestEntry) -> EntryPublic:
    used = await _attempts_used(session, contest, user)
    return EntryPublic(contest_id=contest.id, entered_at=entry.entered_at, show_full_name=entry.show_full_name,
                       attempts_used=used, attempts_left=max(0, contest.max_attempts - used))


async def enter(session: AsyncSession, contest: Contest, user: User, *, show_full_name: bool,
                now: datetime | None = None) -> EntryPublic:
    """Enter while the contest is open (entering again only changes whether the full name is shown). The
    entrant's province and unit are recorded as they are now, for the units' leaderboard, and the name as
    the public boards will show it."""
    now = now or utcnow()
    require_open(contest, now)
    province = await _eligible(session, contest, user)
    entry = await session.get(ContestEntry, (contest.id, user.id))
    if entry is None:
        unit = await session.get(UnitOfficial, user.id)
        entry = ContestEntry(contest_id=contest.id, user_id=user.id, entered_at=now, province_code=province,
                             unit_id=unit.unit_id if unit else None, show_full_name=show_full_name)
        session.add(entry)
    else:
        entry.show_full_name = show_full_name
    entry.shown_name = shown_name(user.full_name, show_full_name)
    await session.flush()
    return await _entry_public(session, contest, user, entry)


async def my_entry(session: AsyncSession, contest: Contest, user: User) -> EntryPublic:
    entry = await session.get(ContestEntry, (contest.id, user.id))
    if entry is None:
        raise NotFound("contest_not_entered")
    return await _entry_public(session, contest, user, entry)


async def start_attempt(session: AsyncSession, contest: Contest, user: User, *,
                        now: datetime | None = None) -> ContestAttemptPublic:
    """Start an attempt: the questions drawn and shuffled once; the deadline is the time limit or the close,
    whichever comes first. An open attempt past its deadline is closed unscored first."""
    now = now or utcnow()
    require_open(contest, now)
    if await session.get(ContestEntry, (contest.id, user.id)) is None:
        raise Forbidden("contest_not_entered")
    await _close_expired(session, contest, user, now)
    used = await _attempts_used(session, contest, user)
    if used >= contest.max_attempts:
        raise Conflict("contest_no_attempts_left", max=contest.max_attempts)
    pool = list((await session.execute(select(Question).where(Question.quiz_id == contest.quiz_id)
                                       .order_by(Question.position))).scalars())
    drawn = _random.sample(pool, contest.questions) if contest.questions and contest.questions < len(pool) \
        else _random.sample(pool, len(pool))
    choices = await _choices(session, [q.id for q in drawn])
    # The quiz layout rules: typed answers (short, numerical), essays and descriptions show no choices.
    layout = [layout_item(question, choices[question.id], shuffle=True) for question in drawn]
    deadline = contest.closes_at
    if contest.time_limit_s:
        deadline = min(deadline, now + timedelta(seconds=contest.time_limit_s))
    attempt = ContestAttempt(contest_id=contest.id, user_id=user.id, number=used + 1, layout=layout,
                             started_at=now, deadline=deadline)
    try:
        async with session.begin_nested():
            session.add(attempt)
    except IntegrityError as exc:  # a simultaneous start won the open-attempt index
        raise Conflict("contest_attempt_open") from exc
    return _view(attempt, {q.id: q for q in drawn}, choices)


async def _close_expired(session: AsyncSession, contest: Contest, user: User, now: datetime) -> None:
    open_attempt = (await session.execute(select(ContestAttempt).where(
        ContestAttempt.contest_id == contest.id, ContestAttempt.user_id == user.id,
        ContestAttempt.submitted_at.is_(None)))).scalar_one_or_none()
    if open_attempt is None:
        return
    if now <= open_attempt.deadline:
        raise Conflict("contest_attempt_open", extra={"attempt_id": str(open_attempt.id)})
    # Abandoned: it used an attempt but earned no score (the leaderboards read scored attempts only).
    await session.execute(update(ContestAttempt).where(
        ContestAttempt.id == open_attempt.id, ContestAttempt.submitted_at.is_(None)
    ).values(submitted_at=open_attempt.deadline))


async def _choices(session: AsyncSession, question_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[Choice]]:
    found: dict[uuid.UUID, list[Choice]] = {qid: [] for qid in question_ids}
    for choice in (await session.execute(select(Choice).where(Choice.question_id.in_(question_ids))
                                         .order_by(Choice.position))).scalars():
        found[choice.question_id].append(choice)
    return found


def _view(attempt: ContestAttempt, questions: dict[uuid.UUID, Question],
          choices: dict[uuid.UUID, list[Choice]]) -> ContestAttemptPublic:
    shown = []
    for item in attempt.layout:
        qid = uuid.UUID(item["question_id"])
        by_id = {str(c.id): c for c in choices[qid]}
        shown.append(ContestQuestion(id=qid, kind=item["kind"], prompt=questions[qid].prompt,
                                     choices=[ChoicePublic(id=by_id[c].id, text=by_id[c].text)
                                              for c in item["choice_ids"]]))
    return ContestAttemptPublic(id=attempt.id, contest_id=attempt.contest_id, number=attempt.number,
                                started_at=attempt.started_at, deadline=attempt.deadline,
                                submitted_at=attempt.submitted_at, score=attempt.score,
                                duration_ms=attempt.duration_ms, questions=shown)


async def submit_attempt(session: AsyncSession, contest: Contest, user: User, attempt_id: uuid.UUID,
                         given: ContestAnswers, *, now: datetime | None = None) -> ContestAttemptPublic:
    """Grade an attempt on the server, once, if it arrives before both its deadline and the contest's close.
    The time taken (submission − start) breaks ties between equal scores."""
    now = now or utcnow()
    attempt = await session.get(ContestAttempt, attempt_id)
    if attempt is None or attempt.user_id != user.id or attempt.contest_id != contest.id:
        raise NotFound("contest_attempt_not_found")
    if attempt.submitted_at is not None:
        raise Conflict("contest_attempt_submitted")
    require_open(contest, now)
    if now > attempt.deadline:
        raise Conflict("contest_attempt_time_up")
    layout = {item["question_id"]: item for item in attempt.layout}
    answers: dict[str, dict] = {}
    for index, answer in enumerate(given.answers):
        item = layout.get(str(answer.question_id))
        ids = [str(c) for c in answer.choice_ids or []]
        if item is None or not set(ids) <= set(item["choice_ids"]):
            raise ValidationFailed(errors=[FieldError("contest_answer_unknown", field=f"answers.{index}")])
        answers[str(answer.question_id)] = {"question_id": str(answer.question_id), "choice_ids": ids,
                                            "text": answer.text}
    questions = {uuid.UUID(q): q for q in layout}
    choices = await _choices(session, list(questions))
    score = score_of([(grade_question(item["kind"], choices[uuid.UUID(qid)], answers.get(qid), option_map(item)), 1)
                      for qid, item in layout.items()])  # essays and descriptions are not graded
    duration_ms = int((now - attempt.started_at) / timedelta(milliseconds=1))
    closed = await session.execute(update(ContestAttempt).where(
        ContestAttempt.id == attempt.id, ContestAttempt.submitted_at.is_(None)).values(
        answers=list(answers.values()), submitted_at=now, score=score, duration_ms=duration_ms))
    if not closed.rowcount:
        raise Conflict("contest_attempt_submitted")
    # A name corrected since the entry shows from this submission on; nothing changes it after the close.
    entry = await session.get(ContestEntry, (contest.id, user.id))
    if entry is not None:
        entry.shown_name = shown_name(user.full_name, entry.show_full_name)
        await session.flush()
    await session.refresh(attempt)
    rows = (await session.execute(select(Question).where(Question.id.in_(list(questions))))).scalars()
    return _view(attempt, {q.id: q for q in rows}, choices)
