"""Stats from the counter buckets: periods, provinces (current or former units), courses, series, cache."""

import asyncio
import types
from datetime import UTC, date, datetime

import pytest

from app.core import cache as cache_module
from app.core.cache import StatsCache
from app.core.errors import Forbidden, ValidationFailed
from app.models.completion import CompletionCounter, CompletionYearCounter, LearnerCounter
from app.models.identity import Audience
from app.services.completion.completions import record_completion
from app.services.stats import figures as stats
from app.services.stats.query import StatsQuery, build_query
from tests.factories import make_course, make_user

# Reads today's local date or year: tests/test_clock.py runs these again with the clock moved.
pytestmark = pytest.mark.calendar

NO_CACHE = StatsCache(0)


async def _complete(session, *, province: str, audience: str = "citizen", course=None,
                    at: datetime = datetime(2026, 3, 10, 3, 0, tzinfo=UTC), user=None):
    course = course or (await make_course(session, lessons=[])).course
    user = user or await make_user(session, province_code=province)
    completion, _ = await record_completion(session, user=user, course=course, course_version=1,
                                            completed_at=at, audience=audience, province_code=province)
    return completion


async def _query(session, **kwargs) -> StatsQuery:
    return await build_query(session, **({"year": 2026} | kwargs))


# --- periods and filters ------------------------------------------------------------------------------------


async def test_year_and_range_are_exclusive_and_bounded(session):
    with pytest.raises(ValidationFailed) as both:
        await build_query(session, year=2026, first_day=date(2026, 1, 1))
    assert both.value.errors[0]["field"] == "year"
    with pytest.raises(ValidationFailed):
        await build_query(session, first_day=date(2026, 5, 1), last_day=date(2026, 4, 1))
    with pytest.raises(ValidationFailed):
        await build_query(session, first_day=date(2000, 1, 1), last_day=date(2026, 1, 1))
    with pytest.raises(ValidationFailed):
        await build_query(session, year=1999)


async def test_a_range_spanning_a_whole_year_is_that_year(session):
    q = await build_query(session, first_day=date(2026, 1, 1), last_day=date(2026, 12, 31))
    assert q.year == 2026
    q = await build_query(session, first_day=date(2026, 1, 1), last_day=date(2026, 6, 30))
    assert q.year is None


async def test_province_must_be_a_current_code_and_former_codes_are_pointed_to_their_successor(session):
    with pytest.raises(ValidationFailed) as former:
        await build_query(session, province="06")
    assert former.value.errors[0]["field"] == "province"
    assert former.value.errors[0].params["successor"] == "19"
    with pytest.raises(ValidationFailed):
        await build_query(session, province="99")
    q = await build_query(session, province="19")
    assert q.province_codes == ("06", "19")


async def test_a_province_scoped_caller_is_held_to_its_province(session):
    q = await build_query(session, scoped_province="22")
    assert q.province == "22"
    with pytest.raises(Forbidden):
        await build_query(session, province="19", scoped_province="22")
    # An admin still recorded under a former code is held to the unit that absorbed it.
    q = await build_query(session, scoped_province="06")
    assert q.province == "19"


async def test_unknown_course_is_a_field_error(session):
    with pytest.raises(ValidationFailed) as err:
        await build_query(session, course="khong-co")
    assert err.value.errors[0]["field"] == "course"


# --- summary ------------------------------------------------------------------------------------------------


async def test_summary_counts_completions_and_learners_per_audience_against_targets(session):
    course = (await make_course(session, lessons=[])).course
    other = (await make_course(session, lessons=[])).course
    learner = await make_user(session, province_code="01")
    await _complete(session, province="01", course=course, user=learner)
    await _complete(session, province="01", course=other, user=learner)  # same learner, second course
    await _complete(session, province="79", audience="official", course=course)

    result = await stats.summary(session, await _query(session), NO_CACHE)

    citizen, official = result.audiences[Audience.citizen], result.audiences[Audience.official]
    assert (citizen.completions, citizen.learners, citizen.target) == (2, 1, 10_000_000)
    assert (official.completions, official.learners, official.target) == (1, 1, 10_000)
    assert official.percent_of_target == 0.01


