"""`?breakdown=assurance` on /stats/provinces, /courses, /timeseries and /report.xlsx: every row's figures per
assurance level, from the same buckets and statements; absent unless asked for; combined with `assurance=`."""

import io
from datetime import UTC, date, datetime

import openpyxl
import pytest

from app.models.identity import Audience, Role
from app.services.stats import query as stats_query
from tests.api.test_stats import admin_headers, client_headers
from tests.factories import make_course, make_user
from tests.factories.reporting import complete

pytestmark = pytest.mark.calendar

ROUTES = ["/api/v1/stats/provinces", "/api/v1/stats/courses", "/api/v1/stats/timeseries"]
LEVELS = ["none", "phone", "partner", "eid"]
NOBODY = {"completions": 0, "learners": 0}


@pytest.fixture(autouse=True)
def mid_2026(monkeypatch):
    monkeypatch.setattr(stats_query, "local_today", lambda: date(2026, 7, 1))


async def complete_at(session, level: str, *, province: str = "01", audience: str = "citizen", course=None,
                      at: datetime = datetime(2026, 3, 10, 3, tzinfo=UTC)):
    user = await make_user(session, province_code=province)
    user.assurance = level  # snapshotted by the completion, as a proven learner's would be
    return await complete(session, user=user, province=province, audience=audience, course=course, at=at)


async def mixed_completions(session):
    """Completions at every level, in several provinces (one under a former code), courses, months and both
    audiences, and one with no province."""
    course, other = (await make_course(session, lessons=[])).course, (await make_course(session, lessons=[])).course
    for level, province, audience, chosen, month in [
            ("none", "01", "citizen", course, 3), ("phone", "01", "citizen", course, 3),
            ("phone", "01", "official", other, 4), ("partner", "06", "official", course, 5),
            ("eid", "19", "citizen", other, 5), ("eid", "79", "citizen", course, 11)]:
        await complete_at(session, level, province=province, audience=audience, course=chosen,
                          at=datetime(2026, month, 10, 3, tzinfo=UTC))
    await complete_at(session, "phone", province=None, course=other)
    return course, other


def rows_of(url: str, body: dict) -> list[dict]:
    if url.endswith("/provinces"):
        return [*body["items"], body["unassigned"]]
    return body["items"] if url.endswith("/courses") else body["points"]


# --- absent unless asked for --------------------------------------------------------------------------------


@pytest.mark.parametrize("url", ROUTES)
async def test_without_the_parameter_no_row_has_a_by_assurance_key(client, session, keyring, settings, url):
    await mixed_completions(session)
    body = (await client.get(url, params={"year": 2026}, headers=client_headers(keyring, settings))).json()
    rows = rows_of(url, body)
    assert rows and all("by_assurance" not in row for row in rows)
    assert "by_assurance" not in (await client.get(url, params={"year": 2026}, headers=client_headers(
        keyring, settings))).text


@pytest.mark.parametrize("url", ROUTES)
async def test_an_unknown_breakdown_is_a_422_problem_naming_the_field(client, keyring, settings, url):
    r = await client.get(url, params={"breakdown": "course"}, headers=client_headers(keyring, settings))
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    assert r.json()["errors"][0]["field"] == "breakdown"


# --- the figures --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("url, params", [
    ("/api/v1/stats/provinces", {"year": 2026}),  # the year buckets
    ("/api/v1/stats/provinces", {"from": "2026-03-01", "to": "2026-11-30"}),  # the day buckets
    ("/api/v1/stats/provinces", {"year": 2026, "units": "former"}),
    ("/api/v1/stats/courses", {"year": 2026}),
    ("/api/v1/stats/timeseries", {"year": 2026, "granularity": "month"}),
    ("/api/v1/stats/timeseries", {"from": "2026-03-01", "to": "2026-11-30"}),
])
async def test_every_rows_levels_add_up_to_its_total(client, session, keyring, settings, url, params):
    await mixed_completions(session)
    body = (await client.get(url, params={**params, "breakdown": "assurance"},
                             headers=client_headers(keyring, settings))).json()
    rows = rows_of(url, body)
    assert sum(row["completions"] for row in rows) == 7
    for row in rows:
        levels = row["by_assurance"]
        assert list(levels) == LEVELS
        assert sum(f["completions"] for f in levels.values()) == row["completions"], row
        if row.get("learners") is not None:
            assert sum(f["learners"] for f in levels.values()) == row["learners"], row
        else:
            assert all(f["learners"] is None for f in levels.values()), row


