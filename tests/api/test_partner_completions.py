"""POST /api/v1/completions and /batch: partner systems and in-person classes report completions."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from app.core.security import keyed_hash
from app.models.completion import Completion, CompletionCounter
from app.models.identity import Role, User
from app.services.completion.completions import record_completion
from tests.factories import auth, make_course, make_user, service_token, token_for
from tests.private_pg import feed_database_url, settings_on_private_server  # noqa: F401 (the feed's horizon)

# Reads today's local date or year: tests/test_clock.py runs these again with the clock moved.
pytestmark = pytest.mark.calendar

URL = "/api/v1/completions"
NATIONAL_ID = "001190012345"  # Hà Nội birth registration, a woman born in 1990


def writer(keyring, settings, *, client_id="so-noi-vu-ha-noi", province=None) -> dict[str, str]:
    return auth(service_token(keyring, settings, scopes=["completions:write"], province=province,
                              client_id=client_id))


def report(course_slug: str, **overrides) -> dict:
    return {"national_id": NATIONAL_ID, "full_name": "Trần  Thị Bình", "audience": "official",
            "province_code": "06", "course": course_slug, "completed_at": "2026-03-14T09:30:00+07:00",
            "external_ref": "lop-bk-2026-03/0042", "agency": "UBND xã Chợ Đồn"} | overrides


@pytest.fixture
async def course(session):
    return (await make_course(session, lessons=[])).course


async def _count(session, model, *where) -> int:
    return (await session.execute(select(func.count()).select_from(model).where(*where))).scalar_one()


# --- who may report -----------------------------------------------------------------------------------------


async def test_anonymous_caller_gets_401(client, course):
    assert (await client.post(URL, json=report(course.slug))).status_code == 401


async def test_readers_and_admins_cannot_report(client, session, keyring, settings, course):
    admin = await make_user(session, role=Role.ministry_admin)
    for headers in (auth(token_for(keyring, settings, admin)),
                    auth(service_token(keyring, settings, scopes=["completions:read", "stats:read"]))):
        assert (await client.post(URL, json=report(course.slug), headers=headers)).status_code == 403
        r = await client.post(f"{URL}/batch", json={"items": [report(course.slug)]}, headers=headers)
        assert r.status_code == 403


# --- one report ---------------------------------------------------------------------------------------------


async def test_report_creates_the_learner_keeping_only_a_keyed_hash_of_the_national_id(client, session, keyring,
                                                                                        settings, course):
    r = await client.post(URL, json=report(course.slug), headers=writer(keyring, settings))
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["status"] == "created"
    completion = body["completion"]
    assert (completion["source"], completion["audience"], completion["province_code"],
            completion["current_province_code"]) == ("partner", "official", "06", "19")
    assert (completion["client_id"], completion["external_ref"]) == ("so-noi-vu-ha-noi", "lop-bk-2026-03/0042")
    assert completion["completed_at"] == "2026-03-14T02:30:00Z"

    learner = await session.get(User, uuid.UUID(body["learner_id"]))
    assert learner.national_id_hash == keyed_hash(settings.secret_key, "national_id", NATIONAL_ID)
    assert learner.password_hash is None and learner.full_name == "Trần Thị Bình"
    assert learner.province_code == "19"  # the account lives in today's unit; the completion keeps 06
    assert not any(NATIONAL_ID in str(getattr(learner, c.key)) for c in User.__table__.columns)
    counted = (await session.execute(select(func.sum(CompletionCounter.count)).where(
        CompletionCounter.course_id == course.id, CompletionCounter.province_code == "06"))).scalar_one()
    assert counted == 1


async def test_a_repeated_external_ref_returns_the_original_whatever_the_repeat_says(client, session, keyring,
                                                                                     settings, course):
    headers = writer(keyring, settings)
    first = (await client.post(URL, json=report(course.slug), headers=headers)).json()
    r = await client.post(URL, json=report(course.slug, full_name="Tên khác", province_code="01"),
                          headers=headers)
    assert r.status_code == 200
    assert r.json()["status"] == "duplicate" and r.json()["completion"] == first["completion"]
    assert await _count(session, Completion, Completion.course_id == course.id) == 1


async def test_the_same_reference_from_another_client_is_another_report(client, session, keyring, settings,
                                                                        course):
    await client.post(URL, json=report(course.slug), headers=writer(keyring, settings))
    other = await make_course(session, lessons=[])
    r = await client.post(URL, json=report(other.course.slug),
                          headers=writer(keyring, settings, client_id="so-gd-thai-nguyen"))
    assert r.status_code == 201


async def test_learners_are_found_again_by_national_id_or_any_form_of_their_phone(client, session, keyring,
                                                                                  settings, course):
    known = await make_user(session, phone="+84912345678", province_code="19")
    headers = writer(keyring, settings)
    r = await client.post(URL, json=report(course.slug, national_id=None, phone="0912 345 678",
                                           external_ref="a"), headers=headers)
    assert r.status_code == 201 and r.json()["learner_id"] == str(known.id)

    second = (await make_course(session, lessons=[])).course
    r = await client.post(URL, json=report(second.slug, phone="+84 912 345 678", external_ref="b"),
                          headers=headers)
    assert r.json()["learner_id"] == str(known.id)
    await session.refresh(known)
    assert known.national_id_hash is not None  # linked on the report that named both

    third = (await make_course(session, lessons=[])).course
    r = await client.post(URL, json=report(third.slug, external_ref="c"), headers=headers)
    assert r.json()["learner_id"] == str(known.id)


async def test_a_learner_who_already_completed_the_course_keeps_their_completion(client, session, keyring,
                                                                                 settings, course):
    learner = await make_user(session, phone="+84987654321")
    mine, _ = await record_completion(session, user=learner, course=course, course_version=1)
    r = await client.post(URL, json=report(course.slug, national_id=None, phone="0987654321"),
                          headers=writer(keyring, settings))
    assert r.status_code == 200
    assert r.json()["status"] == "already_completed" and r.json()["completion"]["id"] == str(mine.id)


@pytest.mark.parametrize("overrides, field", [
    ({"national_id": "12345"}, "national_id"),
    ({"national_id": "003190012345"}, "national_id"),  # 003 is no province code
    ({"national_id": "001390012345"}, "national_id"),  # born in 2090
    ({"national_id": None, "phone": None}, "national_id"),
    ({"national_id": None, "phone": "0123"}, "phone"),
    ({"course": "khong-co-khoa-nay"}, "course"),
    ({"province_code": "99"}, "province_code"),
    ({"completed_at": (datetime.now(UTC) + timedelta(days=1)).isoformat()}, "completed_at"),
    ({"completed_at": "2026-03-14T09:30:00"}, "completed_at"),  # no offset
    ({"audience": "tourist"}, "audience"),
    ({"external_ref": ""}, "external_ref"),
    ({"external_ref": "lop-1\n"}, "external_ref"),  # control characters: references are printable
])
async def test_bad_reports_are_422_naming_the_field(client, session, keyring, settings, course, overrides, field):
    r = await client.post(URL, json=report(course.slug, **overrides), headers=writer(keyring, settings))
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    assert field in {e["field"] for e in r.json()["errors"]}
    assert await _count(session, Completion) == 0


async def test_a_national_id_and_a_phone_of_two_different_learners_are_refused(client, session, keyring,
                                                                               settings, course):
    await make_user(session, phone="+84911111111")
    owner = await make_user(session, phone="+84922222222")
    owner.national_id_hash = keyed_hash(settings.secret_key, "national_id", NATIONAL_ID)
    await session.flush()
    r = await client.post(URL, json=report(course.slug, phone="0911111111"), headers=writer(keyring, settings))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "phone"


async def test_a_province_scoped_client_reports_only_for_its_province(client, keyring, settings, course):
    headers = writer(keyring, settings, province="19")
    assert (await client.post(URL, json=report(course.slug), headers=headers)).status_code == 201  # 06 → 19
    r = await client.post(URL, json=report(course.slug, province_code="22", external_ref="x",
                                           national_id="019095000123"), headers=headers)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "province_code"


# --- batches ------------------------------------------------------------------------------------------------


async def test_batch_answers_per_row_and_records_every_good_row(client, session, keyring, settings, course):
    other = (await make_course(session, lessons=[])).course
    items = [
        report(course.slug, external_ref="r0"),
        report(other.slug, external_ref="r1"),  # same learner, second course
        report(course.slug, external_ref="r0"),  # repeats row 0
        report(course.slug, external_ref="r3", national_id="12345"),
        report("khong-co", external_ref="r4", national_id="019095000123"),
        {"full_name": "Thiếu hết", "external_ref": "r5"},
    ]
    r = await client.post(f"{URL}/batch", json={"items": items}, headers=writer(keyring, settings))
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["created"], body["duplicates"], body["already_completed"], body["rejected"]) == (2, 1, 0, 3)
    results = body["results"]
    assert [x["row"] for x in results] == list(range(6))
    assert [x["status"] for x in results] == ["created", "created", "duplicate", "rejected", "rejected",
                                              "rejected"]
    assert results[0]["learner_id"] == results[1]["learner_id"]
    assert results[2]["completion"]["id"] == results[0]["completion"]["id"]
    assert results[3]["errors"] == [{"row": 3, "field": "national_id", "message": results[3]["errors"][0]["message"]}]
    assert {e["field"] for e in results[4]["errors"]} == {"course"}
    assert {"audience", "province_code", "course"} <= {e["field"] for e in results[5]["errors"]}
    assert all(e["row"] == 5 for e in results[5]["errors"])
    assert await _count(session, Completion, Completion.source == "partner") == 2


async def test_strict_batch_with_a_bad_row_records_nothing(client, session, keyring, settings, course):
    items = [report(course.slug, external_ref="s0"), report(course.slug, external_ref="s1", province_code="99",
                                                            national_id="019095000123")]
    r = await client.post(f"{URL}/batch", params={"strict": "true"}, json={"items": items},
                          headers=writer(keyring, settings))
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    assert r.json()["errors"][0]["row"] == 1 and r.json()["errors"][0]["field"] == "province_code"
    assert await _count(session, Completion) == 0


async def test_batches_hold_at_most_1000_reports(client, keyring, settings, course):
    r = await client.post(f"{URL}/batch", json={"items": [report(course.slug)] * 1001},
                          headers=writer(keyring, settings))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "items"
    r = await client.post(f"{URL}/batch", json={"items": []}, headers=writer(keyring, settings))
    assert r.status_code == 422


# --- a province-scoped client stays in its province (issue 18, item 2) --------------------------------------


@pytest.mark.parametrize("named", [{"national_id": NATIONAL_ID, "phone": None},
                                   {"national_id": None, "phone": "0919 000 111"}])
async def test_a_scoped_client_learns_and_touches_nothing_of_another_provinces_learner(
        client, session, keyring, settings, course, named):
    elsewhere = await make_user(session, phone="+84919000111", province_code="19", full_name="Lê Văn Riêng")
    if named["national_id"]:
        elsewhere.national_id_hash = keyed_hash(settings.secret_key, "national_id", NATIONAL_ID)
        await session.flush()
    known_hash = elsewhere.national_id_hash
    headers = writer(keyring, settings, province="01")
    for body in (report(course.slug, province_code="01", **named),
                 report(course.slug, province_code="01", external_ref="2", national_id=NATIONAL_ID,
                        phone="0919000111")):
        r = await client.post(URL, json=body, headers=headers)
        assert r.status_code == 422, r.text
        assert "Lê Văn Riêng" not in r.text and str(elsewhere.id) not in r.text and "phố 19" not in r.text
        batch = await client.post(f"{URL}/batch", json={"items": [body]}, headers=headers)
        assert batch.json()["rejected"] == 1 and "Lê Văn Riêng" not in batch.text
        assert str(elsewhere.id) not in batch.text
    await session.refresh(elsewhere)
    assert elsewhere.national_id_hash == known_hash  # nothing attached to their account
    assert await _count(session, Completion, Completion.user_id == elsewhere.id) == 0


async def test_a_scoped_client_cannot_claim_a_learner_without_a_province(client, session, keyring, settings,
                                                                         course):
    nowhere = await make_user(session, phone="+84919000222", province_code=None)
    r = await client.post(URL, json=report(course.slug, province_code="01", national_id=None, phone="0919000222"),
                          headers=writer(keyring, settings, province="01"))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "phone"
    assert await _count(session, Completion, Completion.user_id == nowhere.id) == 0


async def test_a_scoped_client_still_reports_its_own_provinces_learners(client, session, keyring, settings,
                                                                        course):
    mine = await make_user(session, phone="+84919000333", province_code="01")
    r = await client.post(URL, json=report(course.slug, province_code="01", national_id=None, phone="0919000333"),
                          headers=writer(keyring, settings, province="01"))
    assert r.status_code == 201 and r.json()["learner_id"] == str(mine.id)


@pytest.mark.parametrize(("role", "active"), [(Role.learner, False), (Role.province_admin, True)])
async def test_a_deactivated_or_staff_account_is_not_credited(client, session, keyring, settings, course, role,
                                                             active):
    user = await make_user(session, phone="+84919000555", province_code="01", role=role)
    user.is_active = active
    await session.flush()
    r = await client.post(URL, json=report(course.slug, province_code="01", national_id=None, phone="0919000555"),
                          headers=writer(keyring, settings, province="01"))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "phone"
    assert "không phải người học đang hoạt động" in r.json()["errors"][0]["message"]
    assert await _count(session, Completion, Completion.user_id == user.id) == 0


async def test_an_existing_learners_completion_carries_the_learners_audience(client, session, keyring,
                                                                             settings, course):
    citizen = await make_user(session, phone="+84919000444", province_code="01")
    r = await client.post(URL, json=report(course.slug, province_code="01", national_id=None, phone="0919000444",
                                           audience="official"), headers=writer(keyring, settings))
    assert r.status_code == 201 and r.json()["completion"]["audience"] == "citizen"
    stored = (await session.execute(select(Completion).where(Completion.user_id == citizen.id))).scalar_one()
    assert stored.audience == "citizen"


async def test_a_repeat_for_a_learner_who_moved_away_no_longer_shows_them(client, session, keyring, settings,
                                                                          course):
    headers = writer(keyring, settings, province="01")
    first = await client.post(URL, json=report(course.slug, province_code="01"), headers=headers)
    assert first.status_code == 201
    learner = await session.get(User, uuid.UUID(first.json()["learner_id"]))
    learner.province_code = "79"
    await session.flush()
    r = await client.post(URL, json=report(course.slug, province_code="01"), headers=headers)
    assert r.status_code == 422 and "Trần Thị Bình" not in r.text


async def test_a_client_scoped_to_an_unknown_province_is_refused_not_unscoped(client, keyring, settings, course):
    r = await client.post(URL, json=report(course.slug), headers=writer(keyring, settings, province="99"))
    assert r.status_code == 403 and r.headers["content-type"] == "application/problem+json"
