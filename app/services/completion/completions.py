"""Completions: recorded once per learner and course, frozen, and counted in the same transaction.

`record_completion` is the one way a completion comes into existence for partner systems and other callers
holding ORM rows; the platform's own paths (the completion endpoint, and the last requirement met through a
heartbeat or a quiz) go through the same `_record` with what they already read. The completion endpoint is
the system's second hottest write, so its path is lean (docs/benchmarks.md): one statement reads where the
learner stands (course, published version, enrollment, completion, progress), the version's rules come from a
per-process cache (a version's lessons, pass scores and certificate flag never change once imported), and on
PostgreSQL one statement records the completion, its buckets, the enrollment's completed_at and the
certificate job. Rows are read and written with Core statements, not through the ORM.
"""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from app.core.errors import Conflict, FieldError, Forbidden
from app.core.i18n import messages
from app.models.base import time_ordered_id, utcnow
from app.models.completion import CertificateLink, Completion, CompletionPublic
from app.models.identity import User
from app.models.learning import CompletionStatus, CourseBrief, Enrollment
from app.services.completion import feed_items
from app.services.completion import statements as sql
from app.services.completion.rules import (
    Account,
    CompletionRecord,
    CourseRef,
    Evaluation,
    VersionRules,
    standing,
)
from app.services.counters import buckets as counters
from app.services.geo import load_geography

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


# --- recording -------------------------------------------------------------------------------------------


async def record_completion(
    session: AsyncSession, *, user: User, course: Any, course_version: int,
    completed_at: datetime | None = None, source: str = "platform", client_id: str | None = None,
    external_ref: str | None = None, audience: str | None = None, province_code: str | None = None,
    assurance: str | None = None,
) -> tuple[Completion, bool]:
    """Record that `user` completed `course`, exactly once; returns (completion, created).

    - Snapshots the learner's audience (default: the effective audience, so unverified officials count as
      citizens), province and assurance at this moment; later changes to the learner never alter them.
    - Unique per (learner, course) and per (client_id, external_ref) by database constraints: the INSERT does
      nothing on conflict and the existing row is returned with created=False, so racing callers (the last
      heartbeat, several completion requests, a partner batch) produce one completion and one count.
    - In the same transaction: the counter buckets, the enrollment's completed_at, and (for courses with a
      certificate) an "issue_certificate" job.
    - On PostgreSQL `txid` is the inserting transaction's id, which the completion feed needs to page safely
      while completions commit out of `seq` order; on SQLite (serialised writers) it stays 0.
    """
    conn = await _connection(session)
    with_certificate = bool((await conn.execute(sql.CERTIFICATE_FLAG, {
        "r_course_id": course.id, "r_version": course_version})).scalar())
    recorded = await _record(
        session, conn, user_id=user.id, full_name=user.full_name, course_id=course.id, course_slug=course.slug,
        course_version=course_version, audience=str(audience or user.effective_audience),
        province_code=province_code if province_code is not None else user.province_code,
        assurance=str(assurance or user.assurance), with_certificate=with_certificate,
        completed_at=completed_at, source=source, client_id=client_id, external_ref=external_ref)
    if recorded is None:
        return await _existing_instance(session, user.id, course.id, client_id, external_ref), False
    # An ORM instance for callers that keep working with it, attached as if loaded (no SELECT).
    instance = Completion(**{name: getattr(recorded, name) for name in _COLUMN_NAMES})
    make_transient_to_detached(instance)
    session.add(instance)
    return instance, True


_COLUMN_NAMES = tuple(column.key for column in sql.COMPLETION)


