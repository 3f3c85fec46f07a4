"""Commits from the player: the SCO's CMI values checked, stored and turned into the statuses the server decides.

Rules: a commit carries a sequence number per session; one at or below the last applied (a replay, or one
overtaken by a later commit) changes nothing. A newer commit to a session that ended (Terminate) or that a later
launch of the lesson superseded (another tab or device) is refused with 409, so stale state never overwrites newer
state and the player can tell the learner to launch again. Every written element is validated against its version's data
model; the valid ones are stored and each refused one is named in the answer (`refused`), for the player to
log. The session's time is the SCO's reported
`session_time`, never more than the wall-clock time since launch, and the attempt's total is the sum of its
sessions. The lesson is met when the attempt meets the lesson's rule (completed / passed / either / both), the
session committed, and the attempt's time reaches HOCSO_SCORM_MIN_TIME_S; its progress is then completed and the
course completion follows the same server-decided path as videos and quizzes. A Terminate may end the attempt
(`status.attempt_ends`); an ended attempt, and a review session of one, take their commits in order but store
nothing, so a result once recorded is never overwritten.
"""

import logging
import uuid
from datetime import datetime

from sqlalchemy import and_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings
from app.core.dialect import insert_for
from app.core.errors import Conflict, FieldError, NotFound
from app.core.events import LESSON_MET, announce
from app.core.i18n import messages
from app.models.base import utcnow
from app.models.completion import Completion
from app.models.learning import LessonProgress
from app.models.scorm import (
    CommitIn,
    CommitResult,
    RefusedElement,
    ScormAttempt,
    ScormInteraction,
    ScormObjective,
    ScormSco,
    ScormSession,
)
from app.services.scorm import content
from app.services.scorm.data_model import SUSPEND_DATA_12_SPEC, pattern_of, validate_values
from app.services.scorm.status import ScoParameters, attempt_ends, recompute, rule_met, seconds, session_seconds

messages({
    "scorm_session_superseded": ("Bài học đã được mở ở nơi khác (thẻ hay thiết bị khác); hãy mở lại bài học để "
                                 "tiếp tục ở đây.", "The lesson was opened elsewhere (another tab or device); "
                                 "launch the lesson again to continue here."),
    "scorm_session_terminated": ("Phiên học này đã kết thúc; hãy mở lại bài học để tiếp tục.",
                                 "This session has ended; launch the lesson again to continue."),
})

log = logging.getLogger("hocso.scorm")
_WALL_CLOCK_SLACK_S = 5  # the browser's clock and ours start the session a moment apart
_INTERACTION_FIELDS = {"id": "identifier", "type": "type", "result": "result", "weighting": "weighting",
                       "latency": "latency_s", "timestamp": "timestamp", "time": "timestamp",
                       "description": "description", "learner_response": "learner_response",
                       "student_response": "learner_response"}
_OBJECTIVE_FIELDS = {"id": "identifier", "success_status": "success_status", "status": "success_status",
                     "completion_status": "completion_status", "score.raw": "score_raw",
                     "score.scaled": "score_scaled", "progress_measure": "progress_measure"}


def _params(sco: ScormSco) -> ScoParameters:
    return ScoParameters(sco.family, sco.mastery_score, sco.completion_threshold, sco.scaled_passing_score,
                         sco.completion_rule)


def _result(attempt: ScormAttempt, applied: bool, lesson_completed: bool, course_completed: bool,
            refused: list[FieldError] = ()) -> CommitResult:
    return CommitResult(applied=applied, refused=[RefusedElement(**error.render()) for error in refused],
                        attempt_ended=attempt.ended_at is not None,
                        completion_status=attempt.completion_status,
                        success_status=attempt.success_status, lesson_status=attempt.lesson_status,
                        score_raw=attempt.score_raw, score_scaled=attempt.score_scaled,
                        total_time_s=round(attempt.total_time_s, 2), lesson_completed=lesson_completed,
                        course_completed=course_completed)


