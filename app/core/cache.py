"""A small in-process cache for stats answers: fresh for a few seconds, computed by one request at a time.

Summing a year of day buckets (days × provinces × courses: about 1.2 million rows at national scale) takes a few
hundred milliseconds on PostgreSQL (whole-year summaries read the small year buckets instead, but per-course
views and series still need the day buckets), while the ministry reads the same figures over and over. Each worker keeps
answers for `stats_cache_ttl_s`; when one expires, the first caller recomputes it and concurrent callers keep
getting the previous answer meanwhile, so a burst of readers never piles up behind the database.

`SharedPages` does the same for answers that are only sometimes worth keeping (completion feed pages: a full
page never changes, the last one does): identical requests in flight share one computation, and only answers
marked to keep are kept.
"""

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from typing import Any

MAX_ENTRIES = 512  # distinct filter combinations kept per worker; the oldest is dropped beyond it


@dataclass
class _Entry:
    value: Any
    computed_at: float


class StatsCache:
    def __init__(self, ttl_s: float, *, max_entries: int = MAX_ENTRIES) -> None:
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self._entries: OrderedDict[Hashable, _Entry] = OrderedDict()
        self._locks: dict[Hashable, asyncio.Lock] = {}

    async def get(self, key: Hashable, compute: Callable[[], Awaitable[Any]]) -> Any:
        """The cached answer for `key` if fresh; otherwise compute it (once, however many callers ask)."""
        if self.ttl_s <= 0:
            return await compute()
        entry = self._entries.get(key)
        if entry is not None and self._fresh(entry):
            return entry.value
        lock = self._locks.setdefault(key, asyncio.Lock())
        if entry is not None and lock.locked():
            return entry.value  # someone is refreshing it: a few seconds' staleness beats queueing
        try:
            async with lock:
                entry = self._entries.get(key)
                if entry is not None and self._fresh(entry):
                    return entry.value
                value = await compute()  # an error propagates and nothing is stored
                self._store(key, value)
        finally:
            # Dropped however compute ended: keys of refused requests must not pile up in _locks.
            if not lock.locked():
                self._locks.pop(key, None)
        return value

    def clear(self) -> None:
        self._entries.clear()

    def _fresh(self, entry: _Entry) -> bool:
        return time.monotonic() - entry.computed_at < self.ttl_s

    def _store(self, key: Hashable, value: Any) -> None:
        self._entries[key] = _Entry(value, time.monotonic())
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)


class SharedPages:
    """Rendered answers shared by identical requests: those in flight wait for the one being computed, and an
    answer that `compute` marks to keep is served again for `ttl_s` (the least recently used beyond
    `max_entries` is dropped). `ttl_s <= 0` shares nothing."""

    def __init__(self, ttl_s: float, *, max_entries: int) -> None:
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self._entries: OrderedDict[Hashable, _Entry] = OrderedDict()
        self._pending: dict[Hashable, asyncio.Future] = {}

    async def get(self, key: Hashable, compute: Callable[[], Awaitable[tuple[Any, bool]]]) -> Any:
        """The answer for `key`: kept, being computed by another request, or computed now."""
        if self.ttl_s <= 0:
            return (await compute())[0]
        entry = self._entries.get(key)
        if entry is not None and time.monotonic() - entry.computed_at < self.ttl_s:
            self._entries.move_to_end(key)
            return entry.value
        pending = self._pending.get(key)
        if pending is not None:
            shared = await asyncio.shield(pending)
            if shared is not None:
                return shared
            # The request computing it failed or was cancelled: compute it for ourselves.
        future: asyncio.Future = asyncio.get_running_loop().create_future()
        self._pending[key] = future
        value = None
        try:
            value, keep = await compute()
            if keep:
                self._entries[key] = _Entry(value, time.monotonic())
                self._entries.move_to_end(key)
                while len(self._entries) > self.max_entries:
                    self._entries.popitem(last=False)
            return value
        finally:
            if self._pending.get(key) is future:
                del self._pending[key]
            future.set_result(value)  # None after a failure: whoever waits computes it again

    def clear(self) -> None:
        self._entries.clear()
