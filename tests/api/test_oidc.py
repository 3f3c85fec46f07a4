"""Signing in with the national e-ID over OpenID Connect, against a mock provider served on loopback."""

import secrets
import uuid
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlalchemy import func, select

from app.core.security import keyed_hash
from app.models.base import utcnow
from app.models.identity import Audience, User
from app.models.verification import LinkedIdentity
from app.services.identity.oidc_flow import s256
from tests.factories import PASSWORD, auth, make_course, make_user, sms, token_for
from tests.oidc_provider import Person, mock_provider

SPA = "https://hoc.hocso.test/dang-nhap/ket-qua"
MOBILE = "vn.gov.hocso.app:/oidc-callback"
START = "/api/v1/auth/oidc/vneid/start"
PROBLEM = "application/problem+json"


@pytest.fixture(scope="module")
async def provider():
    async with mock_provider() as provider:
        yield provider


@pytest.fixture
def settings(settings, provider):
    provider.tamper, provider.down, provider.person = None, False, Person()
    settings.oidc_providers = [provider.config()]
    settings.oidc_return_urls = [SPA, MOBILE]
    settings.sms_sender = "file"  # phone codes are read back from the outbox
    return settings


async def start(client, *, return_to=SPA, headers=None, **extra) -> tuple[httpx.Response, str]:
    verifier = secrets.token_urlsafe(48)
    answer = await client.post(START, json={"return_to": return_to, "handoff_challenge": s256(verifier)} | extra,
                               headers=headers or {})
    return answer, verifier


async def at_provider(authorization_url: str) -> str:
    """The browser at the provider: it signs the person in and redirects back to HocSo's callback."""
    async with httpx.AsyncClient() as browser:
        answer = await browser.get(authorization_url)
    assert answer.status_code == 302, answer.text
    return answer.headers["location"]


async def sign_in(client, **kwargs) -> tuple[httpx.Response, str, str]:
    """Start, visit the provider, come back: (the callback's answer, the callback URL, the verifier)."""
    started, verifier = await start(client, **kwargs)
    assert started.status_code == 200, started.text
    callback = await at_provider(started.json()["authorization_url"])
    return await client.get(callback), callback, verifier


def handoff_code(answer: httpx.Response, return_to: str = SPA) -> str:
    assert answer.status_code == 303, answer.text
    target = answer.headers["location"]
    assert target.startswith(return_to + "#") and "access_token" not in target
    return parse_qs(urlsplit(target).fragment)["code"][0]


async def exchange(client, code: str, verifier: str) -> httpx.Response:
    return await client.post("/api/v1/auth/oidc/token", json={"code": code, "code_verifier": verifier})


async def users_named(session, hashed: str) -> int:
    return (await session.execute(select(func.count()).select_from(User)
                                  .where(User.national_id_hash == hashed))).scalar_one()


def national_hash(settings, number: str) -> str:
    return keyed_hash(settings.secret_key, "national_id", number)


# --- the happy paths ------------------------------------------------------------------------------------------


async def test_providers_are_listed_for_sign_in_pages(client):
    answer = await client.get("/api/v1/auth/oidc/providers")
    assert answer.json() == [{"name": "vneid", "title": "VNeID (mock)", "assurance": "eid"}]


async def test_a_citizen_signs_in_from_an_spa_and_gets_hocso_tokens(client, session, settings, provider):
    started, verifier = await start(client)
    url = urlsplit(started.json()["authorization_url"])
    asked = parse_qs(url.query)
    assert asked["code_challenge_method"] == ["S256"] and asked["acr_values"] == ["loa2"]
    assert {"state", "nonce", "code_challenge"} <= set(asked) and asked["scope"] == ["openid profile"]
    answer = await client.get(await at_provider(started.json()["authorization_url"]))
    tokens = await exchange(client, handoff_code(answer), verifier)
    assert tokens.status_code == 200 and tokens.headers["cache-control"] == "no-store"
    assert {"access_token", "refresh_token"} <= set(tokens.json())
    me = (await client.get("/api/v1/users/me", headers=auth(tokens.json()["access_token"]))).json()
    assert (me["full_name"], me["assurance"], me["audience"]) == ("Nguyễn Văn Dân", "eid", "citizen")
    user = await session.get(User, uuid.UUID(me["id"]))
    assert user.national_id_hash == national_hash(settings, "001099012345")
    assert str(user.birth_date) == "1999-05-17" and user.password_hash is None
    # The refresh token works like any other.
    refreshed = await client.post("/api/v1/auth/refresh", json={"refresh_token": tokens.json()["refresh_token"]})
    assert refreshed.status_code == 200


