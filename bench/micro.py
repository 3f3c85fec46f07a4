"""Micro-measurements behind fixes recorded in docs/benchmarks.md (CPU time per operation, this process only).

    .venv/bin/python -m bench.micro tokens    # signing/verifying a JWT from the PEM each time vs a parsed key
    .venv/bin/python -m bench.micro routes    # what finding the route costs: the routers' order vs ops first
    .venv/bin/python -m bench.micro pool      # a pooled connection's checkout and a one-statement session,
                                              # with pool_pre_ping and with the closed-connection check
    .venv/bin/python -m bench.micro feed_sql  # PostgreSQL's CPU for one feed page of 1,000 (the shipped
                                              # statement; read from /proc, so the database must be local)
    .venv/bin/python -m bench.micro feed_layers  # this process's CPU for one feed page, layer by layer: the
                                              # driver alone, SQLAlchemy, the pool, read_page, the whole app
"""

import asyncio
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path

import psutil
from jose import jwt
from sqlalchemy import literal, select, text

import app.main
from app.api.routes import ROUTERS
from app.core.config import Settings
from app.core.db import Database
from app.core.pagination import encode_cursor
from app.core.security import ALGORITHM, KeyRing, access_claims
from app.services.stats import feed as completion_feed
from bench.database import bench_database_url

ROOT = Path(__file__).resolve().parent.parent


def cpu_ms(operation: Callable[[], object], times: int) -> float:
    began = time.process_time()
    for _ in range(times):
        operation()
    return (time.process_time() - began) * 1000 / times


def tokens() -> None:
    keys_dir = ROOT / "var" / "bench" / "server" / "keys"
    settings = Settings(jwt_keys_dir=keys_dir, data_dir=keys_dir.parent, _env_file=None)
    ring = KeyRing.load(settings, create_dev_key=True)
    key = ring.signing
    claims = access_claims(settings, subject="bench", role="learner", ttl_s=900)
    token = ring.sign(claims)
    check = {"algorithms": [ALGORITHM], "audience": settings.jwt_audience, "issuer": settings.jwt_issuer}
    rows = [
        ("sign, PEM parsed per call (before)", cpu_ms(lambda: jwt.encode(claims, key.private_pem, ALGORITHM), 20)),
        ("sign, parsed key (KeyRing.sign now)", cpu_ms(lambda: ring.sign(claims), 500)),
        ("verify, PEM parsed per call (before)", cpu_ms(lambda: jwt.decode(token, key.public_pem, **check), 500)),
        ("verify, parsed key (KeyRing.decode now)", cpu_ms(
            lambda: ring.decode(token, audience=settings.jwt_audience, issuer=settings.jwt_issuer), 500)),
    ]
    for label, ms in rows:
        print(f"{label:<42} {ms:8.3f} ms CPU")


async def _asgi_cpu_us(asgi: Callable, path: str, query: bytes, headers: list, times: int) -> float:
    """CPU µs per GET through the whole ASGI app, called directly (no client, no sockets)."""
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
             "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": query, "root_path": "",
             "client": ("127.0.0.1", 1), "server": ("bench", 80)}
    statuses: set[int] = set()

    async def receive() -> dict:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict) -> None:
        if message["type"] == "http.response.start":
            statuses.add(message["status"])

    for _ in range(200):  # warm: the first stats answer is computed, the rest come from the cache
        await asgi(dict(scope, headers=list(headers)), receive, send)
    began = time.process_time()
    for _ in range(times):
        await asgi(dict(scope, headers=list(headers)), receive, send)
    if statuses != {200}:
        raise SystemExit(f"{path}: answered {statuses}")
    return (time.process_time() - began) * 1e6 / times


