"""SCORM results: a learner's own result in a lesson, the SCO statuses shown with a course's requirements, and
the per-course admin report (JSON, or CSV with a BOM so Excel shows Vietnamese)."""

import uuid

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import NotFound
from app.core.spreadsheets import csv_table
from app.models.course import Course, CourseVersion, Lesson, LessonKind, Module, VersionStatus
from app.models.identity import User
from app.models.learning import CompletionStatus
from app.models.scorm import ScormAttempt, ScormReport, ScormReportRow, ScoStatus
from app.services.scorm.runtime import latest_attempt

CSV_HEADER = ["Mã người học", "Họ và tên", "Tỉnh/thành", "Mã bài học", "Bài học", "Số lần học", "Lần học",
              "Hoàn thành", "Kết quả", "Trạng thái (1.2)", "Điểm", "Điểm chuẩn hóa", "Tổng thời gian (giây)",
              "Đạt lúc"]


def _status(attempt: ScormAttempt, attempts: int, lesson_id: uuid.UUID | None = None,
            title: str | None = None) -> ScoStatus:
    return ScoStatus(lesson_id=lesson_id, lesson_key=attempt.lesson_key, title=title, attempt=attempt.number,
                     completion_status=attempt.completion_status, success_status=attempt.success_status,
                     lesson_status=attempt.lesson_status, score_raw=attempt.score_raw,
                     score_scaled=attempt.score_scaled, total_time_s=round(attempt.total_time_s, 2),
                     attempts=attempts, completed_at=attempt.completed_at)


async def learner_result(session: AsyncSession, user: User, lesson_id: uuid.UUID) -> ScoStatus:
    """The learner's latest attempt at the lesson's key (not attempted yet: a blank status)."""
    lesson = await session.get(Lesson, lesson_id)
    if lesson is None or lesson.kind != LessonKind.scorm:
        raise NotFound("lesson_not_found")
    version = await session.get(CourseVersion, lesson.version_id)
    attempt = await latest_attempt(session, user.id, version.course_id, lesson.key)
    if attempt is None:
        return ScoStatus(lesson_id=lesson.id, lesson_key=lesson.key, title=lesson.title, attempt=0,
                         completion_status="not attempted", success_status="unknown", lesson_status=None,
                         score_raw=None, score_scaled=None, total_time_s=0, attempts=0, completed_at=None)
    return _status(attempt, attempt.number, lesson.id, lesson.title)


async def with_sco_statuses(session: AsyncSession, user_id: uuid.UUID, status: CompletionStatus) -> CompletionStatus:
    """Each `scorm` requirement of a completion status gets the SCO's status and score (one query, and none
    for courses without SCORM lessons)."""
    keys = [r.lesson_key for r in status.requirements if r.kind == LessonKind.scorm]
    if not keys:
        return status
    latest = {}
    for attempt in (await session.execute(select(ScormAttempt).where(
            ScormAttempt.user_id == user_id, ScormAttempt.course_id == status.course.id,
            ScormAttempt.lesson_key.in_(keys)).order_by(ScormAttempt.number))).scalars():
        latest[attempt.lesson_key] = attempt
    for requirement in status.requirements:
        if (attempt := latest.get(requirement.lesson_key)) is not None:
            requirement.scorm = _status(attempt, attempt.number, requirement.lesson_id, requirement.title)
    return status


async def course_report(session: AsyncSession, ref: str) -> ScormReport:
    """Every learner's latest attempt at each SCORM lesson of the course (lesson titles from the published
    version, or the newest one), with their number of attempts."""
    try:
        course = await session.get(Course, uuid.UUID(ref))
    except ValueError:
        course = (await session.execute(select(Course).where(Course.slug == ref))).scalar_one_or_none()
    if course is None:
        raise NotFound("course_not_found")
    version = (await session.execute(select(CourseVersion).where(CourseVersion.course_id == course.id).order_by(
        (CourseVersion.status == VersionStatus.published).desc(), CourseVersion.version.desc()).limit(1))
    ).scalar_one_or_none()
    if version is None:
        raise NotFound("course_not_found")
    lessons = (await session.execute(select(Lesson.key, Lesson.title).join(Module, Module.id == Lesson.module_id)
                                     .where(Lesson.version_id == version.id, Lesson.kind == LessonKind.scorm)
                                     .order_by(Module.position, Lesson.position))).all()
    titles = {key: title for key, title in lessons}
    latest_numbers = (select(ScormAttempt.user_id, ScormAttempt.lesson_key,
                             func.max(ScormAttempt.number).label("number"))
                      .where(ScormAttempt.course_id == course.id)
                      .group_by(ScormAttempt.user_id, ScormAttempt.lesson_key).subquery())
    rows = (await session.execute(
        select(ScormAttempt, User.full_name, User.province_code)
        .join(latest_numbers, (latest_numbers.c.user_id == ScormAttempt.user_id)
              & (latest_numbers.c.lesson_key == ScormAttempt.lesson_key)
              & (latest_numbers.c.number == ScormAttempt.number))
        .join(User, User.id == ScormAttempt.user_id)
        .where(ScormAttempt.course_id == course.id)
        .order_by(User.full_name, User.id, ScormAttempt.lesson_key))).all()
    return ScormReport(
        course_id=course.id, slug=course.slug, title=version.title,
        lessons=[{"key": key, "title": title} for key, title in lessons],
        rows=[ScormReportRow(
            user_id=attempt.user_id, full_name=name, province_code=province, lesson_key=attempt.lesson_key,
            lesson_title=titles.get(attempt.lesson_key, attempt.lesson_key), attempts=attempt.number,
            attempt=attempt.number, completion_status=attempt.completion_status,
            success_status=attempt.success_status, lesson_status=attempt.lesson_status,
            score_raw=attempt.score_raw, score_scaled=attempt.score_scaled,
            total_time_s=round(attempt.total_time_s, 2), completed_at=attempt.completed_at)
            for attempt, name, province in rows])


def report_csv(report: ScormReport) -> tuple[bytes, str]:
    """The report as CSV (UTF-8 with a BOM), and its file name. Learners name themselves, so the shared writer
    writes every cell: a name starting with `=` stays text instead of becoming a formula in Excel."""
    rows = ([row.user_id, row.full_name, row.province_code, row.lesson_key, row.lesson_title, row.attempts,
             row.attempt, row.completion_status, row.success_status, row.lesson_status, row.score_raw,
             row.score_scaled, row.total_time_s, row.completed_at] for row in report.rows)
    return csv_table(CSV_HEADER, rows), f"scorm-{report.slug}.csv"
