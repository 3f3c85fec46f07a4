"""GET /dashboard and /: the public progress board, its figures against the stats API, language and caching;
GET /api/v1/board/*: the same figures as public JSON and CSV."""

import csv
import io
from datetime import UTC, datetime

from app.models.identity import Role
from tests.factories import auth, make_course, make_user, token_for
from tests.factories.reporting import complete
from tests.html_tables import read_page, vi_int

YEAR = 2026


async def ministry(session, keyring, settings) -> dict[str, str]:
    return auth(token_for(keyring, settings, await make_user(session, role=Role.ministry_admin)))


async def arrange(session) -> None:
    """Completions in three provinces, one of them recorded under a former code (06 Bắc Kạn, now 19), two
    audiences, two courses and two months."""
    basics = (await make_course(session, slug="ky-nang-so-co-ban", title="Kỹ năng số cơ bản", lessons=[])).course
    safety = (await make_course(session, slug="an-toan-thong-tin", title="An toàn thông tin", lessons=[])).course
    march, may = datetime(2026, 3, 10, 3, tzinfo=UTC), datetime(2026, 5, 2, 3, tzinfo=UTC)
    for province, audience, course, at in [
        ("01", "citizen", basics, march), ("01", "citizen", safety, march), ("01", "official", basics, may),
        ("79", "citizen", basics, may), ("06", "citizen", basics, march), ("19", "official", safety, may),
    ]:
        await complete(session, province=province, audience=audience, course=course, at=at)


async def test_counters_equal_the_national_stats_against_10000_and_10000000(client, session):
    await arrange(session)
    national = (await client.get("/api/v1/stats/national", params={"year": YEAR})).json()
    r = await client.get("/dashboard", params={"year": YEAR})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    page = read_page(r.text)
    for audience, target, percent in (("official", "10.000", "0,02%"), ("citizen", "10.000.000", "0,00004%")):
        figures = national["audiences"][audience]
        assert vi_int(page.figures[(audience, "completions")]) == figures["completions"]
        assert page.figures[(audience, "target")] == target
        assert page.figures[(audience, "percent")] == percent  # 4 of 10M shows as such, not as 0,00%
    assert national["audiences"]["official"]["completions"] == 2
    assert national["audiences"]["citizen"]["completions"] == 4


async def test_province_table_lists_the_34_current_units_equal_to_the_stats_api(client, session, keyring, settings):
    await arrange(session)
    api = (await client.get("/api/v1/stats/provinces", params={"year": YEAR},
                            headers=await ministry(session, keyring, settings))).json()
    rows = read_page((await client.get("/dashboard", params={"year": YEAR})).text).tables["province-table"]
    assert len(rows) == 34
    shown = {row[0]: (vi_int(row[2]), vi_int(row[3]), vi_int(row[4]), vi_int(row[5])) for row in rows}
    expected = {p["code"]: (p["audiences"]["official"]["completions"], p["audiences"]["citizen"]["completions"],
                            p["completions"], p["learners"]) for p in api["items"]}
    assert shown == expected
    assert shown["19"][2] == 2  # Bắc Kạn's (06) completion rolled into Thái Nguyên
    assert [row[0] for row in rows[:3]] == ["01", "19", "79"]  # most completions first, ties by code
    assert r_chart_count(await client.get("/dashboard", params={"year": YEAR})) == 34


def r_chart_count(response) -> int:
    return sum(1 for tag, a in read_page(response.text).tags if tag == "g" and a.get("class") == "bar")


async def test_former_units_on_demand_equal_the_stats_api(client, session, keyring, settings):
    await arrange(session)
    api = (await client.get("/api/v1/stats/provinces", params={"year": YEAR, "units": "former"},
                            headers=await ministry(session, keyring, settings))).json()
    r = await client.get("/dashboard", params={"year": YEAR, "units": "former"})
    rows = read_page(r.text).tables["province-table"]
    assert len(rows) == 63 and r_chart_count(r) == 63
    assert {row[0]: (row[2], vi_int(row[5])) for row in rows} == {
        p["code"]: (p["successor_code"], p["completions"]) for p in api["items"]}


