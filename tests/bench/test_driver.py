"""The load driver keeps working: a one-second run against a real uvicorn server on SQLite (in-process)."""

import asyncio
import contextlib
import socket
import time
from collections.abc import AsyncIterator

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.responses import StreamingResponse
from starlette.routing import Route

from bench.driver import Connection, Request, run_load
from bench.report import Results, Row, Target, markdown
from bench.scenarios import Healthz
from bench.seed_sql import Shape, bind

SERVER_START_TIMEOUT_S = 20  # a loaded 2-core machine starts uvicorn in well under a second


@contextlib.asynccontextmanager
async def _serving(app, start_timeout_s: float = SERVER_START_TIMEOUT_S) -> AsyncIterator[int]:  # noqa: ANN001
    """Serve `app` with uvicorn on a loopback socket bound here first, so no other process can take the port
    between choosing and binding it; yields the port. Startup is waited for with a deadline: a server that
    fails to start (its task ends) or hangs fails the test instead of looping."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_config=None, lifespan="off"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        async with asyncio.timeout(start_timeout_s):
            while not server.started:
                if task.done():
                    raise AssertionError(f"uvicorn stopped before it started: {task.exception()!r}")
                await asyncio.sleep(0.02)
        yield sock.getsockname()[1]
    finally:
        server.should_exit = True
        with contextlib.suppress(Exception, SystemExit):  # one that failed to start has already said why
            await asyncio.wait_for(task, start_timeout_s)
        sock.close()


@pytest.mark.parametrize("failure", ["raises", "hangs"])
async def test_a_server_that_does_not_start_fails_the_test_within_its_deadline(monkeypatch, failure):
    async def broken_startup(self, sockets=None):  # noqa: ANN001, ANN202
        if failure == "raises":
            raise OSError("address already in use")
        await asyncio.sleep(3600)

    monkeypatch.setattr(uvicorn.Server, "startup", broken_startup)
    began = time.monotonic()
    with pytest.raises(AssertionError if failure == "raises" else TimeoutError):
        async with _serving(Starlette(), start_timeout_s=0.5):
            pass
    assert time.monotonic() - began < 5


async def test_driver_measures_healthz_on_the_real_app_for_one_second(app):
    async with _serving(app) as port:
        began = time.monotonic()
        result = await run_load(
            Healthz(), host="127.0.0.1", port=port, concurrency=4, duration_s=1.0, warmup_s=0.1
        )
        wall_s = time.monotonic() - began
    assert result.count > 0 and result.statuses == {200: result.count} and not result.errors
    # What the driver reports must hang together; how fast the machine is, is bench/'s business: a loaded
    # 2-core machine gives anything from a few to hundreds of requests, and latencies of whole seconds.
    assert 0 < result.percentile_ms(50) <= result.percentile_ms(99) <= wall_s * 1000
    assert 0 < result.elapsed_s <= wall_s and wall_s >= 1.0
    assert result.throughput == pytest.approx(result.count / result.elapsed_s)


async def test_driver_stops_at_the_request_cap(app):
    async with _serving(app) as port:
        result = await run_load(
            Healthz(), host="127.0.0.1", port=port, concurrency=2, duration_s=30, max_requests=25
        )
    assert 25 <= result.count <= 27  # each client stops after the answer in flight


async def test_driver_reads_chunked_bodies():
    async def stream(request):  # noqa: ANN001, ANN202
        async def parts():  # noqa: ANN202
            for part in (b"chao ", b"the ", b"gioi"):
                yield part

        return StreamingResponse(parts())

    async with _serving(Starlette(routes=[Route("/s", stream)])) as port:
        conn = Connection("127.0.0.1", port)
        try:
            first = await conn.send(Request("GET", "/s"))
            second = await conn.send(Request("GET", "/s"))  # the same keep-alive connection
        finally:
            await conn.close()
    assert (first.status, first.body) == (200, b"chao the gioi") and second.body == first.body


async def test_driver_refuses_addresses_off_this_machine():
    with pytest.raises(ValueError, match="loopback"):
        await run_load(Healthz(), host="192.0.2.1", port=80, concurrency=1, duration_s=0.1)


def test_seed_shape_splits_completions_into_at_most_three_courses_per_learner():
    assert Shape(10_000_000, 10_000_000).rounds == (6_000_000, 3_000_000, 1_000_000)
    a, _, inverse = Shape(10, 10_000_000).permutation
    assert a * inverse % 10_000_000 == 1
    with pytest.raises(ValueError):
        _ = Shape(10, 100).rounds


def test_seed_sql_numbers_named_parameters_and_types_bare_numbers():
    sql, args = bind(
        "SELECT $a + $b, $a, $when::date, $names::text[]",
        {"a": 1, "b": 2.5, "when": "2025-01-01", "names": ["x"]},
    )
    assert sql == "SELECT $1::bigint + $2::float8, $1::bigint, $3::date, $4::text[]"
    assert args == [1, 2.5, "2025-01-01", ["x"]]


def test_report_judges_ratio_and_p99_targets():
    row = Row("stats", 100, 100, 0, 0, 900.0, 5, 9, 12, 120, 1.0, 0.5, ratio=0.45, target=Target(0.4, 50))
    slow = Row("feed", 100, 100, 0, 0, 50.0, 90, 150, 250, 130, 1.0, 0.5, ratio=0.02,
               target=Target(max_p99_ms=200))
    failing = Row("x", 10, 8, 2, 0, 80.0, 1, 2, 3, 100, 0.1, 0.5, ratio=0.9, target=Target(0.1))
    assert (row.met, slow.met, failing.met) == (True, False, False)
    table = markdown(Results({}, 32, 20, 2000, 2000, rows=[row, slow]))
    assert "| stats | 900 | 45% |" in table and "MISSED" in table


def test_a_feed_page_envelope_is_read_from_its_tail():
    from bench.scenarios import page_envelope

    body = (b'{"items":[{"full_name":"L\\u00ea \\",\\"next_cursor\\":\\"x","course_version":1}],'
            b'"next_cursor":"WzEsMl0","has_more":true}')
    assert page_envelope(body) == {"next_cursor": "WzEsMl0", "has_more": True}
    with pytest.raises(ValueError):
        page_envelope(b'{"type":"/problems/validation"}')
