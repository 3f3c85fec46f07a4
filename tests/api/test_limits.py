"""Sizes and time bounded before they cost memory (issue 18, item 5): headers (431), JSON bodies (413), slow
or short bodies (408), and a client that aborts an upload logged as a disconnect, not an error."""

import asyncio
import json
import logging

import httpx

from app.models.identity import Role
from tests.browser import live_server
from tests.conftest import make_app
from tests.factories import auth, make_user, token_for

PROBLEM = "application/problem+json"


async def test_oversized_headers_are_431(client):
    r = await client.get("/api/v1/courses", headers={"X-Padding": "a" * 40_000})
    assert r.status_code == 431 and r.headers["content-type"] == PROBLEM and r.headers["x-request-id"]


async def test_a_json_body_over_the_limit_is_413_before_it_is_read(settings, db, keyring):
    app = make_app(settings.model_copy(update={"json_body_max_bytes": 64 * 1024}), db, keyring)
    big = json.dumps({"full_name": "a" * 100_000}).encode()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as c:
        r = await c.post("/api/v1/auth/register", content=big, headers={"content-type": "application/json"})
        assert r.status_code == 413 and r.headers["content-type"] == PROBLEM

        async def chunks():  # no Content-Length: refused as soon as the bytes pass the limit
            for _ in range(100):
                yield b" " * 4096
        r = await c.post("/api/v1/auth/register", content=chunks(), headers={"content-type": "application/json"})
        assert r.status_code == 413

        # the SCORM player's beacon commits are JSON sent as text/plain: bounded the same
        r = await c.post("/api/v1/scorm/sessions/1/commits", content=big, headers={"content-type": "text/plain"})
        assert r.status_code == 413 and r.headers["content-type"] == PROBLEM


async def _raw(port: int, request: bytes, *, then_wait_s: float = 10) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(request)
        await writer.drain()
        return await asyncio.wait_for(reader.read(65536), then_wait_s)
    finally:
        writer.close()


async def test_a_body_shorter_than_its_content_length_or_too_slow_is_408(settings, db, keyring):
    app = make_app(settings.model_copy(update={"body_timeout_s": 1.0}), db, keyring)
    async with live_server(app) as base:
        port = int(base.rsplit(":", 1)[1])
        started = asyncio.get_running_loop().time()
        answer = await _raw(port, b"POST /api/v1/auth/register HTTP/1.1\r\nHost: t\r\n"
                                  b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"a\":")
        assert answer.startswith(b"HTTP/1.1 408") and b"problem+json" in answer
        assert asyncio.get_running_loop().time() - started < 5
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"POST /api/v1/auth/register HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
                     b"Content-Length: 50\r\n\r\n")
        for _ in range(3):  # a byte every 0.6 s: never finishes within the second it has
            writer.write(b" ")
            await writer.drain()
            await asyncio.sleep(0.6)
        answer = await asyncio.wait_for(reader.read(65536), 5)
        writer.close()
        assert answer.startswith(b"HTTP/1.1 408")


async def test_an_aborted_upload_is_logged_as_a_client_disconnect(app, session, keyring, settings, caplog):
    admin = await make_user(session, role=Role.content_admin)
    token = token_for(keyring, settings, admin)
    caplog.set_level(logging.INFO)
    async with live_server(app) as base:
        port = int(base.rsplit(":", 1)[1])
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        boundary = "x-hocso-test"
        head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"p.zip\"\r\n"
                "Content-Type: application/zip\r\n\r\n").encode()
        writer.write((f"POST /api/v1/admin/course-packages HTTP/1.1\r\nHost: t\r\n"
                      f"Authorization: {auth(token)['Authorization']}\r\n"
                      f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
                      f"Content-Length: {10 * 1024 * 1024}\r\n\r\n").encode() + head + b"PK" + b"\0" * 200_000)
        await writer.drain()
        await asyncio.sleep(0.5)
        writer.close()  # the client gives up mid-upload
        deadline = asyncio.get_running_loop().time() + 10  # a loaded machine may take a while to notice
        while not any("disconnect" in r.getMessage() for r in caplog.records):
            assert asyncio.get_running_loop().time() < deadline, "no client disconnect logged within 10 s"
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.2)  # and anything the server would log after it (an error, a 500)
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == [], [r.getMessage() for r in errors]
    assert any("disconnect" in r.getMessage() for r in caplog.records)
