"""National and provincial figures for ministry systems and admins, read only from the counter buckets.

Every figure is a GROUP BY over CompletionCounter (per local day, audience, province as recorded, course),
CompletionYearCounter (per local year, audience, province: read instead of the day buckets when a summary or
provinces request covers whole calendar years without a course, ~130 rows a year instead of ~1.2 million)
or LearnerCounter (distinct learners per local year, audience, province): never a scan of the completions, so
reads stay flat from one to ten million completions. Answers are cached per worker for `stats_cache_ttl_s`.

Distinct learners (`learners`): the buckets count a learner once per calendar year and audience, under the
province of their first completion that year. So `learners` is given when the period is exactly one calendar
year (`year=`, or `from`/`to` spanning 1 January to 31 December) and is null for any other range, which the
buckets cannot answer without scanning. With `course=` it is always exact: a learner completes a course once,
so the course's learners equal its completions in any period. With `province=`, learners are those whose first
completion of the year was recorded in that province (or one of its former units).

The breakdown by assurance level (`by_assurance=True`, `?breakdown=assurance`): every row of provinces, courses
and time series gains the summary's per-level figures (`level_figures`), read by the same statements with the
bucket's `assurance` as one more GROUP BY column: no statement more, none per level. Without it the statements
are exactly those of the plain answers.
"""

import uuid
from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any, Literal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.cache import StatsCache
from app.models.completion import CompletionCounter, CompletionYearCounter, LearnerCounter
from app.models.course import Course, CourseVersion
from app.models.identity import Assurance, Audience
from app.models.reporting import (
    AssuranceFigures,
    AudienceFigures,
    ByAssurance,
    CourseFigures,
    CoursesStats,
    ProvinceFigures,
    ProvincesStats,
    StatsSummary,
    TimePoint,
    Timeseries,
    UnassignedFigures,
    UnitFigures,
)
from app.services.counters.programmes import counted_levels, get_programme, progress_towards
from app.services.geo import load_geography
from app.services.stats.query import StatsQuery

AUDIENCES = (Audience.official, Audience.citizen)


# --- bucket reads -----------------------------------------------------------------------------------------


async def _completions_by(session: AsyncSession, q: StatsQuery, *keys: str) -> list[tuple]:
    """SUM(count) of the period's buckets grouped by `keys`, narrowed by province and course.

    Whole calendar years without a course read the year buckets (same sums, a few hundred times fewer rows);
    anything narrower, or grouped by day or course, needs the day buckets.
    """
    years = q.whole_years
    if years is not None and q.course_id is None and set(keys) <= {"audience", "province_code", "assurance"}:
        y = CompletionYearCounter.__table__.c
        where = [y.year >= years[0], y.year <= years[1]]
        if q.province_codes is not None:
            where.append(y.province_code.in_(q.province_codes))
        if q.assurance is not None:
            where.append(y.assurance.in_(q.assurance))
        columns = [y[k] for k in keys]
        stmt = select(*columns, func.sum(y.count)).where(*where).group_by(*columns)
        return [tuple(row) for row in (await session.execute(stmt)).all()]
    c = CompletionCounter.__table__.c
    where = [c.day >= q.first_day, c.day <= q.last_day]
    if q.province_codes is not None:
        where.append(c.province_code.in_(q.province_codes))
    if q.course_id is not None:
        where.append(c.course_id == q.course_id)
    if q.assurance is not None:
        where.append(c.assurance.in_(q.assurance))
    columns = [c[k] for k in keys]
    stmt = select(*columns, func.sum(c.count)).where(*where).group_by(*columns)
    return [tuple(row) for row in (await session.execute(stmt)).all()]


async def _learners_by(session: AsyncSession, q: StatsQuery, *keys: str) -> list[tuple] | None:
    """Distinct learners of the period's year grouped by `keys`; None when the buckets cannot tell."""
    if q.course_id is not None or q.year is None:
        return None
    c = LearnerCounter.__table__.c
    where = [c.year == q.year]
    if q.province_codes is not None:
        where.append(c.province_code.in_(q.province_codes))
    if q.assurance is not None:
        where.append(c.assurance.in_(q.assurance))
    columns = [c[k] for k in keys]
    stmt = select(*columns, func.sum(c.count)).where(*where).group_by(*columns)
    return [tuple(row) for row in (await session.execute(stmt)).all()]


def _learners_for(q: StatsQuery, completions: int, learners: int | None) -> int | None:
    return completions if q.course_id is not None else learners


def level_figures(q: StatsQuery, completions: Mapping[str, int],
                  learners: Mapping[str, int] | None) -> ByAssurance:
    """Every assurance level, in order, with its completions and learners (zero when it has none; learners
    null when the buckets cannot tell, exact with a course): the summary's breakdown and every row's."""
    return {level.value: AssuranceFigures(
        completions=completions.get(level.value, 0),
        learners=_learners_for(q, completions.get(level.value, 0),
                               None if learners is None else learners.get(level.value, 0)))
        for level in Assurance}


