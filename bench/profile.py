"""Profile one endpoint in-process with pyinstrument (where the worker's time goes, per request).

    .venv/bin/python -m bench.profile GET /api/v1/courses -n 300
    .venv/bin/python -m bench.profile GET "/api/v1/stats/summary?year=2025" --scope stats:read
    .venv/bin/python -m bench.profile GET /api/v1/me/enrollments --learner 9000001
    .venv/bin/python -m bench.profile POST /api/v1/lessons/LESSON/progress --user USER \
        --body '{"event_id": "p-{n}", "intervals": [[{n}, {n1}]], "playback_rate": 1}'

Requests go through the whole ASGI app (middleware, dependencies, serialisation) over httpx's in-process
transport, sequentially, against the bench database; the HTML report lands in var/bench/profile-*.html.
"""

import argparse
import asyncio
import contextlib
import time
from pathlib import Path

import httpx
from pyinstrument import Profiler

from app.core.config import Settings
from app.core.security import KeyRing, access_claims
from app.main import create_app
from bench.context import learner_id
from bench.database import bench_database_url

ROOT = Path(__file__).resolve().parent.parent


async def profile(args: argparse.Namespace) -> None:
    data_dir = ROOT / "var" / "bench" / "server"
    settings = Settings(database_url=args.database_url, data_dir=data_dir, jwt_keys_dir=data_dir / "keys",
                        run_worker_in_process=False, _env_file=None)
    keys = KeyRing.load(settings, create_dev_key=True)
    headers = {}
    if args.scope:
        claims = access_claims(settings, subject="client:bench", role="service", ttl_s=3600,
                               extra={"scope": " ".join(args.scope)})
        headers["Authorization"] = f"Bearer {keys.sign(claims)}"
    elif args.learner or args.user:
        user = args.user or str(learner_id(args.learner))
        claims = access_claims(settings, subject=user, role="learner", ttl_s=3600)
        headers["Authorization"] = f"Bearer {keys.sign(claims)}"
    app = create_app(settings, keys=keys)
    if args.body:
        headers["Content-Type"] = "application/json"
    counter = iter(range(10**9))

    def body() -> bytes | None:
        # `{n}` in the body becomes a fresh number per request (event ids must not repeat), `{n1}` is n + 1.
        if not args.body:
            return None
        n = next(counter)
        return args.body.replace("{n1}", str(n + 1)).replace("{n}", str(n)).encode()

    async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://bench") as client:
        for _ in range(args.warmup):
            await client.request(args.method, args.path, headers=headers, content=body())
        profiler = Profiler(interval=0.0005, async_mode="enabled")
        began, cpu = time.perf_counter(), time.process_time()
        with profiler if not args.plain else contextlib.nullcontext():
            statuses: dict[int, int] = {}
            for _ in range(args.n):
                response = await client.request(args.method, args.path, headers=headers, content=body())
                statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
        took, cpu = time.perf_counter() - began, time.process_time() - cpu
    print(f"{args.n} × {args.method} {args.path}: {took * 1000 / args.n:.2f} ms each, "
          f"{cpu * 1000 / args.n:.2f} ms CPU each (client included), statuses {statuses}")
    if args.plain:
        return
    print(profiler.output_text(unicode=True, color=False, show_all=False))
    if args.flat:
        from pyinstrument.renderers import ConsoleRenderer

        print(profiler.output(ConsoleRenderer(unicode=True, color=False, flat=True, time="percent_of_total")))
    out = ROOT / "var" / "bench" / f"profile-{time.strftime('%H%M%S')}.html"
    out.write_text(profiler.output_html())
    print(f"saved {out}")


def main() -> None:
    parser = argparse.ArgumentParser(description="Profile one endpoint in-process with pyinstrument")
    parser.add_argument("method")
    parser.add_argument("path")
    parser.add_argument("-n", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--body", default="")
    parser.add_argument("--scope", nargs="*", default=[])
    parser.add_argument("--learner", type=int, default=0, help="act as the seeded learner with this number")
    parser.add_argument("--user", default="", help="act as the learner with this id")
    parser.add_argument("--plain", action="store_true", help="time only, no profiler")
    parser.add_argument("--flat", action="store_true", help="also list the functions by own time")
    parser.add_argument("--database-url", default=bench_database_url())
    asyncio.run(profile(parser.parse_args()))


if __name__ == "__main__":
    main()
