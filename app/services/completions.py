"""Completions: recorded once per learner and course, frozen, and counted in the same transaction.

`record_completion` is the one way a completion comes into existence — platform learners (automatically when
the last requirement is met, or through the completion endpoint) and partner systems alike.
"""

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.core import jobs
from app.core.errors import Conflict, FieldError, NotFound
from app.core.i18n import messages
from app.models.base import utcnow
from app.models.certificate import Certificate
from app.models.completion import CertificateLink, Completion, CompletionPublic
from app.models.course import Course, CourseVersion, Lesson, LessonKind, Module
from app.models.identity import User
from app.models.learning import CompletionStatus, CourseBrief, Enrollment, LessonProgress, Requirement
from app.models.quiz import Quiz
from app.services.catalogue import find_course
from app.services.counters import count_completion
from app.services.dialect import dialect_name, insert_for
from app.services.enrollment import find_enrollment, published_version, require_enrollment

CERTIFICATE_JOB = "issue_certificate"

messages({
    "requirements_unmet": (
        "Chưa hoàn thành khóa học: còn {count} yêu cầu chưa đạt.",
        "The course is not complete yet: {count} requirement(s) unmet.",
    ),
    "requirement_video": ("Chưa xem đủ video \"{title}\".", "Video \"{title}\" not watched enough yet."),
    "requirement_document": ("Chưa xem tài liệu \"{title}\".", "Document \"{title}\" not viewed yet."),
    "requirement_text": ("Chưa đọc bài \"{title}\".", "Text \"{title}\" not read yet."),
    "requirement_quiz": ("Chưa đạt bài kiểm tra \"{title}\".", "Quiz \"{title}\" not passed yet."),
})


async def record_completion(
    session: AsyncSession, *, user: User, course: Course, course_version: int,
    completed_at: datetime | None = None, source: str = "platform", client_id: str | None = None,
    external_ref: str | None = None, audience: str | None = None, province_code: str | None = None,
) -> tuple[Completion, bool]:
    """Record that `user` completed `course`, exactly once; returns (completion, created).

    - Snapshots the learner's audience (default: the effective audience, so unverified officials count as
      citizens) and province at this moment; later changes to the learner never alter it.
    - Unique per (learner, course) and per (client_id, external_ref) by database constraints: the INSERT does
      nothing on conflict and the existing row is returned with created=False, so racing callers (the last
      heartbeat, several completion requests, a partner batch) produce one completion and one count.
    - In the same transaction: the counter buckets, the enrolment's completed_at, and (for courses with a
      certificate) an "issue_certificate" job.
    - On PostgreSQL `txid` is the inserting transaction's id, which the completion feed needs to page safely
      while completions commit out of `seq` order; on SQLite (serialised writers) it stays 0.
    """
    now = utcnow()
    values = {
        "id": uuid.uuid4(), "user_id": user.id, "course_id": course.id, "course_version": course_version,
        "audience": str(audience or user.effective_audience),
        "province_code": province_code if province_code is not None else user.province_code,
        "source": source, "client_id": client_id, "external_ref": external_ref,
        "completed_at": completed_at or now, "created_at": now,
        "txid": func.txid_current() if dialect_name(session) == "postgresql" else 0,
    }
    insert = insert_for(session, Completion).values(**values).on_conflict_do_nothing().returning(Completion)
    completion = (await session.execute(insert)).scalar_one_or_none()
    if completion is None:
        return await _existing(session, user.id, course.id, client_id, external_ref), False

    await count_completion(session, completion)
    await session.execute(
        update(Enrollment)
        .where(Enrollment.user_id == user.id, Enrollment.course_id == course.id,
               Enrollment.completed_at.is_(None))
        .values(completed_at=completion.completed_at))
    with_certificate = (await session.execute(
        select(CourseVersion.certificate)
        .where(CourseVersion.course_id == course.id, CourseVersion.version == course_version))).scalar()
    if with_certificate:
        jobs.enqueue(session, CERTIFICATE_JOB, {"completion_id": str(completion.id)})
    await session.flush()
    return completion, True


async def _existing(session: AsyncSession, user_id: uuid.UUID, course_id: uuid.UUID,
                    client_id: str | None, external_ref: str | None) -> Completion:
    """The row that won the conflict: the learner's completion of the course, else the partner's reference."""
    found = await find_completion(session, user_id, course_id)
    if found is None and client_id is not None and external_ref is not None:
        found = (await session.execute(select(Completion).where(
            Completion.client_id == client_id, Completion.external_ref == external_ref))).scalar_one_or_none()
    if found is None:  # only a conflicting row can stop the insert, so one of the two lookups finds it
        raise RuntimeError("completion insert conflicted but no conflicting row was found")
    return found


async def find_completion(session: AsyncSession, user_id: uuid.UUID,
                          course_id: uuid.UUID) -> Completion | None:
    """The learner's completion of a course, if any (one unique-index lookup)."""
    return (await session.execute(select(Completion).where(
        Completion.user_id == user_id, Completion.course_id == course_id))).scalar_one_or_none()


# --- the rules: what a learner must do, and the completion endpoint -----------------------------------------


@dataclass
class Evaluation:
    version: CourseVersion
    requirements: list[Requirement]

    @property
    def unmet(self) -> list[Requirement]:
        return [r for r in self.requirements if not r.met]


