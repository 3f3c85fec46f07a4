"""Per-address limits: a moving window, in memory per process or in Redis shared by every worker (item 4)."""

import uuid

import httpx
import pytest

from app.core.ratelimit import RateLimits, build_storage, retry_after
from tests.conftest import make_app


@pytest.fixture(params=["memory", "redis"])
async def limits(request) -> RateLimits:
    url = request.getfixturevalue("redis_url") if request.param == "redis" else None
    return RateLimits(build_storage(url, key_prefix=f"hocso-test-{uuid.uuid4().hex}"))


async def test_allows_limit_hits_per_window_then_says_how_long_to_wait(limits):
    assert [await limits.hit("verify", "203.0.113.1", limit=3, window_s=60) for _ in range(3)] == [None] * 3
    wait = await limits.hit("verify", "203.0.113.1", limit=3, window_s=60)
    assert wait is not None and 0 < wait <= 60
    assert await limits.hit("verify", "203.0.113.2", limit=3, window_s=60) is None  # another key
    assert await limits.hit("register", "203.0.113.1", limit=3, window_s=60) is None  # another limit
    assert retry_after(39.2) == 40 and retry_after(0.0) == 1


async def test_exhausted_tells_without_spending_whether_a_hit_would_be_allowed(limits):
    assert await limits.exhausted("partner-elsewhere", "so-a", limit=2, window_s=60) is None
    assert await limits.exhausted("partner-elsewhere", "so-a", limit=2, window_s=60) is None  # spent nothing
    assert [await limits.hit("partner-elsewhere", "so-a", limit=2, window_s=60) for _ in range(2)] == [None] * 2
    wait = await limits.exhausted("partner-elsewhere", "so-a", limit=2, window_s=60)
    assert wait is not None and 0 < wait <= 60
    assert await limits.exhausted("partner-elsewhere", "so-b", limit=2, window_s=60) is None


async def test_an_unreachable_redis_lets_requests_through():
    limits = RateLimits(build_storage("redis://127.0.0.1:1/0"))
    assert await limits.hit("verify", "203.0.113.1", limit=1, window_s=60) is None
    assert await limits.exhausted("verify", "203.0.113.1", limit=1, window_s=60) is None


async def test_two_workers_share_one_budget_through_redis(settings, db, keyring, redis_url):
    """Two apps (two uvicorn workers, or two hosts) against one Redis: the verification budget is one."""
    shared = settings.model_copy(update={"redis_url": redis_url, "verify_rate_per_minute": 3})
    address = f"198.51.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}"
    statuses = []
    for _ in range(2):
        for app in (make_app(shared, db, keyring), make_app(shared, db, keyring)):
            transport = httpx.ASGITransport(app=app, client=(address, 40000))
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
                statuses.append((await c.get("/api/v1/certificates/verify/HS-2026-XXXX")).status_code)
    assert statuses[:3] == [404, 404, 404] and statuses[3] == 429


async def test_without_redis_each_worker_keeps_its_own_budget(settings, db, keyring):
    alone = settings.model_copy(update={"redis_url": None, "verify_rate_per_minute": 1})
    for app in (make_app(alone, db, keyring), make_app(alone, db, keyring)):
        transport = httpx.ASGITransport(app=app, client=("203.0.113.9", 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
            assert (await c.get("/api/v1/certificates/verify/HS-2026-XXXX")).status_code == 404


async def test_closing_lets_go_of_the_redis_connections_and_the_memory_expiry_task(limits):
    await limits.hit("verify", "203.0.113.1", limit=3, window_s=60)
    client = getattr(getattr(limits.storage, "bridge", None), "storage", None)
    timer = getattr(limits.storage, "timer", None)
    await limits.close()
    if client is not None:
        assert not any(c.is_connected for c in client.connection_pool._available_connections)
    else:
        assert timer is not None and (timer.done() or timer.cancelling())
