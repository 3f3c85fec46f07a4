"""Shared by the reporting tests: an app over really committed data, and a feed consumer that pages to the end.

On PostgreSQL the completion feed serves a row only once every transaction older than its own has ended, so
rows written inside a test's rolled-back transaction are never served: feed tests arrange their data with real
commits (`committed_db`) and read it back through `live`.
"""

import asyncio
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

import httpx
import pytest

from app.core.db import Database
from app.main import create_app
from app.services.completion.completions import record_completion
from tests.factories import make_course, make_user

T = TypeVar("T")
ON_POSTGRES = bool(os.environ.get("HOCSO_TEST_DATABASE_URL"))


@dataclass
class Live:
    db: Database
    client: httpx.AsyncClient
    app: Any

    async def arrange(self, build: Callable[[Any], Awaitable[T]]) -> T:
        """Run `build(session)` in its own committed transaction."""
        async with self.db.session() as session:
            return await build(session)


@pytest.fixture(name="live")
async def live_app(settings, committed_db, keyring) -> AsyncIterator[Live]:
    """Import `live_app` into a test module to use the `live` fixture."""
    app = create_app(settings, database=committed_db, keys=keyring)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        yield Live(committed_db, client, app)


async def complete(session, *, province: str = "01", audience: str = "citizen", course=None, user=None,
                   at: datetime | None = None, full_name: str = "Nguyễn Thị Hồng Nhung"):
    """A completion through the one recording path, with a fresh learner and course unless given."""
    course = course or (await make_course(session, lessons=[])).course
    user = user or await make_user(session, province_code=province, full_name=full_name)
    completion, _ = await record_completion(
        session, user=user, course=course, course_version=1,
        completed_at=at or datetime(2026, 3, 10, 3, 0, tzinfo=UTC), audience=audience, province_code=province)
    return completion


async def read_feed(client: httpx.AsyncClient, headers: dict[str, str], *, expected: int | None = None,
                    cursor: str | None = None, limit: int = 1000, timeout_s: float = 10.0,
                    **params: Any) -> tuple[list[dict], str | None]:
    """Page from `cursor` until nothing more is ready; with `expected`, keep polling (as a consumer would)
    until that many rows have arrived. Returns the rows and the cursor to resume from."""
    items: list[dict] = []
    deadline = time.monotonic() + timeout_s
    while True:
        query = {"limit": limit, **params, **({"cursor": cursor} if cursor else {})}
        r = await client.get("/api/v1/completions", params=query, headers=headers)
        assert r.status_code == 200, r.text
        page = r.json()
        items += page["items"]
        cursor = page["next_cursor"]
        if page["has_more"]:
            continue
        if expected is None or len(items) >= expected or time.monotonic() > deadline:
            return items, cursor
        await asyncio.sleep(0.02)
