"""Units, headcount uploads, attaching officials, rates and rankings — and province scoping of each admin action."""

import csv
import io
import uuid
from datetime import UTC, datetime
from fractions import Fraction

import pytest
from sqlalchemy import select

from app.core.localtime import local_date
from app.models.completion import Completion
from app.models.identity import Audience, Role
from app.models.units import UnitOfficial
from tests.factories import auth, make_course, make_user, token_for
from tests.factories.reporting import complete

YEAR = 2026
SOURCE = {"year": YEAR, "source": "Quyết định 15/QĐ-UBND giao biên chế năm 2026", "source_date": "2026-01-15"}


async def admin(session, keyring, settings, role=Role.province_admin, province="19") -> dict[str, str]:
    user = await make_user(session, role=role, province_code=province, audience=Audience.official, verified=True)
    return auth(token_for(keyring, settings, user))


def csv_file(text: str) -> dict:
    return {"file": ("bien-che.csv", text.encode("utf-8-sig"), "text/csv")}


HEADCOUNTS = """Mã đơn vị;Tên đơn vị;Loại;Số cán bộ
SNV;Sở Nội vụ;cơ quan;20
STC;Sở Tài chính;cơ quan;10
XBT;UBND xã Bằng Thành;xã;10
XNL;UBND xã Nam Lương;xã;40
XNH;UBND xã Nà Hang;xã;5
"""


# --- province scoping of every admin action ------------------------------------------------------------------


async def test_anonymous_gets_401_and_learners_403_on_every_admin_route(client, session, keyring, settings):
    learner = auth(token_for(keyring, settings, await make_user(session)))
    for method, url in [("get", "/api/v1/units"), ("post", "/api/v1/units"), ("get", "/api/v1/units/headcounts"),
                        ("get", f"/api/v1/units/rates?year={YEAR}")]:
        assert (await client.request(method, url, json={"code": "X", "name": "X"})).status_code == 401
        assert (await client.request(method, url, json={"code": "X", "name": "X"}, headers=learner)
                ).status_code == 403


async def test_a_province_admin_acts_only_in_their_own_province(client, session, keyring, settings):
    own = await admin(session, keyring, settings, province="19")
    other = await admin(session, keyring, settings, province="22")
    r = await client.post("/api/v1/units", json={"code": "SNV", "name": "Sở Nội vụ"}, headers=own)
    assert r.status_code == 201 and r.json()["province_code"] == "19"
    unit_id = r.json()["id"]
    r = await client.post("/api/v1/units", json={"code": "SYT", "name": "Sở Y tế", "province_code": "19"},
                          headers=other)
    assert r.status_code == 403 and r.headers["content-type"] == "application/problem+json"
    assert (await client.get("/api/v1/units", params={"province": "19"}, headers=other)).status_code == 403
    assert (await client.get("/api/v1/units", headers=other)).json() == []  # their own province has none
    upload = await client.post("/api/v1/units/headcounts", params={**SOURCE, "province": "19"},
                               files=csv_file(HEADCOUNTS), headers=other)
    assert upload.status_code == 403
    assert (await client.get("/api/v1/units/headcounts", params={"province": "19"}, headers=other)
            ).status_code == 403
    assert (await client.get("/api/v1/units/rates", params={"year": YEAR, "province": "19"}, headers=other)
            ).status_code == 403
    official = await make_user(session, audience=Audience.official, province_code="19", verified=True)
    r = await client.put(f"/api/v1/units/officials/{official.id}", json={"unit_id": unit_id}, headers=other)
    assert r.status_code == 404  # another province's official looks missing
    stranger = await make_user(session, audience=Audience.official, province_code="22", verified=True)
    r = await client.put(f"/api/v1/units/officials/{stranger.id}", json={"unit_id": unit_id}, headers=other)
    assert r.status_code == 404  # and so does another province's unit
    r = await client.put(f"/api/v1/units/officials/{official.id}", json={"unit_id": unit_id}, headers=own)
    assert r.status_code == 200 and r.json()["unit_id"] == unit_id


