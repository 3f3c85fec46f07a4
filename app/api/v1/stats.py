"""Public and partner-facing figures, all read from the counter buckets."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Literal

from fastapi import Depends, Query, Request, Response
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from app.api.deps import Principal, SessionDep, WorkDep, require_scope
from app.api.v1 import v1_router
from app.core.cache import StatsCache
from app.core.errors import Forbidden
from app.core.i18n import current_language
from app.core.spreadsheets import XLSX_MEDIA_TYPE
from app.models.completion import NationalStats
from app.models.identity import Assurance, Role, Scope
from app.models.reporting import CoursesStats, ProvincesStats, StatsSummary, Timeseries
from app.services.counters import buckets as counters
from app.services.stats import figures as stats
from app.services.stats import query as stats_query
from app.services.stats.workbook import stats_workbook

router = v1_router("/stats", tags=["stats"])

Year = Annotated[int | None, Query(ge=2000, le=2100, description="Local year (Vietnam time); default now")]
Breakdown = Annotated[Literal["assurance"] | None, Query(description=(
    "`assurance`: each row also gets `by_assurance`, its completions and learners per assurance level "
    "(none, phone, partner, eid; the summary's shape), read by the plain answer's statements. Combines with "
    "`assurance=`: the filter narrows what is counted, the breakdown splits it, and the levels filtered out "
    "show zero. Without it the answer has no `by_assurance` key"))]


@router.get("/national", summary="National completions against the year's targets (public)",
            response_model=NationalStats)
async def national(session: SessionDep, response: Response, year: Year = None) -> NationalStats:
    """Per audience: completions, distinct learners, the programme target and the percent reached (counting
    the assurance levels the programme counts, all by default), with the breakdown by assurance level. Public
    and cacheable for 60 s."""
    response.headers["Cache-Control"] = "public, max-age=60"
    return NationalStats.model_validate(
        await counters.national_summary(session, year or counters.current_year()))


# --- Ministry and province figures (stats:read clients, ministry and province admins) ----------------------
# Every route below answers from the counter buckets through app.services.stats.figures, cached per worker for
# `stats_cache_ttl_s`; see that module for how `learners` behaves over ranges and filters.

StatsReader = Annotated[Principal, Depends(require_scope(Scope.stats_read, admins=True))]


@dataclass(frozen=True)
class StatsAsk:
    """A stats request as sent (FastAPI has checked only the parameters' types and ranges) and the province
    scope of the caller who sent it: what a cached answer is keyed on."""

    year: int | None
    first_day: date | None
    last_day: date | None
    province: str | None
    course: str | None
    scoped_province: str | None  # a province admin's or province-scoped client's own province
    assurance: tuple[str, ...] | None = None  # only completions of these assurance levels

    @property
    def today(self) -> date | None:
        """The local day an open period resolves against (this year, or a range up to today), else None."""
        open_ended = self.year is None and (self.first_day is None or self.last_day is None)
        return stats_query.local_today() if open_ended else None


async def stats_ask(
    principal: StatsReader, year: Year = None,
    first_day: Annotated[date | None, Query(alias="from", description="First local day, inclusive")] = None,
    last_day: Annotated[date | None, Query(alias="to", description="Last local day, inclusive")] = None,
    province: Annotated[str | None, Query(min_length=2, max_length=2, description=(
        "A current province code: its former units are included. Province admins and province-scoped "
        "clients see only their own (403 for another)"))] = None,
    course: Annotated[str | None, Query(max_length=100, description="Course slug or id")] = None,
    assurance: Annotated[list[Assurance] | None, Query(description=(
        "Only completions recorded at these assurance levels (repeat the parameter for several)"))] = None,
) -> StatsAsk:
    """The period (`year`, or `from`/`to`, default this year) and filters, with the caller's province scope."""
    if principal.user is not None and principal.user.role == Role.province_admin and not principal.province_code:
        raise Forbidden()  # a province admin with no province on record may see no province's figures
    levels = tuple(sorted({a.value for a in assurance})) if assurance else None
    return StatsAsk(year, first_day, last_day, province, course, principal.province_code, levels)


StatsAskDep = Annotated[StatsAsk, Depends(stats_ask)]


Figures = Callable[[AsyncSession, stats_query.StatsQuery, StatsCache], Awaitable[BaseModel]]


async def _query(session: AsyncSession, ask: StatsAsk) -> stats_query.StatsQuery:
    """The period and filters asked, checked and resolved (422 or 403), the same for every answer."""
    return await stats_query.build_query(
        session, year=ask.year, first_day=ask.first_day, last_day=ask.last_day, province=ask.province,
        course=ask.course, scoped_province=ask.scoped_province, assurance=ask.assurance)


async def _answer(request: Request, work: WorkDep, ask: StatsAsk, view: tuple, figures: Figures) -> Response:
    """The rendered answer from the per-worker cache, keyed on the request as sent and the caller's province
    scope, so a hit costs the authorisation and a lookup. Only a miss validates the period and resolves the
    filters (geography, course: 422 or 403 exactly as before; an error is never cached) and holds a scoped
    caller to its province; since the scope is part of the key, no caller can reach an answer computed for
    another scope. A hit from a service client touches no session at all."""
    cache = request.app.state.per_worker.stats

    async def render() -> bytes:
        session = await work.session()
        query = await _query(session, ask)
        return (await figures(session, query, cache)).model_dump_json().encode()

    # Rendered from the response model, so FastAPI need not validate and dump it again.
    return Response(content=await cache.get((view, ask, ask.today), render), media_type="application/json")


@router.get("/summary", summary="Completions, learners and targets per audience (stats:read, admins)",
            response_model=StatsSummary)
async def summary(request: Request, work: WorkDep, ask: StatsAskDep) -> Response:
    """Per audience: `completions`, distinct `learners`, the year's national `target` and `percent_of_target`
    (of `counted_completions`: the assurance levels the programme counts, all by default), and the same figures
    per assurance level (`none`, `phone`, `partner`, `eid`).
    `learners` is given for a whole calendar year, or always with `course=` (one completion per learner and
    course); for any other range it is null. The target is given when the period lies within one year."""
    return await _answer(request, work, ask, ("summary",), stats.summary)


@router.get("/provinces", summary="Figures per province (stats:read, admins)", response_model=ProvincesStats)
async def provinces(request: Request, work: WorkDep, ask: StatsAskDep,
                    units: Literal["current", "former"] = "current", breakdown: Breakdown = None) -> Response:
    """The 34 current units, completions recorded under a former unit rolled into its successor; with
    `units=former`, the 63 former units, each with its successor. `unassigned`: no province recorded.
    With `breakdown=assurance`, every unit and `unassigned` also give `by_assurance`."""
    by_assurance = breakdown == "assurance"
    return await _answer(request, work, ask, ("provinces", units, breakdown),
                         lambda session, q, cache: stats.provinces(session, q, units, cache,
                                                                   by_assurance=by_assurance))


@router.get("/courses", summary="Figures per course (stats:read, admins)", response_model=CoursesStats)
async def courses(request: Request, work: WorkDep, ask: StatsAskDep, breakdown: Breakdown = None) -> Response:
    """Completions per course and audience, most completed first. With `breakdown=assurance`, every course
    also gives `by_assurance` (a course's learners are its completions)."""
    by_assurance = breakdown == "assurance"
    return await _answer(request, work, ask, ("courses", breakdown),
                         lambda session, q, cache: stats.courses(session, q, cache, by_assurance=by_assurance))


@router.get("/timeseries", summary="Completions per day or month (stats:read, admins)",
            response_model=Timeseries)
async def timeseries(request: Request, work: WorkDep, ask: StatsAskDep,
                     granularity: Literal["day", "month"] = "day", breakdown: Breakdown = None) -> Response:
    """Completions per local day or month over the period; every day or month appears, zero when none.
    With `breakdown=assurance`, every point also gives `by_assurance` (learners null, exact with `course=`)."""
    by_assurance = breakdown == "assurance"
    return await _answer(request, work, ask, ("timeseries", granularity, breakdown),
                         lambda session, q, cache: stats.timeseries(session, q, granularity, cache,
                                                                    by_assurance=by_assurance))


@router.get("/report.xlsx", summary="Every figure of a period as an Excel workbook (stats:read, admins)",
            response_class=Response,
            responses={200: {"content": {XLSX_MEDIA_TYPE: {}}, "description": "An Excel workbook"}})
async def report_xlsx(request: Request, work: WorkDep, ask: StatsAskDep, breakdown: Breakdown = None) -> Response:
    """The same period and filters as the JSON answers, in five sheets: the summary per audience against the
    targets, per province (codes as text beside names), per course, per local day (typed dates) and per
    audience and assurance level (with whether the programme counts it). With `breakdown=assurance` the
    province, course and day sheets gain one column of completions per assurance level.
    Vietnamese headers; English with `Accept-Language: en`."""
    session = await work.session()
    query = await _query(session, ask)  # the assurance filter included, as in the JSON answers
    data = await stats_workbook(session, query, request.app.state.per_worker.stats, english=current_language() == "en",
                                by_assurance=breakdown == "assurance")
    name = f"so-lieu-hoc-so-{query.first_day:%Y%m%d}-{query.last_day:%Y%m%d}.xlsx"
    return Response(data, media_type=XLSX_MEDIA_TYPE,
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
