"""The catalogue learners browse, course outlines, and lessons opened by enrolled learners.

Only published versions are visible. Search ignores case and Vietnamese diacritics through the folded
`CourseVersion.search_text`; lists page by keyset so deep pages cost the same as the first.
"""

import uuid
from datetime import datetime, timedelta

from sqlalchemy import String, and_, cast, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import Forbidden, NotFound
from app.core.i18n import messages
from app.core.pagination import INT32, decode_cursor, encode_cursor, exactly, identifier, moment, text, whole_number
from app.core.storage import Storage
from app.core.text import search_key
from app.models.base import utcnow
from app.models.course import (
    Asset,
    Course,
    CourseDetail,
    CoursePage,
    CourseSummary,
    CourseVersion,
    Lesson,
    LessonContent,
    LessonKind,
    Module,
    OutlineLesson,
    OutlineModule,
    QuizSummary,
    VersionStatus,
)
from app.models.identity import User
from app.models.learning import Enrollment
from app.models.quiz import Question, QuestionKind, Quiz

messages({
    "course_not_found": ("Không tìm thấy khóa học.", "Course not found."),
    "lesson_not_found": ("Không tìm thấy bài học.", "Lesson not found."),
    "lesson_replaced": ("Bài học này thuộc phiên bản cũ của khóa học; hãy mở bài trong phiên bản hiện hành.",
                        "This lesson belongs to an earlier version of the course; open the current one."),
    "lesson_requires_enrollment": ("Cần ghi danh khóa học để mở bài học.",
                                   "Enroll in the course to open its lessons."),
})

SORTS = ("newest", "title", "popular")
MAX_LESSON_URL_TTL_S = 3600



async def lookup_course(session: AsyncSession, ref: str) -> Course | None:
    """A course by id when `ref` is a UUID, else by slug; None when neither matches."""
    try:
        return await session.get(Course, uuid.UUID(ref))
    except ValueError:
        return (await session.execute(select(Course).where(Course.slug == ref))).scalar_one_or_none()


async def find_course(session: AsyncSession, ref: str) -> Course:
    """A course by id or by slug; 404 when neither matches."""
    course = await lookup_course(session, ref)
    if course is None:
        raise NotFound("course_not_found")
    return course


def _sort_columns(sort: str) -> tuple:
    """(column, descending) for each sort; the course id breaks ties so the order is total."""
    return {"newest": (Course.published_at, True), "title": (CourseVersion.title, False),
            "popular": (Course.enrollment_count, True)}[sort]


# The type of each sort's value, as the cursor must carry it (enrollment_count is a 32-bit column).
_CURSOR_VALUE = {"newest": moment, "title": text, "popular": whole_number(*INT32)}


async def _lesson_counts(session: AsyncSession,
                         version_ids: list[uuid.UUID]) -> dict[uuid.UUID, dict[str, int]]:
    counts: dict[uuid.UUID, dict[str, int]] = {v: {k.value: 0 for k in LessonKind} for v in version_ids}
    rows = await session.execute(select(Lesson.version_id, Lesson.kind, func.count())
                                 .where(Lesson.version_id.in_(version_ids))
                                 .group_by(Lesson.version_id, Lesson.kind))
    for version_id, kind, count in rows.all():
        counts[version_id][str(kind)] = count
    return counts


def _summary(course: Course, version: CourseVersion, counts: dict[str, int]) -> dict:
    return dict(id=course.id, slug=course.slug, title=version.title, description=version.description,
                language=version.language, audiences=version.audiences,
                estimated_minutes=version.estimated_minutes,
                certificate=version.certificate, version=version.version, published_at=course.published_at,
                enrollment_count=course.enrollment_count, lesson_count=sum(counts.values()),
                lessons_by_kind=counts)


async def list_catalogue(session: AsyncSession, *, q: str | None = None, audience: str | None = None,
                         language: str | None = None, sort: str = "newest", limit: int = 20,
                         cursor: str | None = None) -> CoursePage:
    """Published courses only, filtered by audience, language and accent-insensitive words of `q`."""
    column, descending = _sort_columns(sort)
    query = select(Course, CourseVersion).join(
        CourseVersion,
        and_(CourseVersion.course_id == Course.id, CourseVersion.status == VersionStatus.published))
    for term in search_key(q).split():
        query = query.where(CourseVersion.search_text.contains(term, autoescape=True))
    if audience:
        # audiences is a small JSON list of known words; its text form contains the quoted word exactly once.
        query = query.where(cast(CourseVersion.audiences, String).contains(f'"{audience}"', autoescape=True))
    if language:
        query = query.where(CourseVersion.language == language)
    if cursor:
        _, value, after = decode_cursor(cursor, exactly(sort), _CURSOR_VALUE[sort], identifier)
        if descending:
            query = query.where(or_(column < value, and_(column == value, Course.id < after)))
        else:
            query = query.where(or_(column > value, and_(column == value, Course.id > after)))
    order = (column.desc(), Course.id.desc()) if descending else (column.asc(), Course.id.asc())
    rows = (await session.execute(query.order_by(*order).limit(limit + 1))).all()
    page = rows[:limit]
    counts = await _lesson_counts(session, [v.id for _, v in page])
    items = [CourseSummary(**_summary(c, v, counts[v.id])) for c, v in page]
    next_cursor = None
    if len(rows) > limit:
        last_course, last_version = page[-1]
        value = {"newest": last_course.published_at, "title": last_version.title,
                 "popular": last_course.enrollment_count}[sort]
        raw = value.isoformat() if isinstance(value, datetime) else value
        next_cursor = encode_cursor(sort, raw, str(last_course.id))
    return CoursePage(items=items, next_cursor=next_cursor)