async def test_a_mobile_app_gets_its_code_on_its_redirect_uri_and_only_its_verifier_redeems_it(client):
    answer, _, verifier = await sign_in(client, return_to=MOBILE)
    code = handoff_code(answer, MOBILE)
    # An app that intercepted the redirect has the code but not the verifier: refused, and the code is spent.
    stolen = await exchange(client, code, secrets.token_urlsafe(48))
    assert stolen.status_code == 400 and stolen.headers["content-type"] == PROBLEM
    assert (await exchange(client, code, verifier)).status_code == 400


async def test_signing_in_again_finds_the_same_account(client, session, settings):
    ids = []
    for _ in range(2):
        answer, _, verifier = await sign_in(client)
        token = (await exchange(client, handoff_code(answer), verifier)).json()["access_token"]
        ids.append((await client.get("/api/v1/users/me", headers=auth(token))).json()["id"])
    assert ids[0] == ids[1]
    assert await users_named(session, national_hash(settings, "001099012345")) == 1


# --- refusals -------------------------------------------------------------------------------------------------


async def test_a_handoff_code_works_once(client):
    answer, _, verifier = await sign_in(client)
    code = handoff_code(answer)
    assert (await exchange(client, code, verifier)).status_code == 200
    again = await exchange(client, code, verifier)
    assert again.status_code == 400 and again.json()["type"] == "/problems/oidc-handoff-invalid"


async def test_an_unknown_state_is_refused(client, provider):
    started, _ = await start(client)
    callback = await at_provider(started.json()["authorization_url"])
    code = parse_qs(urlsplit(callback).query)["code"][0]
    forged = await client.get("/api/v1/auth/oidc/vneid/callback", params={"code": code, "state": "forged-state"})
    assert forged.status_code == 400 and forged.headers["content-type"] == PROBLEM
    assert forged.json()["type"] == "/problems/oidc-state-invalid"
    missing = await client.get("/api/v1/auth/oidc/vneid/callback", params={"code": code})
    assert missing.status_code == 400


async def test_a_replayed_answer_is_refused_and_signs_nobody_in(client, provider):
    first, callback, _ = await sign_in(client)
    assert first.status_code == 303
    requests_before = provider.token_requests
    replay = await client.get(callback)
    assert replay.status_code == 400 and replay.json()["type"] == "/problems/oidc-state-invalid"
    assert provider.token_requests == requests_before  # refused before the provider was asked


async def test_a_code_replayed_under_a_fresh_state_is_refused_by_the_provider(client, provider):
    _, used_callback, _ = await sign_in(client)
    used_code = parse_qs(urlsplit(used_callback).query)["code"][0]
    started, _ = await start(client)
    fresh = parse_qs(urlsplit(await at_provider(started.json()["authorization_url"])).query)["state"][0]
    replay = await client.get("/api/v1/auth/oidc/vneid/callback", params={"code": used_code, "state": fresh})
    assert replay.status_code == 400 and replay.json()["type"] == "/problems/oidc-code-rejected"


INVALID = ("oidc-id-token-invalid", "id_token")


@pytest.mark.parametrize(("tamper", "reason", "refusal"), [
    ("wrong_nonce", "'nonce'", INVALID), ("wrong_aud", "'aud'", INVALID), ("wrong_iss", "'iss'", INVALID),
    ("expired", "expired", INVALID), ("alg_none", "unsupported_algorithm", INVALID),
    ("unknown_kid", "unknown kid", INVALID), ("other_key", "bad_signature", INVALID),
    ("low_acr", "mức bảo đảm loa1", ("oidc-acr-insufficient", "acr"))])
