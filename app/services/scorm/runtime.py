"""Launching a SCO and the state its runtime starts from.

Only a learner actively enrolled in the lesson's course, on the version the lesson belongs to, may launch. A
launch resumes the learner's latest attempt (on any device: the state lives on the server), or starts a new one
(a fresh data model, entry `ab-initio`) when the latest attempt is over (`ended_at`: see `status.attempt_ends`),
or when it met the lesson's rule and the learner asks for a new one; never beyond the package's attempt limit
(2004 `imsss:attemptLimit`): an ended attempt with no attempt left is reopened for review (no credit, its
result kept). Each launch is a session with a signed token; the player page, the content files and the
runtime endpoints accept nothing else.
"""

import uuid
from datetime import UTC, datetime
from urllib.parse import quote

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings
from app.core.errors import Conflict, Forbidden, NotFound
from app.core.i18n import messages
from app.models.base import utcnow
from app.models.course import CourseVersion, Lesson
from app.models.identity import User
from app.models.learning import Enrollment
from app.models.scorm import LaunchPublic, RuntimeState, ScormAttempt, ScormSco, ScormSession
from app.services.scorm import content
from app.services.scorm.commits import complete_asset, require_open
from app.services.scorm.status import duration_2004, timespan_12

messages({
    "scorm_not_scorm": ("Bài học này không phải bài SCORM.", "This lesson is not a SCORM lesson."),
    "scorm_requires_enrollment": ("Hãy ghi danh khóa học trước khi mở bài học.",
                                  "Enroll in the course before opening its lessons."),
    "scorm_lesson_replaced": ("Bài học thuộc phiên bản cũ của khóa học; hãy mở bài học ở phiên bản hiện tại.",
                              "The lesson belongs to an earlier version of the course; open the current one."),
    "scorm_session_unknown": ("Phiên học SCORM không tồn tại.", "The SCORM session does not exist."),
    "scorm_attempt_limit": ("Bài học này chỉ cho phép {limit} lần học.",
                            "This lesson allows {limit} attempt(s) only."),
})


async def sco_of(session: AsyncSession, lesson_id: uuid.UUID) -> tuple[Lesson, ScormSco, CourseVersion]:
    lesson = await session.get(Lesson, lesson_id)
    if lesson is None:
        raise NotFound("lesson_not_found")
    sco = (await session.execute(select(ScormSco).where(ScormSco.lesson_id == lesson_id))).scalar_one_or_none()
    if sco is None:
        raise Conflict("scorm_not_scorm")
    return lesson, sco, await session.get(CourseVersion, lesson.version_id)


async def _require_enrolled(session: AsyncSession, user: User, lesson: Lesson, version: CourseVersion) -> None:
    enrollment = (await session.execute(select(Enrollment).where(
        Enrollment.user_id == user.id, Enrollment.course_id == version.course_id))).scalar_one_or_none()
    if enrollment is None or enrollment.left_at is not None:
        raise Forbidden("scorm_requires_enrollment")
    if enrollment.version_id != lesson.version_id:
        current = (await session.execute(select(Lesson.id).where(
            Lesson.version_id == enrollment.version_id, Lesson.key == lesson.key))).scalar_one_or_none()
        raise NotFound("scorm_lesson_replaced", extra={"current_lesson_id": str(current) if current else None})


async def latest_attempt(session: AsyncSession, user_id: uuid.UUID, course_id: uuid.UUID,
                         key: str) -> ScormAttempt | None:
    return (await session.execute(select(ScormAttempt).where(
        ScormAttempt.user_id == user_id, ScormAttempt.course_id == course_id, ScormAttempt.lesson_key == key)
        .order_by(ScormAttempt.number.desc()).limit(1))).scalar_one_or_none()


