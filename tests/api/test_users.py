"""The signed-in user's profile and user administration, scoped by role and province."""

import uuid

import pytest

from app.models.identity import Audience, Role
from tests.factories import auth, make_user, token_for

ME = "/api/v1/users/me"
ADMIN_USERS = "/api/v1/admin/users"


@pytest.fixture
def as_user(keyring, settings):
    return lambda user: auth(token_for(keyring, settings, user))


def fields(response) -> list[str]:
    return [e["field"] for e in response.json()["errors"]]


# --- GET /users/me ------------------------------------------------------------------------------------------


async def test_me_anonymous_is_401(client):
    assert (await client.get(ME)).status_code == 401


async def test_me_shows_the_profile_with_the_effective_audience(client, session, as_user):
    official = await make_user(session, audience=Audience.official, agency="UBND phường Ba Đình")
    body = (await client.get(ME, headers=as_user(official))).json()
    assert body["id"] == str(official.id) and body["agency"] == "UBND phường Ba Đình"
    assert body["audience"] == "official" and body["effective_audience"] == "citizen"
    assert "password_hash" not in body and "search_text" not in body


# --- PATCH /users/me ----------------------------------------------------------------------------------------


async def test_update_me_anonymous_is_401(client):
    assert (await client.patch(ME, json={"full_name": "X"})).status_code == 401


async def test_update_me_normalises_name_and_phone_and_updates_search(client, session, as_user):
    learner = await make_user(session, full_name="Nguyen Van An")
    r = await client.patch(ME, headers=as_user(learner),
                           json={"full_name": " Đặng  Va\u0301n An ", "phone": "+84 912 345 678"})
    assert r.status_code == 200, r.text
    assert r.json()["full_name"] == "Đặng Ván An" and r.json()["phone"] == "+84912345678"
    await session.refresh(learner)
    assert learner.search_text.startswith("dang van an")


async def test_update_me_cannot_change_role_or_audience(client, session, as_user):
    learner = await make_user(session)
    r = await client.patch(ME, headers=as_user(learner),
                           json={"role": "ministry_admin", "audience": "official"})
    assert r.status_code == 422 and sorted(fields(r)) == ["audience", "role"]


async def test_update_me_to_a_taken_email_is_409(client, session, as_user):
    await make_user(session, email="taken@example.vn")
    learner = await make_user(session)
    r = await client.patch(ME, headers=as_user(learner), json={"email": "Taken@example.vn"})
    assert r.status_code == 409 and fields(r) == ["email"]


async def test_update_me_must_keep_a_phone_or_an_email(client, session, as_user):
    learner = await make_user(session)
    r = await client.patch(ME, headers=as_user(learner), json={"email": None})
    assert r.status_code == 422 and fields(r) == ["email"]
    r = await client.patch(ME, headers=as_user(learner), json={"email": None, "phone": "0912345678"})
    assert r.status_code == 200 and r.json()["email"] is None


async def test_update_me_refuses_blank_name(client, session, as_user):
    learner = await make_user(session)
    for name in (None, "   "):
        r = await client.patch(ME, headers=as_user(learner), json={"full_name": name})
        assert r.status_code == 422 and fields(r) == ["full_name"]


async def test_learner_moves_to_another_current_province(client, session, as_user):
    learner = await make_user(session, province_code="01")
    r = await client.patch(ME, headers=as_user(learner), json={"province_code": "79"})
    assert r.status_code == 200 and r.json()["province_code"] == "79"
    r = await client.patch(ME, headers=as_user(learner), json={"province_code": "02"})
    assert r.status_code == 422 and fields(r) == ["province_code"]


async def test_admin_cannot_move_their_own_province(client, session, as_user):
    admin = await make_user(session, role=Role.province_admin, province_code="01")
    r = await client.patch(ME, headers=as_user(admin), json={"province_code": "79"})
    assert r.status_code == 422 and fields(r) == ["province_code"]


async def test_official_changing_agency_must_be_verified_again(client, session, as_user):
    official = await make_user(session, audience=Audience.official, verified=True)
    r = await client.patch(ME, headers=as_user(official), json={"full_name": "Lê Thu Hà"})
    assert r.json()["official_verified"] is True  # a name fix keeps the verification
    r = await client.patch(ME, headers=as_user(official), json={"agency": "Sở Y tế"})
    assert r.status_code == 200
    assert r.json()["official_verified"] is False and r.json()["effective_audience"] == "citizen"


async def test_official_cannot_clear_their_agency(client, session, as_user):
    official = await make_user(session, audience=Audience.official)
    for agency in (None, "  "):
        r = await client.patch(ME, headers=as_user(official), json={"agency": agency})
        assert r.status_code == 422 and fields(r) == ["agency"]


async def test_citizen_cannot_set_an_agency(client, session, as_user):
    citizen = await make_user(session)
    r = await client.patch(ME, headers=as_user(citizen), json={"agency": "Sở Tài chính"})
    assert r.status_code == 422 and fields(r) == ["agency"]


# --- GET /admin/users ---------------------------------------------------------------------------------------


async def test_list_users_anonymous_is_401(client):
    assert (await client.get(ADMIN_USERS)).status_code == 401


@pytest.mark.parametrize("role", [Role.learner, Role.content_admin])
async def test_list_users_other_roles_are_403(client, session, as_user, role):
    user = await make_user(session, role=role)
    assert (await client.get(ADMIN_USERS, headers=as_user(user))).status_code == 403