async def evaluate(session: AsyncSession, user_id: uuid.UUID, course_id: uuid.UUID) -> Evaluation:
    """Every required lesson of the version the learner sees, and whether its rule is met: videos covered to
    the version's `video_coverage`, documents and text viewed, quizzes passed (best score >= pass score).

    Progress is keyed by lesson key, so work done on an earlier version counts toward the current one.
    """
    version = await published_version(session, course_id)
    if version is None:
        enrollment = await find_enrollment(session, user_id, course_id)
        version = await session.get(CourseVersion, enrollment.version_id) if enrollment else None
    if version is None:
        raise NotFound("course_not_published")
    lessons = (await session.execute(
        select(Lesson).join(Module, Module.id == Lesson.module_id)
        .where(Lesson.version_id == version.id, Lesson.required)
        .order_by(Module.position, Lesson.position))).scalars().all()
    pass_scores = dict((await session.execute(select(Quiz.lesson_id, Quiz.pass_score).where(
        Quiz.lesson_id.in_([lesson.id for lesson in lessons if lesson.kind == LessonKind.quiz]))
    )).all()) if any(lesson.kind == LessonKind.quiz for lesson in lessons) else {}
    progress = {p.lesson_key: p for p in (await session.execute(select(LessonProgress).where(
        LessonProgress.user_id == user_id, LessonProgress.course_id == course_id))).scalars()}

    requirements = []
    for lesson in lessons:
        row = progress.get(lesson.key)
        requirement = Requirement(lesson_id=lesson.id, lesson_key=lesson.key, title=lesson.title,
                                  kind=lesson.kind, met=bool(row and row.completed_at))
        if lesson.kind == LessonKind.video:
            duration = lesson.duration_s or (row.duration_s if row else None)
            requirement.coverage = round(min(1.0, row.covered_s / duration), 4) if row and duration else 0.0
            requirement.required_coverage = version.video_coverage
        elif lesson.kind == LessonKind.quiz:
            requirement.best_score = row.best_score if row else None
            requirement.pass_score = pass_scores.get(lesson.id)
        else:
            requirement.viewed = bool(row and row.viewed_at)
        requirements.append(requirement)
    return Evaluation(version, requirements)


async def complete_if_met(session: AsyncSession, user: User, course_id: uuid.UUID) -> Completion | None:
    """Record the completion as soon as the last requirement is met (called when a lesson completes).

    The learner's enrolment row is locked first: two lessons completing at once in separate transactions
    would otherwise each see the other as unmet and neither record the completion. With the lock, the second
    evaluates after the first commits and sees both.
    """
    await session.execute(select(Enrollment.id).where(
        Enrollment.user_id == user.id, Enrollment.course_id == course_id).with_for_update())
    if (existing := await find_completion(session, user.id, course_id)) is not None:
        return existing
    evaluation = await evaluate(session, user.id, course_id)
    if evaluation.unmet:
        return None
    course = await session.get(Course, course_id)
    assert course is not None
    completion, _ = await record_completion(session, user=user, course=course,
                                            course_version=evaluation.version.version)
    return completion


async def complete_course(session: AsyncSession, user: User,
                          course_ref: str) -> tuple[Completion, Course, bool]:
    """The completion endpoint: the server decides from the rules. Returns the existing completion unchanged
    (created=False) if there is one; otherwise records it when every requirement is met, or answers 409
    listing exactly the unmet requirements."""
    course = await find_course(session, course_ref)
    if (existing := await find_completion(session, user.id, course.id)) is not None:
        return existing, course, False
    await require_enrollment(session, user.id, course.id)
    evaluation = await evaluate(session, user.id, course.id)
    if evaluation.unmet:
        raise Conflict(
            "requirements_unmet", count=len(evaluation.unmet),
            errors=[FieldError(f"requirement_{r.kind}", field=f"lessons.{r.lesson_key}", title=r.title)
                    for r in evaluation.unmet],
            extra={"unmet_requirements": [r.model_dump(mode="json") for r in evaluation.unmet]})
    completion, created = await record_completion(session, user=user, course=course,
                                                  course_version=evaluation.version.version)
    return completion, course, created


async def completion_status(session: AsyncSession, user: User, course_ref: str,
                            base_url: str) -> CompletionStatus:
    """Every requirement of the course and whether it is met, plus the completion once it exists."""
    course = await find_course(session, course_ref)
    enrollment = await find_enrollment(session, user.id, course.id)
    evaluation = await evaluate(session, user.id, course.id)
    completion = await find_completion(session, user.id, course.id)
    shown = await completion_public(session, completion, course.slug, base_url) if completion else None
    return CompletionStatus(
        course=CourseBrief(id=course.id, slug=course.slug, title=evaluation.version.title,
                           version=evaluation.version.version),
        enrolled=enrollment is not None and enrollment.left_at is None, completed=completion is not None,
        requirements=evaluation.requirements,
        completion=shown.model_dump(mode="json") if shown else None)


async def completion_public(session: AsyncSession, completion: Completion, course_slug: str,
                            base_url: str) -> CompletionPublic:
    """The completion as the API shows it, linking the certificate once it has been issued."""
    certificates = (await session.execute(
        select(Certificate).where(Certificate.completion_id == completion.id)
        .order_by(Certificate.issued_at.desc()))).scalars().all()
    # A reissued certificate supersedes (revokes) the old one: link the valid one, else the latest.
    current = next((c for c in certificates if c.status == "valid"), next(iter(certificates), None))
    return CompletionPublic(
        id=completion.id, course=course_slug, course_version=completion.course_version,
        completed_at=completion.completed_at, audience=completion.audience,
        province_code=completion.province_code, source=completion.source,
        certificate=CertificateLink(id=current.id, serial=current.serial,
                                    verify_url=f"{base_url.rstrip('/')}/verify/{current.serial}")
        if current else None)
