"""The national counters: bucket increments in the completion's transaction, the yearly summary read from the
buckets, and `verify`/`rebuild`, which recount everything from the immutable Completion rows.

Buckets: CompletionCounter per (local day, audience, province, course, assurance) — many small rows, so
concurrent completions rarely touch the same one; CompletionYearCounter rolls those up per (local year,
audience, province, assurance), so a year's national figure sums a few hundred rows instead of ~1.2 million day
buckets; LearnerYear marks a learner's first completion of a (year, audience), and LearnerCounter counts those
marks per (year, audience, province, assurance) for distinct learners. Assurance is a key of every bucket (the
completion's snapshot), so the breakdown by assurance costs no statement of its own on the completion path.
"""

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache
from typing import Any

from sqlalchemy import Integer, and_, delete, func, literal, select, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from app.core.dialect import bound, dialect_name, insert_on, local_day, local_year
from app.core.localtime import LOCAL_TZ
from app.models.completion import (
    Completion,
    CompletionCounter,
    CompletionYearCounter,
    LearnerCounter,
    LearnerYear,
)
from app.models.identity import Assurance, Audience
from app.services.counters.programmes import counted_levels, get_programme, progress_towards

UNKNOWN_PROVINCE = ""  # buckets key on a non-null province so the unique constraint covers "unknown" too


def bucket_params(*, user_id: uuid.UUID, course_id: uuid.UUID, audience: str, province_code: str | None,
                  assurance: str, completed_at: datetime) -> dict[str, Any]:
    """The parameters of the bucket statements for one completion: its local day and year, and its keys."""
    local = completed_at.astimezone(LOCAL_TZ)
    return {"b_day": local.date(), "b_year": local.year, "b_audience": audience,
            "b_province": province_code or UNKNOWN_PROVINCE, "b_course_id": course_id, "b_user_id": user_id,
            "b_assurance": assurance}


_day, _year = CompletionCounter.__table__, CompletionYearCounter.__table__
_marks, _learners = LearnerYear.__table__, LearnerCounter.__table__


def _day_values() -> dict[str, Any]:
    return {"day": bound(_day.c.day, "b_day"), "audience": bound(_day.c.audience, "b_audience"),
            "province_code": bound(_day.c.province_code, "b_province"),
            "course_id": bound(_day.c.course_id, "b_course_id"),
            "assurance": bound(_day.c.assurance, "b_assurance"), "count": literal(1, Integer)}


def _year_values(table: Any) -> dict[str, Any]:
    return {"year": bound(table.c.year, "b_year"), "audience": bound(table.c.audience, "b_audience"),
            "province_code": bound(table.c.province_code, "b_province"),
            "assurance": bound(table.c.assurance, "b_assurance"), "count": literal(1, Integer)}


def _mark_values() -> dict[str, Any]:
    return {"year": bound(_marks.c.year, "b_year"), "audience": bound(_marks.c.audience, "b_audience"),
            "user_id": bound(_marks.c.user_id, "b_user_id"),
            "province_code": bound(_marks.c.province_code, "b_province"),
            "assurance": bound(_marks.c.assurance, "b_assurance"), "day": bound(_marks.c.day, "b_day")}


def _bump(statement: Any, table: Any, keys: list[str]) -> Any:
    return statement.on_conflict_do_update(index_elements=keys, set_={"count": table.c.count + 1})


DAY_KEYS, YEAR_KEYS, MARK_KEYS = ["day", "audience", "province_code", "course_id", "assurance"], \
    ["year", "audience", "province_code", "assurance"], ["year", "audience", "user_id"]


@dataclass(frozen=True)
class BucketStatements:
    day: Any
    year: Any
    mark: Any  # the learner's first completion of the year (audience); does nothing if marked already
    learners: Any  # run only when `mark` inserted a row


