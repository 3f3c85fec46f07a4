"""Intakes ("đợt học"): province and ministry admins assign courses to learners and follow completion."""

import uuid
from typing import Annotated, Literal

from fastapi import Depends, Query, Request, Response, status

from app.api.deps import SessionDep, SettingsDep, UserAdmin
from app.api.problems import problem
from app.api.v1 import v1_router
from app.core.i18n import current_language
from app.models.reporting import Intake, IntakeCreate, IntakePage, IntakePublic, IntakeReport, MembersUploadResult
from app.services.intakes import intakes as intakes
from app.services.intakes import members as intake_members
from app.services.intakes import report as intake_report
from app.services.intakes import report_file as intake_report_file

router = v1_router("/intakes", tags=["intakes"])

_NOT_YOURS = {403: problem("Not a province or ministry admin"),
              404: problem("No such intake, or (to a province admin) another province's")}
_CSV_UPLOAD = {"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
    "type": "object", "required": ["file"],
    "properties": {"file": {"type": "string", "format": "binary",
                            "description": "CSV, UTF-8 (BOM optional), header row with phone, email "
                                           "and/or national_id"}}}}}}}


async def current_intake(intake_id: uuid.UUID, admin: UserAdmin, session: SessionDep) -> Intake:
    return await intakes.get_intake(session, admin, intake_id)


CurrentIntake = Annotated[Intake, Depends(current_intake)]


@router.post("", status_code=status.HTTP_201_CREATED, response_model=IntakePublic, summary="Create an intake",
             responses={403: problem("Not a province or ministry admin, or another province"),
                        422: problem("Unknown or unpublished course, bad dates or province")})
async def create_intake(body: IntakeCreate, admin: UserAdmin, session: SessionDep,
                        response: Response) -> IntakePublic:
    """An intake assigns published courses (ids or slugs) with a deadline. A province admin creates intakes in
    their own province; a ministry admin in any current province (`province_code`, default their own)."""
    intake = await intakes.create_intake(session, admin, body)
    response.headers["Location"] = f"/api/v1/intakes/{intake.id}"
    return intake


@router.get("", response_model=IntakePage, summary="List intakes",
            responses={403: problem("Not a province or ministry admin, or another province")})
async def list_intakes(
    admin: UserAdmin, session: SessionDep,
    province: Annotated[str | None, Query(min_length=2, max_length=2,
                                          description="Ministry admins: only this province")] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> IntakePage:
    """Newest first, keyset-paged. A province admin sees the intakes of their own province only."""
    return await intakes.list_intakes(session, admin, province=province, limit=limit, cursor=cursor)


@router.get("/{intake_id}", response_model=IntakePublic, summary="An intake", responses=_NOT_YOURS)
async def read_intake(intake: CurrentIntake, session: SessionDep) -> IntakePublic:
    return await intakes.intake_public(session, intake)


@router.post("/{intake_id}/members", response_model=MembersUploadResult, openapi_extra=_CSV_UPLOAD,
             summary="Add members from a CSV file",
             responses={**_NOT_YOURS,
                        413: problem("Larger than intake_csv_max_bytes or intake_csv_max_rows"),
                        422: problem("Unreadable file; with strict=true, any bad row")})
async def add_members(
    intake: CurrentIntake, request: Request, session: SessionDep, settings: SettingsDep,
    strict: Annotated[bool, Query(description="Add nothing unless every row is valid")] = False,
) -> MembersUploadResult:
    """Multipart field `file`: a CSV whose header names `phone`, `email` and/or `national_id`; each row names
    an existing learner of the intake's province. By default valid rows are added and bad ones listed in
    `errors` as `{row, field, message}` (row = CSV line number); with `strict=true` any bad row answers 422
    with those errors and nothing is added. Adding a learner twice is harmless. Format: docs/intakes.md."""
    # End the sign-in read transaction: receiving the file must not hold a database connection or lock.
    # Transaction exception «uploads end the read first» (docs/architecture.md).
    await session.commit()
    return await intake_members.add_members_from_csv(
        session, settings, intake, request.stream(), request.headers.get("content-type"),
        request.headers.get("content-length"), strict=strict)


@router.get("/{intake_id}/report", response_model=IntakeReport, summary="Completion report of an intake",
            responses=_NOT_YOURS)
async def report(
    intake: CurrentIntake, session: SessionDep,
    overdue_limit: Annotated[int, Query(ge=0, le=10_000, description="How many overdue assignments to list "
                                                                     "(`overdue_count` has them all)")] = 1000,
) -> IntakeReport:
    """Assigned (members × courses), enrolled and completed, the rate as `completed_of_assigned`
    ("375 / 409 = 91.7%"), by agency and by course; after the deadline, the assignments still not completed."""
    return await intake_report.intake_report(session, intake, overdue_limit=overdue_limit)


@router.get("/{intake_id}/report.csv", response_class=Response, summary="Completion report of an intake (CSV)",
            responses={200: {"content": {"text/csv": {}}, "description": "UTF-8 with a BOM, for Excel"},
                       **_NOT_YOURS})
async def report_csv(intake: CurrentIntake, session: SessionDep) -> Response:
    """The report for Excel: the intake's details, one row per agency and a total row, then every overdue
    assignment. Layout: docs/intakes.md."""
    return await _report_file(session, intake, "csv")


@router.get("/{intake_id}/report.xlsx", response_class=Response, summary="Completion report of an intake (XLSX)",
            responses={200: {"content": {intake_report_file.MEDIA_TYPES["xlsx"]: {}},
                             "description": "An Excel workbook"}, **_NOT_YOURS})
async def report_xlsx(intake: CurrentIntake, session: SessionDep) -> Response:
    """The report as an Excel workbook: a summary sheet (the intake, one row per agency, the total), one row
    per course, and every overdue assignment; Vietnamese headers (English with `Accept-Language: en`), dates in
    Vietnam time, figures as numbers."""
    return await _report_file(session, intake, "xlsx")


async def _report_file(session: SessionDep, intake: Intake, fmt: Literal["csv", "xlsx"]) -> Response:
    data, filename = await intake_report_file.intake_report_file(session, intake, fmt,
                                                                 english=current_language() == "en")
    return Response(data, media_type=intake_report_file.MEDIA_TYPES[fmt], headers={
        "Content-Disposition": f'attachment; filename="{filename}"'})