async def test_forged_id_tokens_are_refused_with_problem_json(client, session, settings, provider, tamper, reason,
                                                              refusal):
    provider.tamper = tamper
    answer, callback, _ = await sign_in(client)
    assert answer.status_code == 400, answer.text
    assert answer.headers["content-type"] == PROBLEM
    body = answer.json()
    assert (body["type"], body["errors"][0]["field"]) == (f"/problems/{refusal[0]}", refusal[1])
    assert reason in body["detail"]
    assert await users_named(session, national_hash(settings, "001099012345")) == 0
    # The state is used up by the refusal: the same answer cannot be tried again.
    provider.tamper = None
    assert (await client.get(callback)).json()["type"] == "/problems/oidc-state-invalid"


async def test_the_provider_refusing_the_person_is_a_problem(client):
    started, _ = await start(client)
    state = parse_qs(urlsplit(started.json()["authorization_url"]).query)["state"][0]
    answer = await client.get("/api/v1/auth/oidc/vneid/callback",
                              params={"state": state, "error": "access_denied"})
    assert answer.status_code == 400 and "access_denied" in answer.json()["detail"]


async def test_return_addresses_must_be_allowed(client):
    answer, _ = await start(client, return_to="https://evil.example/steal")
    assert answer.status_code == 422 and answer.json()["errors"][0]["field"] == "return_to"
    unknown = await client.post("/api/v1/auth/oidc/keycloak/start",
                                json={"return_to": SPA, "handoff_challenge": s256("x" * 43)})
    assert unknown.status_code == 404


async def test_a_provider_that_is_down_is_a_503_and_passwords_still_work(client, session, provider):
    provider.down = True
    answer, _ = await start(client, headers={"Accept-Language": "en"})
    assert answer.status_code == 503 and answer.headers["content-type"] == PROBLEM
    assert "password" in answer.json()["detail"]
    user = await make_user(session, phone="+84912000111")
    signed_in = await client.post("/api/v1/auth/token", data={"username": "0912 000 111", "password": PASSWORD})
    assert signed_in.status_code == 200 and user.id


async def test_a_provider_down_at_the_code_exchange_is_a_503_with_retry_after_and_phone_codes_still_work(
        client, session, settings, provider):
    started, _ = await start(client)
    callback = await at_provider(started.json()["authorization_url"])
    provider.down = True  # it signed the person in, then stopped answering before HocSo redeemed the code
    answer = await client.get(callback)
    assert answer.status_code == 503 and answer.headers["content-type"] == PROBLEM
    assert answer.json()["type"] == "/problems/oidc-provider-unavailable"
    assert int(answer.headers["retry-after"]) > 0
    user = await make_user(session, phone="+84912000444")
    assert (await client.post("/api/v1/auth/otp/send", json={"phone": "0912000444"})).status_code == 202
    signed_in = await client.post("/api/v1/auth/otp/token",
                                  json={"phone": "0912000444", "code": sms.last_code(settings, "+84912000444")})
    assert signed_in.status_code == 200
    me = await client.get("/api/v1/users/me", headers=auth(signed_in.json()["access_token"]))
    assert me.json()["id"] == str(user.id)


# --- one person, one account ------------------------------------------------------------------------------------


async def test_linking_to_a_phone_account_needs_its_password(client, session, settings, keyring):
    user = await make_user(session, phone="+84912000222")
    headers = auth(token_for(keyring, settings, user))
    unconfirmed, _ = await start(client, headers=headers)
    assert unconfirmed.status_code == 422
    wrong, _ = await start(client, headers=headers, password="not-the-password")
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["field"] == "password"
    answer, _, verifier = await sign_in(client, headers=headers, password=PASSWORD)
    assert (await exchange(client, handoff_code(answer), verifier)).status_code == 200
    await session.refresh(user)
    assert user.national_id_hash == national_hash(settings, "001099012345") and user.assurance == "eid"
    # From now on the e-ID alone signs in to that same account.
    answer, _, verifier = await sign_in(client)
    token = (await exchange(client, handoff_code(answer), verifier)).json()["access_token"]
    assert (await client.get("/api/v1/users/me", headers=auth(token))).json()["id"] == str(user.id)