def routes() -> None:
    data_dir = ROOT / "var" / "bench" / "server"
    settings = Settings(database_url=bench_database_url(), data_dir=data_dir, jwt_keys_dir=data_dir / "keys",
                        run_worker_in_process=False, stats_cache_ttl_s=3600, _env_file=None)
    ring = KeyRing.load(settings, create_dev_key=True)
    token = ring.sign(access_claims(settings, subject="client:bench", role="service", ttl_s=3600,
                                    extra={"scope": "stats:read"}))
    stats_headers = [(b"host", b"bench"), (b"authorization", f"Bearer {token}".encode())]
    shipped = list(ROUTERS)

    async def measure(label: str, order: list) -> None:
        app.main.ROUTERS[:] = order  # the factory includes whatever the list holds when it runs
        try:
            asgi = app.main.create_app(settings, keys=ring)
        finally:
            app.main.ROUTERS[:] = shipped
        async with asgi.router.lifespan_context(asgi):
            health = await _asgi_cpu_us(asgi, "/healthz", b"", [(b"host", b"bench")], 4000)
            summary = await _asgi_cpu_us(asgi, "/api/v1/stats/summary", b"year=2025", stats_headers, 4000)
        print(f"{label:<34} /healthz {health:6.0f} µs   cached stats summary {summary:6.0f} µs CPU")

    async def run() -> None:
        for _ in range(2):
            await measure("routers as shipped", shipped)
            await measure("ops router first", [shipped[-1], *shipped[:-1]])  # the health probes last

    asyncio.run(run())


def pool() -> None:
    one = select(literal(1))

    async def measure(pre_ping: bool) -> None:
        db = Database(Settings(database_url=bench_database_url(), db_pre_ping=pre_ping, _env_file=None))

        async def checkout() -> None:
            async with db.engine.connect():
                pass

        async def one_statement() -> None:
            async with db.session() as session:
                await session.execute(one)

        for label, operation in (("checkout and return", checkout), ("session with one SELECT", one_statement)):
            for _ in range(50):
                await operation()
            began = time.process_time()
            for _ in range(500):
                await operation()
            ms = (time.process_time() - began) * 1000 / 500
            print(f"pre_ping={pre_ping!s:<5} {label:<26} {ms:6.3f} ms CPU")
        await db.dispose()

    async def run() -> None:
        for _ in range(2):
            await measure(True)
            await measure(False)

    asyncio.run(run())


def _backend_cpu_s(pid: int) -> float:
    """User + system CPU seconds of one local PostgreSQL backend (as bench.run.backend_cpu reads them)."""
    times = psutil.Process(pid).cpu_times()
    return times.user + times.system


