"""App factories for experiments with `--server-app` (measuring a proposed change without making it).

    .venv/bin/python -m bench --only catalogue course --server-app bench.experiments:cached_public_gets

`cached_public_gets`: the real app behind a per-worker cache of anonymous GET answers that the route itself
marked `Cache-Control: public` (kept 5 s), to size the catalogue proposal in docs/benchmarks.md.

`gc_watched`: the real app with each collection of the older generations logged, and the collector's
thresholds taken from BENCH_GC_THRESHOLDS (for CPython's default: "700,10,10"):

    BENCH_GC_THRESHOLDS=700,10,10 BENCH_GC_LOG=var/bench/gc.jsonl .venv/bin/python -m bench \
        --only heartbeat completion stats --skip-import --no-seed --server-app bench.experiments:gc_watched

`trimmed_heap`: the real app with glibc's free heap pages handed back to the system every BENCH_TRIM_S
seconds (default 1) by `malloc_trim(0)` from a thread, to see how much of the worker's peak RSS is freed
memory the allocator keeps (compare with `--server-app app.main:build`, the same uvicorn command without it).
"""

import ctypes
import gc
import json
import os
import threading
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.main import build

TTL_S = 5.0


class PublicAnswerCache:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.answers: dict[tuple, tuple[float, list[Message]]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = dict(scope.get("headers", [])) if scope["type"] == "http" else {}
        if scope["type"] != "http" or scope["method"] != "GET" or b"authorization" in headers:
            await self.app(scope, receive, send)
            return
        key = (scope["path"], scope.get("query_string", b""), headers.get(b"accept-language", b""))
        cached = self.answers.get(key)
        if cached and cached[0] > time.monotonic():
            for message in cached[1]:
                await send(message)
            return
        messages: list[Message] = []

        async def keep(message: Message) -> None:
            messages.append(message)
            await send(message)

        await self.app(scope, receive, keep)
        start = messages[0] if messages else {}
        marked = dict(start.get("headers", [])).get(b"cache-control", b"")
        if start.get("status") == 200 and b"public" in marked:
            self.answers[key] = (time.monotonic() + TTL_S, messages)


def cached_public_gets() -> ASGIApp:
    return PublicAnswerCache(build())


def cached_principals() -> ASGIApp:
    """The real app with each access token's principal (the user row) kept 30 s per worker; the token is
    still verified on every request. Sizes proposal 2(b) of docs/benchmarks.md for the heartbeat."""
    from typing import Annotated

    from fastapi import Depends

    from app.api.deps import KeysDep, SettingsDep, WorkDep, get_principal, oauth2

    app = build()
    principals: dict[str, tuple[float, object]] = {}

    async def principal(work: WorkDep, keys: KeysDep, settings: SettingsDep,
                        token: Annotated[str | None, Depends(oauth2)]) -> object:
        hit = principals.get(token or "")
        if hit and hit[0] > time.monotonic():
            keys.decode(token, audience=settings.jwt_audience, issuer=settings.jwt_issuer)
            return hit[1]
        found = await get_principal(work, keys, settings, token)
        principals[token or ""] = (time.monotonic() + 30, found)
        return found

    app.dependency_overrides[get_principal] = principal
    return app


def gc_watched() -> ASGIApp:
    """Logs every collection of generation 1 or 2 as a JSON line [generation, ms, objects collected, unix time]
    to BENCH_GC_LOG; start-up applies BENCH_GC_THRESHOLDS in place of app.main.GC_THRESHOLDS when set."""
    import app.main

    if os.environ.get("BENCH_GC_THRESHOLDS"):
        app.main.GC_THRESHOLDS = tuple(int(n) for n in os.environ["BENCH_GC_THRESHOLDS"].split(","))
    log_path = os.environ.get("BENCH_GC_LOG", "var/bench/gc.jsonl")
    began = [0.0]

    def watch(phase: str, info: dict) -> None:
        if phase == "start":
            began[0] = time.perf_counter()
        elif info["generation"] >= 1:
            took_ms = (time.perf_counter() - began[0]) * 1000
            with open(log_path, "a") as log:
                log.write(json.dumps([info["generation"], round(took_ms, 2), info["collected"], time.time()]) + "\n")

    gc.callbacks.append(watch)
    return build()


def trimmed_heap() -> ASGIApp:
    libc = ctypes.CDLL("libc.so.6")
    interval_s = float(os.environ.get("BENCH_TRIM_S", "1"))

    def trim_forever() -> None:
        while True:
            time.sleep(interval_s)
            libc.malloc_trim(0)  # ctypes lets go of the GIL for the call

    threading.Thread(target=trim_forever, name="malloc-trim", daemon=True).start()
    return build()
