"""Intakes over HTTP: creating and reading them per role and province, CSV members, the report and its CSV, and
the assignment members see in /me/enrollments."""

import csv
import io
import uuid
from datetime import timedelta
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from sqlalchemy import func, select

from app.core.security import keyed_hash
from app.models.base import utcnow
from app.models.identity import Role
from app.models.reporting import IntakeMember
from app.services.intakes import report_file as intake_report_file
from tests.factories import auth, make_user, service_token, token_for
from tests.factories.intakes import (
    INTAKES,
    complete,
    course,
    csv_file,
    enroll,
    make_intake,
    official,
    province_admin,
)

# Reads today's local date or year: tests/test_clock.py runs these again with the clock moved.
pytestmark = pytest.mark.calendar


@pytest.fixture
def as_user(keyring, settings):
    return lambda user: auth(token_for(keyring, settings, user))


def body(*courses, **fields) -> dict:
    opens = utcnow()
    return {"name": "Đợt 1/2026 – cán bộ cấp xã", "courses": [c.course.slug for c in courses],
            "opens_at": opens.isoformat(), "deadline": (opens + timedelta(days=60)).isoformat(), **fields}


def problem_rows(response) -> list[tuple[int, str | None, str]]:
    return [(e["row"], e.get("field"), e["message"]) for e in response.json()["errors"]]


# --- the round-1 address /api/v1/cohorts -----------------------------------------------------------------------


async def test_the_round_1_cohorts_address_still_serves_intakes_and_names_its_successor(client, session, as_user):
    rows = await course(session)
    admin = await province_admin(session, "19")
    created = await client.post("/api/v1/cohorts", json=body(rows), headers=as_user(admin))
    assert created.status_code == 201, created.text
    assert created.headers["deprecation"] == "true"
    assert created.headers["link"] == '</api/v1/intakes>; rel="successor-version"'
    listed = await client.get("/api/v1/cohorts", headers=as_user(admin))
    assert [i["id"] for i in listed.json()["items"]] == [created.json()["id"]]
    assert "deprecation" not in (await client.get(INTAKES, headers=as_user(admin))).headers


async def test_keys_renamed_on_3_december_are_still_sent_under_their_old_names_marked_deprecated(
        client, session, as_user):
    rows = await course(session)
    member = await official(session, "Sở Nội vụ")
    intake = await make_intake(session, [rows], [member])
    admin = await province_admin(session)
    for prefix in (INTAKES, "/api/v1/cohorts"):
        report = (await client.get(f"{prefix}/{intake.id}/report", headers=as_user(admin))).json()
        assert report["cohort"] == report["intake"] and report["intake"]["id"] == str(intake.id)
    item = (await client.get("/api/v1/me/enrollments", headers=as_user(member))).json()["items"][0]
    assignment = item["assignment"]
    assert (assignment["cohort_id"], assignment["cohort_name"]) == (str(intake.id), intake.name)
    assert (assignment["intake_id"], assignment["intake_name"]) == (str(intake.id), intake.name)
    schemas = (await client.get("/openapi.json")).json()["components"]["schemas"]
    old = [(name, key, schemas[name]["properties"][key]) for name, key in (
        ("IntakeReport", "cohort"), ("CourseAssignment", "cohort_id"), ("CourseAssignment", "cohort_name"))]
    assert all(spec["deprecated"] is True and "one more release" in spec["description"] for _, _, spec in old)


# --- POST /intakes ------------------------------------------------------------------------------------------


async def test_create_anonymous_is_401(client):
    assert (await client.post(INTAKES, json={})).status_code == 401


@pytest.mark.parametrize("role", [Role.learner, Role.content_admin])
async def test_create_by_a_learner_or_content_admin_is_403(client, session, as_user, role):
    rows = await course(session)
    user = await make_user(session, role=role, province_code="19")
    assert (await client.post(INTAKES, json=body(rows), headers=as_user(user))).status_code == 403


