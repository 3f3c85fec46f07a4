"""Public and partner-facing figures, all read from the counter buckets."""

from typing import Annotated

from fastapi import APIRouter, Query, Response

from app.api.deps import SessionDep
from app.models.completion import NationalStats
from app.services import counters

router = APIRouter(prefix="/api/v1/stats", tags=["stats"])

Year = Annotated[int | None, Query(ge=2000, le=2100, description="Local year (Vietnam time); default now")]


@router.get("/national", summary="National completions against the year's targets (public)",
            response_model=NationalStats)
async def national(session: SessionDep, response: Response, year: Year = None) -> NationalStats:
    """Per audience: completions, distinct learners, the programme target and the percent reached. Public
    and cacheable for 60 s."""
    response.headers["Cache-Control"] = "public, max-age=60"
    return NationalStats.model_validate(
        await counters.national_summary(session, year or counters.current_year()))