async def test_summary_reads_the_buckets_not_the_completions(session):
    session.add(CompletionYearCounter(year=2026, audience="citizen", province_code="01", count=4_000_000))
    session.add(LearnerCounter(year=2026, audience="citizen", province_code="01", count=3_000_000))
    await session.flush()
    result = await stats.summary(session, await _query(session), NO_CACHE)
    assert result.audiences[Audience.citizen].completions == 4_000_000
    assert result.audiences[Audience.citizen].learners == 3_000_000
    assert result.audiences[Audience.citizen].percent_of_target == 40.0


async def test_whole_years_without_a_course_read_the_year_buckets_and_anything_else_the_day_buckets(session):
    # Deliberately different figures in the two bucket tables show which one each request reads.
    course = (await make_course(session, lessons=[])).course
    session.add(CompletionCounter(day=date(2026, 7, 2), audience="citizen", province_code="01",
                                  course_id=course.id, count=7))
    session.add(CompletionYearCounter(year=2025, audience="citizen", province_code="01", count=100))
    session.add(CompletionYearCounter(year=2026, audience="citizen", province_code="01", count=1000))
    session.add(CompletionYearCounter(year=2026, audience="citizen", province_code="79", count=5))
    await session.flush()

    async def citizens(**kwargs) -> int:
        result = await stats.summary(session, await build_query(session, **kwargs), NO_CACHE)
        return result.audiences[Audience.citizen].completions

    assert await citizens(year=2026) == 1005
    assert await citizens(year=2026, province="01") == 1000
    assert await citizens(first_day=date(2025, 1, 1), last_day=date(2026, 12, 31)) == 1105
    assert await citizens(year=2026, course=course.slug) == 7
    assert await citizens(first_day=date(2026, 1, 1), last_day=date(2026, 12, 30)) == 7
    by_unit = await stats.provinces(session, await _query(session), "current", NO_CACHE)
    assert {i.code: i.completions for i in by_unit.items if i.completions} == {"01": 1000, "79": 5}


async def test_learners_are_null_for_a_partial_range_and_exact_with_a_course(session):
    course = (await make_course(session, lessons=[])).course
    await _complete(session, province="01", course=course)
    await _complete(session, province="01")

    partial = await stats.summary(session, await build_query(
        session, first_day=date(2026, 3, 1), last_day=date(2026, 3, 31)), NO_CACHE)
    assert partial.audiences[Audience.citizen].completions == 2
    assert partial.audiences[Audience.citizen].learners is None
    assert partial.audiences[Audience.citizen].target == 10_000_000

    by_course = await stats.summary(session, await build_query(
        session, first_day=date(2026, 3, 1), last_day=date(2026, 3, 31), course=course.slug), NO_CACHE)
    figures = by_course.audiences[Audience.citizen]
    assert (figures.completions, figures.learners) == (1, 1)
    assert by_course.course == course.slug


async def test_a_period_across_two_years_has_no_target(session):
    q = await build_query(session, first_day=date(2025, 12, 1), last_day=date(2026, 1, 31))
    result = await stats.summary(session, q, NO_CACHE)
    assert result.audiences[Audience.citizen].target is None
    assert result.audiences[Audience.citizen].percent_of_target is None


# --- provinces ----------------------------------------------------------------------------------------------


async def test_completion_under_a_former_code_counts_under_its_successor_and_by_former_unit(session):
    await _complete(session, province="06")  # Bắc Kạn, absorbed by Thái Nguyên (19)
    await _complete(session, province="19")

    current = await stats.provinces(session, await _query(session), "current", NO_CACHE)
    assert len(current.items) == 34
    by_code = {i.code: i for i in current.items}
    assert by_code["19"].completions == 2 and by_code["19"].learners == 2
    assert "06" not in by_code

    former = await stats.provinces(session, await _query(session), "former", NO_CACHE)
    assert len(former.items) == 63
    by_former = {i.code: i for i in former.items}
    assert by_former["06"].completions == 1 and by_former["06"].successor_code == "19"
    assert by_former["19"].completions == 1

    narrowed = await stats.summary(session, await _query(session, province="19"), NO_CACHE)
    assert narrowed.audiences[Audience.citizen].completions == 2


async def test_provinces_narrowed_to_one_province_list_only_its_units(session):
    await _complete(session, province="06")
    current = await stats.provinces(session, await _query(session, province="19"), "current", NO_CACHE)
    assert [i.code for i in current.items] == ["19"]
    former = await stats.provinces(session, await _query(session, province="19"), "former", NO_CACHE)
    assert [i.code for i in former.items] == ["06", "19"]