def _add(into: dict[str, int], key: str, n: Any) -> None:
    into[key] = into.get(key, 0) + int(n or 0)


async def summary(session: AsyncSession, q: StatsQuery, cache: StatsCache) -> StatsSummary:
    """Per audience: completions, distinct learners, and the year's national target with the percent reached.

    The target is given when the period lies within one calendar year (a filtered view shows its share of the
    national target)."""
    return await cache.get(("summary", q.key), lambda: _summary(session, q))


async def _summary(session: AsyncSession, q: StatsQuery) -> StatsSummary:
    done: dict[str, dict[str, int]] = {}
    for audience, level, n in await _completions_by(session, q, "audience", "assurance"):
        done.setdefault(audience, {})[level] = int(n or 0)
    learner_rows = await _learners_by(session, q, "audience", "assurance")
    learned: dict[str, dict[str, int]] | None = None
    if learner_rows is not None:
        learned = {}
        for audience, level, n in learner_rows:
            learned.setdefault(audience, {})[level] = int(n or 0)
    programme = await get_programme(session, q.first_day.year)
    counted = counted_levels(programme)
    targets: dict[str, int] = {}
    if q.first_day.year == q.last_day.year:
        targets = {Audience.official: programme.official_target, Audience.citizen: programme.citizen_target}
    audiences = {}
    for audience in AUDIENCES:
        per_level, target = done.get(audience, {}), targets.get(audience)
        n = sum(per_level.values())
        counted_n = sum(v for level, v in per_level.items() if level in counted)
        levels = level_figures(q, per_level, None if learned is None else learned.get(audience, {}))
        audiences[audience] = AudienceFigures(
            completions=n,
            learners=_learners_for(q, n, None if learned is None else sum(learned.get(audience, {}).values())),
            target=target, counted_completions=counted_n, assurance=levels,
            **progress_towards(counted_n, target),
        )
    return StatsSummary(period=q.period, province=q.province, course=q.course_slug,
                        assurance=list(q.assurance) if q.assurance else None,
                        counted_assurance=sorted(counted, key=list(Assurance).index), audiences=audiences)


def _figures(q: StatsQuery, completions: dict[str, int], learners: dict[str, int] | None
             ) -> tuple[dict[Audience, UnitFigures], int, int | None]:
    per = {a: UnitFigures(completions=completions.get(a, 0),
                          learners=_learners_for(q, completions.get(a, 0),
                                                 None if learners is None else learners.get(a, 0)))
           for a in AUDIENCES}
    total = sum(f.completions for f in per.values())
    known = [f.learners for f in per.values()]
    return per, total, None if None in known else sum(known)  # type: ignore[arg-type]


async def provinces(session: AsyncSession, q: StatsQuery, units: Literal["current", "former"],
                    cache: StatsCache, *, by_assurance: bool = False) -> ProvincesStats:
    """Figures per provincial unit: the 34 current ones with former codes rolled into their successors, or
    (`units="former"`) the 63 former ones, each bucket under the unit its recorded code names; with
    `by_assurance`, each unit's figures per assurance level too."""
    return await cache.get(("provinces", units, q.key, by_assurance),
                           lambda: _provinces(session, q, units, by_assurance))


def _grouped(rows: list[tuple], unit_of: Any, by_assurance: bool
             ) -> tuple[dict[Any, dict[str, int]], dict[Any, dict[str, int]]]:
    """Rows of (unit key, audience[, assurance], n) summed per unit and audience, and per unit and level."""
    per_audience: dict[Any, dict[str, int]] = {}
    per_level: dict[Any, dict[str, int]] = {}
    for row in rows:
        unit, audience, n = unit_of(row[0]), row[1], row[-1]
        _add(per_audience.setdefault(unit, {}), audience, n)
        if by_assurance:
            _add(per_level.setdefault(unit, {}), row[2], n)
    return per_audience, per_level


async def _provinces(session: AsyncSession, q: StatsQuery, units: Literal["current", "former"],
                     by_assurance: bool) -> ProvincesStats:
    geo = await load_geography(session)

    def unit_of(code: str) -> str | None:
        if units == "current":
            return geo.current_code(code) if code else None
        return code if code in geo.former else None

    keys = ("province_code", "audience", "assurance") if by_assurance else ("province_code", "audience")
    done, done_levels = _grouped(await _completions_by(session, q, *keys), unit_of, by_assurance)
    learner_rows = await _learners_by(session, q, *keys)
    learned: dict[str | None, dict[str, int]] | None = None
    learned_levels: dict[str | None, dict[str, int]] | None = None
    if learner_rows is not None:
        learned, learned_levels = _grouped(learner_rows, unit_of, by_assurance)

    def levels(code: str | None) -> ByAssurance | None:
        if not by_assurance:
            return None
        return level_figures(q, done_levels.get(code, {}),
                             None if learned_levels is None else learned_levels.get(code, {}))

    if units == "current":
        listed = ([geo.current[q.province]] if q.province
                  else sorted(geo.current.values(), key=lambda u: u.code))
    else:
        codes = geo.former_codes_of(q.province) if q.province else sorted(geo.former)
        listed = [geo.former[c] for c in codes]
    items = []
    for unit in listed:
        per, total, learners = _figures(q, done.get(unit.code, {}),
                                        None if learned is None else learned.get(unit.code, {}))
        items.append(ProvinceFigures(code=unit.code, name=unit.name,
                                     successor_code=unit.successor_code if units == "former" else None,
                                     completions=total, learners=learners, audiences=per,
                                     by_assurance=levels(unit.code)))
    _, unassigned, unassigned_learners = _figures(q, done.get(None, {}),
                                                  None if learned is None else learned.get(None, {}))
    return ProvincesStats(period=q.period, units=units, province=q.province, course=q.course_slug,
                          items=items,
                          unassigned=UnassignedFigures(completions=unassigned, learners=unassigned_learners,
                                                       by_assurance=levels(None)))


