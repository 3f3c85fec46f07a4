"""Watched-interval arithmetic for earned video credit: pure functions over sorted [start_s, end_s] lists."""

EPSILON = 1e-6  # intervals closer than this touch; float noise must not split or shrink coverage
PRECISION = 3  # stored to the millisecond


def clamp(intervals: list[list[float]], duration_s: float) -> list[list[float]]:
    """Cut intervals to the media's [0, duration]; drop what lies outside or is empty."""
    kept = []
    for start, end in intervals:
        start, end = max(0.0, start), min(duration_s, end)
        if end - start > EPSILON:
            kept.append([round(start, PRECISION), round(end, PRECISION)])
    return kept


def merge(intervals: list[list[float]]) -> list[list[float]]:
    """The union as sorted, non-overlapping intervals (overlapping or touching ones are joined)."""
    merged: list[list[float]] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1] + EPSILON:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return merged


def measure(intervals: list[list[float]]) -> float:
    """Seconds covered by a merged union."""
    return round(sum(end - start for start, end in intervals), PRECISION)


def uncovered(claimed: list[list[float]], covered: list[list[float]]) -> list[list[float]]:
    """The parts of `claimed` (merged) that `covered` (merged) does not already hold, in time order."""
    fresh = []
    for start, end in claimed:
        cursor = start
        for c_start, c_end in covered:
            if c_end <= cursor or c_start >= end:
                continue
            if c_start > cursor + EPSILON:
                fresh.append([cursor, c_start])
            cursor = max(cursor, c_end)
            if cursor >= end:
                break
        if end - cursor > EPSILON:
            fresh.append([cursor, end])
    return fresh


def credit(covered: list[list[float]], claimed: list[list[float]], duration_s: float,
           budget_s: float) -> tuple[list[list[float]], float]:
    """Add at most `budget_s` seconds of new coverage from `claimed` to `covered`.

    Claimed intervals are clamped to the duration; only parts not yet covered count as new, and when they
    exceed the budget the earliest ones are credited first. Returns (new union, seconds credited).
    """
    covered = merge(clamp(covered, duration_s))
    fresh = uncovered(merge(clamp(claimed, duration_s)), covered)
    remaining = max(0.0, budget_s)
    granted = []
    for start, end in fresh:
        if remaining <= EPSILON:
            break
        take = min(end - start, remaining)
        granted.append([start, round(start + take, PRECISION)])
        remaining -= take
    union = merge(covered + granted)
    return union, round(measure(union) - measure(covered), PRECISION)
