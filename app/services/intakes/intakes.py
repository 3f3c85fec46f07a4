"""Intakes ("đợt học"): a province assigns published courses to its learners, with a deadline.

Province admins manage the intakes of their own province and ministry admins those of any current province. To a
province admin an intake of another province does not exist (404), so ids do not reveal other provinces' work.
Members are added from CSV files (`intake_members`); the completion report is `intake_report`.
"""

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import FieldError, Forbidden, NotFound, ValidationFailed
from app.core.i18n import messages
from app.core.pagination import decode_cursor, encode_cursor, identifier, moment
from app.models.base import utcnow
from app.models.completion import Completion
from app.models.course import Course, CourseVersion, VersionStatus
from app.models.identity import Role, User
from app.models.identity_fields import normalise_text
from app.models.learning import CourseBrief, Enrollment, EnrollmentPublic
from app.models.reporting import (
    CourseAssignment,
    Intake,
    IntakeCourse,
    IntakeCoursePublic,
    IntakeCreate,
    IntakeMember,
    IntakePage,
    IntakePublic,
)
from app.services.geo import load_geography

messages({
    "intake_not_found": ("Không tìm thấy đợt học.", "Intake not found."),
    "intake_province_required": ("Cần mã tỉnh, thành phố của đợt học.", "Give the intake's province code."),
    "intake_province_not_current": ("Mã {code} không phải là tỉnh, thành phố hiện hành.",
                                    "{code} is not a current province or city code."),
    "intake_other_province": ("Bạn chỉ quản lý được các đợt học của tỉnh, thành phố mình.",
                              "You can only manage the intakes of your own province."),
    "intake_deadline_not_after_opening": ("Hạn hoàn thành phải sau thời điểm mở đợt học.",
                                          "The deadline must be after the opening time."),
    "intake_course_not_found": ("Không tìm thấy khóa học “{course}”.", "There is no course “{course}”."),
    "intake_course_not_published": ("Khóa học “{course}” chưa được xuất bản.",
                                    "The course “{course}” is not published."),
})


def own_province(admin: User) -> str | None:
    """The one province a province admin's intakes are confined to; None for a ministry admin (all of them).
    A province admin without a province (which account creation refuses) is confined to none at all."""
    if admin.role != Role.province_admin:
        return None
    return admin.province_code or ""


async def create_intake(session: AsyncSession, admin: User, data: IntakeCreate) -> IntakePublic:
    """A new intake in a current province: a province admin's own (naming another is 403), or for a ministry
    admin any current one (default: the admin's own). Every course must exist and be published; the deadline
    comes after the opening."""
    province = data.province_code or admin.province_code
    if province is None:
        raise ValidationFailed(errors=[FieldError("intake_province_required", field="province_code")])
    confined_to = own_province(admin)
    if confined_to is not None and province != confined_to:
        raise Forbidden("intake_other_province")

    errors = []
    if province not in (await load_geography(session)).current:
        errors.append(FieldError("intake_province_not_current", field="province_code", code=province))
    name = normalise_text(data.name)
    if not name:
        errors.append(FieldError("value_required", field="name"))
    if data.deadline <= data.opens_at:
        errors.append(FieldError("intake_deadline_not_after_opening", field="deadline"))
    courses, course_errors = await _published_courses(session, data.courses)
    if errors or course_errors:
        raise ValidationFailed(errors=errors + course_errors)

    intake = Intake(province_code=province, name=name, opens_at=data.opens_at, deadline=data.deadline,
                    created_by=admin.id)
    session.add(intake)
    await session.flush()
    session.add_all(IntakeCourse(intake_id=intake.id, course_id=course.id) for course in courses)
    await session.flush()
    return _public(intake, courses, member_count=0)