async def courses(session: AsyncSession, q: StatsQuery, cache: StatsCache, *,
                  by_assurance: bool = False) -> CoursesStats:
    """Figures per course, most completed first; a course's learners are its completions (one per learner);
    with `by_assurance`, each course's figures per assurance level too."""
    return await cache.get(("courses", q.key, by_assurance), lambda: _courses(session, q, by_assurance))


async def course_titles(session: AsyncSession,
                        course_ids: list[uuid.UUID]) -> dict[uuid.UUID, tuple[str, str | None]]:
    """Slug and title of each course: the published version's title, else the newest version's."""
    if not course_ids:
        return {}
    rows = (await session.execute(
        select(Course.id, Course.slug, CourseVersion.title, CourseVersion.status, CourseVersion.version)
        .outerjoin(CourseVersion, CourseVersion.course_id == Course.id)
        .where(Course.id.in_(course_ids)))).all()
    best: dict[uuid.UUID, tuple[str, str | None, tuple[bool, int]]] = {}
    for course_id, slug, title, status, version in rows:
        rank = (status == "published", version or 0)
        if course_id not in best or rank > best[course_id][2]:
            best[course_id] = (slug, title, rank)
    return {cid: (slug, title) for cid, (slug, title, _) in best.items()}


async def _courses(session: AsyncSession, q: StatsQuery, by_assurance: bool) -> CoursesStats:
    keys = ("course_id", "audience", "assurance") if by_assurance else ("course_id", "audience")
    done, done_levels = _grouped(await _completions_by(session, q, *keys), lambda course_id: course_id,
                                 by_assurance)
    if q.course_id is not None:
        done.setdefault(q.course_id, {})
    names = await course_titles(session, list(done))
    items = []
    for course_id, counts in done.items():
        per, total, _ = _figures(q, counts, None)
        slug, title = names.get(course_id, (str(course_id), None))
        per_level = done_levels.get(course_id, {})
        items.append(CourseFigures(course_id=course_id, slug=slug, title=title, completions=total,
                                   learners=total, audiences=per,
                                   # one completion per learner and course: its learners are its completions
                                   by_assurance=level_figures(q, per_level, per_level) if by_assurance else None))
    items.sort(key=lambda i: (-i.completions, i.slug))
    return CoursesStats(period=q.period, province=q.province, course=q.course_slug, items=items)


async def timeseries(session: AsyncSession, q: StatsQuery, granularity: Literal["day", "month"],
                     cache: StatsCache, *, by_assurance: bool = False) -> Timeseries:
    """Completions per local day or month over the period, every day or month present (zero when none); with
    `by_assurance`, each point's completions per assurance level too (learners null, as for any part of a
    year, except with a course)."""
    return await cache.get(("timeseries", granularity, q.key, by_assurance),
                           lambda: _timeseries(session, q, granularity, by_assurance))


def _label(day: date, granularity: str) -> str:
    return day.isoformat() if granularity == "day" else f"{day.year:04d}-{day.month:02d}"


async def _timeseries(session: AsyncSession, q: StatsQuery, granularity: Literal["day", "month"],
                      by_assurance: bool) -> Timeseries:
    points: dict[str, dict[str, int]] = {}
    day = q.first_day
    while day <= q.last_day:
        points.setdefault(_label(day, granularity), {a: 0 for a in AUDIENCES})
        day += timedelta(days=1)
    keys = ("day", "audience", "assurance") if by_assurance else ("day", "audience")
    counted, per_level = _grouped(await _completions_by(session, q, *keys),
                                  lambda bucket_day: _label(_as_date(bucket_day), granularity), by_assurance)
    for label, counts in counted.items():
        points[label].update(counts)

    def levels(label: str) -> ByAssurance | None:
        return level_figures(q, per_level.get(label, {}), None) if by_assurance else None

    return Timeseries(period=q.period, granularity=granularity, province=q.province, course=q.course_slug,
                      points=[TimePoint(period=label, completions=sum(counts.values()), audiences=counts,
                                        by_assurance=levels(label))
                              for label, counts in points.items()])


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))