async def test_province_admin_creates_an_intake_in_their_province(client, session, as_user):
    first, second = await course(session), await course(session, title="An toàn thông tin")
    admin = await province_admin(session, "19")
    r = await client.post(INTAKES, headers=as_user(admin),
                          json=body(first, second) | {"courses": [first.course.slug, str(second.course.id),
                                                                  first.course.slug]})
    assert r.status_code == 201, r.text
    created = r.json()
    assert r.headers["location"] == f"{INTAKES}/{created['id']}"
    assert created["province_code"] == "19" and created["member_count"] == 0
    assert sorted(c["slug"] for c in created["courses"]) == sorted([first.course.slug, second.course.slug])
    assert (await client.get(f"{INTAKES}/{created['id']}", headers=as_user(admin))).json() == created


async def test_province_admin_cannot_create_for_another_province(client, session, as_user):
    rows = await course(session)
    admin = await province_admin(session, "22")
    r = await client.post(INTAKES, json=body(rows, province_code="19"), headers=as_user(admin))
    assert r.status_code == 403 and r.json()["type"] == "/problems/intake-other-province"


async def test_ministry_admin_creates_for_any_current_province_only(client, session, as_user):
    rows = await course(session)
    ministry = await make_user(session, role=Role.ministry_admin, province_code=None)
    r = await client.post(INTAKES, json=body(rows, province_code="19"), headers=as_user(ministry))
    assert r.status_code == 201 and r.json()["province_code"] == "19"
    former = await client.post(INTAKES, json=body(rows, province_code="06"), headers=as_user(ministry))
    assert former.status_code == 422 and former.json()["errors"][0]["field"] == "province_code"
    missing = await client.post(INTAKES, json=body(rows), headers=as_user(ministry))
    assert missing.status_code == 422 and missing.json()["errors"][0]["field"] == "province_code"


async def test_create_names_each_bad_course_and_the_deadline(client, session, as_user):
    published = await course(session)
    draft = await course(session, status="draft")
    admin = await province_admin(session)
    payload = body(published)
    payload |= {"courses": [published.course.slug, "khong-co", draft.course.slug],
                "deadline": payload["opens_at"], "name": "   "}
    r = await client.post(INTAKES, json=payload, headers=as_user(admin))
    assert r.status_code == 422
    assert sorted(e["field"] for e in r.json()["errors"]) == ["courses.1", "courses.2", "deadline", "name"]


# --- GET /intakes, GET /intakes/{id} ------------------------------------------------------------------------


async def test_reading_intakes_needs_a_province_or_ministry_admin(client, session, as_user, keyring, settings):
    intake = await make_intake(session, [await course(session)], [])
    paths = [INTAKES, f"{INTAKES}/{intake.id}", f"{INTAKES}/{intake.id}/report", f"{INTAKES}/{intake.id}/report.csv"]
    learner = await make_user(session, province_code="19")
    content = await make_user(session, role=Role.content_admin, province_code="19")
    client_token = auth(service_token(keyring, settings, scopes=["stats:read", "completions:read"]))
    for path in paths:
        assert (await client.get(path)).status_code == 401
        for headers in (as_user(learner), as_user(content), client_token):
            assert (await client.get(path, headers=headers)).status_code == 403, path


async def test_lists_are_confined_to_the_admins_province_and_paged(client, session, as_user):
    rows = await course(session)
    ours = [await make_intake(session, [rows], [], name=f"Đợt {n}") for n in range(3)]
    await make_intake(session, [rows], [], province_code="22")
    admin = await province_admin(session, "19")

    first = (await client.get(f"{INTAKES}?limit=2", headers=as_user(admin))).json()
    rest = (await client.get(f"{INTAKES}?limit=2&cursor={first['next_cursor']}", headers=as_user(admin))).json()
    seen = [c["id"] for c in first["items"] + rest["items"]]
    assert sorted(seen) == sorted(str(c.id) for c in ours) and rest["next_cursor"] is None
    assert (await client.get(f"{INTAKES}?province=22", headers=as_user(admin))).status_code == 403
    bad = await client.get(f"{INTAKES}?cursor=%%%", headers=as_user(admin))
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "cursor"

    ministry = await make_user(session, role=Role.ministry_admin)
    other = (await client.get(f"{INTAKES}?province=22", headers=as_user(ministry))).json()["items"]
    assert [c["province_code"] for c in other] == ["22"]


