import re

from sqlalchemy import text


async def test_healthz(client):
    r = await client.get("/healthz")
    assert r.status_code == 200 and r.json() == {"status": "ok"}


async def test_readyz_when_database_answers(client):
    r = await client.get("/readyz")
    assert r.status_code == 200


async def test_readyz_503_problem_when_database_unreachable(app, client):
    from app.core.db import Database

    broken = app.state.settings.model_copy(
        update={"database_url": "postgresql+asyncpg://nobody@127.0.0.1:1/none"})
    app.state.db = Database(broken)
    r = await client.get("/readyz")
    assert r.status_code == 503
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["status"] == 503


async def test_request_id_is_returned_and_accepted(client):
    r = await client.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert r.headers["x-request-id"] == "abc-123"
    r = await client.get("/healthz")
    assert re.fullmatch(r"[0-9a-f]{32}", r.headers["x-request-id"])


async def test_metrics_count_requests_by_route_template(client):
    await client.get("/api/v1/provinces")
    body = (await client.get("/metrics")).text
    assert 'route="/api/v1/provinces"' in body


async def test_jwks_publishes_rsa_keys(client):
    keys = (await client.get("/.well-known/jwks.json")).json()["keys"]
    assert keys and all(k["kty"] == "RSA" and k["alg"] == "RS256" and k["kid"] for k in keys)


async def test_unknown_route_is_problem_json_in_vietnamese_or_english(client):
    r = await client.get("/nope")
    assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json"
    body = r.json()
    assert body["type"] and body["title"] and body["instance"] == "/nope"
    assert "Không có địa chỉ" in body["detail"]
    r = await client.get("/nope", headers={"Accept-Language": "en-US,en;q=0.9"})
    assert "There is no route" in r.json()["detail"]


async def test_wrong_method_is_405_problem(client):
    r = await client.delete("/healthz")
    assert r.status_code == 405 and r.headers["content-type"] == "application/problem+json"


async def test_unexpected_error_is_500_problem_with_request_id_and_no_trace(app, settings, db, keyring):
    import httpx
    from fastapi import APIRouter

    router = APIRouter()

    @router.get("/boom")
    async def boom():
        raise RuntimeError("secret internals")

    app.include_router(router)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        r = await c.get("/boom", headers={"X-Request-ID": "req-42"})
    assert r.status_code == 500 and r.headers["content-type"] == "application/problem+json"
    assert "req-42" in r.json()["detail"] and "secret internals" not in r.text


async def test_migrated_database_has_provinces(session):
    current = (await session.execute(text("SELECT count(*) FROM admin_unit WHERE valid_to IS NULL"))).scalar()
    former = (await session.execute(text("SELECT count(*) FROM admin_unit WHERE valid_to IS NOT NULL"))).scalar()
    assert (current, former) == (34, 63)


async def test_cors_allows_listed_spa_origins_with_authorization_header(settings, db, keyring):
    import httpx

    from tests.conftest import make_app

    app = make_app(settings.model_copy(update={"cors_origins": ["https://hoc.example.gov.vn"]}), db, keyring)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as c:
        preflight = {"Origin": "https://hoc.example.gov.vn", "Access-Control-Request-Method": "GET",
                     "Access-Control-Request-Headers": "authorization"}
        r = await c.options("/api/v1/provinces", headers=preflight)
        assert r.headers["access-control-allow-origin"] == "https://hoc.example.gov.vn"
        assert "authorization" in r.headers["access-control-allow-headers"].lower()
        r = await c.options("/api/v1/provinces", headers=preflight | {"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in r.headers


async def test_metrics_need_the_metrics_token_when_one_is_set(settings, db, keyring):
    import httpx

    from tests.conftest import make_app
    guarded = make_app(settings.model_copy(update={"metrics_token": "m" * 40}), db, keyring)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=guarded), base_url="http://test") as c:
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "m" * 40}):
            r = await c.get("/metrics", headers=headers)
            assert r.status_code == 401 and r.headers["content-type"] == "application/problem+json"
        r = await c.get("/metrics", headers={"Authorization": "Bearer " + "m" * 40})
        assert r.status_code == 200 and "hocso_http_requests_total" in r.text
