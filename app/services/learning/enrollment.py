"""Enrollment: learners join published courses open to their audience, leave without losing progress, and see
what is left to do in each course."""

import uuid

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

import app.services.completion.rules  # noqa: F401  (registers not_enrolled, course_not_published)
from app.core.dialect import insert_for
from app.core.errors import Forbidden, NotFound
from app.core.i18n import messages
from app.core.pagination import decode_cursor, encode_cursor, identifier, moment
from app.models.base import utcnow
from app.models.course import Course, CourseVersion, Lesson, Module, VersionStatus
from app.models.identity import User
from app.models.learning import (
    CourseBrief,
    Enrollment,
    EnrollmentPage,
    EnrollmentPublic,
    EnrollmentRecord,
    LessonBrief,
    LessonProgress,
)
from app.services.content.catalogue import find_course
from app.services.intakes.intakes import assignments_for, courses_assigned_not_enrolled

messages({
    "course_closed_to_audience": (
        "Khóa học này không dành cho đối tượng {audience}. Cán bộ chưa được xác minh được tính là người dân.",
        "This course is not open to {audience} learners. Officials count as citizens until verified.",
    ),
})


async def published_version(session: AsyncSession, course_id: uuid.UUID) -> CourseVersion | None:
    """The version learners currently see (at most one per course, by a partial unique index)."""
    return (await session.execute(select(CourseVersion).where(
        CourseVersion.course_id == course_id, CourseVersion.status == VersionStatus.published)
    )).scalar_one_or_none()


async def find_enrollment(session: AsyncSession, user_id: uuid.UUID,
                          course_id: uuid.UUID) -> Enrollment | None:
    return (await session.execute(select(Enrollment).where(
        Enrollment.user_id == user_id, Enrollment.course_id == course_id))).scalar_one_or_none()


async def require_enrollment(session: AsyncSession, user_id: uuid.UUID, course_id: uuid.UUID) -> Enrollment:
    """The learner's active enrollment in the course; learning anything requires one (403 otherwise)."""
    enrollment = await find_enrollment(session, user_id, course_id)
    if enrollment is None or enrollment.left_at is not None:
        raise Forbidden("not_enrolled")
    return enrollment


async def enroll(session: AsyncSession, user: User, course_ref: str) -> tuple[EnrollmentRecord, bool]:
    """Self-enrollment in a published course open to the learner's effective audience (unverified officials
    are citizens). Enrolling again is harmless; coming back after leaving restores the same enrollment and
    its progress. Returns (enrollment, created)."""
    course = await find_course(session, course_ref)
    version = await published_version(session, course.id)
    if version is None:
        raise NotFound("course_not_published")
    audience = user.effective_audience
    if audience.value not in version.audiences:
        raise Forbidden("course_closed_to_audience", audience=audience.value)

    def record(enrollment: Enrollment) -> EnrollmentRecord:
        return EnrollmentRecord(course_id=course.id, course=course.slug, version=version.version,
                                enrolled_at=enrollment.enrolled_at, completed_at=enrollment.completed_at)

    existing = await find_enrollment(session, user.id, course.id)
    if existing is not None and existing.left_at is None:
        return record(existing), False
    if existing is not None:
        existing.left_at, existing.version_id = None, version.id
        session.add(existing)
        await _count_enrollment(session, course.id, +1)
        await session.flush()
        return record(existing), False

    # ON CONFLICT: two simultaneous first enrollments of the same learner leave one row and count it once.
    inserted = await session.execute(insert_for(session, Enrollment).values(
        id=uuid.uuid4(), user_id=user.id, course_id=course.id, version_id=version.id, enrolled_at=utcnow(),
    ).on_conflict_do_nothing(index_elements=["user_id", "course_id"]))
    if inserted.rowcount:
        await _count_enrollment(session, course.id, +1)
    enrollment = await find_enrollment(session, user.id, course.id)
    assert enrollment is not None
    return record(enrollment), bool(inserted.rowcount)


async def unenroll(session: AsyncSession, user: User, course_ref: str) -> None:
    """Leaving a course keeps every bit of progress (and any completion) for a later return."""
    course = await find_course(session, course_ref)
    enrollment = await find_enrollment(session, user.id, course.id)
    if enrollment is None or enrollment.left_at is not None:
        raise NotFound("not_enrolled")
    enrollment.left_at = utcnow()
    session.add(enrollment)
    await _count_enrollment(session, course.id, -1)
    await session.flush()


