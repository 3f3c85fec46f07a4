"""Course versions: writing an imported one, publishing, archiving.

Rules: a course publishes at most one version (a partial unique index backs this); publishing a version
archives the one published before and moves every enrollment to the new version (progress follows lesson
keys, and a completion is never taken away); `Course.published_at` records the first publication.
"""

import uuid

from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import Conflict, NotFound
from app.core.i18n import messages
from app.core.pagination import decode_cursor, encode_cursor, text
from app.core.storage import StoredObject
from app.core.text import search_key
from app.models.base import utcnow
from app.models.course import (
    AdminCourse,
    AdminCoursePage,
    Asset,
    Course,
    CourseVersion,
    Lesson,
    Module,
    VersionPublic,
    VersionStatus,
)
from app.models.learning import Enrollment
from app.models.quiz import Choice, Question, Quiz
from app.models.scorm import ScormSco
from app.models.video import LessonCaption
from app.services.content.catalogue import find_course

messages({
    "course_version_not_found": ("Khóa học không có phiên bản {version}.",
                                 "The course has no version {version}."),
    "course_nothing_to_publish": ("Khóa học không có bản nháp nào để xuất bản.",
                                  "The course has no draft version to publish."),
    "course_not_published": ("Khóa học chưa được xuất bản.", "The course is not published."),
})

SEARCH_TEXT_MAX = 2000


async def write_version(session: AsyncSession, plan, course_id: uuid.UUID, number: int,  # noqa: ANN001
                        stored: dict[str, tuple[str, StoredObject]]) -> tuple[Course, CourseVersion]:
    """Rows for one imported version (a draft): modules, lessons, assets, quizzes, questions, choices.
    Creates the Course on its first import. Ids are assigned up front; rows go in parent-first order."""
    spec = plan.course
    course = await session.get(Course, course_id)
    if course is None:
        course = Course(id=course_id, slug=spec.slug)
        session.add(course)
        await session.flush()
    version = CourseVersion(
        course_id=course_id, version=number, status=VersionStatus.draft, title=spec.title,
        search_text=search_key(spec.title, spec.description)[:SEARCH_TEXT_MAX], description=spec.description,
        language=spec.language, audiences=spec.audiences, estimated_minutes=spec.estimated_minutes,
        certificate=spec.certificate, video_coverage=spec.video_coverage)
    rows: list = [version]
    assets: dict[str, Asset] = {}
    for path, (key, obj) in stored.items():
        probed = plan.files[path]
        assets[path] = Asset(version_id=version.id, path=path, storage_key=key, sha256=obj.sha256 or "",
                             size=obj.size, content_type=probed.content_type, duration_s=probed.duration_s)
    rows += assets.values()
    for m_position, module_spec in enumerate(spec.modules, 1):
        module = Module(version_id=version.id, position=m_position, title=module_spec.title)
        rows.append(module)
        for l_position, lesson_spec in enumerate(module_spec.lessons, 1):
            asset = assets.get(lesson_spec.path) if lesson_spec.path else None
            lesson = Lesson(version_id=version.id, module_id=module.id, position=l_position,
                            key=lesson_spec.key, kind=lesson_spec.kind, title=lesson_spec.title,
                            required=lesson_spec.required,
                            text_body=lesson_spec.text, asset_id=asset.id if asset else None,
                            duration_s=asset.duration_s if asset else None)
            rows.append(lesson)
            rows += [LessonCaption(lesson_id=lesson.id, language=language, asset_id=assets[path].id)
                     for language, (path, _) in lesson_spec.captions.items()]
            if lesson_spec.quiz is not None:
                rows += _quiz_rows(lesson, lesson_spec.quiz)
            if lesson_spec.scorm is not None:
                rows.append(_sco_row(lesson, lesson_spec, f"{plan.storage_prefix}/{lesson_spec.scorm_folder}"))
    # The models declare no relationships, so the unit of work cannot order inserts by foreign key.
    for table in (CourseVersion, (Asset, Module), Lesson, (Quiz, ScormSco, LessonCaption), Question, Choice):
        session.add_all([row for row in rows if isinstance(row, table)])
        await session.flush()
    return course, version


def _quiz_rows(lesson: Lesson, spec) -> list:  # noqa: ANN001
    quiz = Quiz(lesson_id=lesson.id, pass_score=spec.pass_score, max_attempts=spec.max_attempts,
                time_limit_s=spec.time_limit_s, draw=spec.draw, shuffle=spec.shuffle)
    return [quiz, *question_rows(quiz.id, spec.questions)]


def question_rows(quiz_id: uuid.UUID, questions: list) -> list:
    """Question and choice rows of a quiz's bank (QuestionSpecs), in bank order."""
    rows: list = []
    for q_position, item in enumerate(questions, 1):
        question = Question(quiz_id=quiz_id, position=q_position, kind=item.kind, title=item.title,
                            prompt=item.prompt, feedback=item.feedback, category=item.category,
                            format=item.format, points=item.points)
        rows.append(question)
        rows += [Choice(question_id=question.id, position=c_position, text=choice.text, weight=choice.weight,
                        feedback=choice.feedback, match_text=choice.match_text, value=choice.value,
                        tolerance=choice.tolerance) for c_position, choice in enumerate(item.choices, 1)]
    return rows