async def test_completions_without_a_province_are_reported_as_unassigned(session):
    course = (await make_course(session, lessons=[])).course
    user = await make_user(session, province_code=None)
    await record_completion(session, user=user, course=course, course_version=1,
                            completed_at=datetime(2026, 2, 1, tzinfo=UTC))
    result = await stats.provinces(session, await _query(session), "current", NO_CACHE)
    assert result.unassigned.completions == 1
    assert sum(i.completions for i in result.items) == 0


# --- courses and time series --------------------------------------------------------------------------------


async def test_courses_are_listed_most_completed_first_with_titles(session):
    popular = (await make_course(session, lessons=[], title="An toàn thông tin")).course
    quiet = (await make_course(session, lessons=[], title="Dịch vụ công trực tuyến")).course
    for _ in range(2):
        await _complete(session, province="01", course=popular)
    await _complete(session, province="01", course=quiet)

    result = await stats.courses(session, await _query(session), NO_CACHE)
    assert [(i.slug, i.completions, i.learners) for i in result.items][:2] == [
        (popular.slug, 2, 2), (quiet.slug, 1, 1)]
    assert result.items[0].title == "An toàn thông tin"


async def test_timeseries_uses_local_days_and_fills_every_period(session):
    # 17:30 UTC on 31 January is already 1 February in Hà Nội.
    await _complete(session, province="01", at=datetime(2026, 1, 31, 17, 30, tzinfo=UTC))
    await _complete(session, province="01", audience="official", at=datetime(2026, 1, 15, 2, 0, tzinfo=UTC))

    months = await stats.timeseries(session, await _query(session), "month", NO_CACHE)
    assert [p.period for p in months.points] == [f"2026-{m:02d}" for m in range(1, 13)]
    assert (months.points[0].completions, months.points[1].completions) == (1, 1)
    assert months.points[0].audiences[Audience.official] == 1

    days = await stats.timeseries(session, await build_query(
        session, first_day=date(2026, 1, 30), last_day=date(2026, 2, 2)), "day", NO_CACHE)
    assert [(p.period, p.completions) for p in days.points] == [
        ("2026-01-30", 0), ("2026-01-31", 0), ("2026-02-01", 1), ("2026-02-02", 0)]


# --- cache --------------------------------------------------------------------------------------------------


async def test_cache_answers_from_memory_until_the_ttl_passes(session):
    q = await _query(session)
    cache = StatsCache(60)
    before = await stats.summary(session, q, cache)
    await _complete(session, province="01")
    assert (await stats.summary(session, q, cache)).audiences[Audience.citizen].completions == \
        before.audiences[Audience.citizen].completions
    cache.clear()
    assert (await stats.summary(session, q, cache)).audiences[Audience.citizen].completions == \
        before.audiences[Audience.citizen].completions + 1


async def test_cache_computes_once_for_concurrent_callers_and_serves_stale_while_refreshing(monkeypatch):
    # The cache's clock is moved by hand: with the real one, a loaded machine pausing this process for the
    # 50 ms TTL between two callers made the second one refresh, and the test wait forever on `release`.
    clock = types.SimpleNamespace(now=1000.0)
    monkeypatch.setattr(cache_module, "time", types.SimpleNamespace(monotonic=lambda: clock.now))
    cache = StatsCache(0.05)
    calls = 0
    release = asyncio.Event()

    async def compute():
        nonlocal calls
        calls += 1
        if calls > 1:
            await release.wait()
        return calls

    assert await asyncio.gather(*(cache.get("k", compute) for _ in range(5))) == [1] * 5
    clock.now += 0.06
    refreshing = asyncio.create_task(cache.get("k", compute))
    await asyncio.sleep(0)
    assert await cache.get("k", compute) == 1  # stale answer while the refresh runs
    release.set()
    assert await refreshing == 2 and calls == 2



async def test_a_failed_computation_is_not_kept_and_leaves_no_lock_behind():
    cache = StatsCache(60)

    async def refuse():
        raise ValidationFailed(errors=[])

    async def answer():
        return "figures"

    for key in range(3):
        with pytest.raises(ValidationFailed):
            await cache.get(("bad", key), refuse)
    assert cache._locks == {} and cache._entries == {}
    assert await cache.get(("bad", 0), answer) == "figures"