async def _rows_by_position(session: AsyncSession, model, attempt_id: uuid.UUID, values: dict[str, str],  # noqa: ANN001
                            prefix: str, fields: dict[str, str], family: str) -> None:
    """Upsert the interaction or objective rows that this commit's values touch (`cmi.<prefix>.n.<field>`)."""
    touched: dict[int, dict[str, object]] = {}
    for name, value in values.items():
        if not name.startswith(f"cmi.{prefix}."):
            continue
        index, _, rest = name[len(prefix) + 5:].partition(".")
        if rest in fields:
            column = fields[rest]
            number = seconds(value) if column == "latency_s" else value
            if column in ("weighting", "score_raw", "score_scaled", "progress_measure"):
                number = float(value)
            touched.setdefault(int(index), {})[column] = number
    if not touched:
        return
    existing = {row.position: row for row in (await session.execute(select(model).where(
        model.attempt_id == attempt_id, model.position.in_(list(touched))))).scalars()}
    for position, changes in touched.items():
        row = existing.get(position) or model(attempt_id=attempt_id, position=position)
        for column, value in changes.items():
            setattr(row, column, value)
        session.add(row)


async def _meet_lesson(session: AsyncSession, user_id: uuid.UUID, course_id: uuid.UUID, key: str,
                       score: float | None, now: datetime) -> bool:
    """Complete the learner's progress on the lesson key (once; a completion is never taken back) and record
    the course's completion if that was the last requirement. True when the course completion exists."""
    mine = and_(LessonProgress.user_id == user_id, LessonProgress.course_id == course_id,
                LessonProgress.lesson_key == key)
    await session.execute(insert_for(session, LessonProgress).values(
        id=uuid.uuid4(), user_id=user_id, course_id=course_id, lesson_key=key, intervals=[], covered_s=0,
        updated_at=now).on_conflict_do_nothing(index_elements=["user_id", "course_id", "lesson_key"]))
    row = (await session.execute(select(LessonProgress).where(mine).with_for_update()
                                 .execution_options(populate_existing=True))).scalar_one()
    if score is not None:
        row.best_score = max(row.best_score or 0, score)
    row.viewed_at = row.viewed_at or now
    row.completed_at = row.completed_at or now
    row.updated_at = now
    session.add(row)
    await session.flush()
    await announce(session, LESSON_MET, user_id=user_id, course_id=course_id)
    return await session.scalar(select(Completion.id).where(Completion.user_id == user_id,
                                                            Completion.course_id == course_id)) is not None


async def complete_asset(session: AsyncSession, user_id: uuid.UUID, course_id: uuid.UUID,
                         attempt: ScormAttempt) -> None:
    """An asset never talks to the runtime: launching it completes it (as SCORM 2004 has the LMS do)."""
    now = utcnow()
    attempt.completion_status, attempt.completed_at = "completed", attempt.completed_at or now
    attempt.lesson_status = attempt.lesson_status or "completed"
    session.add(attempt)
    await _meet_lesson(session, user_id, course_id, attempt.lesson_key, None, now)


def require_open(run: ScormSession) -> None:
    """A session that ended or was superseded by a later launch takes no more state (409, "launch again")."""
    if run.superseded_at is not None:
        raise Conflict("scorm_session_superseded")
    if run.terminated_at is not None:
        raise Conflict("scorm_session_terminated")


