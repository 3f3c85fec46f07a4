"""The sliding-window limiter behind the verification endpoints."""

import pytest

from app.core.ratelimit import SlidingWindowLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_allows_limit_hits_per_window_then_says_how_long_to_wait():
    clock = Clock()
    limiter = SlidingWindowLimiter(3, 60, clock=clock)
    assert [limiter.hit("ip") for _ in range(3)] == [None, None, None]
    clock.now += 20
    assert limiter.hit("ip") == pytest.approx(40)
    assert SlidingWindowLimiter.retry_after(39.2) == 40 and SlidingWindowLimiter.retry_after(0.0) == 1


def test_window_slides_instead_of_resetting_on_the_minute():
    clock = Clock()
    limiter = SlidingWindowLimiter(2, 60, clock=clock)
    limiter.hit("ip")
    clock.now += 59
    limiter.hit("ip")
    assert limiter.hit("ip") is not None
    clock.now += 1.5  # the first hit has left the window, the second has not
    assert limiter.hit("ip") is None
    assert limiter.hit("ip") is not None


def test_refused_hits_do_not_extend_the_wait():
    clock = Clock()
    limiter = SlidingWindowLimiter(1, 60, clock=clock)
    limiter.hit("ip")
    for _ in range(50):
        limiter.hit("ip")
    clock.now += 60
    assert limiter.hit("ip") is None


def test_clients_are_counted_separately_and_memory_stays_bounded():
    clock = Clock()
    limiter = SlidingWindowLimiter(1, 60, max_keys=100, clock=clock)
    assert limiter.hit("a") is None and limiter.hit("b") is None and limiter.hit("a") is not None
    for n in range(1000):
        limiter.hit(f"10.0.{n // 256}.{n % 256}")
    assert len(limiter._hits) <= 100
