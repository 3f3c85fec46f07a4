"""Why the bench has its own driver: /healthz through this driver and through httpx, same server, same run.

    .venv/bin/python -m bench.client_overhead

For each client: requests per second over 5 s at 32 concurrent requests, and the client's own CPU per
request (the load generator shares this 2-core machine with the server, so its cost is the server's loss).
httpx is measured both as one shared AsyncClient (its connection pool) and as one AsyncClient per virtual
client. The server runs pinned to CPU 0 and this process to CPU 1, as in `make bench`.
"""

import asyncio
import os
import time
from pathlib import Path

import httpx
import uvloop

from bench.database import bench_database_url
from bench.driver import run_load
from bench.scenarios import Healthz
from bench.server import running_server

ROOT = Path(__file__).resolve().parent.parent
SECONDS, CLIENTS = 5.0, 32


async def with_httpx(port: int, shared: bool) -> tuple[int, float]:
    base = f"http://127.0.0.1:{port}"
    limits = httpx.Limits(max_connections=CLIENTS, max_keepalive_connections=CLIENTS)
    clients = [httpx.AsyncClient(base_url=base, limits=limits)] if shared else [
        httpx.AsyncClient(base_url=base) for _ in range(CLIENTS)]
    done = [0]
    stop = time.monotonic() + SECONDS

    async def user(client: httpx.AsyncClient) -> None:
        while time.monotonic() < stop:
            (await client.get("/healthz")).raise_for_status()
            done[0] += 1

    try:
        await asyncio.gather(*(user(clients[i % len(clients)]) for i in range(CLIENTS)))
    finally:
        for client in clients:
            await client.aclose()
    return done[0], SECONDS


async def compare(port: int) -> list[tuple[str, float, float]]:
    rows = []
    for label in ("bench driver", "httpx, one shared AsyncClient", "httpx, one AsyncClient per client"):
        cpu = time.process_time()
        if label == "bench driver":
            result = await run_load(Healthz(), host="127.0.0.1", port=port, concurrency=CLIENTS,
                                    duration_s=SECONDS)
            count, seconds = result.count, result.elapsed_s
        else:
            count, seconds = await with_httpx(port, shared="shared" in label)
        cpu = time.process_time() - cpu
        rows.append((label, count / seconds, cpu * 1000 / max(1, count)))
    return rows


def main() -> None:
    if (os.cpu_count() or 1) >= 2:
        os.sched_setaffinity(0, {1})
    with running_server(bench_database_url(), ROOT / "var" / "bench" / "server", server_cpu=0) as server:
        rows = uvloop.run(compare(server.port))
    print(f"/healthz, {CLIENTS} concurrent requests, {SECONDS:g} s each")
    print(f"{'client':<36} {'req/s':>8} {'client CPU ms/req':>18}")
    for label, rate, cpu_ms in rows:
        print(f"{label:<36} {rate:>8,.0f} {cpu_ms:>18.3f}")


if __name__ == "__main__":
    main()
