"""Completions: recorded once per learner and course, frozen, and counted in the same transaction.

`record_completion` is the one way a completion comes into existence — platform learners (automatically when
the last requirement is met, or through the completion endpoint) and partner systems alike.
"""

import uuid
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.core import jobs
from app.models.base import utcnow
from app.models.completion import Completion
from app.models.course import Course, CourseVersion
from app.models.identity import User
from app.models.learning import Enrollment
from app.services.counters import count_completion
from app.services.dialect import dialect_name, insert_for

CERTIFICATE_JOB = "issue_certificate"


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