async def launch(session: AsyncSession, settings: Settings, user: User, lesson_id: uuid.UUID, *,
                 new_attempt: bool = False) -> LaunchPublic:
    """A session for an enrolled learner, with the player URL (token in it). Resumes the latest attempt; starts
    a new one when the latest ended, or met the lesson's rule and `new_attempt` is asked for, and the attempt
    limit allows another (409 when `new_attempt` is asked for and it does not; without it, an ended attempt is
    reopened for review). An asset (content that never talks to the runtime) meets its lesson when launched."""
    lesson, sco, version = await sco_of(session, lesson_id)
    await _require_enrolled(session, user, lesson, version)
    attempt = await latest_attempt(session, user.id, version.course_id, lesson.key)
    mode = "normal"
    if attempt is None or attempt.ended_at is not None or (new_attempt and attempt.completed_at is not None):
        if attempt is not None and sco.attempt_limit is not None and attempt.number >= sco.attempt_limit:
            if new_attempt:
                raise Conflict("scorm_attempt_limit", limit=sco.attempt_limit)
            mode = "review"  # the attempt ended and none is left: reopened to look at, kept as it was
        else:
            attempt = ScormAttempt(user_id=user.id, course_id=version.course_id, lesson_key=lesson.key,
                                   number=attempt.number + 1 if attempt else 1)
            session.add(attempt)
            await session.flush()
    # The learner's open sessions of this lesson (another tab or device, any attempt) stop taking commits: the
    # newest launch holds the state, and an older page would overwrite it with what it loaded before.
    attempts = select(ScormAttempt.id).where(ScormAttempt.user_id == user.id,
                                             ScormAttempt.course_id == version.course_id,
                                             ScormAttempt.lesson_key == lesson.key)
    await session.execute(update(ScormSession).where(
        ScormSession.user_id == user.id, ScormSession.attempt_id.in_(attempts),
        ScormSession.terminated_at.is_(None), ScormSession.superseded_at.is_(None)).values(superseded_at=utcnow()))
    run = ScormSession(attempt_id=attempt.id, lesson_id=lesson.id, user_id=user.id, mode=mode)
    session.add(run)
    await session.flush()
    if sco.scorm_type == "asset":
        await complete_asset(session, user.id, version.course_id, attempt)
    token, expires = content.session_token(settings.secret_key, run.id, ttl_s=settings.scorm_session_ttl_s)
    base = settings.public_base_url.rstrip("/")
    return LaunchPublic(launch_url=f"{base}/scorm/play/{run.id}?token={token}", session_id=run.id,
                        attempt=attempt.number, mode=mode, expires_at=datetime.fromtimestamp(expires, tz=UTC))


def _entry(attempt: ScormAttempt, run: ScormSession, first_session: bool) -> str:
    """1.2 and 2004 alike: a suspended attempt resumes; a fresh attempt starts ab-initio; otherwise "" (as for
    a review)."""
    if run.mode == "review":
        return ""
    if attempt.exit == "suspend":
        return "resume"
    return "ab-initio" if first_session else ""