def _sco_row(lesson: Lesson, spec, content_prefix: str) -> ScormSco:  # noqa: ANN001 - a LessonSpec
    sco = spec.scorm
    return ScormSco(lesson_id=lesson.id, version_id=lesson.version_id, identifier=sco.identifier[:500],
                    scorm_version=spec.scorm_version, scorm_type=sco.scorm_type, content_prefix=content_prefix,
                    launch_path=sco.launch, launch_query=sco.query[:1000], mastery_score=sco.mastery_score,
                    launch_data=sco.launch_data, max_time_allowed=sco.max_time_allowed,
                    time_limit_action=sco.time_limit_action, completion_threshold=sco.completion_threshold,
                    scaled_passing_score=sco.scaled_passing_score, completion_rule=sco.completion_rule,
                    attempt_limit=sco.attempt_limit)


async def publish_version(session: AsyncSession, course: Course, version: CourseVersion) -> CourseVersion:
    """Make `version` the one learners see: the previously published version is archived first (one
    published version per course), enrollments move to the new version, and the first publication dates
    the course for "newest"."""
    if version.status == VersionStatus.published:
        return version
    now = utcnow()
    await session.execute(update(CourseVersion)
                          .where(CourseVersion.course_id == course.id,
                                 CourseVersion.status == VersionStatus.published)
                          .values(status=VersionStatus.archived)
                          .execution_options(synchronize_session="fetch"))
    version.status, version.published_at = VersionStatus.published, now
    if course.published_at is None:
        course.published_at = now
    await session.flush()
    await session.execute(update(Enrollment).where(Enrollment.course_id == course.id)
                          .values(version_id=version.id).execution_options(synchronize_session="fetch"))
    return version


async def publish_course(session: AsyncSession, ref: str, number: int | None = None) -> Course:
    """Publish version `number`, or by default the newest draft; publishing the published one is a no-op.
    An archived version may be published again (a rollback)."""
    course = await find_course(session, ref)
    query = select(CourseVersion).where(CourseVersion.course_id == course.id)
    if number is None:
        query = query.where(CourseVersion.status == VersionStatus.draft)
        query = query.order_by(CourseVersion.version.desc())
    else:
        query = query.where(CourseVersion.version == number)
    version = (await session.execute(query.limit(1))).scalar_one_or_none()
    if version is None:
        if number is not None:
            raise NotFound("course_version_not_found", version=number)
        raise Conflict("course_nothing_to_publish")
    await publish_version(session, course, version)
    return course


async def archive_course(session: AsyncSession, ref: str) -> Course:
    """Withdraw the course from the catalogue: its published version is archived. Enrolled learners keep
    the version they are on (and all progress); nobody new can enroll until a version is published again."""
    course = await find_course(session, ref)
    archived = await session.execute(update(CourseVersion)
                                     .where(CourseVersion.course_id == course.id,
                                            CourseVersion.status == VersionStatus.published)
                                     .values(status=VersionStatus.archived)
                                     .execution_options(synchronize_session="fetch"))
    if not archived.rowcount:
        raise Conflict("course_not_published")
    return course


async def admin_courses(session: AsyncSession, courses: list[Course]) -> list[AdminCourse]:
    """Each course with every version (drafts and archived ones too), newest version first."""
    versions = (await session.execute(select(CourseVersion)
                                      .where(CourseVersion.course_id.in_([c.id for c in courses]))
                                      .order_by(CourseVersion.version.desc()))).scalars().all()
    by_course: dict[uuid.UUID, list[CourseVersion]] = {c.id: [] for c in courses}
    for version in versions:
        by_course[version.course_id].append(version)
    return [AdminCourse(
        id=c.id, slug=c.slug, title=by_course[c.id][0].title if by_course[c.id] else c.slug,
        published_version=next(
            (v.version for v in by_course[c.id] if v.status == VersionStatus.published), None),
        published_at=c.published_at, enrollment_count=c.enrollment_count,
        versions=[VersionPublic(version=v.version, status=v.status, title=v.title, created_at=v.created_at,
                                published_at=v.published_at) for v in by_course[c.id]],
    ) for c in courses]


async def list_admin_courses(session: AsyncSession, *, q: str | None = None, limit: int = 50,
                             cursor: str | None = None) -> AdminCoursePage:
    """Every course whatever the state of its versions, by slug; `q` matches slugs and folded titles."""
    query = select(Course)
    for term in search_key(q).split():
        titles = select(CourseVersion.course_id).where(
            CourseVersion.search_text.contains(term, autoescape=True))
        query = query.where(or_(Course.slug.contains(term, autoescape=True), Course.id.in_(titles)))
    total = await session.scalar(select(func.count()).select_from(query.subquery()))
    if cursor:
        query = query.where(Course.slug > decode_cursor(cursor, text)[0])
    courses = (await session.execute(query.order_by(Course.slug).limit(limit + 1))).scalars().all()
    page = list(courses[:limit])
    return AdminCoursePage(items=await admin_courses(session, page), total=total or 0,
                           next_cursor=encode_cursor(page[-1].slug) if len(courses) > limit else None)