async def test_linking_can_be_confirmed_by_a_code_sent_to_the_accounts_phone(client, session, settings, keyring):
    user = await make_user(session, phone="+84912000555")
    headers = auth(token_for(keyring, settings, user))
    assert (await client.post("/api/v1/users/me/phone/code", headers=headers)).status_code == 202
    wrong, _ = await start(client, headers=headers, phone_code="000000")
    assert wrong.status_code == 400 and wrong.headers["content-type"] == PROBLEM
    answer, _, verifier = await sign_in(client, headers=headers, phone_code=sms.last_code(settings, user.phone))
    assert (await exchange(client, handoff_code(answer), verifier)).status_code == 200
    await session.refresh(user)
    assert user.national_id_hash == national_hash(settings, "001099012345") and user.assurance == "eid"


async def test_an_official_signed_in_by_e_id_still_needs_verification_for_official_only_courses(
        client, session, settings, keyring):
    official = await make_user(session, audience=Audience.official, verified=False)
    linked, _, verifier = await sign_in(client, headers=auth(token_for(keyring, settings, official)),
                                        password=PASSWORD)
    assert (await exchange(client, handoff_code(linked), verifier)).status_code == 200
    answer, _, verifier = await sign_in(client)  # later, by e-ID alone
    headers = auth((await exchange(client, handoff_code(answer), verifier)).json()["access_token"])
    me = (await client.get("/api/v1/users/me", headers=headers)).json()
    assert (me["id"], me["assurance"]) == (str(official.id), "eid")
    rows = await make_course(session, audiences=["official"])
    refused = await client.post(f"/api/v1/courses/{rows.course.slug}/enrollments", headers=headers)
    assert refused.status_code == 403 and refused.json()["type"] == "/problems/course-closed-to-audience"


async def test_wrong_linking_passwords_count_as_failed_sign_ins_of_the_account(client, session, settings, keyring,
                                                                               monkeypatch):
    settings.login_max_failures = 3  # fewer argon2 checks; the failure after them locks the account for 1 s
    now = utcnow()
    monkeypatch.setattr("app.services.identity.sign_in.utcnow", lambda: now)  # the 1 s lock lasts the test
    user = await make_user(session, phone="+84912000333")
    headers = auth(token_for(keyring, settings, user))
    for _ in range(settings.login_max_failures + 1):
        wrong, _ = await start(client, headers=headers, password="guess-again")
        assert wrong.status_code == 422 and wrong.headers["content-type"] == PROBLEM
    right, _ = await start(client, headers=headers, password=PASSWORD)
    assert right.status_code == 429 and int(right.headers["retry-after"]) > 0
    assert right.json()["type"] == "/problems/sign-in-locked"
    # The same lock holds the token endpoint: linking is no way round it.
    signed_in = await client.post("/api/v1/auth/token", data={"username": "0912000333", "password": PASSWORD})
    assert signed_in.status_code == 429


async def test_an_e_id_already_on_another_account_cannot_be_linked(client, session, settings, keyring):
    answer, _, verifier = await sign_in(client)  # creates the e-ID's own account
    assert (await exchange(client, handoff_code(answer), verifier)).status_code == 200
    other = await make_user(session)
    answer, _, _ = await sign_in(client, headers=auth(token_for(keyring, settings, other)), password=PASSWORD)
    assert answer.status_code == 409 and answer.json()["type"] == "/problems/eid-linked-elsewhere"
    await session.refresh(other)
    assert other.national_id_hash is None and other.assurance == "none"


async def test_an_account_linked_to_one_person_refuses_another_persons_e_id(client, session, settings, keyring,
                                                                            provider):
    user = await make_user(session)
    user.national_id_hash = national_hash(settings, "079188000321")
    await session.flush()
    answer, _, _ = await sign_in(client, headers=auth(token_for(keyring, settings, user)), password=PASSWORD)
    assert answer.status_code == 409 and answer.json()["type"] == "/problems/eid-other-person"
    count = (await session.execute(select(func.count()).select_from(LinkedIdentity)
                                   .where(LinkedIdentity.user_id == user.id))).scalar_one()
    assert count == 0
