"""Enrollment, earned progress and the server-decided completion of a course."""

import uuid
from typing import Annotated

from fastapi import Depends, Query, Request, Response, status
from fastapi.responses import JSONResponse

from app.api.deps import CurrentUser, CurrentUserId, DatabaseDep, SessionDep, SettingsDep
from app.api.problems import problem
from app.api.v1 import v1_router
from app.models.completion import CompletionPublic
from app.models.learning import (
    CompletionStatus,
    EnrollmentPage,
    EnrollmentRecord,
    HeartbeatIn,
    ProgressBatchIn,
    ProgressBatchResult,
    ProgressPublic,
)
from app.services.completion import completions
from app.services.learning import enrollment, offline_sync, progress
from app.services.learning.heartbeat_batch import HeartbeatBatcher
from app.services.scorm import reports as scorm_reports

router = v1_router(tags=["learning"])



async def get_heartbeats(request: Request) -> HeartbeatBatcher:
    """This worker's heartbeat batcher (app/api/per_worker.py)."""
    return request.app.state.per_worker.heartbeats


HeartbeatsDep = Annotated[HeartbeatBatcher, Depends(get_heartbeats)]


@router.post("/courses/{course}/enrollments", summary="Enroll in a course", response_model=EnrollmentRecord,
             status_code=status.HTTP_201_CREATED,
             responses={200: {"description": "Already enrolled (or re-joined): the same enrollment",
                              "model": EnrollmentRecord},
                        403: problem("Not open to the learner's audience"),
                        404: problem("No such published course")})
async def enroll(course: str, user: CurrentUser, session: SessionDep, response: Response) -> EnrollmentRecord:
    """Self-enroll in a published course open to your audience (`{course}` is its id or slug). Officials count
    as citizens until verified, so official-only courses open once a province admin verifies them."""
    record, created = await enrollment.enroll(session, user, course)
    if not created:
        response.status_code = status.HTTP_200_OK
    return record


@router.delete("/courses/{course}/enrollments/me", summary="Leave a course (progress is kept)",
               status_code=status.HTTP_204_NO_CONTENT,
               responses={404: problem("Not enrolled")})
async def unenroll(course: str, user: CurrentUser, session: SessionDep) -> Response:
    await enrollment.unenroll(session, user, course)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/me/enrollments", summary="My courses, with progress and the next lesson",
            response_model=EnrollmentPage)
async def my_enrollments(user: CurrentUser, session: SessionDep,
                         limit: Annotated[int, Query(ge=1, le=100)] = 50,
                         cursor: Annotated[str | None, Query(max_length=200)] = None) -> EnrollmentPage:
    return await enrollment.list_enrollments(session, user, limit=limit, cursor=cursor)


@router.post("/lessons/{lesson_id}/progress", summary="Report progress on a lesson (heartbeat or view)",
             response_model=ProgressPublic,
             responses={403: problem("Not enrolled in the lesson's course"),
                        404: problem("No such lesson"),
                        409: problem("The event id was used on another lesson (named in `lesson_id`), or the "
                                     "lesson takes no progress events")})
async def report_progress(lesson_id: uuid.UUID, body: HeartbeatIn, user_id: CurrentUserId, db: DatabaseDep,
                          heartbeats: HeartbeatsDep) -> Response:
    """Videos: send `intervals` played since the last heartbeat (every ~30 s, and one with no intervals when
    playback starts: the first heartbeat of a lesson only starts the clock). New coverage is credited up to
    twice the server time since your previous heartbeat, clamped to the video's duration. Documents and
    text: `{"event_id": …, "viewed": true}`. Replaying an `event_id` returns the first answer and changes
    nothing."""
    answer = await heartbeats.record(user_id, lesson_id, body)
    if answer is None:  # not for a batch (see app/services/heartbeat_batch.py): one event, one transaction
        # Transaction exception «heartbeat group commit» (docs/architecture.md).
        async with db.session() as session:
            answer = await progress.record_heartbeat(session, user_id, lesson_id, body)
    # The answer is already in ProgressPublic's JSON shape: returned as is, FastAPI does not validate it again.
    return JSONResponse(answer)


@router.get("/lessons/{lesson_id}/progress", summary="My progress on a lesson", response_model=ProgressPublic)
async def get_progress(lesson_id: uuid.UUID, user: CurrentUser, session: SessionDep) -> ProgressPublic:
    return await progress.lesson_progress(session, user, lesson_id)


@router.post("/me/progress/batch", summary="Sync offline progress (up to 500 events)",
             response_model=ProgressBatchResult)
async def sync_progress(body: ProgressBatchIn, user: CurrentUser, session: SessionDep,
                        settings: SettingsDep) -> ProgressBatchResult:
    """Each event is a heartbeat plus `lesson_id` and `client_time`. Events are applied in `client_time`
    order, idempotently per `event_id`; each gets `accepted`, `duplicate` or `rejected` (with a reason), in
    the order sent. A bad event never rejects the others; one that happened more than
    HOCSO_PROGRESS_EVENT_RETENTION_DAYS (14) days ago is rejected as `event_too_old`."""
    return await offline_sync.sync_batch(session, user.id, body.events,
                                         keep_days=settings.progress_event_retention_days)


@router.get("/courses/{course}/completion-status", summary="What is left to complete a course",
            response_model=CompletionStatus)
async def completion_status(course: str, user_id: CurrentUserId, session: SessionDep,
                            settings: SettingsDep) -> CompletionStatus:
    status = await completions.completion_status(session, user_id, course, settings.public_base_url)
    return await scorm_reports.with_sco_statuses(session, user_id, status)


@router.post("/courses/{course}/completion", summary="Complete a course (the server checks the rules)",
             response_model=CompletionPublic, status_code=status.HTTP_201_CREATED,
             responses={200: {"description": "Already complete: the same record", "model": CompletionPublic},
                        403: problem("Not enrolled"),
                        409: problem("Requirements unmet: `unmet_requirements` lists each one")})
async def complete(course: str, user_id: CurrentUserId, session: SessionDep, settings: SettingsDep,
                   response: Response) -> CompletionPublic:
    """201 when this call records the completion; 200 with the same record when it already exists (it is
    recorded automatically when the last requirement is met); 409 listing exactly the unmet requirements."""
    # The learner's id alone: the service reads and checks the account with where the learner stands.
    completion, course_row, created = await completions.complete_course(session, user_id, course)
    if not created:
        response.status_code = status.HTTP_200_OK
    return await completions.completion_public(session, completion, course_row.slug, settings.public_base_url)