async def runtime_state(session: AsyncSession, settings: Settings, session_id: uuid.UUID,
                        token: str | None) -> RuntimeState:
    """What the player loads into the runtime before the SCO calls Initialize (409 for a session that ended or
    was superseded): the elements the LMS decides
    (learner, entry, credit, mode, mastery/passing score, launch data, time limits, total time) and the saved
    state of the attempt (location, suspend data, statuses, scores, interactions, objectives)."""
    content.verify_session(settings.secret_key, token, session_id)
    run = await session.get(ScormSession, session_id)
    if run is None:
        raise NotFound("scorm_session_unknown")
    require_open(run)  # a reopened old player page says "launch again" at once instead of saving nothing
    attempt = await session.get(ScormAttempt, run.attempt_id)
    sco = (await session.execute(select(ScormSco).where(ScormSco.lesson_id == run.lesson_id))).scalar_one()
    user = await session.get(User, run.user_id)
    earlier = await session.scalar(select(func.count()).select_from(ScormSession).where(
        ScormSession.attempt_id == attempt.id, ScormSession.id != run.id, ScormSession.commits > 0))
    family = sco.family
    entry = _entry(attempt, run, not earlier)
    credit = "no-credit" if run.mode == "review" else "credit"
    saved = {k: v for k, v in attempt.cmi.items() if not k.endswith(("session_time", ".exit")) and k != "cmi.exit"}
    location = saved.get("cmi.core.lesson_location" if family == "1.2" else "cmi.location", "")
    suspend = saved.get("cmi.suspend_data", "")
    learner_id, name = str(user.id), user.full_name
    if family == "1.2":
        cmi = {**saved, "cmi.core.student_id": learner_id, "cmi.core.student_name": name,
               "cmi.core.entry": entry, "cmi.core.credit": credit, "cmi.core.lesson_mode": run.mode,
               "cmi.core.total_time": timespan_12(attempt.total_time_s),
               "cmi.core.lesson_status": attempt.lesson_status or "not attempted",
               "cmi.launch_data": sco.launch_data or ""}
        if sco.mastery_score is not None:
            cmi["cmi.student_data.mastery_score"] = f"{sco.mastery_score:g}"
        if sco.max_time_allowed:
            cmi["cmi.student_data.max_time_allowed"] = sco.max_time_allowed
        if sco.time_limit_action:
            cmi["cmi.student_data.time_limit_action"] = sco.time_limit_action
    else:
        cmi = {**saved, "cmi.learner_id": learner_id, "cmi.learner_name": name, "cmi.entry": entry,
               "cmi.credit": credit, "cmi.mode": run.mode, "cmi.total_time": duration_2004(attempt.total_time_s),
               "cmi.launch_data": sco.launch_data or ""}
        if sco.completion_threshold is not None:
            cmi["cmi.completion_threshold"] = f"{sco.completion_threshold:g}"
        if sco.scaled_passing_score is not None:
            cmi["cmi.scaled_passing_score"] = f"{sco.scaled_passing_score:g}"
        if sco.max_time_allowed:
            cmi["cmi.max_time_allowed"] = sco.max_time_allowed
        if sco.time_limit_action:
            cmi["cmi.time_limit_action"] = sco.time_limit_action
    return RuntimeState(
        session_id=run.id, scorm_version=sco.scorm_version, scorm_type=sco.scorm_type, attempt=attempt.number,
        entry=entry, credit=credit, mode=run.mode, learner_id=learner_id, learner_name=name,
        launch_data=sco.launch_data or "", mastery_score=sco.mastery_score,
        scaled_passing_score=sco.scaled_passing_score, completion_threshold=sco.completion_threshold,
        max_time_allowed=sco.max_time_allowed, time_limit_action=sco.time_limit_action,
        total_time=cmi.get("cmi.core.total_time") or cmi.get("cmi.total_time", ""), location=location,
        suspend_data=suspend, cmi=cmi, commit_url=f"/api/v1/scorm/sessions/{run.id}/commits",
        last_seq=run.last_seq)


async def content_url(session: AsyncSession, settings: Settings, session_id: uuid.UUID,
                      token: str | None) -> tuple[str, ScormSco, str]:
    """The SCO's launch URL on this origin (package folder under a content token, then launch path and
    query), the SCO, and the lesson's title, for the player page."""
    content.verify_session(settings.secret_key, token, session_id)
    run = await session.get(ScormSession, session_id)
    if run is None:
        raise NotFound("scorm_session_unknown")
    sco = (await session.execute(select(ScormSco).where(ScormSco.lesson_id == run.lesson_id))).scalar_one()
    folder_token, _ = content.content_token(settings.secret_key, sco.content_prefix,
                                            ttl_s=settings.scorm_session_ttl_s)
    title = await session.scalar(select(Lesson.title).where(Lesson.id == run.lesson_id))
    return f"/scorm/content/{folder_token}/{quote(sco.launch_path)}{sco.launch_query}", sco, title or ""