async def _count_enrollment(session: AsyncSession, course_id: uuid.UUID, delta: int) -> None:
    await session.execute(update(Course).where(Course.id == course_id)
                          .values(enrollment_count=Course.enrollment_count + delta)
                          .execution_options(synchronize_session=False))


# --- the learner's list ------------------------------------------------------------------------------------


async def list_enrollments(session: AsyncSession, user: User, *, limit: int = 50,
                           cursor: str | None = None) -> EnrollmentPage:
    """The learner's active enrollments, newest first, each with progress percent and the next lesson to do.
    Courses assigned in an intake carry the intake's deadline; those not enrolled in yet lead the first page
    as `enrolled: false` items, outside `limit` (docs/intakes.md).

    A fixed number of queries whatever the page size: enrollments, versions, lessons, progress, intakes.
    """
    query = (select(Enrollment).where(Enrollment.user_id == user.id, Enrollment.left_at.is_(None))
             .order_by(Enrollment.enrolled_at.desc(), Enrollment.id.desc()).limit(limit + 1))
    if cursor:
        after_at, after_id = decode_cursor(cursor, moment, identifier)
        query = query.where(or_(Enrollment.enrolled_at < after_at,
                                (Enrollment.enrolled_at == after_at) & (Enrollment.id < after_id)))
    rows = list((await session.execute(query)).scalars())
    page, more = rows[:limit], len(rows) > limit
    assignments = await assignments_for(session, user.id)
    waiting = await courses_assigned_not_enrolled(session, user.id, assignments) if cursor is None else []
    if not page:
        return EnrollmentPage(items=waiting)

    course_ids = [e.course_id for e in page]
    found = (await session.execute(select(Course).where(Course.id.in_(course_ids)))).scalars()
    courses = {c.id: c for c in found}
    versions = (await session.execute(select(CourseVersion).where(or_(
        (CourseVersion.course_id.in_(course_ids)) & (CourseVersion.status == VersionStatus.published),
        CourseVersion.id.in_([e.version_id for e in page]))))).scalars().all()
    # Learners see the published version; a course withdrawn since keeps showing the version they joined.
    shown: dict[uuid.UUID, CourseVersion] = {}
    by_id = {v.id: v for v in versions}
    for version in versions:
        if version.status == VersionStatus.published:
            shown[version.course_id] = version
    for e in page:
        shown.setdefault(e.course_id, by_id[e.version_id])

    lessons: dict[uuid.UUID, list[Lesson]] = {}
    for lesson in (await session.execute(
            select(Lesson).join(Module, Module.id == Lesson.module_id)
            .where(Lesson.version_id.in_([v.id for v in shown.values()]))
            .order_by(Module.position, Lesson.position))).scalars():
        lessons.setdefault(lesson.version_id, []).append(lesson)
    done = {(p.course_id, p.lesson_key) for p in (await session.execute(
        select(LessonProgress).where(LessonProgress.user_id == user.id,
                                     LessonProgress.course_id.in_(course_ids),
                                     LessonProgress.completed_at.is_not(None)))).scalars()}

    items = []
    for e in page:
        version = shown[e.course_id]
        outline = lessons.get(version.id, [])
        required = [lesson for lesson in outline if lesson.required]
        met = sum((e.course_id, lesson.key) in done for lesson in required)
        percent = 100 if e.completed_at else (met * 100 // len(required) if required else 0)
        todo = [lesson for lesson in outline if (e.course_id, lesson.key) not in done]
        upcoming = next((lesson for lesson in todo if lesson.required), todo[0] if todo else None)
        items.append(EnrollmentPublic(
            course=CourseBrief(id=e.course_id, slug=courses[e.course_id].slug, title=version.title,
                               version=version.version),
            enrolled_at=e.enrolled_at, completed_at=e.completed_at, progress_percent=percent,
            next_lesson=LessonBrief(id=upcoming.id, key=upcoming.key, title=upcoming.title,
                                    kind=upcoming.kind) if upcoming else None,
            assignment=assignments.get(e.course_id)))
    last = page[-1]
    next_cursor = encode_cursor(last.enrolled_at.isoformat(), str(last.id)) if more else None
    return EnrollmentPage(items=waiting + items, next_cursor=next_cursor)
