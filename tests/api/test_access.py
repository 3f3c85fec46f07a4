"""Taking access away (issue 18, item 8): deactivated users and clients, rotated secrets."""

import pytest

from app.models.identity import Role, Scope, ServiceClientCreate
from app.services.identity import access
from app.services.identity import accounts as identity
from app.services.identity.access import ClientStatus
from tests.factories import PASSWORD, auth, make_user, token_for

TOKEN = "/api/v1/auth/token"


@pytest.fixture
def as_user(keyring, settings):
    return lambda user: auth(token_for(keyring, settings, user))


async def client_credentials(session, **fields) -> dict[str, str]:
    data = ServiceClientCreate(name="Cổng thống kê", scopes=[Scope.stats_read], **fields)
    created, secret = await identity.create_service_client(session, data)
    return {"grant_type": "client_credentials", "client_id": created.client_id, "client_secret": secret}


# --- users ---------------------------------------------------------------------------------------------------


async def test_a_deactivated_users_tokens_and_refresh_tokens_stop_at_once(client, session, as_user):
    admin = await make_user(session, role=Role.ministry_admin)
    learner = await make_user(session, phone="+84912000111")
    signed_in = (await client.post(TOKEN, data={"username": "0912000111", "password": PASSWORD})).json()
    headers = auth(signed_in["access_token"])
    assert (await client.get("/api/v1/users/me", headers=headers)).status_code == 200
    r = await client.post(f"/api/v1/admin/users/{learner.id}/deactivate", headers=as_user(admin))
    assert r.status_code == 200 and r.json()["is_active"] is False
    assert (await client.get("/api/v1/users/me", headers=headers)).status_code == 401
    refreshed = await client.post("/api/v1/auth/refresh", json={"refresh_token": signed_in["refresh_token"]})
    assert refreshed.status_code == 401
    again = await client.post(TOKEN, data={"username": "0912000111", "password": PASSWORD})
    assert again.status_code in (400, 401)
    r = await client.post(f"/api/v1/admin/users/{learner.id}/activate", headers=as_user(admin))
    assert r.json()["is_active"] is True


async def test_province_admins_deactivate_only_learners_of_their_province(client, session, as_user):
    admin = await make_user(session, role=Role.province_admin, province_code="01")
    theirs = await make_user(session, province_code="01")
    elsewhere = await make_user(session, province_code="79")
    colleague = await make_user(session, role=Role.province_admin, province_code="01")
    assert (await client.post(f"/api/v1/admin/users/{theirs.id}/deactivate",
                              headers=as_user(admin))).status_code == 200
    for other in (elsewhere, colleague):
        r = await client.post(f"/api/v1/admin/users/{other.id}/deactivate", headers=as_user(admin))
        assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json"


async def test_learners_cannot_deactivate_and_nobody_deactivates_themselves(client, session, as_user):
    learner = await make_user(session)
    admin = await make_user(session, role=Role.ministry_admin)
    assert (await client.post(f"/api/v1/admin/users/{admin.id}/deactivate",
                              headers=as_user(learner))).status_code == 403
    assert (await client.post(f"/api/v1/admin/users/{admin.id}/deactivate",
                              headers=as_user(admin))).status_code == 409


# --- service clients -----------------------------------------------------------------------------------------


async def test_a_deactivated_clients_tokens_stop_working_before_they_expire(client, session, as_user):
    admin = await make_user(session, role=Role.ministry_admin)
    credentials = await client_credentials(session)
    token = (await client.post(TOKEN, data=credentials)).json()["access_token"]
    assert (await client.get("/api/v1/stats/summary", headers=auth(token))).status_code == 200
    r = await client.post(f"/api/v1/admin/clients/{credentials['client_id']}/deactivate", headers=as_user(admin))
    assert r.status_code == 200 and r.json()["is_active"] is False and "secret" not in r.text
    assert (await client.get("/api/v1/stats/summary", headers=auth(token))).status_code == 401
    assert (await client.post(TOKEN, data=credentials)).status_code in (400, 401)


async def test_another_worker_stops_a_deactivated_client_within_its_ttl(db, session):
    """A worker that checked the client a moment ago keeps its answer for at most the TTL, then reads again."""
    credentials = await client_credentials(session)
    now = [0.0]
    status = ClientStatus(ttl_s=5, clock=lambda: now[0])

    assert await status.is_active(db, credentials["client_id"]) is True
    await access.set_client_active(session, ClientStatus(), credentials["client_id"], active=False)  # on another
    now[0] = 4.9
    assert await status.is_active(db, credentials["client_id"]) is True
    now[0] = 5.1
    assert await status.is_active(db, credentials["client_id"]) is False


async def test_rotating_a_secret_refuses_the_old_one_and_shows_the_new_one_once(client, session, as_user):
    admin = await make_user(session, role=Role.ministry_admin)
    credentials = await client_credentials(session)
    r = await client.post(f"/api/v1/admin/clients/{credentials['client_id']}/secret", headers=as_user(admin))
    assert r.status_code == 200
    new_secret = r.json()["client_secret"]
    assert new_secret != credentials["client_secret"]
    assert (await client.post(TOKEN, data=credentials)).status_code in (400, 401)
    assert (await client.post(TOKEN, data=credentials | {"client_secret": new_secret})).status_code == 200


async def test_only_ministry_admins_manage_clients(client, session, as_user):
    credentials = await client_credentials(session)
    for role, province in ((Role.province_admin, "01"), (Role.content_admin, None)):
        other = await make_user(session, role=role, province_code=province)
        for action in ("deactivate", "secret"):
            r = await client.post(f"/api/v1/admin/clients/{credentials['client_id']}/{action}",
                                  headers=as_user(other))
            assert r.status_code == 403
    admin = await make_user(session, role=Role.ministry_admin)
    assert (await client.post("/api/v1/admin/clients/khong-co/deactivate", headers=as_user(admin))).status_code == 404
