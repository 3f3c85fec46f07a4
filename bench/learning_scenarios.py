"""Authenticated learner scenarios: video heartbeats, quiz submissions and course completions.

Learners come from the seeded ones with no completion yet (a fresh block each run). Each request is signed
with the learner's own access token (RS256, minted with the server's key as /auth/token would).
"""

import json
import random
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

from bench.context import BenchContext, CourseInfo, bearer, expect, learner_id
from bench.driver import Connection, Request, Response
from bench.report import Target
from bench.scenarios import Scenario

VIDEO_KEY, QUIZ_KEY = "bai-1", "kiem-tra"


def open_courses(ctx: BenchContext) -> list[CourseInfo]:
    """Courses every learner may take (citizens, and officials whether verified or not)."""
    return [c for c in ctx.courses if "citizen" in c.audiences and VIDEO_KEY in c.lessons]


ENROL = """
INSERT INTO enrollment (id, user_id, course_id, version_id, enrolled_at)
SELECT gen_random_uuid(), u, c, v, now() - interval '1 day'
FROM unnest($1::uuid[], $2::uuid[], $3::uuid[]) AS t(u, c, v)
ON CONFLICT (user_id, course_id) DO NOTHING"""
COUNT_ENROLMENTS = """
UPDATE course SET enrollment_count = enrollment_count + t.n
FROM (SELECT c, count(*) AS n FROM unnest($1::uuid[]) AS c GROUP BY c) AS t WHERE course.id = t.c"""
REQUIREMENTS_MET = """
INSERT INTO lesson_progress (id, user_id, course_id, lesson_key, intervals, covered_s, duration_s,
                             last_heartbeat_at, viewed_at, best_score, completed_at, updated_at)
SELECT gen_random_uuid(), u, c, k,
       CASE WHEN kind = 'video' THEN jsonb_build_array(jsonb_build_array(0, d)) ELSE '[]' END,
       CASE WHEN kind = 'video' THEN d ELSE 0 END, d,
       CASE WHEN kind = 'video' THEN now() - interval '1 hour' END,
       CASE WHEN kind IN ('document', 'text') THEN now() - interval '1 hour' END,
       CASE WHEN kind = 'quiz' THEN 100 END, now() - interval '1 hour', now() - interval '1 hour'
FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::float8[]) AS t(u, c, k, kind, d)
ON CONFLICT (user_id, course_id, lesson_key) DO NOTHING"""

PLAYBACK_STARTED = """
INSERT INTO lesson_progress (id, user_id, course_id, lesson_key, intervals, covered_s, duration_s,
                             last_heartbeat_at, updated_at)
SELECT gen_random_uuid(), u, c, $3, '[]', 0, d, now(), now()
FROM unnest($1::uuid[], $2::uuid[], $4::float8[]) AS t(u, c, d)
ON CONFLICT (user_id, course_id, lesson_key) DO NOTHING"""


async def enrol_by_sql(ctx: BenchContext, pairs: list[tuple[uuid.UUID, CourseInfo]]) -> None:
    """Enrollments for many learners in one statement (what POST …/enrollments writes, counters included)."""
    conn = await ctx.connect()
    try:
        async with conn.transaction():
            await conn.execute(ENROL, [u for u, _ in pairs], [c.id for _, c in pairs],
                               [c.version_id for _, c in pairs])
            await conn.execute(COUNT_ENROLMENTS, [c.id for _, c in pairs])
    finally:
        await conn.close()


@dataclass
class Watcher:
    """One learner watching one video: each heartbeat reports what was played since the previous one."""

    token_headers: tuple
    lesson_id: uuid.UUID
    duration_s: float
    position_s: float = 0.0
    last_sent: float = field(default_factory=time.monotonic)
    sent: int = 0
    tag: str = field(default_factory=lambda: uuid.uuid4().hex[:12])

    def heartbeat(self) -> Request:
        now = time.monotonic()
        start = self.position_s if self.position_s < self.duration_s else 0.0  # watched to the end: again
        end = min(self.duration_s, start + (now - self.last_sent))  # played at 1x since the last heartbeat
        self.position_s, self.last_sent, self.sent = end, now, self.sent + 1
        body = {"event_id": f"hb-{self.tag}-{self.sent}", "position_s": round(end, 3),
                "intervals": [[round(start, 3), round(end, 3)]], "playback_rate": 1.0,
                "client_time": datetime.now(UTC).isoformat()}
        return Request("POST", f"/api/v1/lessons/{self.lesson_id}/progress", json.dumps(body).encode(),
                       self.token_headers)