def feed_sql() -> None:
    """`completion_feed._page_statement` for pages of 1,000 at random positions of the seeded feed, with no
    filter and with a province, sequentially on one connection: the backend's CPU per page. Run from another
    checkout (PYTHONPATH=<checkout> python <this file> feed_sql) to measure that checkout's statement."""

    async def run() -> None:
        db = Database(Settings(database_url=bench_database_url(), _env_file=None))
        async with db.autocommit() as conn:
            pid = (await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one()
            txid, first, last = (await conn.execute(
                text("SELECT min(txid), min(seq), max(seq) FROM completion"))).one()
            for _ in range(3):
                for label, f in (("no filter", completion_feed.FeedFilter()),
                                 ("province 01", completion_feed.FeedFilter(province="01"))):
                    positions = [(txid, random.randrange(first, last - 1000)) for _ in range(320)]
                    cpu = 0.0
                    for i, after in enumerate(positions):
                        began = _backend_cpu_s(pid)
                        # cursor only fills next_cursor when a page is empty; none is here
                        await completion_feed.page_from_database(conn, f, after=after, cursor=None, limit=1000)
                        if i >= 20:  # the first pages warm the plan cache
                            cpu += _backend_cpu_s(pid) - began
                    print(f"{label:<12} {cpu * 1000 / (len(positions) - 20):6.2f} ms PostgreSQL CPU a page")
        await db.dispose()

    asyncio.run(run())


def feed_layers() -> None:
    """One feed page of 1,000 at a random position, through each layer in turn (shuffled per position, so
    drift on a shared machine falls on every layer alike): the statement on asyncpg alone, SQLAlchemy Core on
    a held connection, Core on a pooled autocommit connection, `read_page`, and GET /api/v1/completions
    through the whole ASGI app (no sockets). The CPU is this process's."""
    data_dir = ROOT / "var" / "bench" / "server"
    settings = Settings(database_url=bench_database_url(), data_dir=data_dir, jwt_keys_dir=data_dir / "keys",
                        run_worker_in_process=False, _env_file=None)
    ring = KeyRing.load(settings, create_dev_key=True)
    token = ring.sign(access_claims(settings, subject="client:bench", role="service", ttl_s=3600,
                                    extra={"scope": "completions:read"}))
    statement = completion_feed._page_statement(frozenset({"after_txid", "after_seq"}))

    async def run() -> None:
        asgi = app.main.create_app(settings, keys=ring)
        db: Database = asgi.state.db
        async with asgi.router.lifespan_context(asgi), db.autocommit() as held:
            txid, first, last = (await held.execute(
                text("SELECT min(txid), min(seq), max(seq) FROM completion"))).one()
            compiled = statement.compile(dialect=held.dialect)
            prepared = await (await held.get_raw_connection()).driver_connection.prepare(str(compiled))

            def values(seq: int) -> dict:
                return {"after_txid": txid, "after_seq": seq, "page_rows": 1000}

            async def driver_alone(seq: int) -> None:
                bound = compiled.construct_params(values(seq))
                await prepared.fetchrow(*[bound[name] for name in compiled.positiontup])

            async def core_held(seq: int) -> None:
                (await held.execute(statement, values(seq))).one()

            async def core_pooled(seq: int) -> None:
                async with db.autocommit() as conn:
                    (await conn.execute(statement, values(seq))).one()

            async def read_page(seq: int) -> None:
                await completion_feed.read_page(db, completion_feed.FeedFilter(), cursor=encode_cursor(txid, seq),
                                                limit=1000)

            async def whole_app(seq: int) -> None:
                query = f"limit=1000&cursor={encode_cursor(txid, seq)}".encode()
                scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
                         "scheme": "http", "path": "/api/v1/completions", "raw_path": b"/api/v1/completions",
                         "query_string": query, "root_path": "", "client": ("127.0.0.1", 1),
                         "server": ("bench", 80),
                         "headers": [(b"host", b"bench"), (b"authorization", f"Bearer {token}".encode())]}

                async def receive() -> dict:
                    return {"type": "http.request", "body": b"", "more_body": False}

                async def send(message: dict) -> None:
                    if message["type"] == "http.response.start" and message["status"] != 200:
                        raise SystemExit(f"the feed answered {message['status']}")

                await asgi(scope, receive, send)

            layers = {"asyncpg alone": driver_alone, "SQLAlchemy Core, held connection": core_held,
                      "Core, pooled autocommit connection": core_pooled, "read_page": read_page,
                      "whole app (ASGI, no sockets)": whole_app}
            spent = dict.fromkeys(layers, 0.0)
            pages = 300
            for i in range(pages + 20):  # the first 20 warm every layer
                seq = random.randrange(first, last - 1000)
                for name in random.sample(list(layers), len(layers)):
                    began = time.process_time()
                    await layers[name](seq)
                    if i >= 20:
                        spent[name] += time.process_time() - began
            for name, seconds in spent.items():
                print(f"{name:<36} {seconds * 1000 / pages:6.3f} ms CPU a page")

    asyncio.run(run())


if __name__ == "__main__":
    commands = {"tokens": tokens, "routes": routes, "pool": pool, "feed_sql": feed_sql, "feed_layers": feed_layers}
    commands[sys.argv[1] if len(sys.argv) > 1 else "tokens"]()
