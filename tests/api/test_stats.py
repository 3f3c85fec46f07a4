"""GET /api/v1/stats/summary, /provinces, /courses, /timeseries: who may read what, and the figures."""

from datetime import date

import pytest

from app.models.identity import Audience, Role
from app.services.stats import query as stats_query
from tests.factories import auth, make_course, make_user, service_token, token_for
from tests.factories.reporting import complete

# Reads today's local date or year: tests/test_clock.py runs these again with the clock moved.
pytestmark = pytest.mark.calendar

ROUTES = ["/api/v1/stats/summary", "/api/v1/stats/provinces", "/api/v1/stats/courses",
          "/api/v1/stats/timeseries"]


async def admin_headers(session, keyring, settings, role: Role, province: str | None = None) -> dict[str, str]:
    user = await make_user(session, role=role, province_code=province)
    return auth(token_for(keyring, settings, user))


def client_headers(keyring, settings, scopes=("stats:read",), province=None) -> dict[str, str]:
    return auth(service_token(keyring, settings, scopes=list(scopes), province=province))


@pytest.fixture(autouse=True)
def mid_2026(monkeypatch):
    """Requests without a period read the current local year, and `complete` dates completions 10 March 2026:
    the clock is set to 2026 here so these answers do not change on 1 January 2027 (tests/test_clock.py runs
    this module with the system clock moved)."""
    monkeypatch.setattr(stats_query, "local_today", lambda: date(2026, 7, 1))


# --- who may read -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("url", ROUTES)
async def test_anonymous_caller_gets_401(client, url):
    r = await client.get(url)
    assert r.status_code == 401 and r.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize("url", ROUTES)
async def test_learners_content_admins_and_clients_without_stats_read_get_403(client, session, keyring, settings,
                                                                              url):
    for headers in (await admin_headers(session, keyring, settings, Role.learner),
                    await admin_headers(session, keyring, settings, Role.content_admin),
                    client_headers(keyring, settings, scopes=("completions:read",))):
        assert (await client.get(url, headers=headers)).status_code == 403


@pytest.mark.parametrize("url", ROUTES)
async def test_stats_clients_and_ministry_admins_read_every_route(client, session, keyring, settings, url):
    for headers in (client_headers(keyring, settings),
                    await admin_headers(session, keyring, settings, Role.ministry_admin)):
        assert (await client.get(url, headers=headers)).status_code == 200


@pytest.mark.parametrize("url", ROUTES)
async def test_an_unknown_or_missing_province_scope_fails_closed(client, session, keyring, settings, url):
    """A scope naming no known province (or a province admin without one) is refused, never read as national."""
    for headers in (client_headers(keyring, settings, province="99"),
                    client_headers(keyring, settings, scopes=("stats:read", "completions:read"), province="99"),
                    await admin_headers(session, keyring, settings, Role.province_admin, province=None),
                    await admin_headers(session, keyring, settings, Role.province_admin, province="99")):
        r = await client.get(url, headers=headers)
        assert r.status_code == 403 and r.headers["content-type"] == "application/problem+json", r.text
    feed = await client.get("/api/v1/completions", headers=client_headers(
        keyring, settings, scopes=("completions:read",), province="99"))
    assert feed.status_code == 403


@pytest.mark.parametrize("url", ROUTES)
async def test_province_admin_of_22_reading_19_gets_403(client, session, keyring, settings, url):
    headers = await admin_headers(session, keyring, settings, Role.province_admin, province="22")
    r = await client.get(url, params={"province": "19"}, headers=headers)
    assert r.status_code == 403 and r.headers["content-type"] == "application/problem+json"
    assert (await client.get(url, params={"province": "22"}, headers=headers)).status_code == 200


async def test_province_admins_and_scoped_clients_see_only_their_province(client, session, keyring, settings):
    await complete(session, province="22")
    await complete(session, province="19")
    for headers in (await admin_headers(session, keyring, settings, Role.province_admin, province="22"),
                    client_headers(keyring, settings, province="22")):
        body = (await client.get("/api/v1/stats/summary", headers=headers)).json()
        assert body["province"] == "22" and body["audiences"]["citizen"]["completions"] == 1
        units = (await client.get("/api/v1/stats/provinces", headers=headers)).json()["items"]
        assert [u["code"] for u in units] == ["22"]



