"""SCORM lessons: launching a SCO, the runtime endpoints its player talks to, and the results for learners
and admins. The player page and the package files are in `scorm_player.py`."""

import json
import uuid
from typing import Annotated, Literal

from fastapi import Body, Header, Query, Request, Response
from pydantic import BaseModel, ValidationError

from app.api.deps import ContentAdmin, CurrentUser, SessionDep, SettingsDep
from app.api.problems import problem
from app.api.v1 import v1_router
from app.core.errors import FieldError
from app.core.errors import ValidationFailed as Invalid
from app.core.spreadsheets import CSV_MEDIA_TYPE
from app.models.scorm import CommitIn, CommitResult, LaunchPublic, RuntimeState, ScoStatus
from app.services.scorm import commits, reports, runtime

router = v1_router(tags=["scorm"])
TokenHeader = Annotated[str | None, Header(alias="X-Scorm-Token", description="The session token of the launch "
                                                                                "URL")]


class LaunchIn(BaseModel):
    new_attempt: bool = False


@router.post("/lessons/{lesson_id}/launch", status_code=201, response_model=LaunchPublic,
             summary="Launch a SCORM lesson",
             responses={403: problem("Not enrolled"), 404: problem("Unknown lesson"),
                        409: problem("Not a SCORM lesson, or its attempt limit reached")})
async def launch(lesson_id: uuid.UUID, user: CurrentUser, session: SessionDep, settings: SettingsDep,
                 body: Annotated[LaunchIn | None, Body()] = None) -> LaunchPublic:
    """A player page for the SCO, on this origin, under a signed token valid for `HOCSO_SCORM_SESSION_TTL_S`.
    Resumes the latest attempt; `{"new_attempt": true}` starts another once the latest met the lesson."""
    return await runtime.launch(session, settings, user, lesson_id, new_attempt=bool(body and body.new_attempt))


@router.get("/scorm/sessions/{session_id}/state", response_model=RuntimeState,
            summary="The starting state of a SCORM session (the player calls it)",
            responses={403: problem("Bad or expired token")})
async def state(session_id: uuid.UUID, session: SessionDep, settings: SettingsDep,
                token: TokenHeader = None) -> RuntimeState:
    return await runtime.runtime_state(session, settings, session_id, token)


@router.post("/scorm/sessions/{session_id}/commits", response_model=CommitResult,
             summary="Commit CMI values of a SCORM session (the player calls it)",
             openapi_extra={"requestBody": {"required": True, "content": {"application/json": {
                 "schema": CommitIn.model_json_schema()}}}},
             responses={403: problem("Bad or expired token"),
                        422: problem("A body that is not JSON {seq, values}")})
async def commit(session_id: uuid.UUID, request: Request, session: SessionDep, settings: SettingsDep,
                 token: TokenHeader = None) -> CommitResult:
    """`{seq, values: {"cmi.core.lesson_status": "passed", …}, terminate}`. A `seq` at or below the last applied
    changes nothing (`applied: false`). Elements their version's data model refuses are named in `refused`; the
    others are kept. Read as JSON whatever its content type: `sendBeacon` sends text/plain,
    and no header, so its token comes in the body."""
    raw = await request.body()
    try:
        body = CommitIn.model_validate(json.loads(raw or b"{}"))
    except (ValueError, ValidationError):
        raise Invalid(errors=[FieldError("invalid_event", field="body", error="JSON {seq, values}")]) from None
    return await commits.commit(session, settings, session_id, token or body.token, body)


@router.get("/lessons/{lesson_id}/scorm", response_model=ScoStatus, summary="My result in a SCORM lesson")
async def my_result(lesson_id: uuid.UUID, user: CurrentUser, session: SessionDep) -> ScoStatus:
    """The status and score of the attempt that counts (the best one that met the lesson, else the latest), the
    time summed over all attempts, and how many attempts there were."""
    return await reports.learner_result(session, user, lesson_id)


@router.get("/admin/courses/{course}/scorm-report", summary="SCORM results of a course, per learner and SCO",
            responses={200: {"content": {"text/csv": {}}, "description": "JSON, or CSV (UTF-8 with BOM)"}})
async def course_report(course: str, session: SessionDep, admin: ContentAdmin,
                        format: Annotated[Literal["json", "csv"], Query()] = "json") -> Response:
    """Each learner at each SCO: status and score of the attempt that counts (the best one that met the
    lesson, else the latest; `counted` says which), time summed over all attempts, number of attempts."""
    report = await reports.course_report(session, course)
    if format == "csv":
        data, filename = reports.report_csv(report)
        return Response(data, media_type=CSV_MEDIA_TYPE,
                        headers={"Content-Disposition": f'attachment; filename="{filename}"'})
    return Response(report.model_dump_json(), media_type="application/json")
