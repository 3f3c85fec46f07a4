"""GET /api/v1/stats/national: public, cacheable, read from the buckets, against the year's programme."""

from datetime import UTC, datetime

import pytest

from app.models.identity import Audience
from app.services.completion.completions import record_completion
from app.services.counters.buckets import current_year
from tests.factories import make_course, make_user

# Reads today's local date or year: tests/test_clock.py runs these again with the clock moved.
pytestmark = pytest.mark.calendar

URL = "/api/v1/stats/national"


async def test_anyone_can_read_it_and_caches_may_keep_it_for_60_seconds(client):
    r = await client.get(URL)
    assert r.status_code == 200 and r.headers["cache-control"] == "public, max-age=60"
    body = r.json()
    assert body["year"] == current_year()
    assert set(body["audiences"]) == {"official", "citizen"}


async def test_a_new_year_starts_with_the_default_targets(client):
    body = (await client.get(URL, params={"year": 2031})).json()
    nobody = {"completions": 0, "learners": 0}
    assert body["audiences"]["official"] == {"completions": 0, "learners": 0, "target": 10_000,
                                             "counted_completions": 0, "percent_of_target": 0.0, "ratio_of_target": 0.0,
                                             "assurance": dict.fromkeys(("none", "phone", "partner", "eid"), nobody)}
    assert body["counted_assurance"] == ["none", "phone", "partner", "eid"]
    assert body["audiences"]["citizen"]["target"] == 10_000_000


async def test_years_outside_the_programme_range_are_422(client):
    assert (await client.get(URL, params={"year": 1999})).status_code == 422
    assert (await client.get(URL, params={"year": "nam-nay"})).status_code == 422


async def test_figures_count_completions_and_distinct_learners_per_audience(client, session):
    courses = [await make_course(session) for _ in range(2)]
    official = await make_user(session, audience=Audience.official, verified=True)
    unverified = await make_user(session, audience=Audience.official)
    citizen = await make_user(session)
    at = datetime(2030, 5, 1, 3, tzinfo=UTC)
    for rows in courses:
        await record_completion(session, user=official, course=rows.course, course_version=1, completed_at=at)
    for user in (unverified, citizen):
        await record_completion(session, user=user, course=courses[0].course, course_version=1,
                                completed_at=at)
    await record_completion(session, user=citizen, course=courses[1].course, course_version=1,
                            completed_at=datetime(2031, 1, 1, tzinfo=UTC))  # counts in 2031

    body = (await client.get(URL, params={"year": 2030})).json()["audiences"]
    assert (body["official"]["completions"], body["official"]["learners"]) == (2, 1)
    assert (body["citizen"]["completions"], body["citizen"]["learners"]) == (2, 2)
    assert body["official"]["percent_of_target"] == 0.02
    assert body["citizen"]["percent_of_target"] == 0.00002  # 2 of 10,000,000: early progress shows
    assert body["citizen"]["ratio_of_target"] == 2 / 10_000_000


async def test_the_percent_follows_the_programme_target(client, session):
    from app.services.counters.programmes import set_targets

    await set_targets(session, 2032, official_target=4, citizen_target=10)
    user = await make_user(session, audience=Audience.official, verified=True)
    rows = await make_course(session)
    await record_completion(session, user=user, course=rows.course, course_version=1,
                            completed_at=datetime(2032, 6, 1, tzinfo=UTC))
    body = (await client.get(URL, params={"year": 2032})).json()["audiences"]
    assert (body["official"]["target"], body["official"]["percent_of_target"]) == (4, 25.0)
