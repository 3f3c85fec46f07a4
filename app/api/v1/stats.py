"""Public and partner-facing figures, all read from the counter buckets."""

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request, Response

from app.api.deps import Principal, SessionDep, require_scope
from app.core.errors import Forbidden
from app.models.completion import NationalStats
from app.models.identity import Role, Scope
from app.models.reporting import CoursesStats, ProvincesStats, StatsSummary, Timeseries
from app.services import counters, stats
from app.services.stats_cache import StatsCache

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


# --- Ministry and province figures (stats:read clients, ministry and province admins) ----------------------
# Every route below answers from the counter buckets through app.services.stats, cached per worker for
# `stats_cache_ttl_s`; see that module for how `learners` behaves over ranges and filters.

StatsReader = Annotated[Principal, Depends(require_scope(Scope.stats_read, admins=True))]


async def get_stats_cache(request: Request) -> StatsCache:
    """One cache per app (so per worker), created on first use."""
    cache = getattr(request.app.state, "stats_cache", None)
    if cache is None:
        cache = request.app.state.stats_cache = StatsCache(request.app.state.settings.stats_cache_ttl_s)
    return cache


StatsCacheDep = Annotated[StatsCache, Depends(get_stats_cache)]


async def stats_query(
    session: SessionDep, principal: StatsReader, year: Year = None,
    first_day: Annotated[date | None, Query(alias="from", description="First local day, inclusive")] = None,
    last_day: Annotated[date | None, Query(alias="to", description="Last local day, inclusive")] = None,
    province: Annotated[str | None, Query(min_length=2, max_length=2, description=(
        "A current province code: its former units are included. Province admins and province-scoped "
        "clients see only their own (403 for another)"))] = None,
    course: Annotated[str | None, Query(max_length=100, description="Course slug or id")] = None,
) -> stats.StatsQuery:
    """The period (`year`, or `from`/`to`, default this year) and filters, held to the caller's province."""
    if principal.user is not None and principal.user.role == Role.province_admin and not principal.province_code:
        raise Forbidden()  # a province admin with no province on record may see no province's figures
    return await stats.build_query(session, year=year, first_day=first_day, last_day=last_day,
                                   province=province, course=course, scoped_province=principal.province_code)


StatsQueryDep = Annotated[stats.StatsQuery, Depends(stats_query)]


@router.get("/summary", summary="Completions, learners and targets per audience (stats:read, admins)",
            response_model=StatsSummary)
async def summary(session: SessionDep, query: StatsQueryDep, cache: StatsCacheDep) -> StatsSummary | Response:
    """Per audience: `completions`, distinct `learners`, the year's national `target` and `percent_of_target`.
    `learners` is given for a whole calendar year, or always with `course=` (one completion per learner and
    course); for any other range it is null. The target is given when the period lies within one year."""
    # The query is authorised (province held to the caller's) before the cache is read; the cached bytes come
    # from a StatsSummary, so FastAPI need not validate and dump them again.
    return Response(content=await stats.summary_json(session, query, cache), media_type="application/json")


@router.get("/provinces", summary="Figures per province (stats:read, admins)", response_model=ProvincesStats)
async def provinces(session: SessionDep, query: StatsQueryDep, cache: StatsCacheDep,
                    units: Literal["current", "former"] = "current") -> ProvincesStats:
    """The 34 current units, completions recorded under a former unit rolled into its successor; with
    `units=former`, the 63 former units, each with its successor. `unassigned`: no province recorded."""
    return await stats.provinces(session, query, units, cache)


@router.get("/courses", summary="Figures per course (stats:read, admins)", response_model=CoursesStats)
async def courses(session: SessionDep, query: StatsQueryDep, cache: StatsCacheDep) -> CoursesStats:
    """Completions per course and audience, most completed first."""
    return await stats.courses(session, query, cache)


@router.get("/timeseries", summary="Completions per day or month (stats:read, admins)",
            response_model=Timeseries)
async def timeseries(session: SessionDep, query: StatsQueryDep, cache: StatsCacheDep,
                     granularity: Literal["day", "month"] = "day") -> Timeseries:
    """Completions per local day or month over the period; every day or month appears, zero when none."""
    return await stats.timeseries(session, query, granularity, cache)
