"""The public progress board's figures as JSON and CSV: what `/dashboard` shows, for anyone to reuse.

Each answer is the stats API's answer for the whole local year nationally (same models, same services, same
per-worker cache), so the page, these files and `/api/v1/stats/*` never disagree. Public and cacheable, with
an ETag: a client revalidating with `If-None-Match` gets `304` and no body while the figures are unchanged.
"""

from collections.abc import Iterable, Sequence
from typing import Annotated, Literal

from fastapi import Query, Request, Response
from pydantic import BaseModel

from app.api.conditional import NOT_MODIFIED, conditional
from app.api.deps import SessionDep, SettingsDep
from app.api.v1 import v1_router
from app.core.spreadsheets import CSV_MEDIA_TYPE, csv_table
from app.models.completion import NationalStats
from app.models.identity import Audience
from app.models.reporting import CoursesStats, ProvincesStats, Timeseries
from app.models.units import Ranking
from app.services.counters import buckets as counters
from app.services.stats import board
from app.services.stats import figures as stats
from app.services.stats.query import StatsQuery, build_query
from app.services.units import rates

router = v1_router("/board", tags=["stats"])

PUBLIC_MAX_AGE_S = 60
Year = Annotated[int | None, Query(ge=2000, le=2100, description="Local year (Vietnam time); default now")]
Format = Annotated[Literal["json", "csv"], Query(description="json (default) or csv (UTF-8 with BOM)")]
_BOTH = {200: {"content": {"application/json": {}, "text/csv": {}}}, **NOT_MODIFIED}
OFFICIAL, CITIZEN = Audience.official, Audience.citizen


def _answer(model: BaseModel, fmt: str, name: str, header: Sequence[str], rows: Iterable[Sequence], *,
            cache: str = f"public, max-age={PUBLIC_MAX_AGE_S}") -> Response:
    headers = {"Cache-Control": cache}
    if fmt == "json":
        return Response(model.model_dump_json(), media_type="application/json", headers=headers)
    headers["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    return Response(csv_table(header, rows), media_type=CSV_MEDIA_TYPE, headers=headers)


async def _year_query(session: SessionDep, year: int | None) -> StatsQuery:
    return await board.year_query(session, year or counters.current_year())


@router.get("/national", response_model=NationalStats, responses=_BOTH,
            summary="National completions against the targets, JSON or CSV (public)")
async def national(request: Request, session: SessionDep, year: Year = None, format: Format = "json") -> Response:
    """The two national counters (officials, citizens) against the year's targets: `/api/v1/stats/national`."""
    year = year or counters.current_year()
    figures = await board.national(session, year, request.app.state.per_worker.stats)
    rows = [(figures.year, a, f.completions, f.learners, f.target, f.percent_of_target)
            for a, f in figures.audiences.items()]
    return conditional(request, _answer(
        figures, format, f"national-{year}",
        ("year", "audience", "completions", "learners", "target", "percent_of_target"), rows))


@router.get("/provinces", response_model=ProvincesStats, responses=_BOTH,
            summary="Completions per province over a year, JSON or CSV (public)")
async def provinces(request: Request, session: SessionDep, year: Year = None, format: Format = "json",
                    units: Literal["current", "former"] = "current") -> Response:
    """The 34 current provinces (former codes rolled into their successors), or `units=former` for the 63."""
    q = await _year_query(session, year)
    figures = await stats.provinces(session, q, units, request.app.state.per_worker.stats)
    rows = [(p.code, p.name, p.successor_code or "", p.audiences[OFFICIAL].completions,
             p.audiences[CITIZEN].completions, p.completions, "" if p.learners is None else p.learners)
            for p in figures.items]
    return conditional(request, _answer(
        figures, format, f"provinces-{units}-{q.first_day.year}",
        ("code", "name", "successor_code", "official_completions", "citizen_completions", "completions", "learners"),
        rows))


@router.get("/months", response_model=Timeseries, responses=_BOTH,
            summary="Completions per month of a year, JSON or CSV (public)")
async def months(request: Request, session: SessionDep, year: Year = None, format: Format = "json") -> Response:
    """Every month of the local year, zero when none."""
    q = await _year_query(session, year)
    figures = await stats.timeseries(session, q, "month", request.app.state.per_worker.stats)
    rows = [(p.period, p.audiences.get(OFFICIAL, 0), p.audiences.get(CITIZEN, 0), p.completions)
            for p in figures.points]
    return conditional(request, _answer(
        figures, format, f"months-{q.first_day.year}",
        ("month", "official_completions", "citizen_completions", "completions"), rows))


@router.get("/courses", response_model=CoursesStats, responses=_BOTH,
            summary="Completions per course over a year, most completed first, JSON or CSV (public)")
async def courses(request: Request, session: SessionDep, year: Year = None, format: Format = "json") -> Response:
    q = await _year_query(session, year)
    figures = await stats.courses(session, q, request.app.state.per_worker.stats)
    rows = [(c.slug, c.title or "", c.audiences[OFFICIAL].completions, c.audiences[CITIZEN].completions,
             c.completions) for c in figures.items]
    return conditional(request, _answer(
        figures, format, f"courses-{q.first_day.year}",
        ("slug", "title", "official_completions", "citizen_completions", "completions"), rows))


def ranking_answer(ranking: Ranking, fmt: str, *, cache: str = f"public, max-age={PUBLIC_MAX_AGE_S}") -> Response:
    """A ranking as JSON or CSV (one row per unit or province, unranked ones with an empty rank)."""
    rows = [("" if i.rank is None else i.rank, i.province_code, i.code, i.name, i.kind or "",
             "" if i.headcount is None else i.headcount, i.completed,
             "" if i.completion_percent is None else i.completion_percent) for i in ranking.items]
    return _answer(ranking, fmt, f"ranking-{ranking.scope}-{ranking.by}-{ranking.year}",
                   ("rank", "province_code", "code", "name", "kind", "headcount", "completed",
                    "completion_percent"), rows, cache=cache)


@router.get("/rankings", response_model=Ranking, responses=_BOTH,
            summary="Units or provinces ranked by completion rate or count, JSON or CSV (public)")
async def rankings(
    request: Request, session: SessionDep, settings: SettingsDep, year: Year = None, format: Format = "json",
    province: Annotated[str | None, Query(min_length=2, max_length=2,
                                          description="A current province: its units; none: nationally")] = None,
    level: Annotated[Literal["unit", "province"], Query(description="Nationally: rank units or provinces")] = "unit",
    by: Literal["rate", "count"] = "rate",
    min_headcount: Annotated[int | None, Query(ge=1, description="Default: setting ranking_min_headcount")] = None,
) -> Response:
    """Completion rate = officials of the unit who completed a course that year ÷ its headcount in force. Ranked
    by rate (ties by count) or by count (ties by rate); tied units share a rank. Only units with at least
    `min_headcount` officials are ranked and listed here; a province's admins see every unit at
    /api/v1/units/rates. `level=province` ranks the 34 provinces on their units' totals."""
    year = year or counters.current_year()
    minimum = min_headcount or settings.ranking_min_headcount
    if level == "province" and province is None:
        return conditional(request, ranking_answer(await rates.province_ranking(session, year, by, minimum), format))
    if province is not None:
        await build_query(session, year=year, province=province)  # 422 for a former or unknown code
    ranking = await rates.unit_ranking(session, year, province, by, minimum, ranked_only=True)
    return conditional(request, ranking_answer(ranking, format))
