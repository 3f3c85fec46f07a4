"""One quiz submission's CPU and SQL statements, in-process, against the seeded `hocso_bench` database.

    .venv/bin/python -m bench.quiz_submit            # 150 submissions by fresh learners, the first 20 not counted
    .venv/bin/python -m bench.quiz_submit -n 300

Each learner is enrolled by SQL and starts an attempt through the API (neither is counted); then the answers
(about 90% right, as in the bench's quiz scenario) are submitted through the whole ASGI app over httpx's
in-process transport. The CPU is this process's (the client's share included, the same for every version
compared), so run old and new code alternately on the same machine (docs/benchmarks.md, Method).
"""

import argparse
import asyncio
import random
import time
from pathlib import Path

import httpx
from sqlalchemy import event

from app.core.config import Settings
from app.core.security import KeyRing
from app.main import create_app
from bench.context import BenchContext, learner_id, load_courses
from bench.database import asyncpg_dsn, bench_database_url
from bench.learning_scenarios import enrol_by_sql, open_courses, right_choices, submission
from bench.seed_sql import Shape

ROOT = Path(__file__).resolve().parent.parent
WARMUP = 20


async def measure(submissions: int) -> None:
    url = bench_database_url()
    data_dir = ROOT / "var" / "bench" / "server"
    settings = Settings(database_url=url, data_dir=data_dir, jwt_keys_dir=data_dir / "keys",
                        run_worker_in_process=False, _env_file=None)
    keys = KeyRing.load(settings, create_dev_key=True)
    shape = Shape(10_000_000, 10_000_000)
    ctx = BenchContext(host="127.0.0.1", port=0, dsn=asyncpg_dsn(url), keyring=keys, settings=settings,
                       learners_total=shape.learners, first_free_learner=shape.rounds[0] + 1)
    conn = await ctx.connect()
    try:
        ctx.courses = await load_courses(conn)
    finally:
        await conn.close()
    right = await right_choices(ctx)
    courses = [c for c in open_courses(ctx) if c.quiz_id]
    pairs = [(learner_id(n), courses[i % len(courses)]) for i, n in enumerate(ctx.take_learners(submissions))]
    await enrol_by_sql(ctx, pairs)

    app = create_app(settings, keys=keys)
    statements = [0]

    def count(*_args) -> None:  # noqa: ANN002
        statements[0] += 1

    rng = random.Random(7)
    cpu_s, run_statements, counted, passed = 0.0, 0, 0, 0
    async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://bench") as client:
        event.listen(app.state.db.engine.sync_engine, "before_cursor_execute", count)
        for index, (user, course) in enumerate(pairs):
            headers = {"Authorization": f"Bearer {ctx.user_token(user)}", "Content-Type": "application/json"}
            started = await client.post(f"/api/v1/quizzes/{course.quiz_id}/attempts", content=b"{}",
                                        headers=headers)
            attempt = started.raise_for_status().json()
            body = submission(attempt, right, rng)
            before, began = statements[0], time.process_time()
            graded = await client.post(f"/api/v1/attempts/{attempt['id']}/submit", content=body, headers=headers)
            spent, ran = time.process_time() - began, statements[0] - before
            passed += graded.raise_for_status().json()["passed"]
            if index >= WARMUP:
                cpu_s, run_statements, counted = cpu_s + spent, run_statements + ran, counted + 1
    print(f"{counted} submissions: {cpu_s * 1000 / counted:.2f} ms CPU each (client included), "
          f"{run_statements / counted:.1f} statements each, {passed} of {len(pairs)} passed")


def main() -> None:
    parser = argparse.ArgumentParser(description="One quiz submission's CPU and statements, in-process")
    parser.add_argument("-n", type=int, default=150, help="submissions (the first 20 warm up)")
    asyncio.run(measure(max(parser.parse_args().n, WARMUP + 1)))


if __name__ == "__main__":
    main()
