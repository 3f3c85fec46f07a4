"""SCORM results: a learner's own result in a lesson, the SCO statuses shown with a course's requirements, and
the per-course admin report (JSON, or CSV with a BOM so Excel shows Vietnamese).

All three count a learner's attempts at a SCO the same way (`counted_result`): the status and score shown are
those of the attempt that counts — the best-scoring attempt that met the lesson (the first of equal ones), since
a lesson once met stays met and a later practice attempt must not hide the result that met it; while no attempt
has met it, the latest (the one the learner resumes). The time is summed over all attempts, and the number of
attempts is given. Attempts are read by column, never with their saved CMI state.
"""

import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import NotFound
from app.core.spreadsheets import csv_table
from app.models.course import Course, CourseVersion, Lesson, LessonKind, Module, VersionStatus
from app.models.identity import User
from app.models.learning import CompletionStatus
from app.models.scorm import ScormAttempt, ScormReport, ScormReportRow, ScoStatus

CSV_HEADER = ["Mã người học", "Họ và tên", "Tỉnh/thành", "Mã bài học", "Bài học", "Số lần học",
              "Lần học được tính", "Tính theo", "Hoàn thành", "Kết quả", "Trạng thái (1.2)", "Điểm",
              "Điểm chuẩn hóa", "Tổng thời gian mọi lần học (giây)", "Đạt lúc"]
COUNTED_LABELS = {"best_met": "lần đạt có điểm cao nhất", "latest": "lần gần nhất (chưa đạt)"}
_RESULT_COLUMNS = (ScormAttempt.user_id, ScormAttempt.lesson_key, ScormAttempt.number,
                   ScormAttempt.completion_status, ScormAttempt.success_status, ScormAttempt.lesson_status,
                   ScormAttempt.score_raw, ScormAttempt.score_scaled, ScormAttempt.total_time_s,
                   ScormAttempt.completed_at)


def _score(attempt: Any) -> float:  # noqa: ANN401 (a row of _RESULT_COLUMNS)
    """The attempt's score on one scale (scaled × 100, else raw), as the lesson's best score is kept."""
    if attempt.score_scaled is not None:
        return attempt.score_scaled * 100
    return attempt.score_raw if attempt.score_raw is not None else float("-inf")


def counted_result(attempts: Sequence[Any]) -> dict[str, Any]:
    """The fields of `ScoStatus` for one learner's attempts at one SCO (see the module's rules)."""
    met = [a for a in attempts if a.completed_at is not None]
    if met:
        shown, counted = max(met, key=lambda a: (_score(a), -a.number)), "best_met"
    else:
        shown, counted = max(attempts, key=lambda a: a.number), "latest"
    return {"attempt": shown.number, "counted": counted, "completion_status": shown.completion_status,
            "success_status": shown.success_status, "lesson_status": shown.lesson_status,
            "score_raw": shown.score_raw, "score_scaled": shown.score_scaled,
            "total_time_s": round(sum(a.total_time_s for a in attempts), 2), "attempts": len(attempts),
            "completed_at": shown.completed_at}


def _by_learner_and_key(rows: Iterable[Any]) -> dict[tuple[uuid.UUID, str], list[Any]]:
    grouped: dict[tuple[uuid.UUID, str], list[Any]] = {}
    for row in rows:
        grouped.setdefault((row.user_id, row.lesson_key), []).append(row)
    return grouped


async def _attempts(session: AsyncSession, course_id: uuid.UUID, *where: Any) -> dict[  # noqa: ANN401
        tuple[uuid.UUID, str], list[Any]]:
    return _by_learner_and_key((await session.execute(
        select(*_RESULT_COLUMNS).where(ScormAttempt.course_id == course_id, *where))).all())


async def learner_result(session: AsyncSession, user: User, lesson_id: uuid.UUID) -> ScoStatus:
    """The learner's result at the lesson's key (not attempted yet: a blank status)."""
    lesson = await session.get(Lesson, lesson_id)
    if lesson is None or lesson.kind != LessonKind.scorm:
        raise NotFound("lesson_not_found")
    version = await session.get(CourseVersion, lesson.version_id)
    attempts = (await _attempts(session, version.course_id, ScormAttempt.user_id == user.id,
                                ScormAttempt.lesson_key == lesson.key)).get((user.id, lesson.key))
    if not attempts:
        return ScoStatus(lesson_id=lesson.id, lesson_key=lesson.key, title=lesson.title, attempt=0,
                         completion_status="not attempted", success_status="unknown", lesson_status=None,
                         score_raw=None, score_scaled=None, total_time_s=0, attempts=0, completed_at=None)
    return ScoStatus(lesson_id=lesson.id, lesson_key=lesson.key, title=lesson.title, **counted_result(attempts))


async def with_sco_statuses(session: AsyncSession, user_id: uuid.UUID, status: CompletionStatus) -> CompletionStatus:
    """Each `scorm` requirement of a completion status gets the SCO's result (one query, and none for courses
    without SCORM lessons)."""
    keys = [r.lesson_key for r in status.requirements if r.kind == LessonKind.scorm]
    if not keys:
        return status
    attempts = await _attempts(session, status.course.id, ScormAttempt.user_id == user_id,
                               ScormAttempt.lesson_key.in_(keys))
    for requirement in status.requirements:
        if mine := attempts.get((user_id, requirement.lesson_key)):
            requirement.scorm = ScoStatus(lesson_id=requirement.lesson_id, lesson_key=requirement.lesson_key,
                                          title=requirement.title, **counted_result(mine))
    return status


async def course_report(session: AsyncSession, ref: str) -> ScormReport:
    """Every learner's result at each SCORM lesson of the course (lesson titles from the published version, or
    the newest one), counted as the module says."""
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
    rows = (await session.execute(
        select(*_RESULT_COLUMNS, User.full_name, User.province_code)
        .join(User, User.id == ScormAttempt.user_id)
        .where(ScormAttempt.course_id == course.id)
        .order_by(User.full_name, User.id, ScormAttempt.lesson_key, ScormAttempt.number))).all()
    return ScormReport(
        course_id=course.id, slug=course.slug, title=version.title,
        lessons=[{"key": key, "title": title} for key, title in lessons],
        rows=[ScormReportRow(
            user_id=user_id, full_name=attempts[0].full_name, province_code=attempts[0].province_code,
            lesson_key=key, lesson_title=titles.get(key, key), **counted_result(attempts))
            for (user_id, key), attempts in _by_learner_and_key(rows).items()])


def report_csv(report: ScormReport) -> tuple[bytes, str]:
    """The report as CSV (UTF-8 with a BOM), and its file name. Learners name themselves, so the shared writer
    writes every cell: a name starting with `=` stays text instead of becoming a formula in Excel."""
    rows = ([row.user_id, row.full_name, row.province_code, row.lesson_key, row.lesson_title, row.attempts,
             row.attempt, COUNTED_LABELS[row.counted], row.completion_status, row.success_status,
             row.lesson_status, row.score_raw, row.score_scaled, row.total_time_s, row.completed_at]
            for row in report.rows)
    return csv_table(CSV_HEADER, rows), f"scorm-{report.slug}.csv"