@cache
def bucket_statements(dialect: str) -> BucketStatements:
    """Built once per dialect (a prebuilt statement is compiled once; each execution only binds values)."""
    insert = insert_on(dialect)
    return BucketStatements(
        day=_bump(insert(_day).values(_day_values()), _day, DAY_KEYS),
        year=_bump(insert(_year).values(_year_values(_year)), _year, YEAR_KEYS),
        mark=insert(_marks).values(_mark_values()).on_conflict_do_nothing(index_elements=MARK_KEYS),
        learners=_bump(insert(_learners).values(_year_values(_learners)), _learners, YEAR_KEYS))


def counting_ctes(recorded: Any) -> list[Any]:
    """PostgreSQL: the bucket writes as data-modifying CTEs of the statement whose CTE `recorded` inserts the
    completion; each selects from `recorded`, so nothing is counted when the insert met a conflict."""
    def from_recorded(table: Any, values: dict[str, Any]) -> Any:
        return postgresql.insert(table).from_select(list(values), select(*values.values()).select_from(recorded))

    marked = from_recorded(_marks, _mark_values()).on_conflict_do_nothing(index_elements=MARK_KEYS) \
        .returning(_marks.c.year).cte("marked")
    learners = postgresql.insert(_learners).from_select(
        list(_year_values(_learners)), select(*_year_values(_learners).values()).select_from(marked))
    return [_bump(from_recorded(_day, _day_values()), _day, DAY_KEYS).cte("day_bucket"),
            _bump(from_recorded(_year, _year_values(_year)), _year, YEAR_KEYS).cte("year_bucket"),
            _bump(learners, _learners, YEAR_KEYS).cte("learner_bucket")]


async def count_completion(connection: AsyncConnection, buckets: dict[str, Any]) -> None:
    """Add one completion to its day and year buckets and, if it is the learner's first that year, to distinct
    learners (`buckets` from bucket_params).

    Runs in the transaction that inserted the completion, so a counter can never disagree with the rows. On
    PostgreSQL the completion path runs the same writes inside its INSERT (counting_ctes) instead.
    """
    statements = bucket_statements(connection.dialect.name)
    await connection.execute(statements.day, buckets)
    await connection.execute(statements.year, buckets)
    if (await connection.execute(statements.mark, buckets)).rowcount:
        await connection.execute(statements.learners, buckets)


def current_year() -> int:
    from app.models.base import utcnow

    return utcnow().astimezone(LOCAL_TZ).year


async def national_summary(session: AsyncSession, year: int) -> dict[str, Any]:
    """Completions and distinct learners per audience for a local year, against the programme's targets, with
    the breakdown by assurance; only the levels the programme counts go toward the target.

    Reads only the year buckets (audiences × provinces × levels: a few hundred rows), never the day buckets or
    the completions, so the cost is the same at one completion as at ten million.
    """
    programme = await get_programme(session, year)
    counted = counted_levels(programme)
    y, lc = CompletionYearCounter, LearnerCounter
    completions = {(a, level): int(n or 0) for a, level, n in (await session.execute(
        select(y.audience, y.assurance, func.sum(y.count)).where(y.year == year)
        .group_by(y.audience, y.assurance))).all()}
    learners = {(a, level): int(n or 0) for a, level, n in (await session.execute(
        select(lc.audience, lc.assurance, func.sum(lc.count)).where(lc.year == year)
        .group_by(lc.audience, lc.assurance))).all()}
    targets = {Audience.official: programme.official_target, Audience.citizen: programme.citizen_target}
    audiences = {}
    for audience, target in targets.items():
        levels = {level.value: {"completions": completions.get((audience.value, level.value), 0),
                                "learners": learners.get((audience.value, level.value), 0)} for level in Assurance}
        done = sum(f["completions"] for f in levels.values())
        counted_done = sum(f["completions"] for level, f in levels.items() if level in counted)
        audiences[audience.value] = {
            "completions": done,
            "learners": sum(f["learners"] for f in levels.values()),
            "target": target,
            "counted_completions": counted_done,
            **progress_towards(counted_done, target),
            "assurance": levels,
        }
    return {"year": year, "counted_assurance": [a.value for a in Assurance if a.value in counted],
            "audiences": audiences}