async def test_another_provinces_intake_is_404_to_a_province_admin(client, session, as_user):
    rows = await course(session)
    intake = await make_intake(session, [rows], [], province_code="19")
    stranger = await province_admin(session, "22")
    for path in ("", "/report", "/report.csv"):
        assert (await client.get(f"{INTAKES}/{intake.id}{path}", headers=as_user(stranger))).status_code == 404
    upload = await client.post(f"{INTAKES}/{intake.id}/members", files=csv_file("phone\n0912345678\n"),
                               headers=as_user(stranger))
    assert upload.status_code == 404
    assert (await client.get(f"{INTAKES}/{uuid.uuid4()}", headers=as_user(stranger))).status_code == 404
    ministry = await make_user(session, role=Role.ministry_admin)
    assert (await client.get(f"{INTAKES}/{intake.id}/report", headers=as_user(ministry))).status_code == 200


# --- POST /intakes/{id}/members -----------------------------------------------------------------------------


@pytest.fixture
async def roster(session, settings):
    """An intake of Thái Nguyên (19) and the learners a CSV file can name, valid or not."""
    rows = await course(session)
    people = {
        "an": await official(session, "UBND xã Phú Lương", phone="+84912345001", email="an@example.vn"),
        "binh": await official(session, "UBND xã Phú Lương", email="binh@example.vn"),
        "chi": await official(session, "Sở Nội vụ"),
        # Bắc Kạn (06) rolled into Thái Nguyên: its learners belong to the intake's province.
        "khoa": await official(session, "UBND xã Chợ Mới", province_code="06", email="khoa@example.vn"),
        "giang": await official(session, "Sở Nội vụ Hà Nội", province_code="01", email="giang@example.vn"),
    }
    people["chi"].national_id_hash = keyed_hash(settings.secret_key, "national_id", "019085123456")
    await session.flush()
    return await make_intake(session, [rows], []), people


MIXED = (
    "full_name,phone,email,national_id\n"
    "An,0912 345 001,,\n"                       # 2: valid, local phone form
    "Bình,,BINH@example.vn,\n"                  # 3: valid, e-mail lower-cased
    "Chi,,,019 085 123 456\n"                   # 4: valid national ID
    "Dũng,0912,,\n"                             # 5: bad phone
    "Em,,nobody@example.vn,\n"                  # 6: unknown e-mail
    "Giang,,giang@example.vn,\n"                # 7: learner of another province: as unknown as row 6
    "Hà,,,12345\n"                              # 8: malformed national ID
    "An lần nữa,+84912345001,,\n"               # 9: duplicate of row 2
    "Khoa,,khoa@example.vn,\n"                  # 10: valid, former province code
    ",,,\n"                                     # 11: blank, skipped
    "Lan,,,\n"                                  # 12: no identifier
    "Hai người,0912345001,binh@example.vn,\n"   # 13: identifiers of two learners
)
MIXED_ERRORS = [(5, "phone"), (6, "email"), (7, "email"), (8, "national_id"), (9, "phone"),
                (12, "phone/email/national_id"), (13, "phone")]


async def test_lenient_upload_adds_valid_rows_and_reports_each_bad_one(client, session, as_user, roster):
    intake, people = roster
    r = await client.post(f"{INTAKES}/{intake.id}/members", files=csv_file(MIXED),
                          headers=as_user(await province_admin(session)) | {"Accept-Language": "en"})
    assert r.status_code == 200, r.text
    result = r.json()
    assert (result["rows"], result["added"], result["already_members"], result["rejected"]) == (11, 4, 0, 7)
    assert [(row, field) for row, field, _ in problem_rows(r)] == MIXED_ERRORS
    messages = {row: message for row, _, message in problem_rows(r)}
    assert "row 2" in messages[9] and "12 digits" in messages[8]
    # A learner of another province reads exactly as no learner: the upload reveals nobody registered elsewhere.
    assert messages[7] == messages[6] == "No learner has these details."
    members = set((await session.execute(select(IntakeMember.user_id).where(
        IntakeMember.intake_id == intake.id))).scalars())
    assert members == {people[k].id for k in ("an", "binh", "chi", "khoa")}


