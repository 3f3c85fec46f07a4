"""Every reproduced 500 of the fuzzing pass is a 4xx problem (issue 18, item 6): crafted cursors, control
characters, times UTC cannot hold, Range and signature garbage; and errors keep X-Request-ID and the connection."""

import asyncio
import base64
import json
from datetime import timedelta

import pytest

from app.models.base import utcnow
from app.models.identity import Role
from tests.browser import live_server
from tests.factories import auth, make_course, make_user, service_token, token_for

PROBLEM = "application/problem+json"


def cursor(*values) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


def assert_problem(r, status: int = 422, field: str | None = None) -> None:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == PROBLEM and r.headers["x-request-id"]
    if field is not None:
        assert field in {e.get("field") for e in r.json()["errors"]}, r.json()


@pytest.fixture
async def learner_headers(session, keyring, settings):
    return auth(token_for(keyring, settings, await make_user(session)))


@pytest.fixture
async def ministry_headers(session, keyring, settings):
    return auth(token_for(keyring, settings, await make_user(session, role=Role.ministry_admin)))


# --- cursors: decoded in one place that checks types and ranges ----------------------------------------------


@pytest.mark.parametrize("params", [
    {"cursor": cursor("newest", "2026-01-01T00:00:00", "0190b0b4-0000-7000-8000-000000000000")},  # naive
    {"cursor": cursor("newest", "0001-01-01T00:00:00+14:00", "0190b0b4-0000-7000-8000-000000000000")},
    {"sort": "popular", "cursor": cursor("popular", 2**40, "0190b0b4-0000-7000-8000-000000000000")},
    {"sort": "popular", "cursor": cursor("popular", True, "0190b0b4-0000-7000-8000-000000000000")},
    {"sort": "title", "cursor": cursor("title", "a\x00b", "0190b0b4-0000-7000-8000-000000000000")},
    {"cursor": cursor("newest", "2026-01-01T00:00:00+07:00", 12)},
])
async def test_crafted_catalogue_cursors_are_422_without_sign_in(client, session, params):
    await make_course(session, lessons=[])
    assert_problem(await client.get("/api/v1/courses", params=params), field="cursor")


async def test_crafted_cursors_on_enrollments_intakes_admin_lists_and_the_feed(client, session, keyring, settings,
                                                                              learner_headers, ministry_headers):
    naive = cursor("2026-01-01T00:00:00", "0190b0b4-0000-7000-8000-000000000000")
    for url, headers in (("/api/v1/me/enrollments", learner_headers), ("/api/v1/intakes", ministry_headers),
                         ("/api/v1/admin/users", ministry_headers)):
        assert_problem(await client.get(url, params={"cursor": naive}, headers=headers), field="cursor")
    feed = auth(service_token(keyring, settings, scopes=["completions:read"]))
    for bad in (cursor(2**70, 1), cursor(1, -(2**64)), cursor(1.5, 2), cursor(1)):
        assert_problem(await client.get("/api/v1/completions", params={"cursor": bad}, headers=feed),
                       field="cursor")


# --- control characters: refused at the edge, once ------------------------------------------------------------


@pytest.mark.parametrize("url, field", [
    ("/api/v1/courses?q=%00", "q"), ("/api/v1/courses?q=ky%01nang", "q"), ("/api/v1/courses/a%00b", "path"),
    ("/api/v1/provinces?include_former=%00", "include_former"), ("/verify/AB%00CD", "path"),
])
async def test_control_characters_in_paths_and_queries_are_422(client, url, field):
    assert_problem(await client.get(url), field=field)


async def test_control_characters_in_admin_searches_stats_and_feed_filters_are_422(client, keyring, settings,
                                                                                  ministry_headers):
    assert_problem(await client.get("/api/v1/admin/users?q=%00", headers=ministry_headers), field="q")
    stats = auth(service_token(keyring, settings, scopes=["stats:read", "completions:read"]))
    for url in ("/api/v1/stats/summary?course=a%00", "/api/v1/completions?course=%00",
                "/api/v1/completions/export?course=%00"):
        assert_problem(await client.get(url, headers=stats), field="course")


async def test_nul_in_json_bodies_is_422_naming_the_field(client, session, keyring, settings, ministry_headers):
    r = await client.post("/api/v1/auth/register", json={
        "phone": "0912345678", "password": "mot-mat-khau-dai", "full_name": "a\u0000b",
        "audience": "citizen", "province_code": "01"})
    assert_problem(r, field="full_name")
    course = (await make_course(session, lessons=[])).course
    opens = utcnow()
    r = await client.post("/api/v1/intakes", headers=ministry_headers, json={
        "name": "Đợt\u0000", "courses": [course.slug], "province_code": "01", "opens_at": opens.isoformat(),
        "deadline": (opens + timedelta(days=30)).isoformat()})
    assert_problem(r, field="name")
    partner = auth(service_token(keyring, settings, scopes=["completions:write"]))
    r = await client.post("/api/v1/completions/batch", headers=partner, json={"items": [
        {"phone": "0912345678", "full_name": "x", "audience": "citizen", "province_code": "01",
         "course": course.slug, "external_ref": "r", "agency": "\u0000"}]})
    assert_problem(r, field="items.0.agency")


