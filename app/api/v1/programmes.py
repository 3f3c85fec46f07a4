"""The national programme's yearly targets (officials 10,000; citizens 10,000,000 by default)."""

from typing import Annotated

from fastapi import Path

from app.api.deps import AnyAdmin, MinistryAdmin, SessionDep
from app.api.v1 import v1_router
from app.models.completion import Programme, ProgrammePublic, ProgrammeUpdate
from app.models.identity import Assurance
from app.services.counters import programmes

router = v1_router("/admin/programmes", tags=["stats"])

Year = Annotated[int, Path(ge=programmes.FIRST_YEAR, le=programmes.LAST_YEAR)]


def _public(programme: Programme) -> ProgrammePublic:
    return ProgrammePublic(year=programme.year, official_target=programme.official_target,
                           citizen_target=programme.citizen_target,
                           counted_assurance=sorted(programmes.counted_levels(programme),
                                                    key=[a.value for a in Assurance].index),
                           updated_at=programme.updated_at)


@router.get("", summary="Every year's programme", response_model=list[ProgrammePublic])
async def list_programmes(_: AnyAdmin, session: SessionDep) -> list[ProgrammePublic]:
    return [_public(p) for p in await programmes.list_programmes(session)]


@router.get("/{year}", summary="A year's targets", response_model=ProgrammePublic)
async def get_programme(year: Year, _: AnyAdmin, session: SessionDep) -> ProgrammePublic:
    return _public(await programmes.get_programme(session, year))


@router.put("/{year}", summary="Set a year's targets (ministry admins)", response_model=ProgrammePublic)
async def set_targets(year: Year, body: ProgrammeUpdate, _: MinistryAdmin,
                      session: SessionDep) -> ProgrammePublic:
    """`counted_assurance`: the assurance levels whose completions count toward the targets (left out: all).
    Figures show the breakdown by level whatever is counted."""
    return _public(await programmes.set_targets(session, year, official_target=body.official_target,
                                                citizen_target=body.citizen_target,
                                                counted_assurance=body.counted_assurance))