# --- verify and rebuild ------------------------------------------------------------------------------------


@dataclass
class Difference:
    """One bucket whose stored count disagrees with the recount from completions."""

    table: str
    key: dict[str, Any]
    expected: int
    actual: int

    def __str__(self) -> str:
        key = ", ".join(f"{k}={v}" for k, v in self.key.items())
        return f"{self.table} [{key}]: expected {self.expected}, stored {self.actual}"


@dataclass
class VerifyReport:
    differences: list[Difference] = field(default_factory=list)
    truncated: bool = False

    @property
    def ok(self) -> bool:
        return not self.differences


def _day_recount(session: AsyncSession) -> Any:
    day = local_day(session, Completion.completed_at)
    province = func.coalesce(Completion.province_code, UNKNOWN_PROVINCE)
    return select(day.label("day"), Completion.audience.label("audience"), province.label("province_code"),
                  Completion.course_id.label("course_id"), Completion.assurance.label("assurance"),
                  func.count().label("n")
                  ).group_by(day, Completion.audience, province, Completion.course_id, Completion.assurance)


def _year_recount(session: AsyncSession) -> Any:
    year = local_year(session, Completion.completed_at)
    province = func.coalesce(Completion.province_code, UNKNOWN_PROVINCE)
    return select(year.label("year"), Completion.audience.label("audience"), province.label("province_code"),
                  Completion.assurance.label("assurance"), func.count().label("n")
                  ).group_by(year, Completion.audience, province, Completion.assurance)


def _first_completions_of_year(session: AsyncSession) -> Any:
    """Each learner's first recorded completion per (local year, audience): the LearnerYear rows.

    "First" is by `seq` (insertion order), as in count_completion, where the first completion to arrive marks
    the learner; a partner completion dated earlier but recorded later does not move them to its province.
    """
    year = local_year(session, Completion.completed_at)
    ranked = select(
        year.label("year"), Completion.audience.label("audience"), Completion.user_id.label("user_id"),
        func.coalesce(Completion.province_code, UNKNOWN_PROVINCE).label("province_code"),
        Completion.assurance.label("assurance"), local_day(session, Completion.completed_at).label("day"),
        func.row_number().over(partition_by=(year, Completion.audience, Completion.user_id),
                               order_by=Completion.seq).label("rank"),
    ).subquery()
    return select(ranked.c.year, ranked.c.audience, ranked.c.user_id, ranked.c.province_code,
                  ranked.c.assurance, ranked.c.day).where(ranked.c.rank == 1)


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


async def _compare(session: AsyncSession, table: str, expected: Any, stored: Any, keys: list[str],
                   expected_n: Any, stored_n: Any, limit: int) -> list[Difference]:
    """Keys whose recounted and stored counts differ, found from both sides (a missing row counts as 0)."""
    on = and_(*[expected.c[k] == stored.c[k] for k in keys])
    differs = func.coalesce(expected_n, 0) != func.coalesce(stored_n, 0)
    from_expected = (select(*[expected.c[k] for k in keys], expected_n, stored_n)
                     .select_from(expected.outerjoin(stored, on)).where(differs).limit(limit))
    # Stored rows with no completions behind them at all (matched rows were compared above).
    from_stored = (select(*[stored.c[k] for k in keys], expected_n, stored_n)
                   .select_from(stored.outerjoin(expected, on))
                   .where(expected.c[keys[0]].is_(None), differs).limit(limit))
    rows = (await session.execute(from_expected)).all() + (await session.execute(from_stored)).all()
    differences = []
    for row in rows[:limit]:
        key = {k: (_as_date(row[i]) if k == "day" else row[i]) for i, k in enumerate(keys)}
        differences.append(Difference(table, key, int(row[-2] or 0), int(row[-1] or 0)))
    return differences


