"""Contests ("cuộc thi"): admins define them, learners enter and take them within the window, and anyone reads
the leaderboards (names shortened unless the learner opted in), frozen at the close."""

import uuid
from typing import Annotated, Literal

from fastapi import Query, Response, status

from app.api.deps import CurrentUser, SessionDep, UserAdmin
from app.api.problems import problem
from app.api.v1 import v1_router
from app.core.spreadsheets import CSV_MEDIA_TYPE, csv_table
from app.models.contests import (
    ContestAnswers,
    ContestAttemptPublic,
    ContestCreate,
    ContestPublic,
    EntryIn,
    EntryPublic,
    Leaderboard,
)
from app.services.contests import contests, leaderboards, taking

router = v1_router("/contests", tags=["contests"])

_REFUSED = {403: problem("Not open to you, or not entered"),
            404: problem("No such contest or attempt"),
            409: problem("Outside the window, no attempts left, or already submitted")}


@router.post("", status_code=status.HTTP_201_CREATED, response_model=ContestPublic, summary="Define a contest",
             responses={403: problem("Another province, or national by a province admin"),
                        422: problem("Bad window, quiz or province")})
async def create_contest(body: ContestCreate, admin: UserAdmin, session: SessionDep,
                         response: Response) -> ContestPublic:
    """A province admin defines contests of their province; ministry admins national ones (no `province_code`)
    or any province's. Ranking: best score, then shortest time, then earliest submission."""
    contest = await contests.create_contest(session, admin, body)
    response.headers["Location"] = f"/api/v1/contests/{contest.id}"
    return contests.public(contest)


@router.get("", response_model=list[ContestPublic], summary="Contests: national ones and a province's (public)")
async def list_contests(session: SessionDep, province: Annotated[str | None, Query(min_length=2, max_length=2)] = None
                        ) -> list[ContestPublic]:
    return [contests.public(c) for c in await contests.list_contests(session, province)]


@router.get("/{contest_id}", response_model=ContestPublic, summary="A contest (public)",
            responses={404: problem("No such contest")})
async def read_contest(contest_id: uuid.UUID, session: SessionDep) -> ContestPublic:
    return contests.public(await contests.get_contest(session, contest_id))


@router.put("/{contest_id}/entry", response_model=EntryPublic, summary="Enter a contest", responses=_REFUSED)
async def enter(contest_id: uuid.UUID, body: EntryIn, user: CurrentUser, session: SessionDep) -> EntryPublic:
    """While the contest is open, for the learners it is open to (its province, its audience). `show_full_name`
    puts the full name on the leaderboard; otherwise it shows the family name and initials."""
    contest = await contests.get_contest(session, contest_id)
    return await taking.enter(session, contest, user, show_full_name=body.show_full_name)


@router.get("/{contest_id}/entry", response_model=EntryPublic, summary="My entry and attempts left",
            responses=_REFUSED)
async def my_entry(contest_id: uuid.UUID, user: CurrentUser, session: SessionDep) -> EntryPublic:
    return await taking.my_entry(session, await contests.get_contest(session, contest_id), user)


@router.post("/{contest_id}/attempts", status_code=status.HTTP_201_CREATED, response_model=ContestAttemptPublic,
             summary="Start an attempt", responses=_REFUSED)
async def start_attempt(contest_id: uuid.UUID, user: CurrentUser, session: SessionDep) -> ContestAttemptPublic:
    """The questions, drawn and shuffled for this attempt; its deadline is the time limit or the close."""
    return await taking.start_attempt(session, await contests.get_contest(session, contest_id), user)


@router.post("/{contest_id}/attempts/{attempt_id}/submit", response_model=ContestAttemptPublic,
             summary="Submit an attempt", responses=_REFUSED)
async def submit_attempt(contest_id: uuid.UUID, attempt_id: uuid.UUID, body: ContestAnswers, user: CurrentUser,
                         session: SessionDep) -> ContestAttemptPublic:
    """Graded on the server, once; refused after the attempt's deadline or the contest's close."""
    contest = await contests.get_contest(session, contest_id)
    return await taking.submit_attempt(session, contest, user, attempt_id, body)


def _csv(board: Leaderboard, which: str, name: str) -> Response:
    # Through the shared writer: names are typed by learners, and no cell may become a formula.
    if which == "people":
        data = csv_table(("rank", "name", "province_code", "unit", "score", "duration_ms", "submitted_at"),
                         [(r.rank, r.name, r.province_code, r.unit, r.score, r.duration_ms,
                           r.submitted_at.isoformat()) for r in board.people])
    else:
        data = csv_table(("rank", "unit", "province_code", "headcount", "entrants", "finishers", "finisher_percent"),
                         [(r.rank, r.name, r.province_code, r.headcount, r.entrants, r.finishers,
                           r.finisher_percent) for r in board.units])
    return Response(data, media_type=CSV_MEDIA_TYPE,
                    headers={"Content-Disposition": f'attachment; filename="{name}-{which}.csv"'})


Format = Annotated[Literal["json", "csv"], Query()]
Board = Annotated[Literal["people", "units"], Query(description="CSV: which leaderboard")]


@router.get("/{contest_id}/leaderboard", response_model=Leaderboard, summary="Leaderboards and figures (public)",
            responses={200: {"content": {"application/json": {}, "text/csv": {}}},
                       404: problem("No such contest")})
async def leaderboard(contest_id: uuid.UUID, session: SessionDep, format: Format = "json",
                      board: Board = "people") -> Response:
    """People (best attempt each; names shortened unless opted in) and units (entrants and finishers against
    headcount), with registered / finished / attempts / units. Frozen from the close: `frozen: true`."""
    result = await leaderboards.leaderboard(session, await contests.get_contest(session, contest_id))
    if format == "csv":
        return _csv(result, board, f"contest-{contest_id}")
    return Response(result.model_dump_json(), media_type="application/json")


@router.get("/{contest_id}/results", response_model=Leaderboard, summary="Results with full names (admins)",
            responses={200: {"content": {"application/json": {}, "text/csv": {}}},
                       404: problem("No such contest in your province")})
async def results(contest_id: uuid.UUID, admin: UserAdmin, session: SessionDep, format: Format = "json",
                  board: Board = "people") -> Response:
    """The same order with every full name, for the contest's own admins (its province's, or the ministry)."""
    contest = await contests.managed_contest(session, admin, contest_id)
    result = await leaderboards.compute(session, contest, full_names=True)
    if format == "csv":
        return _csv(result, board, f"contest-{contest_id}-results")
    return Response(result.model_dump_json(), media_type="application/json")