async def test_a_province_with_only_e_id_completions_has_them_all_under_eid(client, session, keyring, settings):
    await complete_at(session, "eid", province="22")
    await complete_at(session, "eid", province="22", audience=Audience.official)
    await complete_at(session, "none", province="01")
    body = (await client.get("/api/v1/stats/provinces", params={"year": 2026, "breakdown": "assurance"},
                             headers=client_headers(keyring, settings))).json()
    by_code = {row["code"]: row for row in body["items"]}
    assert by_code["22"]["completions"] == 2
    assert by_code["22"]["by_assurance"] == {"none": NOBODY, "phone": NOBODY, "partner": NOBODY,
                                             "eid": {"completions": 2, "learners": 2}}
    assert by_code["01"]["by_assurance"]["none"] == {"completions": 1, "learners": 1}
    assert by_code["79"]["by_assurance"] == {level: NOBODY for level in LEVELS}  # a unit with none at all
    assert body["unassigned"]["by_assurance"] == {level: NOBODY for level in LEVELS}


async def test_courses_and_points_give_the_level_of_each_completion(client, session, keyring, settings):
    course, other = await mixed_completions(session)
    headers = client_headers(keyring, settings)
    courses = (await client.get("/api/v1/stats/courses", params={"year": 2026, "breakdown": "assurance"},
                                headers=headers)).json()
    by_slug = {c["slug"]: c["by_assurance"] for c in courses["items"]}
    assert {level: f["completions"] for level, f in by_slug[course.slug].items()} == {
        "none": 1, "phone": 1, "partner": 1, "eid": 1}
    assert by_slug[other.slug]["phone"] == {"completions": 2, "learners": 2}  # a course's learners: completions
    months = (await client.get("/api/v1/stats/timeseries", params={
        "year": 2026, "granularity": "month", "breakdown": "assurance"}, headers=headers)).json()["points"]
    may = next(p for p in months if p["period"] == "2026-05")
    assert may["by_assurance"]["partner"] == may["by_assurance"]["eid"] == {"completions": 1, "learners": None}


# --- with the filter ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("url", ROUTES)
async def test_the_filter_narrows_and_the_breakdown_splits_what_is_left(client, session, keyring, settings, url):
    await mixed_completions(session)
    params = {"year": 2026, "breakdown": "assurance", "assurance": ["partner", "eid"]}
    r = await client.get(url, params=params, headers=client_headers(keyring, settings))
    assert r.status_code == 200, r.text
    rows = rows_of(url, r.json())
    assert sum(row["completions"] for row in rows) == 3
    for row in rows:
        levels = row["by_assurance"]
        assert list(levels) == LEVELS and levels["none"]["completions"] == levels["phone"]["completions"] == 0
        assert levels["partner"]["completions"] + levels["eid"]["completions"] == row["completions"]


# --- cache and authorisation --------------------------------------------------------------------------------


@pytest.mark.parametrize("url", ROUTES)
async def test_the_plain_and_the_broken_down_answers_are_cached_apart(client, app, session, keyring, settings,
                                                                     url):
    assert app.state.per_worker.stats.ttl_s > 0
    await mixed_completions(session)
    headers = client_headers(keyring, settings)
    for first, second in (({}, {"breakdown": "assurance"}), ({"breakdown": "assurance"}, {})):
        app.state.per_worker.stats.clear()
        one = await client.get(url, params={"year": 2026, **first}, headers=headers)
        other = await client.get(url, params={"year": 2026, **second}, headers=headers)
        assert one.status_code == other.status_code == 200
        assert ("by_assurance" in one.text, "by_assurance" in other.text) == (bool(first), bool(second))
        again = await client.get(url, params={"year": 2026, **first}, headers=headers)
        assert again.content == one.content