class Heartbeat(Scenario):
    """Many learners, each playing a video: every heartbeat carries the interval played since that learner's
    previous one (1x speed), so the server credits real coverage each time. Enrollment and the first heartbeat
    (which only starts the server's clock) are written by SQL beforehand."""

    name, key = "lesson heartbeat", "heartbeat"
    target = Target(min_ratio=0.25)
    learners_per_client = 100

    async def prepare(self, ctx: BenchContext, concurrency: int, duration_s: float) -> None:
        courses = open_courses(ctx)
        numbers = ctx.take_learners(concurrency * self.learners_per_client)
        self.watchers: list[list[Watcher]] = [[] for _ in range(concurrency)]
        pairs = []
        for index, number in enumerate(numbers):
            course = courses[index % len(courses)]
            lesson_id, _, duration = course.lessons[VIDEO_KEY]
            user = learner_id(number)
            self.watchers[index % concurrency].append(
                Watcher(bearer(ctx.user_token(user)), lesson_id, float(duration or 300)))
            pairs.append((user, course))
        await enrol_by_sql(ctx, pairs)
        conn = await ctx.connect()
        try:  # playback started: the first heartbeat (no interval) set the clock of each learner's video
            await conn.execute(PLAYBACK_STARTED, [u for u, _ in pairs], [c.id for _, c in pairs], VIDEO_KEY,
                               [c.lessons[VIDEO_KEY][2] for _, c in pairs])
        finally:
            await conn.close()
        started = time.monotonic()
        for watcher in (w for mine in self.watchers for w in mine):
            watcher.last_sent = started
        self.turn = [0] * concurrency
        self.credited = 0.0

    def next_request(self, client: int) -> Request:
        mine = self.watchers[client]
        self.turn[client] += 1
        return mine[self.turn[client] % len(mine)].heartbeat()

    def on_response(self, client: int, request: Request, response: Response) -> None:
        if response.status == 200:
            self.credited += json.loads(response.body).get("credited_s", 0)

    def note(self) -> str:
        learners = sum(len(w) for w in self.watchers)
        return f"{learners:,} learners; {self.credited:,.0f} s of video credited"


async def right_choices(ctx: BenchContext) -> dict[uuid.UUID, uuid.UUID]:
    """Each bench question's fully right choice."""
    conn = await ctx.connect()
    try:
        return {r["question_id"]: r["id"] for r in await conn.fetch(
            "SELECT question_id, id FROM choice WHERE weight >= 100")}
    finally:
        await conn.close()


def submission(attempt: dict, right: dict[uuid.UUID, uuid.UUID], rng: random.Random) -> bytes:
    """A submit body for a started attempt: each answer right nine times in ten, otherwise any choice."""
    answers = []
    for question in attempt["questions"]:
        correct = right.get(uuid.UUID(question["id"]))
        pick = str(correct) if correct and rng.random() < 0.9 else rng.choice(question["choices"])["id"]
        answers.append({"question_id": question["id"], "choice_ids": [pick]})
    return json.dumps({"answers": answers}).encode()


class QuizSubmit(Scenario):
    """Submitting an attempt with its answers (about 90% right): graded on the server, best score kept and,
    on a pass, the quiz lesson completed. Attempts are started through the API beforehand (not measured)."""

    name, key = "quiz submit", "quiz"
    pool_per_client = 150

    async def prepare(self, ctx: BenchContext, concurrency: int, duration_s: float) -> None:
        courses = [c for c in open_courses(ctx) if c.quiz_id]
        numbers = ctx.take_learners(concurrency * self.pool_per_client)
        pairs = [(learner_id(n), courses[i % len(courses)]) for i, n in enumerate(numbers)]
        await enrol_by_sql(ctx, pairs)
        right = await right_choices(ctx)
        self.pool: list[list[Request]] = [[] for _ in range(concurrency)]
        rng = random.Random(7)

        async def start(conn: Connection, item: tuple[int, tuple[uuid.UUID, CourseInfo]]) -> None:
            index, (user, course) = item
            headers = bearer(ctx.user_token(user))
            begin = Request("POST", f"/api/v1/quizzes/{course.quiz_id}/attempts", b"{}", headers)
            attempt = json.loads(expect(await conn.send(begin), begin, 201).body)
            self.pool[index % concurrency].append(Request(
                "POST", f"/api/v1/attempts/{attempt['id']}/submit", submission(attempt, right, rng), headers))

        await ctx.each(list(enumerate(pairs)), start)
        self.passed = 0

    def next_request(self, client: int) -> Request | None:
        return self.pool[client].pop() if self.pool[client] else None

    def on_response(self, client: int, request: Request, response: Response) -> None:
        if response.status == 200 and json.loads(response.body).get("passed"):
            self.passed += 1

    def note(self) -> str:
        return f"{self.passed:,} attempts passed"


class CourseCompletion(Scenario):
    """The completion endpoint for learners whose every requirement is met (progress rows written by SQL:
    earning 90% of a video takes real minutes by design); each request records one completion, its counter
    buckets, the learner-year mark and, for certificate courses, the certificate job."""

    name, key = "completion", "completion"
    target = Target(min_ratio=0.10)
    pool_per_client = 600  # 19,200 at 32 clients: enough for ~800 completions/s over warm-up and run

    async def prepare(self, ctx: BenchContext, concurrency: int, duration_s: float) -> None:
        courses = open_courses(ctx)
        numbers = ctx.take_learners(concurrency * self.pool_per_client)
        pairs = [(learner_id(n), courses[i % len(courses)]) for i, n in enumerate(numbers)]
        await enrol_by_sql(ctx, pairs)
        rows = []
        for user, course in pairs:
            for key, (_, kind, duration) in course.lessons.items():
                rows.append((user, course.id, key, kind, duration))
        conn = await ctx.connect()
        try:
            await conn.execute(REQUIREMENTS_MET, *[list(column) for column in zip(*rows, strict=True)])
        finally:
            await conn.close()
        self.pool = [[] for _ in range(concurrency)]
        for index, (user, course) in enumerate(pairs):
            self.pool[index % concurrency].append(Request(
                "POST", f"/api/v1/courses/{course.slug}/completion", b"", bearer(ctx.user_token(user))))
        self.created = 0

    def next_request(self, client: int) -> Request | None:
        return self.pool[client].pop() if self.pool[client] else None

    def on_response(self, client: int, request: Request, response: Response) -> None:
        self.created += response.status == 201

    def note(self) -> str:
        return f"{self.created:,} completions recorded (201)"
