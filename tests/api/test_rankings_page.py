"""GET /dashboard/rankings: the public rankings view, equal to /api/v1/board/rankings."""

from tests.api.test_units import YEAR, admin, arrange_province
from tests.html_tables import read_page, vi_int


async def test_units_of_a_province_ranked_as_the_json_says(client, session, keyring, settings):
    await arrange_province(client, session, await admin(session, keyring, settings))
    for by in ("rate", "count"):
        api = (await client.get("/api/v1/board/rankings", params={"year": YEAR, "province": "19", "by": by})).json()
        r = await client.get("/dashboard/rankings", params={"year": YEAR, "province": "19", "by": by})
        assert r.status_code == 200 and r.headers["cache-control"] == "public, max-age=60"
        rows = read_page(r.text).tables["ranking-table"]
        assert [(int(row[0]), row[1], vi_int(row[2]), vi_int(row[3])) for row in rows] == [
            (i["rank"], i["name"], i["headcount"], i["completed"]) for i in api["items"]]
    assert "Thái Nguyên" in r.text and f'/api/v1/board/rankings?year={YEAR}&amp;province=19' in r.text


async def test_nationally_the_provinces_are_ranked_and_english_is_offered(client, session, keyring, settings):
    await arrange_province(client, session, await admin(session, keyring, settings))
    r = await client.get("/dashboard/rankings", params={"year": YEAR, "lang": "en"})
    rows = read_page(r.text).tables["ranking-table"]
    assert [(row[0], row[1], row[4]) for row in rows] == [("1", "Thái Nguyên", "60.0%")]  # 51 / 85, one decimal
    assert '<html lang="en">' in r.text and "Officials&#x27; completion rankings" in r.text


async def test_no_headcounts_yet_says_so_and_a_former_code_falls_back_to_the_nation(client):
    r = await client.get("/dashboard/rankings", params={"year": YEAR, "province": "06"})
    assert r.status_code == 200 and "Chưa có đơn vị nào đủ điều kiện xếp hạng" in r.text


async def test_units_ranked_nationally_as_the_json_says_with_their_province(client, session, keyring, settings):
    await arrange_province(client, session, await admin(session, keyring, settings))
    for by in ("rate", "count"):
        api = (await client.get("/api/v1/board/rankings", params={"year": YEAR, "by": by})).json()
        assert api["scope"] == "national" and api["items"]
        r = await client.get("/dashboard/rankings", params={"year": YEAR, "level": "unit", "by": by})
        assert r.status_code == 200
        rows = read_page(r.text).tables["ranking-table"]
        assert [(int(row[0]), row[1], row[2], vi_int(row[3]), vi_int(row[4])) for row in rows] == [
            (i["rank"], i["name"], "Thái Nguyên", i["headcount"], i["completed"]) for i in api["items"]]
        assert "Các đơn vị trên toàn quốc" in r.text
        assert f'/api/v1/board/rankings?year={YEAR}&amp;by={by}"' in r.text  # the national units' JSON
    english = await client.get("/dashboard/rankings", params={"year": YEAR, "level": "unit", "lang": "en"})
    assert "Units nationwide" in english.text and "<th" in english.text and "Province" in english.text
    provinces = await client.get("/dashboard/rankings", params={"year": YEAR})
    assert 'href="/dashboard/rankings?year=2026&amp;level=unit&amp;by=rate&amp;lang=vi"' in provinces.text
