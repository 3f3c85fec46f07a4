"""Completion rates of units, provinces and the nation, and rankings of units and provinces.

An official counts as completed for a year when they finished at least one course as an official that local
year: the first such completion is marked in `learner_year` (counters), so the count is an indexed read of a
year's official marks joined to the officials' units, never a scan of the completions. The rate is completed ÷
the headcount in force (the latest uploaded version for the province and year); only units with a headcount
count, in the numerator as in the denominator, for units as for provinces and the nation.

Ranking: by rate (ties broken by the number completed) or by count (ties broken by rate); units with no
headcount or fewer officials than the minimum are listed unranked. Units still tied share a rank and the next
rank skips (1, 2, 2, 4). Rates are compared as exact fractions, never as rounded floats.
"""

import uuid
from dataclasses import dataclass
from fractions import Fraction
from typing import Literal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.text import search_key
from app.models.base import utcnow
from app.models.completion import LearnerYear
from app.models.identity import Audience
from app.models.units import OrgUnit, Ranking, RateTotals, UnitOfficial, UnitRate
from app.services.geo import load_geography
from app.services.units.headcounts import headcounts_in_force, units_of, versions_in_force

RankBy = Literal["rate", "count"]


def figures(completed: int, headcount: int | None) -> dict:
    """The rate as a fraction (4 decimals) and as a percent with one decimal, rounded half up."""
    if not headcount:
        return {"completion_rate": None, "completion_percent": None}
    tenths = (completed * 2000 + headcount) // (2 * headcount)
    return {"completion_rate": round(completed / headcount, 4), "completion_percent": tenths / 10}


def rank(items: list[UnitRate], by: RankBy, min_headcount: int) -> list[UnitRate]:
    """Ranked items first (rank set, best first, ties by name), then the unranked ones by name."""
    def strength(item: UnitRate) -> tuple:
        rate = Fraction(item.completed, item.headcount)  # type: ignore[arg-type]
        return (rate, item.completed) if by == "rate" else (item.completed, rate)

    ranked = [i for i in items if i.headcount and i.headcount >= min_headcount]
    ranked.sort(key=lambda i: (_descending(strength(i)), search_key(i.name), i.code))
    position, previous = 0, None
    for index, item in enumerate(ranked, start=1):
        current = strength(item)
        if current != previous:
            position, previous = index, current
        item.rank = position
    chosen = {id(i) for i in ranked}
    rest = sorted((i for i in items if id(i) not in chosen), key=lambda i: (search_key(i.name), i.code))
    for item in rest:
        item.rank = None
    return ranked + rest


def _descending(key: tuple) -> tuple:
    return tuple(-k for k in key)


@dataclass
class Rates:
    units: list[UnitRate]
    versions: dict[str, uuid.UUID]  # province → headcount version in force


async def completed_officials(session: AsyncSession, year: int, provinces: list[str] | None) -> dict[uuid.UUID, int]:
    """Officials per unit who completed at least one course as an official in the local year."""
    query = (select(UnitOfficial.unit_id, func.count())
             .select_from(LearnerYear).join(UnitOfficial, UnitOfficial.user_id == LearnerYear.user_id)
             .where(LearnerYear.year == year, LearnerYear.audience == Audience.official.value))
    if provinces is not None:
        query = query.join(OrgUnit, OrgUnit.id == UnitOfficial.unit_id).where(OrgUnit.province_code.in_(provinces))
    rows = await session.execute(query.group_by(UnitOfficial.unit_id))
    return {unit_id: int(n) for unit_id, n in rows.all()}


async def unit_rates(session: AsyncSession, year: int, provinces: list[str] | None) -> Rates:
    """Every unit of the given provinces (None: all) with its headcount in force and completed officials."""
    versions = await versions_in_force(session, year, provinces)
    headcounts = await headcounts_in_force(session, [v.id for v in versions.values()])
    done = await completed_officials(session, year, provinces)
    units = await units_of(session, None, provinces)
    items = [UnitRate(unit_id=u.id, code=u.code, name=u.name, kind=u.kind, province_code=u.province_code,
                      headcount=headcounts.get(u.id), completed=done.get(u.id, 0),
                      **figures(done.get(u.id, 0), headcounts.get(u.id)))
             for u in units]
    return Rates(items, {p: v.id for p, v in versions.items()})


def totals(items: list[UnitRate]) -> RateTotals:
    counted = [i for i in items if i.headcount]
    headcount = sum(i.headcount for i in counted)  # type: ignore[misc]
    completed = sum(i.completed for i in counted)
    return RateTotals(headcount=headcount, completed=completed, **figures(completed, headcount))


async def unit_ranking(session: AsyncSession, year: int, province: str | None, by: RankBy,
                       min_headcount: int, *, ranked_only: bool) -> Ranking:
    """Units of one province, or of the nation, ranked; `ranked_only` leaves out units not ranked."""
    rates = await unit_rates(session, year, [province] if province else None)
    items = rank(rates.units, by, min_headcount)
    return Ranking(year=year, scope=province or "national", by=by, min_headcount=min_headcount,
                   as_of=utcnow(), headcount_version=rates.versions.get(province) if province else None,
                   totals=totals(rates.units),
                   items=[i for i in items if i.rank is not None] if ranked_only else items)


async def province_ranking(session: AsyncSession, year: int, by: RankBy, min_headcount: int) -> Ranking:
    """The 34 provinces ranked nationally on their units with a headcount; a province whose units' headcounts
    add up to less than the minimum (or to none) is listed unranked."""
    rates = await unit_rates(session, year, None)
    geo = await load_geography(session)
    per: dict[str, list[UnitRate]] = {code: [] for code in geo.current}
    for item in rates.units:
        per.setdefault(item.province_code, []).append(item)
    items = []
    for code, unit in sorted(geo.current.items()):
        sums = totals(per[code])
        items.append(UnitRate(code=code, name=unit.name, province_code=code,
                              headcount=sums.headcount or None, completed=sums.completed,
                              **figures(sums.completed, sums.headcount)))
    return Ranking(year=year, scope="national", by=by, min_headcount=min_headcount, as_of=utcnow(),
                   totals=totals(rates.units), items=rank(items, by, min_headcount))


