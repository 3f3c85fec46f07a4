"""The server's bound on request heads, over real sockets: too large → 431, too slow → 408, and normal use untouched."""

import asyncio
import json
import select
import socket
import threading
import time

import pytest
import uvicorn

import app.serve
from app.core.config import get_settings
from app.core.request_head import REQUEST_LINE_ROOM, BoundedHeadProtocol

HEADER_MAX = 2048
TIMEOUT_S = 1.0


async def hello(scope, receive, send):  # noqa: ANN001 - the smallest ASGI app: reads its body, answers 200
    if scope["type"] != "http":
        return
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]})
    await send({"type": "http.response.body", "body": b"ok"})


@pytest.fixture
def server(monkeypatch):
    """uvicorn with the bounded protocol on a loopback port, in a thread; yields the port."""
    monkeypatch.setenv("HOCSO_HEADER_MAX_BYTES", str(HEADER_MAX))
    monkeypatch.setenv("HOCSO_HEADER_TIMEOUT_S", str(TIMEOUT_S))
    get_settings.cache_clear()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(hello, http=BoundedHeadProtocol, log_config=None, lifespan="off",
                            timeout_keep_alive=30)
    running = uvicorn.Server(config)
    thread = threading.Thread(target=lambda: asyncio.run(running.serve(sockets=[sock])), daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not running.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.02)
    yield sock.getsockname()[1]
    running.should_exit = True
    thread.join(10)
    get_settings.cache_clear()


def connect(port: int) -> socket.socket:
    return socket.create_connection(("127.0.0.1", port), timeout=10)


def read_all(conn: socket.socket) -> bytes:
    """Everything until the server closes the connection (fails the test on a 10 s hang)."""
    chunks = []
    while chunk := conn.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)


def problem(answer: bytes) -> tuple[int, dict]:
    head, _, body = answer.partition(b"\r\n\r\n")
    assert b"content-type: application/problem+json" in head.lower()
    return int(head.split()[1]), json.loads(body)


def test_a_head_larger_than_the_bound_is_refused_while_it_is_still_being_sent(server):
    conn = connect(server)
    conn.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: ")
    sent = 0
    with pytest.raises(OSError):  # the server closes on us mid-header: the rest is never read
        while sent < 50 * 1024 * 1024:
            conn.sendall(b"a" * 65536)
            sent += 65536
    assert sent < 4 * (HEADER_MAX + REQUEST_LINE_ROOM) + 4 * 1024 * 1024  # cut early, not after 50 MB
    status, body = problem(conn.recv(65536))
    assert status == 431 and body["type"] == "/problems/head-too-large"
    assert str(HEADER_MAX + REQUEST_LINE_ROOM) in body["detail"] and "byte" in body["detail"]


def test_a_head_under_the_bound_is_served(server):
    conn = connect(server)
    conn.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nX-Fair: " + b"a" * (HEADER_MAX // 2) + b"\r\n\r\n")
    assert conn.recv(65536).startswith(b"HTTP/1.1 200")


def test_a_header_line_every_half_second_is_cut_at_the_timeout(server):
    conn = connect(server)
    started = time.monotonic()
    conn.sendall(b"GET / HTTP/1.1\r\n")
    for n in range(20):  # 10 s of header lines if nothing cut it
        time.sleep(0.5)
        if select.select([conn], [], [], 0)[0]:
            break  # the server has answered
        conn.sendall(b"X-Slow-%d: 1\r\n" % n)
    answer = read_all(conn)
    elapsed = time.monotonic() - started
    status, body = problem(answer)
    assert status == 408 and body["type"] == "/problems/head-too-slow"
    assert TIMEOUT_S <= elapsed < TIMEOUT_S + 2
    assert "giây" in body["detail"]


def test_a_connection_that_never_sends_is_closed_at_the_timeout(server):
    conn = connect(server)
    started = time.monotonic()
    assert read_all(conn) == b""  # closed, with nothing to answer
    assert TIMEOUT_S <= time.monotonic() - started < TIMEOUT_S + 2


def test_keep_alive_requests_and_slow_apps_are_not_cut(server):
    """Requests one after another on one connection, each within the bound, live far past the head timeout."""
    conn = connect(server)
    for _ in range(4):
        conn.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\n")
        time.sleep(TIMEOUT_S * 0.7)  # the body is the app's to time (HOCSO_BODY_TIMEOUT_S), not the head's
        conn.sendall(b"body")
        answer = b""
        while not answer.endswith(b"ok"):
            answer += conn.recv(65536)
        assert answer.startswith(b"HTTP/1.1 200")


def test_the_server_module_serves_with_the_bounded_protocol(monkeypatch):
    seen = {}
    monkeypatch.setattr(app.serve.uvicorn, "run", lambda target, **options: seen.update(options))
    app.serve.main(["--workers", "1"])
    assert seen["http"] is BoundedHeadProtocol
