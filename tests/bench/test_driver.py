"""The load driver keeps working: a one-second run against a real uvicorn server on SQLite (in-process)."""

import asyncio
import socket

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.responses import StreamingResponse
from starlette.routing import Route

from bench.driver import Connection, Request, run_load
from bench.report import Results, Row, Target, markdown
from bench.scenarios import Healthz
from bench.seed_sql import Shape, bind


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def _serve(app, port: int) -> tuple[uvicorn.Server, asyncio.Task]:  # noqa: ANN001
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="off"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.02)
    return server, task


async def test_driver_measures_healthz_on_the_real_app_for_one_second(app):
    port = _free_port()
    server, task = await _serve(app, port)
    try:
        result = await run_load(
            Healthz(), host="127.0.0.1", port=port, concurrency=4, duration_s=1.0, warmup_s=0.1
        )
    finally:
        server.should_exit = True
        await task
    assert result.count > 20 and result.statuses == {200: result.count} and not result.errors
    assert 0 < result.percentile_ms(50) <= result.percentile_ms(99) < 1000
    assert 0.5 < result.elapsed_s < 3 and result.throughput > 0


async def test_driver_stops_at_the_request_cap(app):
    port = _free_port()
    server, task = await _serve(app, port)
    try:
        result = await run_load(
            Healthz(), host="127.0.0.1", port=port, concurrency=2, duration_s=30, max_requests=25
        )
    finally:
        server.should_exit = True
        await task
    assert 25 <= result.count <= 27  # each client stops after the answer in flight


async def test_driver_reads_chunked_bodies():
    async def stream(request):  # noqa: ANN001, ANN202
        async def parts():  # noqa: ANN202
            for part in (b"chao ", b"the ", b"gioi"):
                yield part

        return StreamingResponse(parts())

    port = _free_port()
    server, task = await _serve(Starlette(routes=[Route("/s", stream)]), port)
    conn = Connection("127.0.0.1", port)
    try:
        first = await conn.send(Request("GET", "/s"))
        second = await conn.send(Request("GET", "/s"))  # the same keep-alive connection
    finally:
        await conn.close()
        server.should_exit = True
        await task
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