async def _record(session: AsyncSession, conn: AsyncConnection, *, user_id: uuid.UUID, full_name: str,
                  course_id: uuid.UUID, course_slug: str, course_version: int, audience: str,
                  province_code: str | None, assurance: str, with_certificate: bool,
                  completed_at: datetime | None = None,
                  source: str = "platform", client_id: str | None = None,
                  external_ref: str | None = None) -> CompletionRecord | None:
    """Insert the completion with everything counted with it (see record_completion); None, writing nothing,
    when a conflicting completion exists. The feed's item is rendered here, from the values inserted."""
    now = utcnow()
    completion_id = time_ordered_id()
    current_code = (await load_geography(session)).current_code(province_code) if province_code else None
    values = {"id": completion_id, "user_id": user_id, "course_id": course_id, "course_version": course_version,
              "audience": audience, "province_code": province_code, "current_province_code": current_code,
              "source": source, "client_id": client_id, "external_ref": external_ref,
              "completed_at": completed_at or now, "assurance": assurance}
    item = feed_items.render(**values, full_name=full_name, course_slug=course_slug)
    params = {f"c_{name}": value for name, value in values.items()} | {
        "c_created_at": now, "c_feed_item": item,
        "j_id": uuid.uuid4(), "j_payload": {"completion_id": str(completion_id)},
    } | counters.bucket_params(user_id=user_id, course_id=course_id, audience=audience,
                               province_code=province_code, assurance=assurance,
                               completed_at=completed_at or now)
    statements = sql.write_statements(conn.dialect.name)
    if conn.dialect.name == "postgresql":
        record = statements.record_with_certificate if with_certificate else statements.record
        row = (await conn.execute(record, params)).first()
        if row is None:
            return None
    else:  # no data-modifying CTEs: one statement per write, in the same transaction
        row = (await conn.execute(statements.insert, params)).first()
        if row is None:
            return None
        await counters.count_completion(conn, params)
        await conn.execute(statements.mark_enrollment, params)
        if with_certificate:
            await conn.execute(statements.enqueue_certificate, params)
    # An enrollment the session already holds shows the completion too (the ORM UPDATE used to see to that).
    for instance in session.identity_map.values():
        if isinstance(instance, Enrollment) and (instance.user_id, instance.course_id) == (user_id, course_id) \
                and instance.completed_at is None:
            set_committed_value(instance, "completed_at", row.completed_at)
    return CompletionRecord(**row._mapping, recorded_now=True)


async def _connection(session: AsyncSession) -> AsyncConnection:
    # Core statements skip the session's autoflush: rows a caller changed through the ORM (a quiz attempt's
    # progress) must reach the database before the rules read it.
    await session.flush()
    return await session.connection()


async def _existing_instance(session: AsyncSession, user_id: uuid.UUID, course_id: uuid.UUID,
                             client_id: str | None, external_ref: str | None) -> Completion:
    """The row that won the conflict: the learner's completion of the course, else the partner's reference."""
    found = (await session.execute(select(Completion).where(
        Completion.user_id == user_id, Completion.course_id == course_id))).scalar_one_or_none()
    if found is None and client_id is not None and external_ref is not None:
        found = (await session.execute(select(Completion).where(
            Completion.client_id == client_id, Completion.external_ref == external_ref))).scalar_one_or_none()
    if found is None:  # only a conflicting row can stop the insert, so one of the two lookups finds it
        raise RuntimeError("completion insert conflicted but no conflicting row was found")
    return found


async def find_completion(session: AsyncSession, user_id: uuid.UUID,
                          course_id: uuid.UUID) -> CompletionRecord | None:
    """The learner's completion of a course, if any (one unique-index lookup)."""
    conn = await _connection(session)
    row = (await conn.execute(sql.COMPLETION_OF, {"r_user_id": user_id, "r_course_id": course_id})).first()
    return CompletionRecord(**row._mapping) if row else None


async def evaluate(session: AsyncSession, user_id: uuid.UUID, course_id: uuid.UUID) -> Evaluation:
    """Every required lesson of the version the learner sees, and whether its rule is met (Evaluation)."""
    conn = await _connection(session)
    return await (await standing(conn, user_id, course_id)).evaluate(conn)


# --- the platform's completion paths ---------------------------------------------------------------------


async def complete_if_met(session: AsyncSession, user_id: uuid.UUID,
                          course_id: uuid.UUID) -> CompletionRecord | None:
    """Record the completion as soon as the last requirement is met (called when a lesson completes).

    The learner's enrollment row is locked first: two lessons completing at once in separate transactions
    would otherwise each see the other as unmet and neither record the completion. With the lock, the second
    evaluates after the first commits and sees both.
    """
    conn = await _connection(session)
    await conn.execute(sql.LOCK_ENROLLMENT, {"r_user_id": user_id, "r_course_id": course_id})
    found = await standing(conn, user_id, course_id, with_account=True)
    if found.completion is not None:
        return found.completion
    evaluation = await found.evaluate(conn)
    if not evaluation.met:
        return None
    return await _record_for(session, conn, found.account, found.course, evaluation.version)


