"""The breakdown by assurance costs no statement: the same statements as the plain answers, with the bucket's
`assurance` as one more GROUP BY column; and the plain statements do not change."""

import re
from datetime import UTC, date, datetime

import pytest

from app.core.cache import StatsCache
from app.services.stats import figures as stats
from app.services.stats.query import build_query
from tests.factories import make_course, make_user
from tests.factories.reporting import complete
from tests.statements import statements_run

pytestmark = pytest.mark.calendar

NO_CACHE = StatsCache(0)
CALLS = {
    "provinces": lambda s, q, **kw: stats.provinces(s, q, "current", NO_CACHE, **kw),
    "former units": lambda s, q, **kw: stats.provinces(s, q, "former", NO_CACHE, **kw),
    "courses": lambda s, q, **kw: stats.courses(s, q, NO_CACHE, **kw),
    "days": lambda s, q, **kw: stats.timeseries(s, q, "day", NO_CACHE, **kw),
    "months": lambda s, q, **kw: stats.timeseries(s, q, "month", NO_CACHE, **kw),
}
PERIODS = {"year": {"year": 2026},  # provinces read the year buckets
           "range": {"first_day": date(2026, 1, 1), "last_day": date(2026, 6, 30)}}  # the day buckets


def group_by(statement: str) -> str:
    return re.sub(r"\s+", " ", statement.split("GROUP BY", 1)[1]) if "GROUP BY" in statement else ""


@pytest.mark.parametrize("period", PERIODS)
@pytest.mark.parametrize("name", CALLS)
async def test_the_breakdown_runs_the_plain_statements_grouped_by_assurance_too(session, name, period):
    for level in ("eid", "phone"):
        user = await make_user(session, province_code="01")
        user.assurance = level
        await complete(session, user=user, at=datetime(2026, 3, 10, 3, tzinfo=UTC))
    q = await build_query(session, **PERIODS[period])
    call = CALLS[name]
    await call(session, q)  # the geography and anything else read once per process are read now
    with statements_run(session) as plain:
        await call(session, q)
    with statements_run(session) as split:
        answer = await call(session, q, by_assurance=True)
    assert len(split) == len(plain) >= 1
    assert not any("assurance" in s for s in plain)  # no filter asked: the plain statements as before
    grouped = [(p, s) for p, s in zip(plain, split, strict=True) if "GROUP BY" in p]
    assert grouped
    for before, after in grouped:
        assert group_by(after).count("assurance") == 1 and "assurance" not in group_by(before)
    rows = answer.points if name in ("days", "months") else answer.items
    assert sum(sum(f.completions for f in row.by_assurance.values()) for row in rows) == 2
    assert all(list(row.by_assurance) == ["none", "phone", "partner", "eid"] for row in rows)


async def test_the_summary_breakdown_and_a_rows_breakdown_are_the_same_figures(session):
    course = (await make_course(session, lessons=[])).course
    for level in ("eid", "eid", "partner"):
        user = await make_user(session, province_code="22")
        user.assurance = level
        await complete(session, user=user, course=course, province="22")
    q = await build_query(session, year=2026, province="22")
    summary = await stats.summary(session, q, NO_CACHE)
    provinces = await stats.provinces(session, q, "current", NO_CACHE, by_assurance=True)
    courses = await stats.courses(session, q, NO_CACHE, by_assurance=True)
    assert provinces.items[0].by_assurance == summary.audiences["citizen"].assurance
    assert courses.items[0].by_assurance == summary.audiences["citizen"].assurance
