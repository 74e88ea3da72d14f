"""When to retry an HTTP request and how long to wait first (pure functions)."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from cwerrors.numbers import ascii_int

# RFC 9110 statuses that mean "try again later"; everything else is final.
RETRYABLE_STATUSES = frozenset({408, 429, 500, 502, 503, 504})


def parse_http_date(value: str | None) -> datetime | None:
    """An RFC 9110 HTTP-date as an aware datetime, or None when absent or malformed."""
    if not value:
        return None
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def retry_after_seconds(value: str | None, *, now: datetime) -> float | None:
    """Seconds to wait according to a Retry-After header (delta-seconds or HTTP-date).

    ``now`` is the moment the server answered (best taken from its Date header, so a skewed
    local clock does not matter). Returns None when the header is absent or unusable, 0 for a
    date already past.
    """
    if value is None:
        return None
    value = value.strip()
    if (seconds := ascii_int(value)) is not None:
        return float(seconds)
    when = parse_http_date(value)
    if when is None:
        return None
    return max(0.0, (when - now).total_seconds())


def backoff_seconds(attempt: int, *, base: float, cap: float, rng: random.Random) -> float:
    """Exponential backoff with jitter before retry number ``attempt`` (1 = first retry).

    ``base * 2**(attempt-1)`` plus up to a quarter more at random, so clients that failed
    together do not come back together; never more than ``cap``.
    """
    delay = base * 2 ** (attempt - 1)
    return min(cap, delay * (1.0 + 0.25 * rng.random()))