async def test_strict_upload_adds_nothing_when_any_row_is_bad(client, session, as_user, roster):
    intake, people = roster
    headers = as_user(await province_admin(session))
    r = await client.post(f"{INTAKES}/{intake.id}/members?strict=true", files=csv_file(MIXED), headers=headers)
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    assert r.json()["type"] == "/problems/intake-members-rejected"
    assert [(row, field) for row, field, _ in problem_rows(r)] == MIXED_ERRORS
    count = select(func.count()).select_from(IntakeMember).where(IntakeMember.intake_id == intake.id)
    assert (await session.execute(count)).scalar() == 0

    clean = await client.post(f"{INTAKES}/{intake.id}/members?strict=true", headers=headers,
                              files=csv_file("phone\n0912345001\n"))
    assert clean.status_code == 200 and clean.json()["added"] == 1


async def test_only_active_learner_accounts_can_join(client, session, as_user, roster):
    intake, people = roster
    people["binh"].is_active = False
    await make_user(session, role=Role.province_admin, province_code="19", email="admin19@example.vn")
    await session.flush()
    r = await client.post(f"{INTAKES}/{intake.id}/members", headers=as_user(await province_admin(session)),
                          files=csv_file("email\nbinh@example.vn\nadmin19@example.vn\nan@example.vn\n"))
    assert r.json()["added"] == 1
    assert [(row, field) for row, field, _ in problem_rows(r)] == [(2, "email"), (3, "email")]
    assert {e["message"] for e in r.json()["errors"]} == {"Tài khoản này không phải học viên đang hoạt động."}


async def test_bom_semicolons_and_vietnamese_headers_are_understood(client, session, as_user, roster):
    intake, _ = roster
    text = "Họ và tên;Số điện thoại;Email\r\nAn;0912345001;\r\nBình;;binh@example.vn\r\n"
    r = await client.post(f"{INTAKES}/{intake.id}/members", files=csv_file(text, bom=True),
                          headers=as_user(await province_admin(session)))
    assert r.status_code == 200 and (r.json()["added"], r.json()["errors"]) == (2, [])


async def test_adding_members_again_is_harmless(client, session, as_user, roster):
    intake, _ = roster
    headers = as_user(await province_admin(session))
    files = csv_file("email\nan@example.vn\nbinh@example.vn\n")
    assert (await client.post(f"{INTAKES}/{intake.id}/members", files=files, headers=headers)).json()["added"] == 2
    again = (await client.post(f"{INTAKES}/{intake.id}/members", files=files, headers=headers)).json()
    assert (again["added"], again["already_members"], again["rejected"]) == (0, 2, 0)
    assert (await client.get(f"{INTAKES}/{intake.id}", headers=headers)).json()["member_count"] == 2


async def test_uploads_over_the_byte_or_row_limit_are_413(client, session, as_user, roster, settings):
    intake, _ = roster
    headers = as_user(await province_admin(session))
    settings.intake_csv_max_bytes, settings.intake_csv_max_rows = 100, 2
    big = "email\n" + "an@example.vn\n" * 10
    r = await client.post(f"{INTAKES}/{intake.id}/members", files=csv_file(big), headers=headers)
    assert r.status_code == 413 and r.json()["type"] == "/problems/intake-csv-too-large"
    many = "email\nan@example.vn\n\nbinh@example.vn\nkhoa@example.vn\n"
    r = await client.post(f"{INTAKES}/{intake.id}/members", files=csv_file(many), headers=headers)
    assert r.status_code == 413 and r.json()["type"] == "/problems/intake-csv-too-many-rows"
    fits = "email\nan@example.vn\n\nbinh@example.vn\n"  # blank lines are not rows
    assert (await client.post(f"{INTAKES}/{intake.id}/members", files=csv_file(fits),
                              headers=headers)).json()["added"] == 2


@pytest.mark.parametrize(("files", "where"), [
    ({"file": ("x.csv", "email\nan@exämple.vn\n".encode("latin-1"), "text/csv")}, {"field": "file"}),
    (csv_file("họ và tên,cơ quan\nAn,UBND\n"), {"row": 1}),
    (csv_file(""), {"field": "file"}),
    (csv_file("email,Email\nan@example.vn,\n"), {"row": 1}),
    ({"other": ("x.csv", b"email\n", "text/csv")}, {"field": "file"}),
    (csv_file("email\nan@example.vn\n\"" + "x" * 140_000 + "\"\n"), {"field": "file", "line": 3}),
])
async def test_unreadable_files_are_422_without_adding_anyone(client, session, as_user, roster, files, where):
    intake, _ = roster
    r = await client.post(f"{INTAKES}/{intake.id}/members", files=files,
                          headers=as_user(await province_admin(session)))
    assert r.status_code == 422, r.text
    error = r.json()["errors"][0]
    assert {key: error.get(key) for key in where} == where


