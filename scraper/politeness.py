"""Per-host pacing: at most one request per interval to each host.

All waiting goes through an injected :class:`Clock`, so tests check timing with a fake clock
instead of wall time.
"""

from __future__ import annotations

import threading
import time
from typing import Protocol


class Clock(Protocol):
    """Monotonic time and sleeping, injected wherever the fetcher waits."""

    def monotonic(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...


class SystemClock:
    """The real clock."""

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)


class HostPacer:
    """Spaces requests to each host at least ``interval(host)`` seconds apart.

    The interval is ``min_interval`` unless :meth:`set_interval` raised it for a host (robots.txt
    Crawl-delay). A slot is reserved under a lock and slept for outside it, so threads fetching
    from different hosts never wait for each other.
    """

    def __init__(self, clock: Clock, min_interval: float) -> None:
        self._clock = clock
        self._min_interval = max(0.0, min_interval)
        self._intervals: dict[str, float] = {}
        self._last_start: dict[str, float] = {}
        self._lock = threading.Lock()

    def interval(self, host: str) -> float:
        return self._intervals.get(host, self._min_interval)

    def set_interval(self, host: str, seconds: float) -> None:
        """Raise the host's interval to ``seconds``; never lowers it below ``min_interval``."""
        with self._lock:
            self._intervals[host] = max(self._min_interval, seconds)

    def wait(self, host: str) -> float:
        """Block until a request to ``host`` may start; return the seconds waited."""
        with self._lock:
            now = self._clock.monotonic()
            last = self._last_start.get(host)
            # The interval is read now, not when the previous slot was taken, so a Crawl-delay
            # learnt from the robots.txt request already spaces the request after it.
            slot = now if last is None else max(now, last + self.interval(host))
            self._last_start[host] = slot
        delay = slot - now
        if delay > 0:
            self._clock.sleep(delay)
        return delay
