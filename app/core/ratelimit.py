"""A small sliding-window rate limiter, keyed by whatever the caller chooses (e.g. client IP).

It counts hits in the last `window_s` seconds (not in fixed clock minutes, which would allow a burst of
2×limit across a minute boundary).

Scope: one limiter lives in one API process. With N uvicorn/gunicorn workers or N replicas a client can
make up to N×limit requests per window. To share the budget, keep each key's hits in Redis instead: a sorted
set per key, and per hit in one MULTI: ZREMRANGEBYSCORE key 0 now-window; ZADD key now now; ZCARD key;
EXPIRE key window. The interface (`hit(key) -> seconds to wait | None`) stays the same.
"""

import math
import time
from collections import deque
from collections.abc import Callable


class SlidingWindowLimiter:
    """At most `limit` hits per key in any `window_s` seconds; memory bounded by `max_keys`."""

    def __init__(self, limit: int, window_s: float = 60.0, *, max_keys: int = 100_000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if limit < 1 or window_s <= 0:
            raise ValueError("limit must be >= 1 and window_s > 0")
        self.limit = limit
        self.window_s = window_s
        self.max_keys = max_keys
        self.clock = clock
        self._hits: dict[str, deque[float]] = {}

    def hit(self, key: str) -> float | None:
        """Record one hit for `key`; None if allowed, else the seconds until the next hit would be allowed.

        Refused hits are not recorded, so a client that waits Retry-After is let in again.
        No await inside, so it is atomic within one event loop.
        """
        now = self.clock()
        hits = self._hits.get(key)
        if hits is None:
            self._make_room(now)
            hits = self._hits[key] = deque()
        while hits and hits[0] <= now - self.window_s:
            hits.popleft()
        if len(hits) >= self.limit:
            return hits[0] + self.window_s - now
        hits.append(now)
        return None

    @staticmethod
    def retry_after(wait_s: float) -> int:
        """Whole seconds for a Retry-After header (never 0, which would invite an immediate retry)."""
        return max(1, math.ceil(wait_s))

    def _make_room(self, now: float) -> None:
        if len(self._hits) < self.max_keys:
            return
        # Forget keys whose hits have all left the window; if that is not enough (a flood of distinct
        # clients), forget the oldest-seen keys: that only lets those clients in again sooner.
        expired = [k for k, h in self._hits.items() if not h or h[-1] <= now - self.window_s]
        for key in expired:
            del self._hits[key]
        while len(self._hits) >= self.max_keys:
            del self._hits[next(iter(self._hits))]