async def _quiz_summaries(session: AsyncSession, lesson_ids: list[uuid.UUID]) -> dict[uuid.UUID, QuizSummary]:
    # Descriptions are shown, not asked: they are not questions of the count (nor drawn on their own).
    pools = (select(Question.quiz_id, func.count().label("pool")).where(Question.kind != QuestionKind.description)
             .group_by(Question.quiz_id)).subquery()
    rows = await session.execute(select(Quiz, pools.c.pool).outerjoin(pools, pools.c.quiz_id == Quiz.id)
                                 .where(Quiz.lesson_id.in_(lesson_ids)))
    return {quiz.lesson_id: QuizSummary(quiz_id=quiz.id,
                                        question_count=min(quiz.draw or pool or 0, pool or 0),
                                        pass_score=quiz.pass_score, max_attempts=quiz.max_attempts,
                                        time_limit_s=quiz.time_limit_s)
            for quiz, pool in rows.all()}


async def outline(session: AsyncSession, course: Course, version: CourseVersion) -> CourseDetail:
    """The course with its modules, lessons (key, kind, title, duration, required) and quiz summaries."""
    modules = (await session.execute(select(Module).where(Module.version_id == version.id)
                                     .order_by(Module.position))).scalars().all()
    lessons = (await session.execute(select(Lesson).where(Lesson.version_id == version.id)
                                     .order_by(Lesson.position))).scalars().all()
    quiz_lessons = [lesson.id for lesson in lessons if lesson.kind == LessonKind.quiz]
    quizzes = await _quiz_summaries(session, quiz_lessons)
    counts = {k.value: 0 for k in LessonKind}
    for lesson in lessons:
        counts[str(lesson.kind)] += 1
    by_module = {
        module.id: OutlineModule(position=module.position, title=module.title, lessons=[])
        for module in modules}
    for lesson in lessons:
        by_module[lesson.module_id].lessons.append(OutlineLesson(
            id=lesson.id, key=lesson.key, kind=lesson.kind, title=lesson.title, duration_s=lesson.duration_s,
            required=lesson.required, quiz=quizzes.get(lesson.id)))
    return CourseDetail(**_summary(course, version, counts), video_coverage=version.video_coverage,
                        modules=list(by_module.values()))


async def course_detail(session: AsyncSession, ref: str) -> CourseDetail:
    """A published course by id or slug with its outline; unpublished courses are not found."""
    course = await find_course(session, ref)
    version = (await session.execute(select(CourseVersion).where(
        CourseVersion.course_id == course.id,
        CourseVersion.status == VersionStatus.published))).scalar_one_or_none()
    if version is None:
        raise NotFound("course_not_found")
    return await outline(session, course, version)


async def open_lesson(session: AsyncSession, storage: Storage, user: User, lesson_id: uuid.UUID, *,
                      url_ttl_s: int) -> LessonContent:
    """Only a learner actively enrolled in the lesson's course opens it (others 403), and only in the version
    the enrollment is on; media come as signed URLs valid for at most an hour."""
    lesson = await session.get(Lesson, lesson_id)
    if lesson is None:
        raise NotFound("lesson_not_found")
    version = await session.get(CourseVersion, lesson.version_id)
    enrollment = (await session.execute(select(Enrollment).where(
        Enrollment.user_id == user.id, Enrollment.course_id == version.course_id))).scalar_one_or_none()
    if enrollment is None or enrollment.left_at is not None:
        raise Forbidden("lesson_requires_enrollment")
    if enrollment.version_id != lesson.version_id:
        current = (await session.execute(select(Lesson.id).where(
            Lesson.version_id == enrollment.version_id, Lesson.key == lesson.key))).scalar_one_or_none()
        raise NotFound("lesson_replaced", extra={"current_lesson_id": str(current) if current else None})
    content = LessonContent(id=lesson.id, course_id=version.course_id, key=lesson.key, kind=lesson.kind,
                            title=lesson.title, required=lesson.required, duration_s=lesson.duration_s)
    if lesson.kind == LessonKind.text:
        content.text = lesson.text_body
    elif lesson.kind == LessonKind.quiz:
        content.quiz = (await _quiz_summaries(session, [lesson.id])).get(lesson.id)
    elif lesson.asset_id is not None:
        asset = await session.get(Asset, lesson.asset_id)
        ttl = min(url_ttl_s, MAX_LESSON_URL_TTL_S)
        extension = asset.path.rsplit(".", 1)[-1] if "." in asset.path else ""
        filename = f"{lesson.title}.{extension}".rstrip(".")
        content.url = await storage.presigned_get(asset.storage_key, ttl_s=ttl,
                                                  content_type=asset.content_type, filename=filename)
        content.url_expires_at = utcnow() + timedelta(seconds=ttl)
        content.content_type, content.size = asset.content_type, asset.size
    return content
