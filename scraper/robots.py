"""robots.txt per origin, with RFC 9309 semantics (parsing by Protego).

The file is fetched once per origin through a callable the client provides (so pacing, logging
and the User-Agent stay in one place) and cached. What an unusable answer means (RFC 9309 2.3.1):
4xx - no rules, everything allowed; 5xx or unreachable - everything disallowed for a while, then
asked again.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from protego import Protego

from scraper.politeness import Clock

ROBOTS_MAX_BYTES = 512 * 1024  # RFC 9309 2.5: parse at least 500 KiB; ignore the rest


@functools.lru_cache(maxsize=4096)  # asked several times per request, for few distinct URLs
def origin_of(url: str) -> str:
    """``scheme://host[:port]`` of an absolute URL, lower-cased: the unit of robots and pacing."""
    parts = urlsplit(url)
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}"


@dataclass(frozen=True)
class RobotsAnswer:
    """What fetching ``/robots.txt`` gave: a final status (None when unreachable) and body."""

    status: int | None
    body: bytes = b""
    # Why there was no answer at all ("cannot connect to host: ..."), when status is None.
    unreachable: str | None = None


@dataclass(frozen=True)
class RobotsVerdict:
    allowed: bool
    reason: str
    crawl_delay: float | None = None
    # The site could not be reached at all: a connection failure, not a robots.txt rule.
    unreachable: bool = False


@dataclass
class _Rules:
    parser: Protego | None  # None: no usable file
    allow_all: bool
    retry_at: float | None = None  # monotonic time after which a failing robots.txt is re-asked
    why: str = ""
    unreachable: bool = False


class RobotsCache:
    """Answers "may this URL be fetched?" from each origin's robots.txt, fetched on first use."""

    def __init__(
        self,
        fetch: Callable[[str], RobotsAnswer],
        *,
        clock: Clock,
        user_agent: str,
        error_backoff_seconds: float,
    ) -> None:
        self._fetch = fetch
        self._clock = clock
        self._user_agent = user_agent
        self._error_backoff = error_backoff_seconds
        self._rules: dict[str, _Rules] = {}
        self._lock = threading.Lock()  # one robots.txt fetch per origin, even across threads

    def check(self, url: str) -> RobotsVerdict:
        rules = self._rules_for(origin_of(url))
        if rules.parser is None:
            return RobotsVerdict(
                allowed=rules.allow_all, reason=rules.why, unreachable=rules.unreachable
            )
        delay = rules.parser.crawl_delay(self._user_agent)
        allowed = rules.parser.can_fetch(url, self._user_agent)
        reason = "allowed by robots.txt" if allowed else "disallowed by robots.txt"
        return RobotsVerdict(allowed, reason, float(delay) if delay is not None else None)

    def _rules_for(self, origin: str) -> _Rules:
        with self._lock:
            rules = self._rules.get(origin)
            if rules is None or self._expired(rules):
                rules = self._load(origin)
                self._rules[origin] = rules
            return rules

    def _expired(self, rules: _Rules) -> bool:
        return rules.retry_at is not None and self._clock.monotonic() >= rules.retry_at

    def _load(self, origin: str) -> _Rules:
        answer = self._fetch(f"{origin}/robots.txt")
        status = answer.status
        # 429 is a 4xx, but it means "overloaded", so it is treated like a 5xx as Google does.
        if status is None or status >= 500 or status == 429:
            what = "unreachable" if status is None else f"answered {status}"
            return _Rules(
                parser=None,
                allow_all=False,
                retry_at=self._clock.monotonic() + self._error_backoff,
                why=answer.unreachable or f"robots.txt {what}: assuming disallow (RFC 9309)",
                unreachable=answer.unreachable is not None,
            )
        if not 200 <= status < 300:
            return _Rules(parser=None, allow_all=True, why=f"robots.txt answered {status}")
        text = answer.body[:ROBOTS_MAX_BYTES].decode("utf-8", errors="replace")
        return _Rules(parser=Protego.parse(text), allow_all=True)
