"""A small closed-loop HTTP/1.1 load driver: N keep-alive connections, each sending its next request as soon
as the previous answer is read, for a fixed time and at most a fixed count.

Why not httpx or locust: on a 2-core machine the client must cost far less CPU per request than the server, or
it measures itself. httpx spends several hundred microseconds of Python per request (its pool, its models,
h11); locust adds gevent and its stats machinery. This driver writes request bytes and parses only the
status line and the framing headers, so one core drives the server well past what the server can answer
(docs/benchmarks.md has the measured comparison). Only loopback addresses are accepted as targets.
"""

import asyncio
import contextlib
import gc
import ipaddress
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    body: bytes | None = None
    headers: tuple[tuple[str, str], ...] = ()
    content_type: str = "application/json"


@dataclass
class Response:
    status: int
    body: bytes


class Scenario(Protocol):
    """What a load run asks of a scenario: one virtual client's next request, and (optionally) the answer."""

    name: str

    def next_request(self, client: int) -> Request | None:
        """None means the scenario has nothing left for this client (its prepared pool is used up)."""

    def on_response(self, client: int, request: Request, response: Response) -> None: ...


@dataclass
class RunResult:
    name: str
    concurrency: int
    elapsed_s: float
    latencies_ns: list[int] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)
    exhausted: bool = False
    answered: int = 0  # every answer, warm-up included (what server-side counters see)
    unexpected: list[str] = field(default_factory=list)  # a few bodies of non-2xx answers, for the report

    @property
    def count(self) -> int:
        return len(self.latencies_ns)

    @property
    def ok(self) -> int:
        return sum(n for status, n in self.statuses.items() if 200 <= status < 300)

    @property
    def throughput(self) -> float:
        return self.ok / self.elapsed_s if self.elapsed_s else 0.0

    def percentile_ms(self, p: float) -> float:
        if not self.latencies_ns:
            return float("nan")
        ordered = sorted(self.latencies_ns)
        index = min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))
        return ordered[index] / 1e6


def require_loopback(host: str) -> None:
    """Load goes to this machine only."""
    for info in socket.getaddrinfo(host, None):
        if not ipaddress.ip_address(info[4][0]).is_loopback:
            raise ValueError(f"refusing to send load to {host}: not a loopback address")


class Connection:
    """One keep-alive HTTP/1.1 connection; reconnects when the server closes it."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.host_header = f"{host}:{port}"

    async def _connect(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        sock = self.writer.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def encode(self, request: Request) -> bytes:
        lines = [f"{request.method} {request.path} HTTP/1.1", f"Host: {self.host_header}"]
        lines += [f"{name}: {value}" for name, value in request.headers]
        body = request.body or b""
        if request.body is not None:
            lines.append(f"Content-Type: {request.content_type}")
        if body or request.method in ("POST", "PUT", "PATCH"):
            lines.append(f"Content-Length: {len(body)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body

    async def send(self, request: Request) -> Response:
        if self.writer is not None and self.reader is not None and self.reader.at_eof():
            await self.close()  # the server closed an idle keep-alive connection: open a new one
        if self.writer is None:
            await self._connect()
        assert self.reader is not None and self.writer is not None
        self.writer.write(self.encode(request))
        head = await self.reader.readuntil(b"\r\n\r\n")
        status_line, _, header_block = head.partition(b"\r\n")
        status = int(status_line.split(b" ", 2)[1])
        length, chunked, close = None, False, False
        for line in header_block.split(b"\r\n"):
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding" and b"chunked" in value.lower():
                chunked = True
            elif name == b"connection" and b"close" in value.lower():
                close = True
        if chunked:
            body = await self._read_chunked()
        elif length is not None:
            body = await self.reader.readexactly(length)
        else:  # no framing: the body runs to the end of the connection
            body = await self.reader.read()
            close = True
        if close:
            await self.close()
        return Response(status, body)

    async def _read_chunked(self) -> bytes:
        assert self.reader is not None
        parts = []
        while True:
            size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
            if size == 0:
                await self.reader.readuntil(b"\r\n")  # no trailers are sent by our server
                return b"".join(parts)
            parts.append(await self.reader.readexactly(size))
            await self.reader.readexactly(2)

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(OSError):
                await self.writer.wait_closed()
        self.reader = self.writer = None


async def run_load(
    scenario: Scenario,
    *,
    host: str,
    port: int,
    concurrency: int,
    duration_s: float,
    max_requests: int = 2_000_000,
    warmup_s: float = 0.0,
    on_tick: Callable[[float, int], None] | None = None,
) -> RunResult:
    """Closed loop: `concurrency` clients for `warmup_s` (not recorded) then `duration_s` (recorded).

    Bounded twice: by time, and by `max_requests` recorded answers; stops early if every client runs out of
    work.
    """
    require_loopback(host)
    # No collections in the driver while it measures: a full one took up to 120 ms here (gc.callbacks,
    # 2026-12-03), and during a run it would stall every client and be charged to the server's latency.
    # The collection made instead comes before the clock starts.
    gc.collect()
    gc.disable()
    result = RunResult(scenario.name, concurrency, 0.0)
    loop = asyncio.get_running_loop()
    start = loop.time()
    record_from = start + warmup_s
    stop_at = record_from + duration_s
    recorded_start: list[float] = []
    counter = [0]

    async def client(index: int) -> None:
        conn = Connection(host, port)
        try:
            while loop.time() < stop_at and counter[0] < max_requests:
                request = scenario.next_request(index)
                if request is None:
                    result.exhausted = True
                    return
                began = time.perf_counter_ns()
                try:
                    response = await conn.send(request)
                except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
                    result.errors[type(exc).__name__] = result.errors.get(type(exc).__name__, 0) + 1
                    await conn.close()
                    await asyncio.sleep(0.01)
                    continue
                took = time.perf_counter_ns() - began
                result.answered += 1
                scenario.on_response(index, request, response)
                if loop.time() >= record_from:
                    if not recorded_start:
                        recorded_start.append(loop.time())
                    counter[0] += 1
                    result.latencies_ns.append(took)
                    result.statuses[response.status] = result.statuses.get(response.status, 0) + 1
                    if response.status >= 300 and len(result.unexpected) < 3:
                        result.unexpected.append(
                            f"{request.method} {request.path} -> {response.status} {response.body[:300]!r}"
                        )
        finally:
            await conn.close()

    async def ticker() -> None:
        while True:
            await asyncio.sleep(0.25)
            if on_tick:
                on_tick(loop.time() - start, counter[0])

    tick = asyncio.create_task(ticker())
    try:
        await asyncio.gather(*(client(i) for i in range(concurrency)))
    finally:
        gc.enable()
        tick.cancel()
    begun = recorded_start[0] if recorded_start else record_from
    result.elapsed_s = max(1e-9, loop.time() - begun)
    return result