async def _published_courses(session: AsyncSession,
                             refs: list[str]) -> tuple[list[IntakeCoursePublic], list[FieldError]]:
    """The courses named by id or slug, in the order given (repeats dropped), in two queries for all refs."""
    ids, slugs = set(), set()
    for ref in refs:
        try:
            ids.add(uuid.UUID(ref))
        except ValueError:
            slugs.add(ref)
    found = (await session.execute(select(Course.id, Course.slug).where(
        or_(Course.id.in_(list(ids)), Course.slug.in_(list(slugs)))))).all()
    by_ref = {str(course_id): (course_id, slug) for course_id, slug in found} | {
        slug: (course_id, slug) for course_id, slug in found}
    titles = await _published_titles(session, [course_id for course_id, _ in found])

    courses: dict[uuid.UUID, IntakeCoursePublic] = {}
    errors = []
    for position, ref in enumerate(refs):
        match = by_ref.get(ref)
        if match is None:
            errors.append(FieldError("intake_course_not_found", field=f"courses.{position}", course=ref))
        elif match[0] not in titles:
            errors.append(FieldError("intake_course_not_published", field=f"courses.{position}", course=ref))
        else:
            courses.setdefault(match[0], IntakeCoursePublic(id=match[0], slug=match[1], title=titles[match[0]]))
    return list(courses.values()), errors


async def _published_titles(session: AsyncSession, course_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, str]:
    if not course_ids:
        return {}
    rows = await session.execute(select(CourseVersion.course_id, CourseVersion.title).where(
        CourseVersion.course_id.in_(course_ids), CourseVersion.status == VersionStatus.published))
    return {course_id: title for course_id, title in rows.all()}


async def get_intake(session: AsyncSession, admin: User, intake_id: uuid.UUID) -> Intake:
    """An intake the admin may see; another province's intake is 404 to a province admin, like a missing one."""
    intake = await session.get(Intake, intake_id)
    confined_to = own_province(admin)
    if intake is None or (confined_to is not None and intake.province_code != confined_to):
        raise NotFound("intake_not_found")
    return intake


async def intake_public(session: AsyncSession, intake: Intake) -> IntakePublic:
    return (await _publics(session, [intake]))[0]


async def list_intakes(session: AsyncSession, admin: User, *, province: str | None = None, limit: int = 20,
                       cursor: str | None = None) -> IntakePage:
    """Intakes newest first, keyset-paged: a province admin's own province only (asking for another is 403),
    a ministry admin's all of them or those of `province`."""
    confined_to = own_province(admin)
    if confined_to is not None and province not in (None, confined_to):
        raise Forbidden("intake_other_province")
    province = confined_to if confined_to is not None else province
    query = select(Intake).order_by(Intake.created_at.desc(), Intake.id.desc()).limit(limit + 1)
    if province is not None:
        query = query.where(Intake.province_code == province)
    if cursor:
        after_at, after_id = decode_cursor(cursor, moment, identifier)
        query = query.where(or_(Intake.created_at < after_at,
                                (Intake.created_at == after_at) & (Intake.id < after_id)))
    rows = list((await session.execute(query)).scalars())
    page, more = rows[:limit], len(rows) > limit
    next_cursor = encode_cursor(page[-1].created_at.isoformat(), str(page[-1].id)) if more else None
    return IntakePage(items=await _publics(session, page), next_cursor=next_cursor)


async def _publics(session: AsyncSession, intakes: Sequence[Intake]) -> list[IntakePublic]:
    """Intakes with their courses and member counts: two queries whatever the number of intakes."""
    if not intakes:
        return []
    ids = [c.id for c in intakes]
    courses: dict[uuid.UUID, list[IntakeCoursePublic]] = {}
    for intake_id, course_id, slug, title in (await session.execute(
            select(IntakeCourse.intake_id, Course.id, Course.slug, CourseVersion.title)
            .join(Course, Course.id == IntakeCourse.course_id)
            .outerjoin(CourseVersion, (CourseVersion.course_id == Course.id)
                       & (CourseVersion.status == VersionStatus.published))
            .where(IntakeCourse.intake_id.in_(ids)).order_by(Course.slug))).all():
        courses.setdefault(intake_id, []).append(IntakeCoursePublic(id=course_id, slug=slug, title=title))
    members = dict((await session.execute(
        select(IntakeMember.intake_id, func.count()).where(IntakeMember.intake_id.in_(ids))
        .group_by(IntakeMember.intake_id))).tuples().all())
    return [_public(c, courses.get(c.id, []), member_count=members.get(c.id, 0)) for c in intakes]