async def test_months_and_top_courses_equal_the_stats_api(client, session, keyring, settings):
    await arrange(session)
    headers = await ministry(session, keyring, settings)
    series = (await client.get("/api/v1/stats/timeseries", params={"year": YEAR, "granularity": "month"},
                               headers=headers)).json()
    courses = (await client.get("/api/v1/stats/courses", params={"year": YEAR}, headers=headers)).json()
    page = read_page((await client.get("/dashboard", params={"year": YEAR})).text)
    assert [(row[0], vi_int(row[3])) for row in page.tables["month-table"]] == [
        (p["period"], p["completions"]) for p in series["points"]]
    assert len(page.tables["month-table"]) == 12
    assert [(row[1], vi_int(row[4])) for row in page.tables["course-table"]] == [
        (c["title"], c["completions"]) for c in courses["items"]]
    assert page.tables["course-table"][0][1] == "Kỹ năng số cơ bản"


async def test_vietnamese_by_default_english_by_header_or_query(client):
    vi = await client.get("/dashboard", params={"year": YEAR})
    assert '<html lang="vi">' in vi.text and "Bảng tiến độ quốc gia" in vi.text
    en = await client.get("/dashboard", params={"year": YEAR}, headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert '<html lang="en">' in en.text and "National progress board" in en.text
    assert "10,000,000" in en.text
    forced = await client.get("/dashboard", params={"year": YEAR, "lang": "vi"}, headers={"Accept-Language": "en"})
    assert '<html lang="vi">' in forced.text
    assert '<html lang="en">' in (await client.get("/dashboard", params={"year": YEAR, "lang": "en"})).text


async def test_the_page_says_how_late_its_figures_can_be_from_both_caches(client, settings):
    r = await client.get("/dashboard", params={"year": YEAR, "lang": "en"})
    max_age = int(r.headers["cache-control"].rsplit("max-age=", 1)[1])
    ttl = round(settings.stats_cache_ttl_s)
    assert f"the server keeps the figures for {ttl} seconds" in r.text
    assert f"keeps the page for up to {max_age} seconds" in r.text
    assert f"may lag by up to about {ttl + max_age} seconds" in r.text


async def test_page_is_public_cacheable_script_free_and_self_contained(client):
    r = await client.get("/dashboard")
    assert r.status_code == 200
    assert r.headers["cache-control"] == "public, max-age=60"
    assert "Accept-Language" in r.headers["vary"]
    assert "default-src 'none'" in r.headers["content-security-policy"]
    page = read_page(r.text)
    assert not [t for t, _ in page.tags if t in ("script", "img", "iframe")]
    assert [a["href"] for t, a in page.tags if t == "link"] == ["data:,"]  # the empty favicon, loads nothing
    for tag, a in page.tags:
        if tag == "a":
            assert a["href"].startswith(("/", "?")), a["href"]  # nothing points off the site
    assert "@media print" in r.text
    dated = [a for t, a in page.tags if t == "p" and "section-date" in (a.get("class") or "")]
    assert len(dated) == 4  # every section says the year and the moment of its figures


async def test_every_source_link_answers_with_the_figures(client, session):
    await arrange(session)
    page = read_page((await client.get("/dashboard", params={"year": YEAR})).text)
    sources = [a["href"] for tag, a in page.tags if tag == "a" and a["href"].startswith("/api/")]
    assert len(sources) == 8  # JSON and CSV for each of the four sections
    for href in sources:
        r = await client.get(href)
        assert r.status_code == 200, href
        assert r.headers["content-type"].startswith("text/csv" if "format=csv" in href else "application/json")


async def test_year_out_of_range_is_a_problem(client):
    r = await client.get("/dashboard", params={"year": 1999})
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"


async def test_home_page_links_to_the_dashboard(client):
    r = await client.get("/")
    assert r.status_code == 200 and 'href="/dashboard?lang=vi"' in r.text
    assert 'href="/dashboard?lang=en"' in (await client.get("/", headers={"Accept-Language": "en"})).text


# --- /api/v1/board ------------------------------------------------------------------------------------------


async def test_board_json_is_the_stats_api_answer_without_signing_in(client, session, keyring, settings):
    await arrange(session)
    headers = await ministry(session, keyring, settings)
    for board_url, stats_url, params in [
        ("/api/v1/board/provinces", "/api/v1/stats/provinces", {}),
        ("/api/v1/board/provinces", "/api/v1/stats/provinces", {"units": "former"}),
        ("/api/v1/board/months", "/api/v1/stats/timeseries", {"granularity": "month"}),
        ("/api/v1/board/courses", "/api/v1/stats/courses", {}),
    ]:
        public = await client.get(board_url, params={"year": YEAR, **({"units": "former"} if params.get("units")
                                                                      else {})})
        assert public.status_code == 200 and public.headers["cache-control"] == "public, max-age=60"
        signed = await client.get(stats_url, params={"year": YEAR, **params}, headers=headers)
        assert public.json() == signed.json()
    national = await client.get("/api/v1/board/national", params={"year": YEAR})
    assert national.json() == (await client.get("/api/v1/stats/national", params={"year": YEAR})).json()


async def test_board_csv_opens_in_excel_with_the_same_figures(client, session):
    await arrange(session)
    r = await client.get("/api/v1/board/provinces", params={"year": YEAR, "format": "csv"})
    assert r.content.startswith(b"\xef\xbb\xbf") and "attachment" in r.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert len(rows) == 34
    assert {row["code"]: int(row["completions"]) for row in rows if row["completions"] != "0"} == {
        "01": 3, "19": 2, "79": 1}
    national = list(csv.DictReader(io.StringIO(
        (await client.get("/api/v1/board/national", params={"year": YEAR, "format": "csv"})).content
        .decode("utf-8-sig"))))
    assert {(row["audience"], row["completions"], row["target"]) for row in national} == {
        ("official", "2", "10000"), ("citizen", "4", "10000000")}


async def test_early_progress_shows_on_the_board_not_as_zero(client, session):
    """22 citizen completions of 10,000,000 are 0.00022% of the target: the board says so, not 0,00%."""
    basics = (await make_course(session, slug="ky-nang-so-co-ban", title="Kỹ năng số cơ bản", lessons=[])).course
    for _ in range(22):
        await complete(session, province="01", audience="citizen", course=basics,
                       at=datetime(2026, 3, 10, 3, tzinfo=UTC))
    national = (await client.get("/api/v1/stats/national", params={"year": YEAR})).json()
    assert national["audiences"]["citizen"]["percent_of_target"] == 0.00022
    page = read_page((await client.get("/dashboard", params={"year": YEAR})).text)
    assert page.figures[("citizen", "percent")] == "0,00022%"


async def test_a_revalidation_with_the_etag_gets_304_and_no_body(client, session):
    await arrange(session)
    for path in ("/dashboard", "/api/v1/board/national", "/api/v1/board/provinces?format=csv",
                 "/api/v1/board/months", "/api/v1/board/courses"):
        first = await client.get(path, params={"year": YEAR})
        assert first.status_code == 200 and first.headers["etag"].startswith('"'), path
        again = await client.get(path, params={"year": YEAR}, headers={"If-None-Match": first.headers["etag"]})
        assert again.status_code == 304, path
        assert again.content == b"" and again.headers["etag"] == first.headers["etag"]
        assert again.headers["cache-control"] == first.headers["cache-control"]
        other = await client.get(path, params={"year": YEAR}, headers={"If-None-Match": '"something-else"'})
        assert other.status_code == 200 and other.content == first.content, path