async def test_lone_surrogates_and_escaped_backslashes(client, session, ministry_headers):
    raw = '{"phone": "0912345678", "password": "x", "full_name": "\\ud800", "audience": "citizen"}'
    r = await client.post("/api/v1/auth/register", content=raw, headers={"content-type": "application/json"})
    assert_problem(r, field="full_name")
    # An escaped backslash before "u0000" is the six characters \u0000, not a NUL: the route decides.
    raw = '{"phone": "0912345678", "password": "x", "full_name": "\\\\u0000", "audience": "citizen"}'
    r = await client.post("/api/v1/auth/register", content=raw, headers={"content-type": "application/json"})
    assert "control" not in r.text.lower() and "điều khiển" not in r.text


async def test_nul_in_the_token_form_is_422(client):
    r = await client.post("/api/v1/auth/token", data={"grant_type": "client_credentials",
                                                      "client_id": "a\x00b", "client_secret": "x"})
    assert_problem(r, field="client_id")


async def test_nul_in_a_short_answer_is_422(client, session, keyring, settings):
    r = await client.put("/api/v1/attempts/0190b0b4-0000-7000-8000-000000000000/answers",
                         headers=auth(token_for(keyring, settings, await make_user(session))),
                         json={"answers": [{"question_id": "0190b0b4-0000-7000-8000-000000000001",
                                            "text": "Đà\u0000Nẵng"}]})
    assert_problem(r, field="answers.0.text")


async def test_line_breaks_stay_allowed_in_json_text(client, session):
    r = await client.post("/api/v1/auth/register", json={
        "phone": "0912345679", "password": "x", "full_name": "Tên\nhai dòng", "audience": "citizen",
        "province_code": "01"})
    assert "điều khiển" not in r.text  # refused or not by the route's own rules, never by the edge


# --- times UTC cannot hold ------------------------------------------------------------------------------------


async def test_year_0001_at_plus_14_is_422_not_500(client, session, keyring, settings, ministry_headers):
    course = (await make_course(session, lessons=[])).course
    partner = auth(service_token(keyring, settings, scopes=["completions:write"]))
    r = await client.post("/api/v1/completions", headers=partner, json={
        "phone": "0912345678", "full_name": "Trần Bình", "audience": "citizen", "province_code": "01",
        "course": course.slug, "external_ref": "r1", "completed_at": "0001-01-01T00:00:00+14:00"})
    assert_problem(r, field="completed_at")
    r = await client.post("/api/v1/intakes", headers=ministry_headers, json={
        "name": "Đợt", "courses": [course.slug], "province_code": "01",
        "opens_at": "0001-01-01T00:00:00+14:00", "deadline": "2026-01-01T00:00:00+07:00"})
    assert_problem(r, field="opens_at")


# --- media: Range and signature garbage -----------------------------------------------------------------------


async def test_media_range_with_non_ascii_digits_and_a_non_ascii_sig(client, app):
    storage = app.state.storage
    await storage.put_bytes("courses/c1/v1/media/a.mp4", b"0123456789", "video/mp4")
    url = await storage.presigned_get("courses/c1/v1/media/a.mp4", ttl_s=300)
    path = url[url.index("/media/"):]
    r = await client.get(path, headers={"Range": "bytes=²-".encode("latin-1")})
    assert r.status_code == 200 and r.content == b"0123456789"  # an unusable Range is ignored (RFC 9110)
    r = await client.get(path.split("sig=")[0] + "sig=%C3%A9t%C3%A9")
    assert_problem(r, status=403)


# --- every error carries X-Request-ID and keeps the connection ------------------------------------------------


async def test_a_500_carries_the_request_id_and_keeps_the_connection_open(app):
    @app.get("/boom-for-test")
    async def boom() -> None:
        raise RuntimeError("boom")

    async with live_server(app) as base:
        port = int(base.rsplit(":", 1)[1])
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            for path in ("/boom-for-test", "/healthz"):
                writer.write(f"GET {path} HTTP/1.1\r\nHost: t\r\nX-Request-ID: req-{len(path)}\r\n\r\n".encode())
                await writer.drain()
                head = (await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)).decode().lower()
                length = int(head.split("content-length: ")[1].split("\r\n")[0])
                body = await reader.readexactly(length)
                assert f"x-request-id: req-{len(path)}" in head and "connection: close" not in head
                if path == "/boom-for-test":
                    assert head.startswith("http/1.1 500") and "problem+json" in head
                    assert json.loads(body)["request_id"] == "req-14"
            assert head.startswith("http/1.1 200")  # the second request went over the same connection
        finally:
            writer.close()


async def test_the_documented_password_limit_is_the_enforced_one(client, app):
    """Issue 18, item 13: the schema said 512 characters while 128 were enforced."""
    schema = app.openapi()["components"]["schemas"]["Registration"]["properties"]["password"]
    assert schema["maxLength"] == 128
    r = await client.post("/api/v1/auth/register", json={
        "phone": "0912345611", "password": "Mật-khẩu-" + "x" * 130, "full_name": "An", "audience": "citizen",
        "province_code": "01"})
    assert_problem(r, field="password")