async def verify(session: AsyncSession, *, limit: int = 1000) -> VerifyReport:
    """Recount every bucket from the Completion rows and list each difference (up to `limit` per table).

    Each comparison is one SQL statement, so on PostgreSQL it sees one consistent snapshot even while
    completions keep arriving.
    """
    report = VerifyReport()
    recount = _day_recount(session).subquery()
    buckets = CompletionCounter.__table__
    report.differences += await _compare(
        session, "completion_counter", recount, buckets, DAY_KEYS, recount.c.n, buckets.c.count, limit)
    # Recounted from the completions too, not summed from the day buckets, so one wrong table cannot hide
    # behind the other.
    per_year = _year_recount(session).subquery()
    years = CompletionYearCounter.__table__
    report.differences += await _compare(
        session, "completion_year_counter", per_year, years, YEAR_KEYS, per_year.c.n, years.c.count, limit)

    marks = _first_completions_of_year(session).subquery()
    marked = LearnerYear.__table__
    for left, right, present, absent in ((marks, marked, 1, 0), (marked, marks, 0, 1)):
        on = and_(*[left.c[k] == right.c[k] for k in ("year", "audience", "user_id")])
        rows = (await session.execute(
            select(left.c.year, left.c.audience, left.c.user_id).select_from(left.outerjoin(right, on))
            .where(right.c.user_id.is_(None)).limit(limit))).all()
        report.differences += [Difference("learner_year", {"year": r[0], "audience": r[1], "user_id": r[2]},
                                          present, absent) for r in rows]

    # Distinct learners recounted from the completions themselves, not from the (checked above) marks.
    per_province = (select(marks.c.year, marks.c.audience, marks.c.province_code, marks.c.assurance,
                           func.count().label("n"))
                    .group_by(marks.c.year, marks.c.audience, marks.c.province_code, marks.c.assurance).subquery())
    learners = LearnerCounter.__table__
    report.differences += await _compare(
        session, "learner_counter", per_province, learners, YEAR_KEYS, per_province.c.n, learners.c.count, limit)
    report.truncated = len(report.differences) >= limit
    return report


async def rebuild(session: AsyncSession) -> dict[str, int]:
    """Replace every bucket with a recount from the Completion rows (set-based SQL, no row-by-row loop).

    On PostgreSQL the completion table is locked against inserts for the duration, so no completion can be
    counted twice or missed while the buckets are rewritten.
    """
    if dialect_name(session) == "postgresql":
        await session.execute(text("LOCK TABLE completion IN SHARE MODE"))
    for table in (CompletionCounter, CompletionYearCounter, LearnerCounter, LearnerYear):
        await session.execute(delete(table))
    day_rows = _day_recount(session)
    await session.execute(CompletionCounter.__table__.insert().from_select([*DAY_KEYS, "count"], day_rows))
    await session.execute(CompletionYearCounter.__table__.insert().from_select(
        [*YEAR_KEYS, "count"], _year_recount(session)))
    await session.execute(LearnerYear.__table__.insert().from_select(
        ["year", "audience", "user_id", "province_code", "assurance", "day"], _first_completions_of_year(session)))
    marked = LearnerYear.__table__
    await session.execute(LearnerCounter.__table__.insert().from_select(
        [*YEAR_KEYS, "count"],
        select(marked.c.year, marked.c.audience, marked.c.province_code, marked.c.assurance, func.count())
        .group_by(marked.c.year, marked.c.audience, marked.c.province_code, marked.c.assurance)))
    counts = {}
    for name, table in (("completion_counter", CompletionCounter),
                        ("completion_year_counter", CompletionYearCounter), ("learner_year", LearnerYear),
                        ("learner_counter", LearnerCounter)):
        counts[name] = (await session.execute(select(func.count()).select_from(table))).scalar_one()
    return counts