@pytest.mark.parametrize("url", ROUTES)
async def test_a_province_admin_gets_only_their_province_broken_down(client, session, keyring, settings, url):
    await complete_at(session, "eid", province="22")
    await complete_at(session, "eid", province="19")
    headers = await admin_headers(session, keyring, settings, Role.province_admin, province="22")
    params = {"year": 2026, "breakdown": "assurance"}
    refused = await client.get(url, params={**params, "province": "19"}, headers=headers)
    assert refused.status_code == 403 and refused.headers["content-type"] == "application/problem+json"
    own = (await client.get(url, params=params, headers=headers)).json()
    assert own["province"] == "22"
    assert sum(row["by_assurance"]["eid"]["completions"] for row in rows_of(url, own)) == 1


# --- the workbook -------------------------------------------------------------------------------------------


async def test_the_workbook_gains_a_column_per_level_only_when_asked(client, session, keyring, settings):
    await mixed_completions(session)
    headers = client_headers(keyring, settings)
    url = "/api/v1/stats/report.xlsx"
    plain = openpyxl.load_workbook(io.BytesIO((await client.get(url, params={"year": 2026},
                                                                headers=headers)).content))
    split = openpyxl.load_workbook(io.BytesIO((await client.get(
        url, params={"year": 2026, "breakdown": "assurance"}, headers=headers)).content))
    names = ["Chưa xác minh", "Xác minh số điện thoại", "Đối tác xác nhận số định danh", "Định danh điện tử quốc gia"]
    for sheet in ("Theo tỉnh", "Theo khóa học", "Theo ngày"):
        before = next(plain[sheet].iter_rows(max_row=1, values_only=True))
        after = next(split[sheet].iter_rows(max_row=1, values_only=True))
        assert list(after) == [*before, *names], sheet
        completions = before.index("Lượt hoàn thành")
        for row in split[sheet].iter_rows(min_row=2, values_only=True):
            assert sum(row[-4:]) == row[completions], (sheet, row)
    provinces = {row[0]: row for row in split["Theo tỉnh"].iter_rows(min_row=2, values_only=True)}
    assert provinces["79"][-4:] == (0, 0, 0, 1)
    assert provinces[None][-4:] == (0, 1, 0, 0)  # the completion with no province


async def test_the_workbook_counts_only_the_assurance_levels_asked_for(client, session, keyring, settings):
    await mixed_completions(session)
    r = await client.get("/api/v1/stats/report.xlsx", params={"year": 2026, "assurance": "eid"},
                         headers=client_headers(keyring, settings))
    sheet = openpyxl.load_workbook(io.BytesIO(r.content))["Theo tỉnh"]
    header = next(sheet.iter_rows(max_row=1, values_only=True))
    completions = header.index("Lượt hoàn thành")
    counted = {row[0]: row[completions] for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert (counted["19"], counted["79"], sum(counted.values())) == (1, 1, 2)  # the two e-ID ones, no others


async def test_the_parameter_and_the_rows_field_are_described_with_the_summarys_one_schema(client):
    spec = (await client.get("/openapi.json")).json()
    for path in (*ROUTES, "/api/v1/stats/report.xlsx"):
        (param,) = [p for p in spec["paths"][path]["get"]["parameters"] if p["name"] == "breakdown"]
        assert "by_assurance" in param["description"] and "assurance=" in param["description"]
    schemas = spec["components"]["schemas"]
    one = {"additionalProperties": {"$ref": "#/components/schemas/AssuranceFigures"}, "type": "object"}
    assert schemas["AudienceFigures"]["properties"]["assurance"]["additionalProperties"] == one[
        "additionalProperties"]
    for name in ("ProvinceFigures", "UnassignedFigures", "CourseFigures", "TimePoint"):
        assert one in schemas[name]["properties"]["by_assurance"]["anyOf"], name
