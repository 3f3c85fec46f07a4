"""Quiz attempts: start, autosave, submit, review."""

import uuid

from fastapi import status

from app.api.deps import CurrentUser, SessionDep, SettingsDep, StorageDep
from app.api.problems import problem
from app.api.v1 import v1_router
from app.models.learning import AnswersIn, AttemptPublic, QuizAttempts, SubmitIn
from app.services.quizzes import attempts
from app.services.quizzes.attempts import Media

router = v1_router(tags=["quizzes"])



@router.post("/quizzes/{quiz_id}/attempts", summary="Start an attempt", response_model=AttemptPublic,
             status_code=status.HTTP_201_CREATED,
             responses={403: problem("Not enrolled"),
                        409: problem("An attempt is open (`attempt_id`) or none are left")})
async def start(quiz_id: uuid.UUID, user: CurrentUser, session: SessionDep, storage: StorageDep,
                settings: SettingsDep) -> AttemptPublic:
    """Draws the questions and shuffles the choices, fixed for this attempt. The answer contains no
    correctness data; `deadline` (if the quiz is timed) is when answers stop being accepted (plus 30 s)."""
    return await attempts.start_attempt(session, user, quiz_id, media=Media(storage, settings.media_url_ttl_s))


@router.get("/quizzes/{quiz_id}/attempts", summary="My attempts at a quiz", response_model=QuizAttempts)
async def mine(quiz_id: uuid.UUID, user: CurrentUser, session: SessionDep) -> QuizAttempts:
    return await attempts.list_attempts(session, user, quiz_id)


@router.get("/attempts/{attempt_id}", summary="An attempt (answers and feedback once submitted)",
            response_model=AttemptPublic, responses={404: problem("Not your attempt")})
async def show(attempt_id: uuid.UUID, user: CurrentUser, session: SessionDep, storage: StorageDep,
               settings: SettingsDep) -> AttemptPublic:
    return await attempts.get_attempt(session, user, attempt_id, media=Media(storage, settings.media_url_ttl_s))


@router.put("/attempts/{attempt_id}/answers", summary="Autosave answers", response_model=AttemptPublic,
            responses={409: problem("Submitted already, or time is up"),
                       422: problem("An answer does not fit the attempt")})
async def save(attempt_id: uuid.UUID, body: AnswersIn, user: CurrentUser, session: SessionDep,
               storage: StorageDep, settings: SettingsDep) -> AttemptPublic:
    """Answers are merged per question, in the shape of its kind: `choice_ids` (single, multiple, true/false),
    `text` (short answer, numerical with a decimal comma or point, essay), `matches` (matching). See
    docs/learning.md."""
    return await attempts.save_answers(session, user, attempt_id, body.answers,
                                       media=Media(storage, settings.media_url_ttl_s))


@router.post("/attempts/{attempt_id}/submit", summary="Submit for grading", response_model=AttemptPublic)
async def submit(attempt_id: uuid.UUID, user: CurrentUser, session: SessionDep, storage: StorageDep,
                 settings: SettingsDep, body: SubmitIn | None = None) -> AttemptPublic:
    """Graded on the server, once: a repeat returns the same result. After the deadline (+30 s) the attempt
    is graded on the answers saved by then. Passing (best score >= pass score) completes the quiz lesson."""
    return await attempts.submit_attempt(session, user, attempt_id, body.answers if body else None,
                                         media=Media(storage, settings.media_url_ttl_s))
