"""Defining contests and who manages them: a province's admins their province's contests, ministry admins any
contest, national ones included."""

import uuid
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import FieldError, Forbidden, NotFound, ValidationFailed
from app.core.i18n import messages
from app.models.base import utcnow
from app.models.contests import Contest, ContestCreate, ContestPublic
from app.models.identity import Role, User
from app.models.quiz import Question, Quiz
from app.services.geo import load_geography

messages({
    "contest_not_found": ("Không tìm thấy cuộc thi.", "Contest not found."),
    "contest_other_province": ("Bạn chỉ quản lý được các cuộc thi của tỉnh, thành phố mình ({own}).",
                               "You can only manage the contests of your own province ({own})."),
    "contest_national_ministry_only": ("Chỉ Bộ tạo được cuộc thi toàn quốc; hãy chọn tỉnh, thành phố.",
                                       "Only ministry admins create national contests; choose a province."),
    "contest_province_not_current": ("Mã {code} không phải tỉnh, thành phố hiện nay.",
                                     "{code} is not a current province."),
    "contest_quiz_not_found": ("Không có bài kiểm tra này.", "There is no such quiz."),
    "contest_quiz_too_small": ("Bài kiểm tra chỉ có {available} câu hỏi, không đủ {questions}.",
                               "The quiz has only {available} questions, not {questions}."),
})


def status(contest: Contest, now: datetime | None = None) -> str:
    now = now or utcnow()
    if now < contest.opens_at:
        return "upcoming"
    return "open" if now < contest.closes_at else "closed"


def short_name(full_name: str) -> str:
    """'Nguyễn Thị Hồng Nhung' → 'Nguyễn T. H. N.': the family name and the initials of the rest."""
    words = full_name.split()
    if len(words) <= 1:
        return f"{words[0][0]}." if words else "—"
    return " ".join([words[0], *(f"{w[0]}." for w in words[1:])])


def shown_name(full_name: str, show_full_name: bool) -> str:
    """The name a public leaderboard shows: the full name only if the learner opted in."""
    return full_name if show_full_name else short_name(full_name)


def public(contest: Contest) -> ContestPublic:
    fields = {name: getattr(contest, name) for name in ContestPublic.model_fields if name != "status"}
    return ContestPublic(**fields, status=status(contest))


def may_manage(admin: User, contest: Contest) -> bool:
    if admin.role == Role.ministry_admin:
        return True
    return admin.role == Role.province_admin and contest.province_code is not None \
        and contest.province_code == admin.province_code


async def create_contest(session: AsyncSession, admin: User, data: ContestCreate) -> Contest:
    """A province admin creates contests of their own province only; a national contest (no province) is for
    ministry admins. The quiz must exist and hold enough questions for the draw."""
    if admin.role == Role.province_admin:
        if data.province_code is None:
            data.province_code = admin.province_code
        if not admin.province_code or data.province_code != admin.province_code:
            raise Forbidden("contest_other_province", own=admin.province_code or "—")
    elif data.province_code is not None:
        geo = await load_geography(session)
        if data.province_code not in geo.current:
            raise ValidationFailed(errors=[FieldError("contest_province_not_current", field="province_code",
                                                      code=data.province_code)])
    if await session.get(Quiz, data.quiz_id) is None:
        raise ValidationFailed(errors=[FieldError("contest_quiz_not_found", field="quiz_id")])
    available = len((await session.execute(select(Question.id).where(Question.quiz_id == data.quiz_id))).all())
    if available == 0 or (data.questions or 0) > available:
        raise ValidationFailed(errors=[FieldError("contest_quiz_too_small", field="questions",
                                                  available=available, questions=data.questions or 1)])
    contest = Contest(**data.model_dump(), created_by=admin.id)
    session.add(contest)
    await session.flush()
    return contest


async def get_contest(session: AsyncSession, contest_id: uuid.UUID) -> Contest:
    contest = await session.get(Contest, contest_id)
    if contest is None:
        raise NotFound("contest_not_found")
    return contest


async def managed_contest(session: AsyncSession, admin: User, contest_id: uuid.UUID) -> Contest:
    """A contest the admin manages; another province's looks missing (404)."""
    contest = await get_contest(session, contest_id)
    if not may_manage(admin, contest):
        raise NotFound("contest_not_found")
    return contest


async def list_contests(session: AsyncSession, province: str | None) -> list[Contest]:
    """National contests and, with `province`, that province's: newest opening first."""
    where = Contest.province_code.is_(None)
    if province:
        where = or_(where, Contest.province_code == province)
    return list((await session.execute(select(Contest).where(where).order_by(Contest.opens_at.desc()))).scalars())