async def test_province_admin_sees_only_their_province(client, session, as_user):
    admin = await make_user(session, role=Role.province_admin, province_code="79")
    mine = await make_user(session, province_code="79")
    await make_user(session, province_code="01")
    body = (await client.get(ADMIN_USERS, headers=as_user(admin))).json()
    assert {u["id"] for u in body["items"]} == {str(admin.id), str(mine.id)} and body["total"] == 2
    r = await client.get(ADMIN_USERS, params={"province": "01"}, headers=as_user(admin))
    assert r.status_code == 403


async def test_ministry_admin_sees_every_province_and_filters(client, session, as_user):
    admin = await make_user(session, role=Role.ministry_admin, province_code=None)
    hanoi = await make_user(session, province_code="01")
    hcm = await make_user(session, province_code="79", audience=Audience.official)
    body = (await client.get(ADMIN_USERS, headers=as_user(admin))).json()
    assert {str(hanoi.id), str(hcm.id), str(admin.id)} == {u["id"] for u in body["items"]}
    body = (await client.get(ADMIN_USERS, params={"province": "79", "audience": "official"},
                             headers=as_user(admin))).json()
    assert [u["id"] for u in body["items"]] == [str(hcm.id)]


async def test_search_ignores_accents_and_case(client, session, as_user):
    admin = await make_user(session, role=Role.ministry_admin, full_name="Trần Quản Trị")
    dang = await make_user(session, full_name="Đặng Thị Ngọc Ánh")
    await make_user(session, full_name="Nguyễn Văn Bình")
    for q in ("dang thi ngoc", "ĐẶNG ánh", "ngoc anh"):
        body = (await client.get(ADMIN_USERS, params={"q": q}, headers=as_user(admin))).json()
        assert [u["id"] for u in body["items"]] == [str(dang.id)], q
    body = (await client.get(ADMIN_USERS, params={"q": "100%"}, headers=as_user(admin))).json()
    assert body["items"] == []  # % is a character to find, not a wildcard


async def test_verified_false_lists_officials_waiting_for_verification(client, session, as_user):
    admin = await make_user(session, role=Role.province_admin, province_code="01")
    waiting = await make_user(session, audience=Audience.official)
    await make_user(session, audience=Audience.official, verified=True)
    await make_user(session)
    body = (await client.get(ADMIN_USERS, params={"verified": "false"}, headers=as_user(admin))).json()
    assert [u["id"] for u in body["items"]] == [str(waiting.id)]


async def test_list_users_pages_by_cursor_without_gaps_or_repeats(client, session, as_user):
    admin = await make_user(session, role=Role.ministry_admin)
    users = [admin] + [await make_user(session) for _ in range(4)]
    seen, cursor = [], None
    while True:
        params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        body = (await client.get(ADMIN_USERS, params=params, headers=as_user(admin))).json()
        assert body["total"] == 5 and len(body["items"]) <= 2
        seen += [u["id"] for u in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == [str(u.id) for u in reversed(users)]  # newest first


async def test_list_users_rejects_a_tampered_cursor(client, session, as_user):
    admin = await make_user(session, role=Role.ministry_admin)
    r = await client.get(ADMIN_USERS, params={"cursor": "bm90LWEtY3Vyc29y"}, headers=as_user(admin))
    assert r.status_code == 422 and fields(r) == ["cursor"]


# --- POST /admin/users/{id}/verify-official -----------------------------------------------------------------


def verify_url(user) -> str:
    return f"{ADMIN_USERS}/{user.id}/verify-official"


async def test_verify_official_anonymous_is_401(client, session):
    official = await make_user(session, audience=Audience.official)
    assert (await client.post(verify_url(official))).status_code == 401


@pytest.mark.parametrize("role", [Role.learner, Role.content_admin])
async def test_verify_official_other_roles_are_403(client, session, as_user, role):
    official = await make_user(session, audience=Audience.official)
    user = await make_user(session, role=role)
    assert (await client.post(verify_url(official), headers=as_user(user))).status_code == 403


async def test_province_admin_verifies_an_official_of_their_province(client, session, as_user):
    admin = await make_user(session, role=Role.province_admin, province_code="01")
    official = await make_user(session, audience=Audience.official, province_code="01")
    r = await client.post(verify_url(official), headers=as_user(admin))
    assert r.status_code == 200, r.text
    assert r.json()["official_verified"] is True and r.json()["effective_audience"] == "official"
    me = (await client.get(ME, headers=as_user(official))).json()
    assert me["effective_audience"] == "official"
    again = await client.post(verify_url(official), headers=as_user(admin))
    assert again.status_code == 200
    assert again.json()["official_verified_at"] == r.json()["official_verified_at"]


async def test_province_admin_cannot_see_an_official_of_another_province(client, session, as_user):
    admin = await make_user(session, role=Role.province_admin, province_code="01")
    official = await make_user(session, audience=Audience.official, province_code="79")
    r = await client.post(verify_url(official), headers=as_user(admin))
    assert r.status_code == 404  # the same answer as for a user who does not exist
    missing = await client.post(f"{ADMIN_USERS}/{uuid.uuid4()}/verify-official", headers=as_user(admin))
    assert missing.status_code == 404 and missing.json()["detail"] == r.json()["detail"]


async def test_ministry_admin_verifies_in_any_province_but_not_a_citizen(client, session, as_user):
    admin = await make_user(session, role=Role.ministry_admin, province_code=None)
    official = await make_user(session, audience=Audience.official, province_code="79")
    citizen = await make_user(session, province_code="79")
    assert (await client.post(verify_url(official), headers=as_user(admin))).status_code == 200
    r = await client.post(verify_url(citizen), headers=as_user(admin))
    assert r.status_code == 409 and r.headers["content-type"] == "application/problem+json"
