"""Leaderboards of a contest: people by their best attempt (highest score, then shortest time, then earliest
submission), units by how many of their officials entered and finished against their headcount, and the
contest's figures (registered, finished, attempts, units).

Names are shortened (family name and initials: "Nguyễn T. H. N.") unless the learner opted in. While the
contest runs the boards are computed on each read; the first read after the close computes them from the
attempts submitted before the close, stores them on the contest and serves that snapshot from then on. That
first read may come long after the close, so it reads only what was fixed by then: the names kept on the
entries (at entry and at each submission, `ContestEntry.shown_name`) and the headcount versions uploaded at or
before the close. The frozen leaderboard is what it was at the close whatever changes later (names, units,
opt-ins, headcounts).
"""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.localtime import local_date
from app.models.base import utcnow
from app.models.contests import (
    Contest,
    ContestAttempt,
    ContestEntry,
    ContestFigures,
    Leaderboard,
    LeaderboardRow,
    UnitBoardRow,
)
from app.models.identity import User
from app.models.units import OrgUnit
from app.services.contests.contests import public, shown_name, status
from app.services.units.headcounts import headcounts_in_force, versions_in_force
from app.services.units.rates import figures


def _shared_ranks(keys: list[Any]) -> list[int]:
    """Competition ranks (1, 2, 2, 4) for keys already in order."""
    ranks, previous = [], None
    for index, key in enumerate(keys, start=1):
        ranks.append(index if key != previous else ranks[-1])
        previous = key
    return ranks


async def compute(session: AsyncSession, contest: Contest, *, full_names: bool = False) -> Leaderboard:
    """The boards from the attempts submitted before the close (all of them, while it runs)."""
    scored = (ContestAttempt.contest_id == contest.id, ContestAttempt.score.is_not(None),
              ContestAttempt.submitted_at < contest.closes_at)
    rows = (await session.execute(
        select(ContestAttempt.user_id, ContestAttempt.score, ContestAttempt.duration_ms, ContestAttempt.submitted_at,
               User.full_name, ContestEntry.show_full_name, ContestEntry.shown_name, ContestEntry.province_code,
               OrgUnit.name)
        .join(User, User.id == ContestAttempt.user_id)
        .join(ContestEntry, (ContestEntry.contest_id == contest.id) & (ContestEntry.user_id == User.id))
        .outerjoin(OrgUnit, OrgUnit.id == ContestEntry.unit_id).where(*scored))).all()
    best: dict[uuid.UUID, Any] = {}
    for row in rows:
        key = (-row.score, row.duration_ms, row.submitted_at)
        if row.user_id not in best or key < best[row.user_id][0]:
            best[row.user_id] = (key, row)
    ordered = sorted(best.values(), key=lambda kv: (kv[0], str(kv[1].user_id)))
    people = [LeaderboardRow(rank=rank, name=row.full_name if full_names
                             else row.shown_name or shown_name(row.full_name, row.show_full_name),
                             province_code=row.province_code, unit=row.name, score=row.score,
                             duration_ms=row.duration_ms, submitted_at=row.submitted_at)
              for rank, (_, row) in zip(_shared_ranks([k for k, _ in ordered]), ordered, strict=True)]
    units = await _units(session, contest, set(best))
    attempts = (await session.execute(select(func.count()).select_from(ContestAttempt).where(*scored))).scalar_one()
    registered = (await session.execute(select(func.count()).select_from(ContestEntry).where(
        ContestEntry.contest_id == contest.id))).scalar_one()
    entrant_units = (await session.execute(select(func.count(func.distinct(ContestEntry.unit_id))).where(
        ContestEntry.contest_id == contest.id))).scalar_one()
    return Leaderboard(contest=public(contest), frozen=False, as_of=utcnow(),
                       figures=ContestFigures(registered=registered, finished=len(best), attempts=attempts,
                                              units=entrant_units),
                       people=people, units=units)


async def _units(session: AsyncSession, contest: Contest, finishers: set[uuid.UUID]) -> list[UnitBoardRow]:
    """Entrants and finishers per unit against the unit's headcount in force in the contest's year at its
    close (or now, while it runs); most finishers first, ties by the share of the headcount, equal units
    sharing a rank."""
    entries = (await session.execute(select(ContestEntry.user_id, OrgUnit).join(
        OrgUnit, OrgUnit.id == ContestEntry.unit_id).where(ContestEntry.contest_id == contest.id))).all()
    if not entries:
        return []
    per: dict[uuid.UUID, list] = {}
    for user_id, unit in entries:
        tally = per.setdefault(unit.id, [unit, 0, 0])
        tally[1] += 1
        tally[2] += user_id in finishers
    provinces = sorted({tally[0].province_code for tally in per.values()})
    versions = await versions_in_force(session, local_date(contest.opens_at).year, provinces,
                                       uploaded_by=contest.closes_at)
    headcounts = await headcounts_in_force(session, [v.id for v in versions.values()])
    rows = []
    for unit, entrants, finished in per.values():
        headcount = headcounts.get(unit.id)
        share = figures(finished, headcount)["completion_percent"]
        rows.append((unit, entrants, finished, headcount, share))
    rows.sort(key=lambda r: (-r[2], -(r[4] or 0), r[0].name))
    ranks = _shared_ranks([(r[2], r[4]) for r in rows])
    return [UnitBoardRow(rank=rank, unit_id=unit.id, name=unit.name, province_code=unit.province_code,
                         headcount=headcount, entrants=entrants, finishers=finished, finisher_percent=share)
            for rank, (unit, entrants, finished, headcount, share) in zip(ranks, rows, strict=True)]


async def leaderboard(session: AsyncSession, contest: Contest, *, now: datetime | None = None) -> Leaderboard:
    """The public boards: live while the contest runs, frozen from the first read after the close."""
    if status(contest, now) != "closed":
        return await compute(session, contest)
    if contest.frozen is None:
        board = await compute(session, contest)
        snapshot = board.model_dump(mode="json", exclude={"contest"})
        snapshot.update(frozen=True, as_of=contest.closes_at.isoformat())
        # Only the first reader's snapshot is kept; a concurrent one matches no row and reads that one back.
        await session.execute(update(Contest).where(Contest.id == contest.id, Contest.frozen_at.is_(None))
                              .values(frozen_at=utcnow(), frozen=snapshot))
        await session.refresh(contest)
    return Leaderboard(contest=public(contest), **contest.frozen)
