"""The figures of the public progress board (`/dashboard`): the national counters against their targets,
completions per province, per month and per course for one local year.

Everything comes through the stats services (`counters.national_summary`, `stats.provinces`, `stats.timeseries`,
`stats.courses`), so the board reads only the counter buckets and shows exactly what `/api/v1/stats/*` answers
for the same year. The whole board is kept in the per-worker stats cache as one answer: a burst of visitors
costs one computation per `stats_cache_ttl_s`, and the moment it was computed is shown on the page.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.cache import StatsCache
from app.models.base import utcnow
from app.models.completion import NationalStats
from app.models.reporting import CoursesStats, ProvincesStats, Timeseries
from app.services.counters import buckets as counters
from app.services.stats import figures as stats
from app.services.stats.query import StatsQuery, build_query

TOP_COURSES = 10  # the board lists the most completed courses; the JSON/CSV gives them all


@dataclass(frozen=True)
class Board:
    year: int
    units: Literal["current", "former"]
    computed_at: datetime  # UTC: when these figures were read from the buckets
    national: NationalStats
    provinces: ProvincesStats
    months: Timeseries
    courses: CoursesStats

    @property
    def top_courses(self) -> list:
        return self.courses.items[:TOP_COURSES]


async def national(session: AsyncSession, year: int, cache: StatsCache) -> NationalStats:
    """The national counters of a year against its targets, as `/api/v1/stats/national` gives them."""
    async def compute() -> NationalStats:
        return NationalStats.model_validate(await counters.national_summary(session, year))
    return await cache.get(("national", year), compute)


async def board_figures(session: AsyncSession, year: int, units: Literal["current", "former"],
                        cache: StatsCache) -> Board:
    """Every figure of the board for a local year; `units` picks the 34 current or the 63 former provinces."""
    return await cache.get(("board", year, units), lambda: _board(session, year, units, cache))


async def year_query(session: AsyncSession, year: int) -> StatsQuery:
    """The whole local year, nationally: what every public board figure is computed over."""
    return await build_query(session, year=year)


async def _board(session: AsyncSession, year: int, units: Literal["current", "former"],
                 cache: StatsCache) -> Board:
    q = await year_query(session, year)
    return Board(
        year=year, units=units, computed_at=utcnow(),
        national=await national(session, year, cache),
        provinces=await stats.provinces(session, q, units, cache),
        months=await stats.timeseries(session, q, "month", cache),
        courses=await stats.courses(session, q, cache),
    )