async def test_a_unit_code_used_twice_in_a_province_is_409_naming_it(client, session, keyring, settings):
    """Found by schemathesis (issue 18, item 7): the second unit with one code was a 500."""
    own = await admin(session, keyring, settings, province="19")
    assert (await client.post("/api/v1/units", json={"code": "SNV", "name": "Sở Nội vụ"}, headers=own)
            ).status_code == 201
    r = await client.post("/api/v1/units", json={"code": "snv", "name": "Sở Nội vụ 2"},
                          headers=own | {"Accept-Language": "en"})
    assert r.status_code == 409 and r.headers["content-type"] == "application/problem+json"
    assert "SNV" in r.json()["detail"] and r.json()["errors"][0]["field"] == "code"


async def test_a_ministry_admin_names_the_province(client, session, keyring, settings):
    ministry = await admin(session, keyring, settings, role=Role.ministry_admin, province=None)
    r = await client.post("/api/v1/units", json={"code": "SNV", "name": "Sở Nội vụ"}, headers=ministry)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "province_code"
    r = await client.post("/api/v1/units", json={"code": "SNV", "name": "Sở Nội vụ", "province_code": "06"},
                          headers=ministry)
    assert r.status_code == 422  # 06 (Bắc Kạn) is a former province
    r = await client.post("/api/v1/units/headcounts", params={**SOURCE, "province": "19"},
                          files=csv_file(HEADCOUNTS), headers=ministry)
    assert r.status_code == 201 and r.json()["units_created"] == 5


# --- headcount uploads -----------------------------------------------------------------------------------------


async def test_every_bad_row_is_named_and_nothing_is_stored(client, session, keyring, settings):
    headers = await admin(session, keyring, settings)
    bad = ("unit_code,unit_name,kind,officials\n"
           "SNV,Sở Nội vụ,agency,20\n"
           ",Sở Xây dựng,agency,8\n"
           "STC,Sở Tài chính,agency,mười\n"
           "SNV,Sở Nội vụ,agency,20\n"
           "XBT,,commune,10\n"
           "XNL,UBND xã Nam Lương,huyện,40\n")
    r = await client.post("/api/v1/units/headcounts", params=SOURCE, files=csv_file(bad), headers=headers)
    assert r.status_code == 422
    errors = {(e["row"], e["field"]) for e in r.json()["errors"]}
    assert errors == {(3, "unit_code"), (4, "officials"), (5, "unit_code"), (6, "unit_name"), (7, "kind")}
    assert "6 dòng" not in r.json()["detail"] and "5 dòng" in r.json()["detail"]
    r = await client.post("/api/v1/units/headcounts", params=SOURCE, files=csv_file(bad),
                          headers={**headers, "Accept-Language": "en"})
    assert "5 row(s)" in r.json()["detail"]
    assert (await client.get("/api/v1/units", headers=headers)).json() == []
    assert (await client.get("/api/v1/units/headcounts", headers=headers)).json() == []


async def test_uploads_are_versioned_with_source_and_date_and_the_latest_is_in_force(client, session, keyring,
                                                                                     settings):
    headers = await admin(session, keyring, settings)
    first = await client.post("/api/v1/units/headcounts", params=SOURCE, files=csv_file(HEADCOUNTS),
                              headers=headers)
    assert first.status_code == 201
    assert first.json()["version"]["officials"] == 85 and first.json()["rows"] == 5
    units = (await client.get("/api/v1/units", headers=headers)).json()
    assert {(u["code"], u["kind"]) for u in units} >= {("XBT", "commune"), ("SNV", "agency")}
    revised = "unit_code,officials\nSNV,\"1.250\"\nSTC,11\n"  # Excel's Vietnamese thousands separator
    second = await client.post("/api/v1/units/headcounts", files=csv_file(revised), headers=headers,
                               params={**SOURCE, "source": "Quyết định 40/QĐ-UBND điều chỉnh",
                                       "source_date": "2026-06-01"})
    assert second.status_code == 201 and second.json()["units_created"] == 0
    assert second.json()["version"]["officials"] == 1261
    versions = (await client.get("/api/v1/units/headcounts", params={"year": YEAR}, headers=headers)).json()
    assert [(v["source_date"], v["in_force"]) for v in versions] == [("2026-06-01", True), ("2026-01-15", False)]
    rates = (await client.get("/api/v1/units/rates", params={"year": YEAR}, headers=headers)).json()
    assert rates["headcount_version"] == second.json()["version"]["id"]
    assert {i["code"]: i["headcount"] for i in rates["items"]} == {
        "SNV": 1250, "STC": 11, "XBT": None, "XNL": None, "XNH": None}


