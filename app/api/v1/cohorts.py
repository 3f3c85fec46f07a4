"""Intakes ("đợt học"): province and ministry admins assign courses to learners and follow completion."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response, status

from app.api.deps import SessionDep, SettingsDep, UserAdmin
from app.models.reporting import Cohort, CohortCreate, CohortPage, CohortPublic, CohortReport, MembersUploadResult
from app.services.intakes import intakes as cohorts
from app.services.intakes import members as cohort_members
from app.services.intakes import report as cohort_report

router = APIRouter(prefix="/api/v1/cohorts", tags=["cohorts"])

PROBLEM = {"content": {"application/problem+json": {}}}
_NOT_YOURS = {403: {"description": "Not a province or ministry admin", **PROBLEM},
              404: {"description": "No such intake, or (to a province admin) another province's", **PROBLEM}}
_CSV_UPLOAD = {"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
    "type": "object", "required": ["file"],
    "properties": {"file": {"type": "string", "format": "binary",
                            "description": "CSV, UTF-8 (BOM optional), header row with phone, email "
                                           "and/or national_id"}}}}}}}


async def current_cohort(cohort_id: uuid.UUID, admin: UserAdmin, session: SessionDep) -> Cohort:
    return await cohorts.get_cohort(session, admin, cohort_id)


CurrentCohort = Annotated[Cohort, Depends(current_cohort)]


@router.post("", status_code=status.HTTP_201_CREATED, response_model=CohortPublic, summary="Create an intake",
             responses={403: {"description": "Not a province or ministry admin, or another province", **PROBLEM},
                        422: {"description": "Unknown or unpublished course, bad dates or province", **PROBLEM}})
async def create_cohort(body: CohortCreate, admin: UserAdmin, session: SessionDep,
                        response: Response) -> CohortPublic:
    """An intake assigns published courses (ids or slugs) with a deadline. A province admin creates intakes in
    their own province; a ministry admin in any current province (`province_code`, default their own)."""
    cohort = await cohorts.create_cohort(session, admin, body)
    response.headers["Location"] = f"/api/v1/cohorts/{cohort.id}"
    return cohort


@router.get("", response_model=CohortPage, summary="List intakes",
            responses={403: {"description": "Not a province or ministry admin, or another province", **PROBLEM}})
async def list_cohorts(
    admin: UserAdmin, session: SessionDep,
    province: Annotated[str | None, Query(min_length=2, max_length=2,
                                          description="Ministry admins: only this province")] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> CohortPage:
    """Newest first, keyset-paged. A province admin sees the intakes of their own province only."""
    return await cohorts.list_cohorts(session, admin, province=province, limit=limit, cursor=cursor)


@router.get("/{cohort_id}", response_model=CohortPublic, summary="An intake", responses=_NOT_YOURS)
async def read_cohort(cohort: CurrentCohort, session: SessionDep) -> CohortPublic:
    return await cohorts.cohort_public(session, cohort)


@router.post("/{cohort_id}/members", response_model=MembersUploadResult, openapi_extra=_CSV_UPLOAD,
             summary="Add members from a CSV file",
             responses={**_NOT_YOURS,
                        413: {"description": "Larger than cohort_csv_max_bytes or cohort_csv_max_rows", **PROBLEM},
                        422: {"description": "Unreadable file; with strict=true, any bad row", **PROBLEM}})
async def add_members(
    cohort: CurrentCohort, request: Request, session: SessionDep, settings: SettingsDep,
    strict: Annotated[bool, Query(description="Add nothing unless every row is valid")] = False,
) -> MembersUploadResult:
    """Multipart field `file`: a CSV whose header names `phone`, `email` and/or `national_id`; each row names
    an existing learner of the intake's province. By default valid rows are added and bad ones listed in
    `errors` as `{row, field, message}` (row = CSV line number); with `strict=true` any bad row answers 422
    with those errors and nothing is added. Adding a learner twice is harmless. Format: docs/intakes.md."""
    # End the sign-in read transaction: receiving the file must not hold a database connection or lock.
    await session.commit()
    return await cohort_members.add_members_from_csv(
        session, settings, cohort, request.stream(), request.headers.get("content-type"),
        request.headers.get("content-length"), strict=strict)


@router.get("/{cohort_id}/report", response_model=CohortReport, summary="Completion report of an intake",
            responses=_NOT_YOURS)
async def report(
    cohort: CurrentCohort, session: SessionDep,
    overdue_limit: Annotated[int, Query(ge=0, le=10_000, description="How many overdue assignments to list "
                                                                     "(`overdue_count` has them all)")] = 1000,
) -> CohortReport:
    """Assigned (members × courses), enrolled and completed, the rate as `completed_of_assigned`
    ("375 / 409 = 91.7%"), by agency and by course; after the deadline, the assignments still not completed."""
    return await cohort_report.cohort_report(session, cohort, overdue_limit=overdue_limit)


@router.get("/{cohort_id}/report.csv", response_class=Response, summary="Completion report of an intake (CSV)",
            responses={200: {"content": {"text/csv": {}}, "description": "UTF-8 with a BOM, for Excel"},
                       **_NOT_YOURS})
async def report_csv(cohort: CurrentCohort, session: SessionDep) -> Response:
    """The report for Excel: the intake's details, one row per agency and a total row, then every overdue
    assignment. Layout: docs/intakes.md."""
    data, filename = await cohort_report.cohort_report_csv(session, cohort)
    return Response(data, media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="{filename}"'})
