"""The security helpers on their own: the sliding window and the CSRF token."""

from __future__ import annotations

from councilwatch.web.security import (
    RateLimit,
    SlidingWindowLimiter,
    csrf_form_token,
    csrf_valid,
)

SECRET = b"0123456789abcdef0123456789abcdef"


class Seconds:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_window_slides_rather_than_resetting() -> None:
    clock = Seconds()
    limiter = SlidingWindowLimiter(RateLimit(limit=2, window_seconds=60), clock)
    assert limiter.hit("a")
    clock.now = 1030.0
    assert limiter.hit("a")
    assert not limiter.hit("a")
    assert limiter.retry_after("a") == 31  # the first hit leaves the window at 1060
    clock.now = 1061.0
    assert limiter.hit("a")  # one slot freed, not two
    assert not limiter.hit("a")
    assert limiter.hit("b")  # keys are independent


def test_refused_hits_do_not_extend_the_wait() -> None:
    clock = Seconds()
    limiter = SlidingWindowLimiter(RateLimit(limit=1, window_seconds=10), clock)
    assert limiter.hit("a")
    for step in range(9):
        clock.now = 1000.0 + step
        assert not limiter.hit("a")
    clock.now = 1010.5
    assert limiter.hit("a")


def test_memory_is_bounded() -> None:
    clock = Seconds()
    limiter = SlidingWindowLimiter(RateLimit(limit=1, window_seconds=10), clock, max_keys=100)
    for n in range(1000):
        limiter.hit(f"client-{n}")
    assert len(limiter._events) <= 100


def test_csrf_token_is_bound_to_the_cookie_and_the_secret() -> None:
    token = csrf_form_token(SECRET, "cookie-value")
    assert csrf_valid(SECRET, "cookie-value", token)
    assert not csrf_valid(SECRET, "other-cookie", token)
    assert not csrf_valid(b"another-secret-0123456789abcdef", "cookie-value", token)
    assert not csrf_valid(SECRET, None, token)
    assert not csrf_valid(SECRET, "cookie-value", "")
    assert not csrf_valid(SECRET, "cookie-value", None)
