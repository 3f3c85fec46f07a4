"""What the scenarios share: the server's address, the bench database, signed tokens, the bench courses and a
supply of learners who have not completed anything yet."""

import asyncio
import hashlib
import json
import random
import uuid
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import TypeVar

import asyncpg

from app.core.config import Settings
from app.core.security import KeyRing, access_claims
from bench.driver import Connection, Request, Response

T = TypeVar("T")
TOKEN_TTL_S = 4 * 3600  # a whole bench run, so no token expires mid-scenario


@dataclass(frozen=True)
class CourseInfo:
    id: uuid.UUID
    slug: str
    version_id: uuid.UUID
    audiences: list[str]
    lessons: dict[str, tuple[uuid.UUID, str, float | None]]  # key -> (lesson id, kind, duration_s)
    quiz_id: uuid.UUID | None


@dataclass
class BenchContext:
    host: str
    port: int
    dsn: str
    keyring: KeyRing
    settings: Settings
    learners_total: int
    first_free_learner: int  # learners numbered from here on have no seeded completion
    courses: list[CourseInfo] = field(default_factory=list)
    _next_learner: int = 0

    def user_token(self, user_id: uuid.UUID | str, role: str = "learner") -> str:
        return self.keyring.sign(
            access_claims(self.settings, subject=str(user_id), role=role, ttl_s=TOKEN_TTL_S)
        )

    def service_token(self, scopes: list[str], client_id: str = "bench") -> str:
        return self.keyring.sign(
            access_claims(
                self.settings,
                subject=f"client:{client_id}",
                role="service",
                ttl_s=TOKEN_TTL_S,
                extra={"scope": " ".join(scopes)},
            )
        )

    def take_learners(self, count: int) -> list[int]:
        """Learner numbers nobody in this run used yet, from a random place in the free range (so a second
        run starts on fresh learners too)."""
        free = self.learners_total - self.first_free_learner + 1
        if self._next_learner == 0:
            self._next_learner = self.first_free_learner + random.randrange(max(1, free // 2))
        if self._next_learner + count - 1 > self.learners_total:
            self._next_learner = self.first_free_learner
        block = list(range(self._next_learner, self._next_learner + count))
        self._next_learner += count
        return block

    async def connect(self) -> asyncpg.Connection:
        return await asyncpg.connect(self.dsn)

    async def each(
        self, items: Iterable[T], call: Callable[[Connection, T], Awaitable[None]], concurrency: int = 32
    ) -> None:
        """Run `call` for every item over `concurrency` keep-alive connections (set-up work, not measured)."""
        queue: asyncio.Queue[T] = asyncio.Queue()
        for item in items:
            queue.put_nowait(item)

        async def worker() -> None:
            conn = Connection(self.host, self.port)
            try:
                while not queue.empty():
                    await call(conn, queue.get_nowait())
            finally:
                await conn.close()

        await asyncio.gather(*(worker() for _ in range(concurrency)))


def learner_id(number: int) -> uuid.UUID:
    """The id the seeder gave learner `number` (md5 of a fixed prefix, as in bench/seed_sql.py)."""
    return uuid.UUID(hashlib.md5(f"hocso-bench-user-{number}".encode()).hexdigest())


def bearer(token: str) -> tuple[tuple[str, str], ...]:
    return (("Authorization", f"Bearer {token}"),)


def expect(response: Response, request: Request, *statuses: int) -> Response:
    if response.status not in statuses:
        raise RuntimeError(
            f"set-up call {request.method} {request.path} answered {response.status}: {response.body[:500]!r}"
        )
    return response


async def load_courses(conn: asyncpg.Connection) -> list[CourseInfo]:
    rows = await conn.fetch("""
        SELECT c.id, c.slug, v.id AS version_id, v.audiences::text AS audiences
        FROM course c JOIN course_version v ON v.course_id = c.id AND v.status = 'published'
        WHERE c.slug LIKE 'bench-%' ORDER BY c.slug""")
    courses = []
    for row in rows:
        lessons = await conn.fetch(
            "SELECT l.id, l.key, l.kind, l.duration_s, q.id AS quiz_id FROM lesson l "
            "LEFT JOIN quiz q ON q.lesson_id = l.id WHERE l.version_id = $1",
            row["version_id"],
        )
        courses.append(
            CourseInfo(
                id=row["id"],
                slug=row["slug"],
                version_id=row["version_id"],
                audiences=json.loads(row["audiences"]),
                lessons={r["key"]: (r["id"], r["kind"], r["duration_s"]) for r in lessons},
                quiz_id=next((r["quiz_id"] for r in lessons if r["quiz_id"]), None),
            )
        )
    return courses