async def test_cached_summary_is_never_served_across_provinces(client, session, keyring, settings):
    await complete(session, province="22")
    await complete(session, province="19")
    national = (await client.get("/api/v1/stats/summary", headers=client_headers(keyring, settings))).json()
    assert national["province"] is None and national["audiences"]["citizen"]["completions"] == 2
    headers = await admin_headers(session, keyring, settings, Role.province_admin, province="22")
    own = await client.get("/api/v1/stats/summary", headers=headers)
    assert own.json()["province"] == "22" and own.json()["audiences"]["citizen"]["completions"] == 1
    assert (await client.get("/api/v1/stats/summary", params={"province": "19"}, headers=headers)).status_code == 403


async def test_summary_repeats_the_cached_bytes_until_the_cache_is_cleared(client, app, session, keyring, settings):
    await complete(session, province="22")
    headers = client_headers(keyring, settings)
    first = await client.get("/api/v1/stats/summary", headers=headers)
    await complete(session, province="22")
    again = await client.get("/api/v1/stats/summary", headers=headers)
    assert again.content == first.content and again.headers["content-type"] == "application/json"
    app.state.per_worker.stats.clear()
    fresh = (await client.get("/api/v1/stats/summary", headers=headers)).json()
    assert fresh["audiences"]["citizen"]["completions"] == 2


@pytest.mark.parametrize("url", ROUTES)
async def test_a_repeated_request_is_answered_without_resolving_its_filters_again(client, session, keyring,
                                                                                 settings, monkeypatch, url):
    course = (await make_course(session, lessons=[])).course
    await complete(session, course=course)
    resolved = []
    build_query = stats_query.build_query

    async def counted(*args, **kwargs):
        resolved.append(kwargs)
        return await build_query(*args, **kwargs)

    monkeypatch.setattr(stats_query, "build_query", counted)
    headers = client_headers(keyring, settings)
    params = {"year": 2026, "course": course.slug}
    first = await client.get(url, params=params, headers=headers)
    again = await client.get(url, params=params, headers=headers)
    assert first.status_code == again.status_code == 200 and again.content == first.content
    assert len(resolved) == 1


@pytest.mark.parametrize("url", ROUTES)
async def test_an_answer_cached_for_one_scope_never_reaches_another(client, session, keyring, settings, url):
    await complete(session, province="22")
    await complete(session, province="19")
    unscoped, scoped = client_headers(keyring, settings), client_headers(keyring, settings, province="22")
    for params in ({}, {"province": "19"}):
        assert (await client.get(url, params=params, headers=unscoped)).status_code == 200
    assert (await client.get(url, params={"province": "19"}, headers=scoped)).status_code == 403
    assert (await client.get(url, headers=scoped)).json()["province"] == "22"
    assert (await client.get(url, headers=unscoped)).json()["province"] is None


@pytest.mark.parametrize("url", ROUTES)
async def test_a_province_admin_without_a_province_gets_403(client, session, keyring, settings, url):
    headers = await admin_headers(session, keyring, settings, Role.province_admin, province=None)
    assert (await client.get(url, headers=headers)).status_code == 403


async def test_a_refused_request_is_never_kept_as_an_answer(client, session, keyring, settings):
    headers = client_headers(keyring, settings)
    for _ in range(2):
        r = await client.get("/api/v1/stats/summary", params={"course": "sap-mo"}, headers=headers)
        assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
        assert r.json()["errors"][0]["field"] == "course"
    await make_course(session, slug="sap-mo", lessons=[])
    r = await client.get("/api/v1/stats/summary", params={"course": "sap-mo"}, headers=headers)
    assert r.status_code == 200 and r.json()["course"] == "sap-mo"


async def test_an_open_period_follows_the_local_day_though_answers_are_cached(client, keyring, settings,
                                                                              monkeypatch):
    headers = client_headers(keyring, settings)

    async def period(**params):
        return (await client.get("/api/v1/stats/summary", params=params, headers=headers)).json()["period"]

    monkeypatch.setattr(stats_query, "local_today", lambda: date(2026, 12, 31))
    assert (await period())["year"] == 2026
    assert (await period(**{"from": "2026-12-01"}))["last_day"] == "2026-12-31"
    monkeypatch.setattr(stats_query, "local_today", lambda: date(2027, 1, 1))
    assert (await period())["year"] == 2027
    assert (await period(**{"from": "2026-12-01"}))["last_day"] == "2027-01-01"

