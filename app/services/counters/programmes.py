"""Yearly national targets: 10,000 official and 10,000,000 citizen completions unless ministry admins
change them, and which assurance levels count toward them (all unless ministry admins choose fewer; the
breakdown by level is shown either way)."""

import math

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.dialect import insert_for
from app.core.errors import ValidationFailed
from app.core.i18n import messages
from app.models.base import utcnow
from app.models.completion import Programme
from app.models.identity import Assurance

FIRST_YEAR, LAST_YEAR = 2000, 2100

messages({
    "programme_year_out_of_range": (
        "Năm phải nằm trong khoảng {first}–{last}.", "The year must be between {first} and {last}.",
    ),
})


def progress_towards(done: int, target: int | None) -> dict[str, float | None]:
    """How far `done` is towards `target`, for every stats answer alike: `percent_of_target` to two decimals,
    or to three significant figures when smaller (22 of 10,000,000 is 0.00022, not 0.0: early progress
    shows), and `ratio_of_target` (done / target) unrounded. Both null without a target."""
    if not target:
        return {"percent_of_target": None, "ratio_of_target": None}
    percent = done * 100 / target
    decimals = 2 if percent == 0 else max(2, 2 - math.floor(math.log10(percent)))
    return {"percent_of_target": round(percent, decimals), "ratio_of_target": done / target}


def _check_year(year: int) -> None:
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise ValidationFailed("programme_year_out_of_range", first=FIRST_YEAR, last=LAST_YEAR)


async def get_programme(session: AsyncSession, year: int) -> Programme:
    """A year's programme exists as soon as anyone reads it, with the default targets (10,000 / 10,000,000).

    Created with INSERT … ON CONFLICT DO NOTHING, so two first readers never collide.
    """
    _check_year(year)
    programme = await session.get(Programme, year)
    if programme is None:
        await session.execute(insert_for(session, Programme).values(year=year).on_conflict_do_nothing())
        programme = (await session.execute(select(Programme).where(Programme.year == year))).scalar_one()
    return programme


def counted_levels(programme: Programme) -> set[str]:
    """The assurance levels whose completions count toward the programme's targets."""
    return set(programme.counted_assurance) if programme.counted_assurance else {a.value for a in Assurance}


async def set_targets(session: AsyncSession, year: int, *, official_target: int, citizen_target: int,
                      counted_assurance: list[Assurance] | None = None) -> Programme:
    """Ministry admins set a year's targets and the assurance levels that count toward them (None: all); the
    change applies to every figure read afterwards (completions keep their level, so nothing is recounted)."""
    programme = await get_programme(session, year)
    programme.official_target = official_target
    programme.citizen_target = citizen_target
    levels = sorted({a.value for a in counted_assurance or Assurance}, key=[a.value for a in Assurance].index)
    programme.counted_assurance = None if len(levels) == len(Assurance) else levels
    programme.updated_at = utcnow()
    session.add(programme)
    await session.flush()
    return programme


async def list_programmes(session: AsyncSession) -> list[Programme]:
    """Every year that has a programme, newest first."""
    return list((await session.execute(select(Programme).order_by(Programme.year.desc()))).scalars())