# --- GET /intakes/{id}/report and report.csv -----------------------------------------------------------------


async def test_report_shows_completed_over_assigned_for_two_agencies(client, session, as_user):
    rows = await course(session)
    xa = [await official(session, "UBND xã Phú Lương", full_name=f"Cán bộ xã {n}") for n in range(3)]
    so = [await official(session, "Sở Nội vụ", full_name=f"Chuyên viên {n}") for n in range(2)]
    intake = await make_intake(session, [rows], xa + so)
    for user in (xa[0], xa[1], so[0]):
        await complete(session, user, rows)
    await enroll(session, so[1], rows)

    r = await client.get(f"{INTAKES}/{intake.id}/report", headers=as_user(await province_admin(session)))
    assert r.status_code == 200, r.text
    report = r.json()
    assert report["completed_of_assigned"] == "3 / 5 = 60.0%" and report["completion_rate"] == 0.6
    assert (report["assigned"], report["enrolled"], report["completed"]) == (5, 4, 3)
    agencies = {a["agency"]: a["completed_of_assigned"] for a in report["by_agency"]}
    assert agencies == {"Sở Nội vụ": "1 / 2 = 50.0%", "UBND xã Phú Lương": "2 / 3 = 66.7%"}
    assert report["deadline_passed"] is False and report["overdue"] == []


FORMULA_TITLE = "=1+1 An toàn thông tin"


async def past_deadline_intake(session):
    """Two members after the deadline: one done, one late whose agency looks like a formula, as does the course's
    title."""
    rows = await course(session, title=FORMULA_TITLE)
    done = await official(session, "UBND xã Phú Lương", full_name="Trần Thị Bình")
    late = await official(session, "=HYPERLINK(\"x\")", full_name="Đỗ Văn Hùng")
    intake = await make_intake(session, [rows], [done, late], opens_at=utcnow() - timedelta(days=40),
                               deadline=utcnow() - timedelta(days=1))
    await complete(session, done, rows, completed_at=utcnow() - timedelta(days=5))
    await enroll(session, late, rows)
    return rows, late, intake


async def test_report_csv_is_excel_ready_with_agencies_total_and_overdue(client, session, as_user):
    rows, late, intake = await past_deadline_intake(session)

    r = await client.get(f"{INTAKES}/{intake.id}/report.csv", headers=as_user(await province_admin(session)))
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert r.content.startswith(b"\xef\xbb\xbf") and "attachment" in r.headers["content-disposition"]
    lines = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    header = lines.index(["Cơ quan, đơn vị", "Số học viên", "Học viên hoàn thành tất cả khóa học",
                          "Lượt được giao", "Lượt đã ghi danh", "Lượt đã hoàn thành", "Lượt hoàn thành đúng hạn",
                          "Tỷ lệ hoàn thành (%)", "Hoàn thành / được giao"])
    # Agencies in Vietnamese alphabetical order; a cell that Excel would run as a formula is quoted.
    assert [lines[header + 1][0], lines[header + 2][0]] == ["'=HYPERLINK(\"x\")", "UBND xã Phú Lương"]
    assert lines[header + 3] == ["Tổng cộng", "2", "1", "2", "2", "1", "1", "50.0", "1 / 2 = 50.0%"]
    overdue = lines.index(["Họ và tên", "Cơ quan, đơn vị", "Khóa học", "Mã khóa học", "Đã ghi danh", "Mã học viên"])
    # The course's title beside its code, quoted like every other cell that starts like a formula.
    assert lines[overdue + 1:] == [["Đỗ Văn Hùng", "'=HYPERLINK(\"x\")", "'" + FORMULA_TITLE, rows.course.slug,
                                    "Có", str(late.id)]]
    report = (await client.get(f"{INTAKES}/{intake.id}/report", headers=as_user(await province_admin(session)))).json()
    assert [(o["course"], o["course_title"]) for o in report["overdue"]] == [(rows.course.slug, FORMULA_TITLE)]