async def commit(session: AsyncSession, settings: Settings, session_id: uuid.UUID, token: str | None,
                 body: CommitIn) -> CommitResult:
    """Apply one commit of a session (see the module's rules); idempotent by sequence number."""
    content.verify_session(settings.secret_key, token, session_id)
    run = (await session.execute(select(ScormSession).where(ScormSession.id == session_id).with_for_update()
                                 .execution_options(populate_existing=True))).scalar_one_or_none()
    if run is None:
        raise NotFound("scorm_session_unknown")
    attempt = (await session.execute(select(ScormAttempt).where(ScormAttempt.id == run.attempt_id)
                                     .with_for_update().execution_options(populate_existing=True))).scalar_one()
    if body.seq <= run.last_seq:  # a replay, even of the final commit, is answered as before, not refused
        return _result(attempt, False, attempt.completed_at is not None, False)
    require_open(run)
    now = utcnow()
    if run.mode == "review" or attempt.ended_at is not None:  # an ended attempt keeps its result: nothing stored
        run.last_seq, run.commits, run.committed_at = body.seq, run.commits + 1, now
        run.terminated_at = now if body.terminate else run.terminated_at
        session.add(run)
        return _result(attempt, False, attempt.completed_at is not None, False)
    sco = (await session.execute(select(ScormSco).where(ScormSco.lesson_id == run.lesson_id))).scalar_one()
    # Partial, not all-or-nothing: one bad element must not discard the rest, and the commit still takes its seq,
    # so a replay is ignored as always (idempotency only needs the seq, not an all-or-nothing commit).
    accepted, errors = validate_values(sco.family, body.values)
    if errors:
        log.info("scorm commit with refused elements", extra={
            "lesson_id": str(run.lesson_id), "refused": [e["field"] for e in errors][:20]})
    suspend = accepted.get("cmi.suspend_data", "")
    if sco.family == "1.2" and len(suspend) > SUSPEND_DATA_12_SPEC:
        log.info("scorm 1.2 suspend_data above the specification's 4,096 characters",
                 extra={"lesson_id": str(run.lesson_id), "length": len(suspend)})
    exit_value = accepted.get("cmi.core.exit" if sco.family == "1.2" else "cmi.exit")
    elapsed = (now - run.started_at).total_seconds() + _WALL_CLOCK_SLACK_S
    reported = session_seconds(sco.family, accepted)
    if reported or body.terminate:
        new_time = min(reported, elapsed) if reported else min(run.session_time_s, elapsed)
        attempt.total_time_s = max(0.0, attempt.total_time_s - run.session_time_s + new_time)
        run.session_time_s = new_time
    stored = {k: v for k, v in accepted.items() if pattern_of(k)[0] not in (
        "cmi.core.session_time", "cmi.session_time", "cmi.core.exit", "cmi.exit", "adl.nav.request")}
    attempt.cmi = {**attempt.cmi, **stored}
    if exit_value is not None or body.terminate:
        attempt.exit = exit_value or None
    result = recompute(_params(sco), attempt.cmi)
    attempt.completion_status, attempt.success_status = result.completion_status, result.success_status
    attempt.lesson_status, attempt.progress_measure = result.lesson_status, result.progress_measure
    attempt.score_raw, attempt.score_scaled = result.score_raw, result.score_scaled
    if sco.family == "1.2" and result.lesson_status:
        attempt.cmi = {**attempt.cmi, "cmi.core.lesson_status": result.lesson_status}
    attempt.updated_at = now
    run.last_seq, run.commits, run.committed_at = body.seq, run.commits + 1, now
    if body.terminate:
        run.terminated_at = now
        if attempt_ends(sco.family, attempt.exit, attempt.total_time_s, sco.max_time_allowed,
                        sco.time_limit_action):
            attempt.ended_at = now
    await _rows_by_position(session, ScormInteraction, attempt.id, accepted, "interactions", _INTERACTION_FIELDS,
                            sco.family)
    await _rows_by_position(session, ScormObjective, attempt.id, accepted, "objectives", _OBJECTIVE_FIELDS,
                            sco.family)
    session.add_all([run, attempt])
    await session.flush()
    met = rule_met(sco.completion_rule, result) and attempt.total_time_s >= settings.scorm_min_time_s
    course_completed = False
    if met:
        attempt.completed_at = attempt.completed_at or now
        session.add(attempt)
        score = result.score_scaled * 100 if result.score_scaled is not None else result.score_raw
        course_completed = await _meet_lesson(session, run.user_id, attempt.course_id, attempt.lesson_key,
                                              max(0.0, min(100.0, score)) if score is not None else None, now)
    return _result(attempt, True, attempt.completed_at is not None, course_completed, errors)