async def unit_of(session, user):
    return (await session.execute(select(UnitOfficial.unit_id).where(UnitOfficial.user_id == user.id))
            ).scalar_one_or_none()


# --- officials attached at verification --------------------------------------------------------------------------


async def test_verifying_an_official_attaches_them_to_the_unit_their_agency_names(client, session, keyring,
                                                                                   settings):
    headers = await admin(session, keyring, settings)
    await client.post("/api/v1/units/headcounts", params=SOURCE, files=csv_file(HEADCOUNTS), headers=headers)
    units = {u["code"]: u["id"] for u in (await client.get("/api/v1/units", headers=headers)).json()}
    official = await make_user(session, audience=Audience.official, province_code="19",
                               agency="ubnd xa bang thanh")
    r = await client.post(f"/api/v1/admin/users/{official.id}/verify-official", headers=headers)
    assert r.status_code == 200
    assert str(await unit_of(session, official)) == units["XBT"]
    unknown = await make_user(session, audience=Audience.official, province_code="19", agency="Ban Quản lý dự án")
    await client.post(f"/api/v1/admin/users/{unknown.id}/verify-official", headers=headers)
    await session.refresh(unknown)
    assert await unit_of(session, unknown) is None and unknown.official_verified_at is not None
    r = await client.post(f"/api/v1/admin/users/{unknown.id}/verify-official", json={"unit_id": units["SNV"]},
                          headers=headers)
    assert r.status_code == 200
    assert str(await unit_of(session, unknown)) == units["SNV"]


# --- rates and rankings against a recount -----------------------------------------------------------------------


COMPLETED = {"SNV": 18, "STC": 9, "XBT": 9, "XNL": 10, "XNH": 5}  # officials who finish a course in 2026


async def arrange_province(client, session, headers) -> dict[str, str]:
    await client.post("/api/v1/units/headcounts", params=SOURCE, files=csv_file(HEADCOUNTS), headers=headers)
    units = {u["code"]: u["id"] for u in (await client.get("/api/v1/units", headers=headers)).json()}
    courses = [(await make_course(session, lessons=[])).course for _ in range(2)]
    for code, n in COMPLETED.items():
        for i in range(n + 2):  # two more officials per unit who finish nothing, or only in another year
            user = await make_user(session, audience=Audience.official, province_code="19", verified=True)
            session.add(UnitOfficial(user_id=user.id, unit_id=uuid.UUID(units[code])))
            if i < n:
                for course in courses[: 1 + i % 2]:  # some finish two courses: they still count once
                    await complete(session, user=user, course=course, audience="official", province="19",
                                   at=datetime(2026, 4, 1 + i % 20, 3, tzinfo=UTC))
            elif i == n:
                await complete(session, user=user, course=courses[0], audience="official", province="19",
                               at=datetime(2025, 12, 31, 16, 30, tzinfo=UTC))  # 23:30 on 31 December in Vietnam
    await session.flush()
    return units


