"""The yearly programme targets: any admin reads them; only ministry admins change them."""

from app.models.identity import Role
from tests.factories import auth, make_user, token_for

URL = "/api/v1/admin/programmes"


async def headers_for(session, keyring, settings, role, **extra):
    return auth(token_for(keyring, settings, await make_user(session, role=role, **extra)))


async def test_anonymous_callers_are_401(client):
    assert (await client.get(f"{URL}/2026")).status_code == 401
    r = await client.put(f"{URL}/2026", json={"official_target": 1, "citizen_target": 1})
    assert r.status_code == 401


async def test_learners_are_403_and_only_ministry_admins_may_change_targets(client, session, keyring,
                                                                            settings):
    body = {"official_target": 12_000, "citizen_target": 11_000_000}
    learner = await headers_for(session, keyring, settings, Role.learner)
    province = await headers_for(session, keyring, settings, Role.province_admin, province_code="19")
    assert (await client.get(f"{URL}/2026", headers=learner)).status_code == 403
    assert (await client.put(f"{URL}/2026", json=body, headers=learner)).status_code == 403
    assert (await client.put(f"{URL}/2026", json=body, headers=province)).status_code == 403
    assert (await client.get(f"{URL}/2026", headers=province)).json()["official_target"] == 10_000


async def test_a_ministry_admin_sets_a_years_targets(client, session, keyring, settings):
    ministry = await headers_for(session, keyring, settings, Role.ministry_admin)
    r = await client.put(f"{URL}/2027", json={"official_target": 12_000, "citizen_target": 11_000_000},
                         headers=ministry)
    assert r.status_code == 200
    assert (r.json()["official_target"], r.json()["citizen_target"]) == (12_000, 11_000_000)
    national = (await client.get("/api/v1/stats/national", params={"year": 2027})).json()["audiences"]
    assert national["official"]["target"] == 12_000
    listed = (await client.get(URL, headers=ministry)).json()
    assert [p["year"] for p in listed if p["year"] == 2027] == [2027]


async def test_targets_must_be_positive_and_years_in_range(client, session, keyring, settings):
    ministry = await headers_for(session, keyring, settings, Role.ministry_admin)
    r = await client.put(f"{URL}/2027", json={"official_target": 0, "citizen_target": 5}, headers=ministry)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "official_target"
    r = await client.put(f"{URL}/1990", json={"official_target": 1, "citizen_target": 5}, headers=ministry)
    assert r.status_code == 422