def _public(intake: Intake, courses: list[IntakeCoursePublic], *, member_count: int) -> IntakePublic:
    return IntakePublic(id=intake.id, province_code=intake.province_code, name=intake.name,
                        opens_at=intake.opens_at, deadline=intake.deadline, courses=courses,
                        member_count=member_count, created_by=intake.created_by, created_at=intake.created_at)


# --- what members see in GET /api/v1/me/enrollments --------------------------------------------------------


async def assignments_for(session: AsyncSession, user_id: uuid.UUID) -> dict[uuid.UUID, CourseAssignment]:
    """The intake behind each course assigned to a learner, by course id. When several intakes assign the same
    course, the one with the nearest deadline still ahead wins; when every deadline has passed, the latest."""
    rows = (await session.execute(
        select(IntakeCourse.course_id, Intake.id, Intake.name, Intake.opens_at, Intake.deadline)
        .join(Intake, Intake.id == IntakeCourse.intake_id)
        .join(IntakeMember, IntakeMember.intake_id == Intake.id)
        .where(IntakeMember.user_id == user_id))).all()
    now = utcnow()

    def preference(deadline: datetime) -> tuple[bool, float]:
        ahead = deadline >= now
        return (not ahead, (deadline - now).total_seconds() if ahead else (now - deadline).total_seconds())

    chosen: dict[uuid.UUID, CourseAssignment] = {}
    for course_id, intake_id, name, opens_at, deadline in rows:
        current = chosen.get(course_id)
        if current is None or preference(deadline) < preference(current.deadline):
            chosen[course_id] = CourseAssignment(intake_id=intake_id, intake_name=name, opens_at=opens_at,
                                                 deadline=deadline)
    return chosen


async def courses_assigned_not_enrolled(session: AsyncSession, user_id: uuid.UUID,
                                        assignments: dict[uuid.UUID, CourseAssignment]) -> list[EnrollmentPublic]:
    """Assigned courses the learner has no active enrollment in, as `enrolled: false` items, soonest deadline
    first: the intake's work shows before the learner enrolls. A course already completed (say, through a
    partner) shows its completion."""
    if not assignments:
        return []
    active = set((await session.execute(select(Enrollment.course_id).where(
        Enrollment.user_id == user_id, Enrollment.course_id.in_(list(assignments)),
        Enrollment.left_at.is_(None)))
    ).scalars())
    waiting = [course_id for course_id in assignments if course_id not in active]
    if not waiting:
        return []
    slugs = dict((await session.execute(select(Course.id, Course.slug).where(Course.id.in_(waiting)))).tuples()
                 .all())
    # The published version, else (a course withdrawn since it was assigned) its latest one.
    shown: dict[uuid.UUID, CourseVersion] = {}
    for version in (await session.execute(select(CourseVersion).where(CourseVersion.course_id.in_(waiting))
                                          .order_by(CourseVersion.version))).scalars():
        if shown.get(version.course_id) is None or shown[version.course_id].status != VersionStatus.published:
            shown[version.course_id] = version
    completed = dict((await session.execute(select(Completion.course_id, Completion.completed_at).where(
        Completion.user_id == user_id, Completion.course_id.in_(waiting)))).tuples().all())

    items = [EnrollmentPublic(
        course=CourseBrief(id=course_id, slug=slugs[course_id], title=shown[course_id].title,
                           version=shown[course_id].version),
        enrolled=False, enrolled_at=None, completed_at=completed.get(course_id),
        progress_percent=100 if course_id in completed else 0, next_lesson=None,
        assignment=assignments[course_id]) for course_id in waiting if course_id in shown]
    return sorted(items, key=lambda item: (item.assignment.deadline, item.course.slug))
