"""Units (agencies, communes), their yearly headcounts, the officials attached to them, and completion rates in
full for the admins of their province (public rankings: /api/v1/board/rankings)."""

import uuid
from datetime import date
from typing import Annotated, Literal

from fastapi import Query, Request, Response, status
from pydantic import BaseModel

from app.api.deps import SessionDep, SettingsDep, UserAdmin
from app.api.problems import problem
from app.api.v1 import v1_router
from app.api.v1.board import ranking_answer
from app.models.units import (
    HeadcountUploadResult,
    HeadcountVersionPublic,
    Ranking,
    UnitAttachment,
    UnitCreate,
    UnitPublic,
)
from app.services.units import headcounts, rates, tree
from app.services.units.csv_file import read_csv_file
from app.services.units.scope import admin_province

router = v1_router("/units", tags=["units"])

_SCOPED = {403: problem("Not a province or ministry admin, or another province")}
Province = Annotated[str | None, Query(min_length=2, max_length=2,
                                       description="Ministry admins: the province; province admins: their own")]
Year = Annotated[int, Query(ge=2000, le=2100, description="Local year")]
_CSV_UPLOAD = {"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
    "type": "object", "required": ["file"],
    "properties": {"file": {"type": "string", "format": "binary",
                            "description": "CSV, UTF-8 (BOM optional): unit_code, unit_name, kind, officials"}}}}}}}


@router.post("", status_code=status.HTTP_201_CREATED, response_model=UnitPublic, summary="Create a unit",
             responses={**_SCOPED, 409: problem("The province has a unit with that code")})
async def create_unit(body: UnitCreate, admin: UserAdmin, session: SessionDep) -> UnitPublic:
    """An agency or a commune of the admin's province (a ministry admin: `province_code`)."""
    return UnitPublic.model_validate(await tree.create_unit(session, admin, body), from_attributes=True)


@router.get("", response_model=list[UnitPublic], summary="The units of a province", responses=_SCOPED)
async def list_units(admin: UserAdmin, session: SessionDep, province: Province = None) -> list[UnitPublic]:
    return [UnitPublic.model_validate(u, from_attributes=True)
            for u in await tree.list_units(session, admin, province)]


@router.post("/headcounts", status_code=status.HTTP_201_CREATED, response_model=HeadcountUploadResult,
             openapi_extra=_CSV_UPLOAD, summary="Upload a year's headcounts of officials per unit (CSV)",
             responses={**_SCOPED, 413: problem("Larger than units_csv_max_bytes / _rows"),
                        422: problem("Unreadable file or any bad row (each named); nothing stored")})
async def upload_headcounts(
    request: Request, admin: UserAdmin, session: SessionDep, settings: SettingsDep, year: Year,
    source: Annotated[str, Query(min_length=1, max_length=300, description="Where the figures come from")],
    source_date: Annotated[date, Query(description="Date of the source document")],
    province: Province = None,
) -> HeadcountUploadResult:
    """Multipart field `file`: one row per unit with `unit_code` and `officials` (`unit_name` and `kind` create
    a unit the province lacks). Stored as a new version with its source and date, in force from now; earlier
    versions are kept. Any bad row: 422 listing every one `{row, field, message}`, nothing stored."""
    await admin_province(session, admin, province)  # refuse another province before reading the file
    data = await read_csv_file(request.stream(), request.headers.get("content-type"),
                               request.headers.get("content-length"), settings.units_csv_max_bytes)
    return await headcounts.upload_headcounts(session, admin, data, province=province, year=year, source=source,
                                              source_date=source_date, max_rows=settings.units_csv_max_rows)


@router.get("/headcounts", response_model=list[HeadcountVersionPublic], responses=_SCOPED,
            summary="Headcount versions of a province, newest first")
async def list_headcounts(admin: UserAdmin, session: SessionDep, province: Province = None,
                          year: Annotated[int | None, Query(ge=2000, le=2100)] = None
                          ) -> list[HeadcountVersionPublic]:
    return await headcounts.list_versions(session, admin, province, year)


class OfficialUnit(BaseModel):
    user_id: uuid.UUID
    unit_id: uuid.UUID | None


@router.put("/officials/{user_id}", response_model=OfficialUnit, summary="Attach an official to a unit",
            responses={**_SCOPED, 404: problem("No such official or unit in your province"),
                       409: problem("Not an official")})
async def attach_official(user_id: uuid.UUID, body: UnitAttachment, admin: UserAdmin,
                          session: SessionDep) -> OfficialUnit:
    """Officials are attached when verified (to the unit their agency names); this moves one to another unit
    of their province."""
    return OfficialUnit(user_id=user_id, unit_id=await tree.attach_official(session, admin, user_id, body.unit_id))


@router.get("/rates", response_model=Ranking, responses={**_SCOPED, 200: {"content": {"text/csv": {}}}},
            summary="Completion rates of every unit of a province, ranked (admins, in full)")
async def unit_rates(
    admin: UserAdmin, session: SessionDep, settings: SettingsDep, year: Year, province: Province = None,
    by: Literal["rate", "count"] = "rate", min_headcount: Annotated[int | None, Query(ge=0)] = None,
    format: Literal["json", "csv"] = "json",
) -> Response:
    """Every unit of the province, ranked ones first (ties share a rank), then those with no headcount or
    under `min_headcount` (default setting `ranking_min_headcount`), with completed officials and rates."""
    scope = await admin_province(session, admin, province)
    minimum = settings.ranking_min_headcount if min_headcount is None else min_headcount
    ranking = await rates.unit_ranking(session, year, scope, by, minimum, ranked_only=False)
    return ranking_answer(ranking, format, cache="private, no-store")
