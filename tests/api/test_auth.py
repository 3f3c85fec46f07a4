"""Registration, sign-in, refresh, sign-out, service clients, throttling and token forgeries."""

import base64
import hashlib
import hmac
import json
import logging
from datetime import timedelta

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jose import jwt
from sqlalchemy import select, update

from app.core.security import access_claims
from app.models.base import utcnow
from app.models.identity import RefreshToken, Role, Scope, ServiceClientCreate, User
from app.services.identity import accounts as identity
from tests.conftest import make_app
from tests.factories import PASSWORD, auth, make_user, service_token, token_for

REGISTER = "/api/v1/auth/register"
TOKEN = "/api/v1/auth/token"
STRONG = "hoc-so-moi-ngay-2026"


def registration(**overrides) -> dict:
    body = {"phone": "0912 345 678", "password": STRONG, "full_name": "Nguyễn Văn An", "province_code": "01",
            "audience": "citizen"}
    return {k: v for k, v in (body | overrides).items() if v is not None}


async def sign_in(client: httpx.AsyncClient, username: str, password: str = PASSWORD) -> httpx.Response:
    return await client.post(TOKEN, data={"username": username, "password": password})


async def refresh(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.post("/api/v1/auth/refresh", json={"refresh_token": token})


def errors_by_field(response: httpx.Response) -> dict[str, str]:
    return {e["field"]: e["message"] for e in response.json()["errors"]}


# --- register ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("phone", ["0912 345 678", "+84 912345678", "84912345678", "(+84) 91-234-5678"])
async def test_register_stores_any_vietnamese_phone_form_as_e164(client, phone):
    r = await client.post(REGISTER, json=registration(phone=phone))
    assert r.status_code == 201, r.text
    assert r.json()["phone"] == "+84912345678"


async def test_register_normalises_name_to_nfc_and_email_to_lower_case(client):
    decomposed = "  Nguyê\u0303n   Thi\u0323 Ho\u0302\u0300ng  "
    r = await client.post(REGISTER, json=registration(phone=None, email="Hong.Nguyen@Example.VN",
                                                      full_name=decomposed))
    assert r.status_code == 201, r.text
    assert r.json()["full_name"] == "Nguyễn Thị Hồng"
    assert r.json()["email"] == "hong.nguyen@example.vn"


async def test_register_official_starts_unverified_and_counts_as_citizen(client):
    r = await client.post(REGISTER, json=registration(audience="official", agency="Sở Nội vụ Hà Nội"))
    assert r.status_code == 201
    body = r.json()
    assert body["audience"] == "official" and body["official_verified"] is False
    assert body["effective_audience"] == "citizen" and body["role"] == "learner"


async def test_register_rejects_invalid_phone_naming_the_field_in_the_callers_language(client):
    r = await client.post(REGISTER, json=registration(phone="0123"))
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    assert "Số điện thoại" in errors_by_field(r)["phone"]
    r = await client.post(REGISTER, json=registration(phone="+44 20 7183 8750"),
                          headers={"Accept-Language": "en"})
    assert errors_by_field(r)["phone"] == "Not a valid Vietnamese mobile number."


@pytest.mark.parametrize(("password", "message"), [
    ("ngan7", "at least 8 characters"),
    ("password1", "too common"),
    ("IloveYou", "too common"),
])
async def test_register_rejects_weak_passwords_with_a_reason(client, password, message):
    r = await client.post(REGISTER, json=registration(password=password), headers={"Accept-Language": "en"})
    assert r.status_code == 422
    assert message in errors_by_field(r)["password"]


async def test_register_reports_every_bad_field_at_once(client):
    r = await client.post(REGISTER, json={"password": "x", "full_name": " ", "province_code": "01",
                                          "audience": "official"}, headers={"Accept-Language": "en"})
    assert r.status_code == 422
    assert set(errors_by_field(r)) == {"email", "password", "full_name", "agency"}
    assert errors_by_field(r)["email"] == "Give a phone number or an e-mail address."


async def test_register_accepts_only_current_provinces(client):
    r = await client.post(REGISTER, json=registration(province_code="02"))  # Hà Giang, merged in 2025
    assert r.status_code == 422
    assert "02" in errors_by_field(r)["province_code"]


async def test_register_refuses_a_role_or_other_unknown_field(client):
    r = await client.post(REGISTER, json=registration(role="ministry_admin"))
    assert r.status_code == 422 and "role" in errors_by_field(r)


async def test_register_duplicate_phone_in_another_form_is_409_naming_phone(client):
    assert (await client.post(REGISTER, json=registration())).status_code == 201
    r = await client.post(REGISTER, json=registration(phone="+84912345678", email="an@example.vn"))
    assert r.status_code == 409 and r.headers["content-type"] == "application/problem+json"
    assert list(errors_by_field(r)) == ["phone"]


async def test_register_duplicate_email_is_409_naming_email(client, session):
    await make_user(session, email="an@example.vn")
    r = await client.post(REGISTER, json=registration(email="AN@example.vn"))
    assert r.status_code == 409 and list(errors_by_field(r)) == ["email"]


# --- sign in (password grant) -------------------------------------------------------------------------------


async def test_sign_in_by_phone_in_any_form_returns_a_signed_token_pair(client, keyring, settings):
    await client.post(REGISTER, json=registration())
    r = await sign_in(client, "84 912 345 678", STRONG)
    assert r.status_code == 200, r.text
    assert r.headers["cache-control"] == "no-store"
    body = r.json()
    assert body["token_type"] == "bearer" and body["expires_in"] == 900 and body["refresh_token"]
    assert jwt.get_unverified_header(body["access_token"])["kid"] == keyring.signing.kid
    claims = keyring.decode(body["access_token"], audience=settings.jwt_audience, issuer=settings.jwt_issuer)
    assert claims["role"] == "learner" and claims["exp"] - claims["iat"] == 900 and claims["jti"]
    me = await client.get("/api/v1/users/me", headers=auth(body["access_token"]))
    assert me.status_code == 200 and me.json()["id"] == claims["sub"]


async def test_sign_in_by_email_ignores_case(client, session):
    await make_user(session, email="binh@example.vn")
    assert (await sign_in(client, "Binh@Example.vn")).status_code == 200


@pytest.mark.parametrize("username", ["binh@example.vn", "nobody@example.vn", "0987 654 321", "not a login"])
async def test_wrong_password_or_unknown_account_is_the_same_401_problem(client, session, username):
    await make_user(session, email="binh@example.vn")
    r = await sign_in(client, username, "wrong-password")
    assert r.status_code == 401 and r.headers["content-type"] == "application/problem+json"
    assert r.headers["www-authenticate"].startswith("Bearer")
    assert r.json()["type"] == "/problems/invalid-credentials"


async def test_deactivated_account_cannot_sign_in(client, session):
    user = await make_user(session)
    user.is_active = False
    await session.flush()
    assert (await sign_in(client, user.email)).status_code == 401


async def test_sign_in_without_password_is_422(client):
    r = await client.post(TOKEN, data={"username": "an@example.vn"})
    assert r.status_code == 422 and "password" in errors_by_field(r)


# --- refresh and sign out -----------------------------------------------------------------------------------


async def test_refresh_returns_a_new_pair_and_the_old_token_stops_working(client, session):
    user = await make_user(session)
    first = (await sign_in(client, user.email)).json()
    r = await client.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
    second = r.json()
    assert second["refresh_token"] != first["refresh_token"] and second["access_token"]


async def test_reusing_a_rotated_refresh_token_revokes_the_whole_family(client, session):
    user = await make_user(session)
    first = (await sign_in(client, user.email)).json()["refresh_token"]
    second = (await refresh(client, first)).json()["refresh_token"]
    other_sign_in = (await sign_in(client, user.email)).json()["refresh_token"]

    reuse = await client.post("/api/v1/auth/refresh", json={"refresh_token": first})
    assert reuse.status_code == 401 and reuse.json()["type"] == "/problems/refresh-token-reused"
    # The thief's copy is dead, and so is the owner's newer token of that family...
    assert (await client.post("/api/v1/auth/refresh", json={"refresh_token": second})).status_code == 401
    # ...but a separate sign-in (another device) keeps working.
    assert (await refresh(client, other_sign_in)).status_code == 200


async def test_expired_refresh_token_is_401(client, session):
    user = await make_user(session)
    refresh = (await sign_in(client, user.email)).json()["refresh_token"]
    await session.execute(update(RefreshToken).values(expires_at=utcnow() - timedelta(seconds=1)))
    r = await client.post("/api/v1/auth/refresh", json={"refresh_token": refresh})
    assert r.status_code == 401 and r.json()["type"] == "/problems/invalid-refresh-token"


async def test_logout_revokes_the_family_and_always_answers_204(client, session):
    user = await make_user(session)
    first = (await sign_in(client, user.email)).json()["refresh_token"]
    second = (await refresh(client, first)).json()["refresh_token"]
    assert (await client.post("/api/v1/auth/logout", json={"refresh_token": second})).status_code == 204
    assert (await client.post("/api/v1/auth/refresh", json={"refresh_token": second})).status_code == 401
    assert (await client.post("/api/v1/auth/logout", json={"refresh_token": "unknown"})).status_code == 204


# --- service clients (client credentials) -------------------------------------------------------------------


async def make_client(session, scopes, province=None):
    return await identity.create_service_client(
        session, ServiceClientCreate(name="Cổng thống kê Bộ", scopes=scopes, province_code=province))


async def test_client_credentials_grant_issues_a_scoped_service_token(client, session, keyring, settings):
    sc, secret = await make_client(session, [Scope.stats_read, Scope.completions_read], province="79")
    r = await client.post(TOKEN, data={"grant_type": "client_credentials", "client_id": sc.client_id,
                                       "client_secret": secret, "scope": "stats:read"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert "refresh_token" not in body and body["scope"] == "stats:read"
    claims = keyring.decode(body["access_token"], audience=settings.jwt_audience, issuer=settings.jwt_issuer)
    assert claims["role"] == "service" and claims["sub"] == f"client:{sc.client_id}"
    assert claims["scope"] == "stats:read" and claims["province"] == "79"


async def test_client_credentials_by_http_basic_get_all_the_clients_scopes(client, session, keyring,
                                                                          settings):
    sc, secret = await make_client(session, [Scope.completions_write, Scope.stats_read])
    r = await client.post(TOKEN, data={"grant_type": "client_credentials"}, auth=(sc.client_id, secret))
    assert r.status_code == 200, r.text
    claims = keyring.decode(r.json()["access_token"], audience=settings.jwt_audience,
                            issuer=settings.jwt_issuer)
    assert claims["scope"] == "completions:write stats:read" and "province" not in claims


async def test_client_cannot_request_a_scope_it_was_not_granted(client, session):
    sc, secret = await make_client(session, [Scope.stats_read])
    r = await client.post(TOKEN, data={"grant_type": "client_credentials", "client_id": sc.client_id,
                                       "client_secret": secret, "scope": "stats:read completions:write"})
    assert r.status_code == 400 and "completions:write" in r.json()["detail"]


async def test_client_with_a_wrong_secret_is_401(client, session):
    sc, _ = await make_client(session, [Scope.stats_read])
    r = await client.post(TOKEN, data={"grant_type": "client_credentials", "client_id": sc.client_id,
                                       "client_secret": "guess"})
    assert r.status_code == 401 and r.json()["type"] == "/problems/invalid-client"


# --- throttling ---------------------------------------------------------------------------------------------


def client_from(app, ip: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=(ip, 40000)), base_url="http://test")


@pytest.fixture
def settings(settings):
    # The limits are settings (5 per account, 100 per address by default); smaller ones keep these tests'
    # argon2 checks few.
    settings.login_max_failures = 3
    settings.login_ip_max_failures = 20
    return settings


@pytest.fixture
def clock(monkeypatch):
    class Clock:
        now = utcnow()

        def advance(self, seconds: float) -> None:
            self.now += timedelta(seconds=seconds)
    clock = Clock()
    monkeypatch.setattr("app.services.identity.sign_in.utcnow", lambda: clock.now)
    return clock


async def test_failures_past_the_free_ones_lock_the_account_briefly_and_progressively(app, session, settings,
                                                                                      clock):
    user = await make_user(session)
    async with client_from(app, "203.0.113.1") as attacker, client_from(app, "198.51.100.7") as owner:
        for _ in range(settings.login_max_failures):
            assert (await sign_in(attacker, user.email, "guess-again")).status_code == 401
        assert (await sign_in(owner, user.email)).status_code == 200  # free failures lock nothing
        for _ in range(settings.login_max_failures):
            assert (await sign_in(attacker, user.email, "guess-again")).status_code == 401
        waits = []
        for _ in range(4):  # each failure past the free ones locks a little longer: 1, 2, 4, 8 s
            assert (await sign_in(attacker, user.email, "guess-again")).status_code == 401
            r = await sign_in(owner, user.email)  # right password, other address: the account is locked
            assert r.status_code == 429 and r.headers["content-type"] == "application/problem+json"
            waits.append(int(r.headers["retry-after"]))
            clock.advance(waits[-1])
        assert waits == [1, 2, 4, 8]
        assert (await sign_in(owner, user.email)).status_code == 200  # once the short lock ends


async def test_a_lock_never_lasts_longer_than_the_cap(app, session, settings, clock):
    user = await make_user(session)
    async with client_from(app, "203.0.113.5") as attacker, client_from(app, "198.51.100.9") as owner:
        for _ in range(settings.login_max_failures + 12):
            await sign_in(attacker, user.email, "guess-again")
            clock.advance(settings.login_max_lock_s)
        await sign_in(attacker, user.email, "guess-again")
        r = await sign_in(owner, user.email)
    assert r.status_code == 429 and int(r.headers["retry-after"]) <= settings.login_max_lock_s == 60


async def test_six_learners_mistyping_behind_one_address_do_not_stop_a_seventh(app, session, settings):
    learners = [await make_user(session) for _ in range(7)]
    async with client_from(app, "100.64.0.1") as carrier_nat:
        for learner in learners[:6]:
            for _ in range(settings.login_max_failures):
                assert (await sign_in(carrier_nat, learner.email, "mistyped")).status_code == 401
        assert (await sign_in(carrier_nat, learners[6].email)).status_code == 200


async def test_the_same_through_a_configured_proxy_and_each_caller_counted_on_its_own(settings, db, keyring,
                                                                                      session):
    proxied = make_app(settings.model_copy(update={"trusted_proxies": ["10.0.0.0/8"]}), db, keyring)
    learners = [await make_user(session) for _ in range(7)]

    async def via_proxy(forwarded_for: str, email: str, password: str = PASSWORD) -> httpx.Response:
        async with client_from(proxied, "10.1.2.3") as proxy:
            return await proxy.post(TOKEN, data={"username": email, "password": password},
                                    headers={"X-Forwarded-For": forwarded_for})
    for learner in learners[:6]:
        for _ in range(settings.login_max_failures):
            assert (await via_proxy("1.2.3.4, 100.64.0.2", learner.email, "mistyped")).status_code == 401
    assert (await via_proxy("100.64.0.2", learners[6].email)).status_code == 200
    # One address exhausting its budget behind the proxy locks that address, not the proxy's other callers.
    for i in range(settings.login_ip_max_failures + 1):
        await via_proxy("203.0.113.66", f"nobody{i}@example.vn", "guess")
    assert (await via_proxy("203.0.113.66", learners[6].email)).status_code == 429
    assert (await via_proxy("198.51.100.66", learners[6].email)).status_code == 200


async def test_forwarded_for_from_an_untrusted_peer_is_ignored(app, session, settings):
    for i in range(settings.login_ip_max_failures + 1):
        async with client_from(app, "203.0.113.77") as c:
            await c.post(TOKEN, data={"username": f"nobody{i}@example.vn", "password": "guess"},
                         headers={"X-Forwarded-For": f"198.51.100.{i}"})
    user = await make_user(session)
    async with client_from(app, "203.0.113.77") as c:
        r = await c.post(TOKEN, data={"username": user.email, "password": PASSWORD},
                         headers={"X-Forwarded-For": "198.51.100.200"})
    assert r.status_code == 429


async def test_repeated_failures_lock_the_address_across_accounts(app, session, settings):
    user = await make_user(session)
    async with client_from(app, "203.0.113.2") as attacker, client_from(app, "198.51.100.8") as other:
        for i in range(settings.login_ip_max_failures + 1):
            assert (await sign_in(attacker, f"nobody{i}@example.vn", "guess-again")).status_code == 401
        assert (await sign_in(attacker, user.email)).status_code == 429
        assert (await sign_in(other, user.email)).status_code == 200


async def test_registration_is_throttled_per_address(settings, db, keyring):
    limited = make_app(settings.model_copy(update={"register_rate_per_hour": 2}), db, keyring)
    async with client_from(limited, "203.0.113.88") as c, client_from(limited, "198.51.100.88") as other:
        for phone in ("0912000001", "0912000001"):
            assert (await c.post(REGISTER, json=registration(phone=phone))).status_code in (201, 409)
        r = await c.post(REGISTER, json=registration(phone="0912000002"))
        assert r.status_code == 429 and int(r.headers["retry-after"]) > 0
        assert r.headers["content-type"] == "application/problem+json"
        assert (await other.post(REGISTER, json=registration(phone="0912000002"))).status_code == 201


async def test_success_resets_the_account_count(app, session, settings):
    user = await make_user(session)
    below = settings.login_max_failures - 1
    for ip in ("203.0.113.3", "203.0.113.4"):  # two IPs so the per-IP count never reaches the limit
        async with client_from(app, ip) as c:
            for _ in range(below):
                assert (await sign_in(c, user.email, "guess-again")).status_code == 401
            assert (await sign_in(c, user.email)).status_code == 200


# --- tokens the API must refuse (401) or accept without enough rights (403) ---------------------------------


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unsigned(header: dict, claims: dict) -> str:
    return f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"


def other_key_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def forged_tokens(keyring, settings, user) -> dict[str, str]:
    claims = access_claims(settings, subject=str(user.id), role=user.role, ttl_s=900)
    kid = keyring.signing.kid
    hs_input = _unsigned({"alg": "HS256", "typ": "JWT", "kid": kid}, claims)
    hs_sig = hmac.new(keyring.signing.public_pem.encode(), hs_input.encode(), hashlib.sha256).digest()
    return {
        "expired": token_for(keyring, settings, user, ttl_s=-60),
        "other key, same kid": jwt.encode(claims, other_key_pem(), algorithm="RS256", headers={"kid": kid}),
        "alg none": _unsigned({"alg": "none", "typ": "JWT", "kid": kid}, claims) + ".",
        "HS256 with the public key": f"{hs_input}.{_b64(hs_sig)}",
        "wrong audience": keyring.sign(claims | {"aud": "another-api"}),
        "wrong issuer": keyring.sign(claims | {"iss": "https://evil.example"}),
        "unknown kid": jwt.encode(claims, keyring.signing.private_pem, algorithm="RS256",
                                  headers={"kid": "nope"}),
        "garbage": "not-a-jwt",
    }


async def test_forged_expired_and_misdirected_tokens_are_401(client, session, keyring, settings):
    user = await make_user(session)
    for name, token in forged_tokens(keyring, settings, user).items():
        r = await client.get("/api/v1/users/me", headers=auth(token))
        assert r.status_code == 401, name
        assert r.headers["www-authenticate"].startswith("Bearer"), name
        assert r.headers["content-type"] == "application/problem+json", name


async def test_missing_token_is_401(client):
    r = await client.get("/api/v1/users/me")
    assert r.status_code == 401 and "www-authenticate" in r.headers


async def test_token_of_a_deleted_user_is_401(client, session, keyring, settings):
    user = await make_user(session)
    token = token_for(keyring, settings, user)
    await session.delete(user)
    await session.flush()
    assert (await client.get("/api/v1/users/me", headers=auth(token))).status_code == 401


async def test_valid_token_without_the_role_or_a_user_is_403(client, session, keyring, settings):
    learner = await make_user(session)
    content_admin = await make_user(session, role=Role.content_admin)
    for user in (learner, content_admin):
        r = await client.get("/api/v1/admin/users", headers=auth(token_for(keyring, settings, user)))
        assert r.status_code == 403 and r.headers["content-type"] == "application/problem+json"
    service = service_token(keyring, settings, scopes=["stats:read"])
    r = await client.get("/api/v1/users/me", headers=auth(service))
    assert r.status_code == 403 and r.json()["type"] == "/problems/user-token-required"


async def test_registered_password_is_stored_as_argon2id_only(client, session):
    await client.post(REGISTER, json=registration())
    user = (await session.execute(select(User).where(User.phone == "+84912345678"))).scalar_one()
    assert user.password_hash.startswith("$argon2id$") and STRONG not in user.password_hash


async def test_registration_and_sign_in_never_log_credentials_or_contacts(client, caplog):
    caplog.set_level(logging.INFO)  # the production level; DEBUG would add drivers' SQL parameter dumps
    await client.post(REGISTER, json=registration(email="an.nguyen@example.vn"))
    await sign_in(client, "0912 345 678", STRONG)
    await sign_in(client, "an.nguyen@example.vn", "sai-mat-khau-roi")
    logged = "\n".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)
    assert caplog.records  # the access log did run
    for private in (STRONG, "sai-mat-khau-roi", "912345678", "an.nguyen@example.vn", "refresh_token"):
        assert private not in logged
