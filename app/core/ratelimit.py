"""Rate limits (per address: certificate verification, registration; per partner client: refused lookups),
shared by every worker when they can be.

With `HOCSO_REDIS_URL` set the hits live in Redis, so N workers on M hosts share one budget per key; without it,
in this process's memory (the embedded default: one process). Both through the `limits` library's moving
window: at most `limit` hits in any `window_s` seconds, not per clock minute (which would let 2×limit through
across a minute boundary). Refused hits are not counted, so a client that waits Retry-After is let in again.

Redis unreachable: the request is let through and a warning logged. A limit is a brake on abuse, not a gate
whose failure should take verification and registration down with it.
"""

import logging
import math
import time

from limits import RateLimitItemPerSecond
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.errors import StorageError

log = logging.getLogger("hocso.ratelimit")


def build_storage(redis_url: str | None, *, key_prefix: str = "hocso") -> Storage:
    if not redis_url:
        return MemoryStorage()
    uri = redis_url if redis_url.startswith("async+") else f"async+{redis_url}"
    return RedisStorage(uri, implementation="redispy", wrap_exceptions=True, key_prefix=key_prefix,
                        socket_timeout=1.0, socket_connect_timeout=1.0)


class RateLimits:
    """One per app (so per worker); the storage decides whether its counts are shared."""

    def __init__(self, storage: Storage) -> None:
        self.storage = storage
        self._limiter = MovingWindowRateLimiter(storage)

    async def hit(self, name: str, key: str, *, limit: int, window_s: int) -> float | None:
        """Record one hit of `key` under the limit `name`; None if allowed, else seconds until one would be."""
        item = RateLimitItemPerSecond(limit, window_s)
        try:
            if await self._limiter.hit(item, name, key):
                return None
            stats = await self._limiter.get_window_stats(item, name, key)
        except StorageError:
            log.warning("rate limit storage unreachable; request let through", exc_info=True)
            return None
        return max(0.0, stats.reset_time - time.time())

    async def exhausted(self, name: str, key: str, *, limit: int, window_s: int) -> float | None:
        """Without hitting: None if a hit of `key` would be allowed now, else seconds until one would be."""
        item = RateLimitItemPerSecond(limit, window_s)
        try:
            stats = await self._limiter.get_window_stats(item, name, key)
        except StorageError:
            log.warning("rate limit storage unreachable; request let through", exc_info=True)
            return None
        return None if stats.remaining > 0 else max(0.0, stats.reset_time - time.time())

    async def reset(self) -> None:
        await self.storage.reset()

    async def close(self) -> None:
        """At shutdown: Redis's connections closed, the in-memory store's expiry task stopped. The `limits`
        storages (5.x) have no close of their own, so this reaches the client and the task they hold."""
        client = getattr(getattr(self.storage, "bridge", None), "storage", None)
        if client is not None:
            await client.aclose()
        timer = getattr(self.storage, "timer", None)
        if timer is not None and not timer.done():
            timer.cancel()


def retry_after(wait_s: float) -> int:
    """Whole seconds for a Retry-After header (never 0, which would invite an immediate retry)."""
    return max(1, math.ceil(wait_s))