# --- figures ------------------------------------------------------------------------------------------------


async def test_a_completion_under_06_counts_under_19_and_under_06_by_former_units(client, session, keyring,
                                                                                 settings):
    await complete(session, province="06")
    headers = client_headers(keyring, settings)

    current = (await client.get("/api/v1/stats/provinces", params={"year": 2026}, headers=headers)).json()
    by_code = {u["code"]: u for u in current["items"]}
    assert len(by_code) == 34 and "06" not in by_code
    assert by_code["19"]["completions"] == 1 and by_code["19"]["name"] == "Thái Nguyên"

    former = (await client.get("/api/v1/stats/provinces", params={"year": 2026, "units": "former"},
                               headers=headers)).json()
    by_former = {u["code"]: u for u in former["items"]}
    assert len(by_former) == 63
    assert (by_former["06"]["completions"], by_former["06"]["successor_code"]) == (1, "19")
    assert by_former["19"]["completions"] == 0

    summary = (await client.get("/api/v1/stats/summary", params={"year": 2026, "province": "19"},
                                headers=headers)).json()
    assert summary["audiences"]["citizen"]["completions"] == 1


async def test_summary_gives_targets_and_learners_for_a_year_and_null_learners_for_a_range(client, session,
                                                                                          keyring, settings):
    await complete(session, province="01", audience=Audience.official)
    headers = client_headers(keyring, settings)
    year = (await client.get("/api/v1/stats/summary", params={"year": 2026}, headers=headers)).json()
    assert year["period"] == {"first_day": "2026-01-01", "last_day": "2026-12-31", "year": 2026}
    nobody = {"completions": 0, "learners": 0}
    assert year["audiences"]["official"] == {
        "completions": 1, "learners": 1, "target": 10_000, "counted_completions": 1, "percent_of_target": 0.01,
        "ratio_of_target": 0.0001,
        "assurance": {"none": {"completions": 1, "learners": 1}, "phone": nobody, "partner": nobody,
                      "eid": nobody}}
    assert year["counted_assurance"] == ["none", "phone", "partner", "eid"] and year["assurance"] is None
    march = (await client.get("/api/v1/stats/summary", params={"from": "2026-03-01", "to": "2026-03-31"},
                              headers=headers)).json()
    assert march["audiences"]["official"]["completions"] == 1
    assert march["audiences"]["official"]["learners"] is None


async def test_courses_and_timeseries_narrow_to_a_course(client, session, keyring, settings):
    course = (await make_course(session, lessons=[], title="Chữ ký số")).course
    await complete(session, course=course)
    await complete(session)
    headers = client_headers(keyring, settings)
    courses = (await client.get("/api/v1/stats/courses", params={"year": 2026, "course": course.slug},
                                headers=headers)).json()
    assert [(c["slug"], c["title"], c["completions"], c["learners"]) for c in courses["items"]] == [
        (course.slug, "Chữ ký số", 1, 1)]
    months = (await client.get("/api/v1/stats/timeseries",
                               params={"year": 2026, "granularity": "month", "course": course.slug},
                               headers=headers)).json()
    assert len(months["points"]) == 12
    assert [p["completions"] for p in months["points"]][2] == 1 and sum(
        p["completions"] for p in months["points"]) == 1


@pytest.mark.parametrize("params, field", [
    ({"year": 2026, "from": "2026-01-01"}, "year"),
    ({"from": "2026-05-01", "to": "2026-04-01"}, "from"),
    ({"province": "06"}, "province"),
    ({"province": "99"}, "province"),
    ({"course": "khong-co-khoa-nay"}, "course"),
    ({"year": 1999}, "year"),
])
async def test_bad_periods_and_filters_are_422_naming_the_field(client, keyring, settings, params, field):
    r = await client.get("/api/v1/stats/summary", params=params, headers=client_headers(keyring, settings))
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    assert r.json()["errors"][0]["field"] == field


async def test_unknown_granularity_or_units_are_422(client, keyring, settings):
    headers = client_headers(keyring, settings)
    r = await client.get("/api/v1/stats/timeseries", params={"granularity": "week"}, headers=headers)
    assert r.status_code == 422
    r = await client.get("/api/v1/stats/provinces", params={"units": "district"}, headers=headers)
    assert r.status_code == 422