async def recount(session, units: dict[str, str]) -> dict[str, int]:
    """Officials per unit with an official completion in local year 2026, straight from the completions."""
    rows = (await session.execute(select(UnitOfficial.unit_id, Completion.user_id, Completion.completed_at)
                                  .join(UnitOfficial, UnitOfficial.user_id == Completion.user_id)
                                  .where(Completion.audience == "official"))).all()
    done: dict[str, set] = {}
    for unit_id, user_id, at in rows:
        if local_date(at).year == YEAR:
            done.setdefault(str(unit_id), set()).add(user_id)
    return {code: len(done.get(unit_id, ())) for code, unit_id in units.items()}


def expected_order(counts: dict[str, int], headcounts: dict[str, int], minimum: int, by: str) -> list:
    """An independent ranking: compare every pair; rank = 1 + how many units are strictly better."""
    eligible = {c for c, h in headcounts.items() if h >= minimum}

    def better(a: str, b: str) -> bool:
        ra, rb = Fraction(counts[a], headcounts[a]), Fraction(counts[b], headcounts[b])
        first = (ra, counts[a]) if by == "rate" else (counts[a], ra)
        second = (rb, counts[b]) if by == "rate" else (counts[b], rb)
        return first > second

    return sorted(((c, 1 + sum(better(o, c) for o in eligible)) for c in eligible), key=lambda x: (x[1], x[0]))


@pytest.mark.parametrize("by", ["rate", "count"])
async def test_rates_and_ranking_match_a_recount_ties_included(client, session, keyring, settings, by):
    headers = await admin(session, keyring, settings)
    units = await arrange_province(client, session, headers)
    counts = await recount(session, units)
    headcounts = {"SNV": 20, "STC": 10, "XBT": 10, "XNL": 40, "XNH": 5}
    body = (await client.get("/api/v1/units/rates", params={"year": YEAR, "by": by}, headers=headers)).json()
    assert {i["code"]: i["completed"] for i in body["items"]} == counts
    ranked = [(i["code"], i["rank"]) for i in body["items"] if i["rank"] is not None]
    assert ranked == expected_order(counts, headcounts, settings.ranking_min_headcount, by)
    assert [i["code"] for i in body["items"] if i["rank"] is None] == ["XNH"]  # 5 officials: under the minimum
    assert body["totals"] == {"headcount": 85, "completed": sum(counts.values()),
                              "completion_rate": round(sum(counts.values()) / 85, 4),
                              "completion_percent": body["totals"]["completion_percent"]}
    if by == "rate":  # SNV 18/20 beats STC and XBT (9/10 each, tied: one rank), then XNL 10/40
        assert ranked == [("SNV", 1), ("STC", 2), ("XBT", 2), ("XNL", 4)]


async def test_public_ranking_lists_only_ranked_units_and_exports_csv(client, session, keyring, settings):
    headers = await admin(session, keyring, settings)
    await arrange_province(client, session, headers)
    public = await client.get("/api/v1/board/rankings", params={"year": YEAR, "province": "19"})
    assert public.status_code == 200 and public.headers["cache-control"] == "public, max-age=60"
    assert [i["code"] for i in public.json()["items"]] == ["SNV", "STC", "XBT", "XNL"]
    national = (await client.get("/api/v1/board/rankings", params={"year": YEAR})).json()
    assert [i["code"] for i in national["items"]] == ["SNV", "STC", "XBT", "XNL"]
    r = await client.get("/api/v1/board/rankings", params={"year": YEAR, "province": "19", "format": "csv"})
    rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert [(row["rank"], row["code"], row["completed"]) for row in rows] == [
        ("1", "SNV", "18"), ("2", "STC", "9"), ("2", "XBT", "9"), ("4", "XNL", "10")]
    provinces = (await client.get("/api/v1/board/rankings", params={"year": YEAR, "level": "province"})).json()
    assert len(provinces["items"]) == 34
    assert provinces["items"][0]["code"] == "19" and provinces["items"][0]["rank"] == 1
    assert provinces["items"][0]["headcount"] == 85 and provinces["items"][1]["rank"] is None
    former = await client.get("/api/v1/board/rankings", params={"year": YEAR, "province": "06"})
    assert former.status_code == 422