async def complete_course(session: AsyncSession, user_id: uuid.UUID,
                          course_ref: str) -> tuple[CompletionRecord, CourseRef, bool]:
    """The completion endpoint: the server decides from the rules. Returns the existing completion unchanged
    (created=False) if there is one; otherwise records it when every requirement is met, or answers 409
    listing exactly the unmet requirements (403 when not enrolled).

    The learner's account is read (and must be active) in the same statement as their standing, so callers
    holding only the id from a verified token need no query of their own.
    """
    conn = await _connection(session)
    found = await standing(conn, user_id, course_ref, with_account=True)
    if found.completion is not None:
        return found.completion, found.course, False
    if not found.enrolled:
        raise Forbidden("not_enrolled")
    evaluation = await found.evaluate(conn)
    if not evaluation.met:
        unmet = evaluation.unmet
        raise Conflict(
            "requirements_unmet", count=len(unmet),
            errors=[FieldError(f"requirement_{r.kind}", field=f"lessons.{r.lesson_key}", title=r.title)
                    for r in unmet],
            extra={"unmet_requirements": [r.model_dump(mode="json") for r in unmet]})
    recorded = await _record_for(session, conn, found.account, found.course, evaluation.version)
    return recorded, found.course, recorded.recorded_now


async def _record_for(session: AsyncSession, conn: AsyncConnection, user: Account, course: CourseRef,
                      version: VersionRules) -> CompletionRecord:
    """Record the learner's completion of `version`'s course (its certificate flag decides the job); when a
    concurrent request recorded it first, that completion."""
    recorded = await _record(session, conn, user_id=user.id, full_name=user.full_name, course_id=version.course_id,
                             course_slug=course.slug, course_version=version.version,
                             audience=str(user.effective_audience), province_code=user.province_code,
                             assurance=str(user.assurance), with_certificate=version.certificate)
    if recorded is None:
        row = (await conn.execute(sql.COMPLETION_OF, {"r_user_id": user.id, "r_course_id": version.course_id})).first()
        if row is None:  # only the learner's own completion conflicts on this path
            raise RuntimeError("completion insert conflicted but no conflicting row was found")
        recorded = CompletionRecord(**row._mapping)
    return recorded


async def completion_status(session: AsyncSession, user_id: uuid.UUID, course_ref: str,
                            base_url: str) -> CompletionStatus:
    """Every requirement of the course and whether it is met, plus the completion once it exists."""
    conn = await _connection(session)
    found = await standing(conn, user_id, course_ref, with_account=True)
    evaluation = await found.evaluate(conn)
    shown = await completion_public(session, found.completion, found.course.slug, base_url) \
        if found.completion else None
    return CompletionStatus(
        course=CourseBrief(id=found.course.id, slug=found.course.slug, title=evaluation.version.title,
                           version=evaluation.version.version),
        enrolled=found.enrolled, completed=found.completion is not None, requirements=evaluation.requirements,
        completion=shown.model_dump(mode="json") if shown else None)


async def completion_public(session: AsyncSession, completion: Completion | CompletionRecord, course_slug: str,
                            base_url: str) -> CompletionPublic:
    """The completion as the API shows it, linking the certificate once it has been issued."""
    current = None
    # A completion recorded by this transaction has no certificate yet: the job that issues it is queued.
    if not (isinstance(completion, CompletionRecord) and completion.recorded_now):
        conn = await session.connection()
        certificates = (await conn.execute(sql.CERTIFICATES, {"r_completion_id": completion.id})).all()
        # A reissued certificate supersedes (revokes) the old one: link the valid one, else the latest.
        current = next((c for c in certificates if c.status == "valid"), next(iter(certificates), None))
    return CompletionPublic(
        id=completion.id, course=course_slug, course_version=completion.course_version,
        completed_at=completion.completed_at, audience=completion.audience,
        province_code=completion.province_code, source=completion.source, assurance=completion.assurance,
        certificate=CertificateLink(id=current.id, serial=current.serial,
                                    verify_url=f"{base_url.rstrip('/')}/verify/{current.serial}")
        if current else None)
