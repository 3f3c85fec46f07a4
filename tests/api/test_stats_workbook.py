"""GET /api/v1/stats/report.xlsx: the stats answers as one workbook, for the same readers."""

import io
from datetime import UTC, datetime

import openpyxl

from app.models.identity import Audience, Role
from tests.api.test_stats import admin_headers, client_headers
from tests.factories import make_user
from tests.factories.reporting import complete

URL = "/api/v1/stats/report.xlsx"


async def test_only_stats_readers_get_the_workbook(client, session, keyring, settings):
    assert (await client.get(URL)).status_code == 401
    learner = await admin_headers(session, keyring, settings, Role.learner)
    assert (await client.get(URL, headers=learner)).status_code == 403
    scoped = client_headers(keyring, settings, province="01")
    assert (await client.get(URL, params={"province": "79"}, headers=scoped)).status_code == 403


async def test_workbook_has_summary_provinces_courses_and_days_with_typed_cells(client, session, keyring, settings):
    # 23:30 UTC on 3 December: 4 December in Vietnam, and counted on that day.
    for _ in range(22):
        await complete(session, province="01", at=datetime(2026, 12, 3, 23, 30, tzinfo=UTC))
    await complete(session, province="79", audience=Audience.official, at=datetime(2026, 12, 4, 2, tzinfo=UTC))
    r = await client.get(URL, params={"year": 2026}, headers=client_headers(keyring, settings))
    assert r.status_code == 200, r.text
    assert r.headers["content-disposition"].endswith('so-lieu-hoc-so-20260101-20261231.xlsx"')
    book = openpyxl.load_workbook(io.BytesIO(r.content))
    assert book.sheetnames == ["Tổng hợp", "Theo tỉnh", "Theo khóa học", "Theo ngày", "Theo mức bảo đảm"]

    summary = {row[0]: row[1:5] for row in book["Tổng hợp"].iter_rows(min_row=8, values_only=True)}
    assert summary["Người dân"] == (22, 22, 10_000_000, 0.00022)  # early progress is not 0.0
    assert summary["Cán bộ, công chức, viên chức"] == (1, 1, 10_000, 0.01)

    provinces = book["Theo tỉnh"]
    assert provinces.freeze_panes == "A2"
    rows = {row[0].value: row for row in provinces.iter_rows(min_row=2)}
    assert len(rows) == 34
    hanoi = rows["01"]
    assert hanoi[0].data_type == "s" and hanoi[1].value == "Hà Nội" and hanoi[2].value == 22
    assert (hanoi[3].value, hanoi[4].value) == (0, 22)

    days = {row[0]: row[1:] for row in book["Theo ngày"].iter_rows(min_row=2, values_only=True)}
    assert len(days) == 365
    assert days[datetime(2026, 12, 4)] == (23, 1, 22)
    assert days[datetime(2026, 12, 3)] == (0, 0, 0)
    courses = list(book["Theo khóa học"].iter_rows(min_row=2, values_only=True))
    assert len(courses) == 23 and courses[0][0] == "Kỹ năng số cơ bản"

    english = await client.get(URL, params={"year": 2026},
                               headers={**client_headers(keyring, settings), "Accept-Language": "en"})
    assert openpyxl.load_workbook(io.BytesIO(english.content)).sheetnames == [
        "Summary", "By province", "By course", "By day", "By assurance"]


async def test_the_assurance_sheet_shows_every_level_per_audience_and_whether_it_counts(client, session, keyring,
                                                                                      settings):
    for level in ("eid", "eid", "phone"):
        user = await make_user(session, province_code="01")
        user.assurance = level
        await complete(session, user=user, at=datetime(2026, 3, 10, 3, tzinfo=UTC))
    admin = await admin_headers(session, keyring, settings, Role.ministry_admin)
    set_up = await client.put("/api/v1/admin/programmes/2026", headers=admin,
                              json={"official_target": 10_000, "citizen_target": 100, "counted_assurance": ["eid"]})
    assert set_up.status_code == 200, set_up.text
    r = await client.get(URL, params={"year": 2026}, headers=client_headers(keyring, settings))
    rows = list(openpyxl.load_workbook(io.BytesIO(r.content))["Theo mức bảo đảm"].iter_rows(min_row=2,
                                                                                        values_only=True))
    citizens = {row[2]: (row[1], row[3], row[4], row[5]) for row in rows if row[0] == "Người dân"}
    assert citizens == {"none": ("Chưa xác minh", 0, 0, "Không"), "phone": ("Xác minh số điện thoại", 1, 1, "Không"),
                        "partner": ("Đối tác xác nhận số định danh", 0, 0, "Không"),
                        "eid": ("Định danh điện tử quốc gia", 2, 2, "Có")}
    assert len(rows) == 8  # two audiences × four levels