async def test_report_xlsx_has_a_summary_a_sheet_per_course_and_the_overdue_list(client, session, as_user):
    rows, late, intake = await past_deadline_intake(session)

    r = await client.get(f"{INTAKES}/{intake.id}/report.xlsx", headers=as_user(await province_admin(session)))
    assert r.status_code == 200 and r.headers["content-disposition"].endswith('.xlsx"')
    book = openpyxl.load_workbook(io.BytesIO(r.content))
    assert book.sheetnames == ["Tổng hợp", "Theo khóa học", "Quá hạn"]
    summary = [[c.value for c in row] for row in book["Tổng hợp"].iter_rows()]
    summary = [row[:next((i for i in range(len(row), 0, -1) if row[i - 1] is not None), 0)] for row in summary]
    assert summary[0] == ["Báo cáo đợt học", intake.name]
    assert summary[4][0] == "Hạn hoàn thành" and summary[4][1] == intake.deadline.astimezone(
        ZoneInfo("Asia/Ho_Chi_Minh")).replace(tzinfo=None, microsecond=summary[4][1].microsecond)
    header = summary.index([c.vi for c in intake_report_file.AGENCY_COLUMNS])
    assert book["Tổng hợp"].freeze_panes == f"A{header + 2}"
    assert summary[header + 1][0] == "=HYPERLINK(\"x\")" and book["Tổng hợp"].cell(header + 2, 1).quotePrefix
    assert summary[header + 3] == ["Tổng cộng", 2, 1, 2, 2, 1, 1, 50.0, "1 / 2 = 50.0%"]
    overdue = [[c.value for c in row] for row in book["Quá hạn"].iter_rows()]
    assert overdue[0][0] == "Danh sách quá hạn: 1 lượt chưa hoàn thành sau hạn"
    assert overdue[1] == [c.vi for c in intake_report_file.OVERDUE_COLUMNS]
    assert overdue[2] == ["Đỗ Văn Hùng", "=HYPERLINK(\"x\")", FORMULA_TITLE, rows.course.slug, "Có", str(late.id)]
    title_cell = book["Quá hạn"].cell(3, 3)
    assert title_cell.data_type == "s" and title_cell.quotePrefix  # text, never run as a formula
    english = await client.get(f"{INTAKES}/{intake.id}/report.xlsx",
                               headers={**as_user(await province_admin(session)), "Accept-Language": "en"})
    english_book = openpyxl.load_workbook(io.BytesIO(english.content))
    assert english_book.sheetnames == ["Summary", "By course", "Overdue"]
    assert [c.value for c in english_book["Overdue"][2]][2:4] == ["Course", "Course code"]


# --- GET /me/enrollments -----------------------------------------------------------------------------------


async def test_members_see_assigned_courses_and_the_deadline_before_and_after_enrolling(
        client, session, as_user):
    first, second = await course(session, title="Kỹ năng số cơ bản"), await course(session, title="An toàn")
    member, outsider = await official(session, "Sở Nội vụ"), await official(session, "Sở Nội vụ")
    intake = await make_intake(session, [first, second], [member])
    await enroll(session, outsider, first)
    r = await client.post(f"/api/v1/courses/{first.course.slug}/enrollments", headers=as_user(member))
    assert r.status_code == 201

    page = (await client.get("/api/v1/me/enrollments", headers=as_user(member))).json()
    items = {i["course"]["slug"]: i for i in page["items"]}
    assert items[second.course.slug]["enrolled"] is False and items[second.course.slug]["enrolled_at"] is None
    assert page["items"][0]["course"]["slug"] == second.course.slug  # to-do assignments lead the page
    assert items[first.course.slug]["enrolled"] is True
    for item in items.values():
        assert item["assignment"]["intake_id"] == str(intake.id)
        assert item["assignment"]["deadline"].startswith(intake.deadline.isoformat()[:19])
    others = (await client.get("/api/v1/me/enrollments", headers=as_user(outsider))).json()["items"]
    assert [(i["enrolled"], i["assignment"]) for i in others] == [(True, None)]
