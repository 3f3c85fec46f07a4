"""A small in-process cache for stats answers: fresh for a few seconds, computed by one request at a time.

Summing a year of day buckets (days × provinces × courses: about 1.2 million rows at national scale) takes a few
hundred milliseconds on PostgreSQL (whole-year summaries read the small year buckets instead, but per-course
views and series still need the day buckets), while the ministry reads the same figures over and over. Each worker keeps
answers for `stats_cache_ttl_s`; when one expires, the first caller recomputes it and concurrent callers keep
getting the previous answer meanwhile, so a burst of readers never piles up behind the database.
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
        async with lock:
            entry = self._entries.get(key)
            if entry is not None and self._fresh(entry):
                return entry.value
            value = await compute()
            self._store(key, value)
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
