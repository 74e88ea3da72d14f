"""The one HTTP client every source fetches through: polite, patient, and bounded.

:class:`PoliteClient` identifies itself, paces each host (robots.txt Crawl-delay included),
obeys robots.txt, retries transient failures with backoff, sends conditional GETs from the
validators a :class:`~scraper.fetch_state.FetchStateStore` remembers, follows redirects itself so
permanent moves and 410s are remembered, and refuses oversized bodies. Parsers get raw bytes and
the declared charset, never text decoded by guess.

Exceptions (every one carries ``.url``)::

    cwerrors.FetchError
    ├── InvalidUrl           not an absolute http(s) URL
    ├── DisallowedByRobots   robots.txt forbids the URL, or is failing (RFC 9309: 5xx = disallow)
    ├── HttpStatusError      a final 4xx/5xx that retrying would not fix (.status)
    │   └── GoneError        410 now, or remembered from an earlier run: stop polling
    ├── RedirectError        a redirect loop, a chain over max_redirects, a bad Location
    ├── ResponseTooLarge     over max_response_bytes by Content-Length or while streaming
    └── RetriesExhausted     every attempt failed transiently (.status, or the cause chained)
        ├── FetchTimeout     ... the last one timed out
        └── ConnectError     ... the last one could not connect

"Not modified" is not an error: it is a :class:`Response` with ``not_modified=True``.
"""

from __future__ import annotations

import functools
import logging
import random
import re
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from types import TracebackType
from urllib.parse import urlsplit

import httpx

from cwerrors import FetchError
from cwerrors.numbers import ascii_int
from scraper.fetch_state import FetchStateStore, MemoryFetchStateStore, UrlState
from scraper.http_retry import (
    RETRYABLE_STATUSES,
    backoff_seconds,
    parse_http_date,
    retry_after_seconds,
)
from scraper.politeness import Clock, HostPacer, SystemClock
from scraper.robots import ROBOTS_MAX_BYTES, RobotsAnswer, RobotsCache, origin_of

__all__ = [
    "ClientOptions",
    "Clock",
    "ConnectError",
    "DisallowedByRobots",
    "FetchTimeout",
    "GoneError",
    "HostStats",
    "HttpStatusError",
    "InvalidUrl",
    "PoliteClient",
    "RedirectError",
    "Response",
    "ResponseTooLarge",
    "RetriesExhausted",
    "SystemClock",
    "declared_charset",
]

logger = logging.getLogger("scraper.fetch")

DEFAULT_USER_AGENT = "councilwatch/0.1 (+https://github.com/councilwatch/councilwatch)"
MAX_CONNECT_TIMEOUT_SECONDS = 10.0
ROBOTS_MAX_REDIRECTS = 5  # RFC 9309 2.3.1.2
# Error bodies this small are read so the connection can be reused; larger ones are dropped.
SMALL_ERROR_BODY_BYTES = 64 * 1024
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
PERMANENT_REDIRECTS = frozenset({301, 308})
_CHARSET = re.compile(r';\s*charset\s*=\s*["\x27]?([^"\x27;\s]+)', re.IGNORECASE)
# The response headers the client itself reads (lower-case, as bytes for a one-pass scan).
_FIELDS = frozenset(
    b"content-length content-type date etag last-modified location retry-after".split()
)
# Failures worth another attempt; anything else from httpx is a bug, not bad luck.
_TRANSIENT_ERRORS = (
    httpx.TimeoutException,
    httpx.NetworkError,
    httpx.RemoteProtocolError,
    httpx.ProxyError,
    httpx.DecodingError,
)


# -- errors -----------------------------------------------------------------------------------


class _UrlFetchError(FetchError):
    def __init__(self, message: str, *, url: str) -> None:
        super().__init__(f"{message}: {url}")
        self.url = url


class InvalidUrl(_UrlFetchError):
    """The URL is not an absolute http or https URL."""


class DisallowedByRobots(_UrlFetchError):
    """robots.txt forbids this URL (or is failing, which RFC 9309 reads as "disallow")."""


class HttpStatusError(_UrlFetchError):
    """A final error status that retrying would not fix."""

    def __init__(self, message: str, *, url: str, status: int) -> None:
        super().__init__(message, url=url)
        self.status = status


class GoneError(HttpStatusError):
    """410 Gone, now or remembered from an earlier run: the source should stop polling."""


class RedirectError(_UrlFetchError):
    """A redirect loop, a chain longer than ``max_redirects``, or an unusable Location."""


class ResponseTooLarge(_UrlFetchError):
    """The body is over ``max_response_bytes``; ``size`` is what was declared or read."""

    def __init__(self, message: str, *, url: str, limit: int, size: int) -> None:
        super().__init__(message, url=url)
        self.limit = limit
        self.size = size


class RetriesExhausted(_UrlFetchError):
    """Every attempt failed transiently; ``status`` is the last status (None if no answer)."""

    def __init__(self, message: str, *, url: str, attempts: int, status: int | None) -> None:
        super().__init__(message, url=url)
        self.attempts = attempts
        self.status = status


class FetchTimeout(RetriesExhausted):
    """Every attempt failed and the last one timed out."""


class ConnectError(RetriesExhausted):
    """Every attempt failed and the last one could not connect."""


# -- public data ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClientOptions:
    user_agent: str = DEFAULT_USER_AGENT
    min_interval_seconds: float = 1.0
    timeout_seconds: float = 20.0  # read; connect = min(10, this)
    max_response_bytes: int = 10_000_000
    max_attempts: int = 4
    backoff_base_seconds: float = 1.0
    max_retry_after_seconds: float = 300.0
    max_redirects: int = 5
    obey_robots: bool = True
    robots_error_backoff_seconds: float = 3600.0  # RFC 9309: 5xx robots => disallow for a while

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if self.timeout_seconds <= 0 or self.max_response_bytes <= 0:
            raise ValueError("timeout_seconds and max_response_bytes must be positive")
        if min(self.min_interval_seconds, self.backoff_base_seconds, self.max_redirects) < 0:
            raise ValueError("intervals, backoff and max_redirects cannot be negative")


@dataclass(frozen=True)
class Response:
    url: str  # final URL
    requested_url: str
    status: int  # 200.. or 304
    content: bytes  # raw bytes, b"" on 304
    charset: str | None  # declared in Content-Type, None when absent (never guessed)
    headers: Mapping[str, str]
    not_modified: bool
    moved_to: str | None  # where a permanent redirect pointed, if one was followed


@dataclass
class HostStats:
    """Counters for one origin over the client's life, for a run summary."""

    requests: int = 0  # HTTP requests sent, robots.txt included
    retries: int = 0  # attempts after the first
    not_modified: int = 0  # 304 answers
    errors: int = 0  # get() calls that raised


@dataclass(frozen=True)
class _Answer:
    """One HTTP exchange, its body already read (2xx) or dropped."""

    url: str
    status: int
    headers: httpx.Headers
    fields: Mapping[str, str]  # the headers the client itself reads, lower-case names
    content: bytes
    charset: str | None


# -- the client -------------------------------------------------------------------------------


class PoliteClient:
    """Fetches URLs politely; see the module docstring. Use as a context manager or ``close()``."""

    def __init__(
        self,
        options: ClientOptions,
        *,
        state: FetchStateStore | None = None,
        clock: Clock | None = None,
        transport: httpx.BaseTransport | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.options = options
        self.stats: dict[str, HostStats] = {}
        self._state: FetchStateStore = state if state is not None else MemoryFetchStateStore()
        self._clock: Clock = clock if clock is not None else SystemClock()
        self._rng = rng if rng is not None else random.Random()
        self._pacer = HostPacer(self._clock, options.min_interval_seconds)
        self._robots = RobotsCache(
            self._fetch_robots,
            clock=self._clock,
            user_agent=options.user_agent,
            error_backoff_seconds=options.robots_error_backoff_seconds,
        )
        self._disallow_logged: set[str] = set()
        timeout = httpx.Timeout(
            options.timeout_seconds,
            connect=min(MAX_CONNECT_TIMEOUT_SECONDS, options.timeout_seconds),
        )
        self._http = httpx.Client(
            transport=transport,
            headers={"User-Agent": options.user_agent, "Accept-Encoding": "gzip, deflate"},
            timeout=timeout,
            follow_redirects=False,  # redirects are followed in get() so moves are recorded
            max_redirects=ROBOTS_MAX_REDIRECTS,  # only robots.txt lets httpx follow them
        )

    def __enter__(self) -> PoliteClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def get(
        self,
        url: str,
        *,
        conditional: bool = True,
        headers: Mapping[str, str] | None = None,
    ) -> Response:
        """GET ``url``; a stored permanent move is followed without asking the old URL.

        With ``conditional`` the stored ETag / Last-Modified are sent, and a 304 comes back as
        ``not_modified=True`` with empty content. ``headers`` are added to (and override) the
        client's own. Raises one of this module's :class:`FetchError` subclasses.
        """
        try:
            return self._get(url, conditional=conditional, headers=headers or {})
        except _UrlFetchError as exc:
            self._host_stats(exc.url).errors += 1
            raise

    def _get(self, url: str, *, conditional: bool, headers: Mapping[str, str]) -> Response:
        _check_url(url)
        current, moved_to, previous = self._follow_stored_moves(url)
        visited = {current}
        hops = 0
        while True:
            answer = self._exchange(current, self._request_headers(previous, conditional, headers))
            status = answer.status
            if status in REDIRECT_STATUSES:
                target = self._redirect_target(answer)
                if status in PERMANENT_REDIRECTS:
                    self._remember(current, previous, last_status=status, moved_to=target)
                    moved_to = target
                hops += 1
                if target in visited:
                    raise RedirectError(f"redirect loop back to {target}", url=current)
                if hops > self.options.max_redirects:
                    raise RedirectError(
                        f"more than {self.options.max_redirects} redirects", url=url
                    )
                visited.add(target)
                current = target
                previous = self._state.get_state(current)
                continue
            if status == 304:
                self._remember(current, previous, last_status=304, answer=answer)
                self._host_stats(current).not_modified += 1
            elif 200 <= status < 300:
                fresh = UrlState(
                    etag=answer.fields.get("etag"),
                    last_modified=answer.fields.get("last-modified"),
                    last_status=status,
                )
                if fresh != previous:  # a store may be a database: no write when unchanged
                    self._state.put_state(current, fresh)
            else:
                self._remember(current, previous, last_status=status, gone=status == 410)
                error = GoneError if status == 410 else HttpStatusError
                raise error(f"HTTP {status}", url=current, status=status)
            return Response(
                url=current,
                requested_url=url,
                status=status,
                content=answer.content,
                charset=answer.charset,
                headers=answer.headers,
                not_modified=status == 304,
                moved_to=moved_to,
            )

    # -- state -------------------------------------------------------------------------------

    def _follow_stored_moves(self, url: str) -> tuple[str, str | None, UrlState | None]:
        """Where earlier 301/308s say ``url`` now lives, and that URL's state.

        Raises GoneError for a URL an earlier fetch found gone.
        """
        current, moved_to, seen = url, None, {url}
        while True:
            state = self._state.get_state(current)
            if state is not None and state.gone:
                raise GoneError("gone (HTTP 410 on an earlier fetch)", url=current, status=410)
            target = state.moved_to if state is not None else None
            # A cycle in the store (a site moved a page back) is broken by asking again.
            if target is None or target in seen or len(seen) > self.options.max_redirects:
                return current, moved_to, state
            current = moved_to = target
            seen.add(target)

    @staticmethod
    def _request_headers(
        previous: UrlState | None, conditional: bool, extra: Mapping[str, str]
    ) -> dict[str, str]:
        headers: dict[str, str] = {}
        if conditional and previous is not None:
            if previous.etag:
                headers["If-None-Match"] = previous.etag
            if previous.last_modified:
                headers["If-Modified-Since"] = previous.last_modified
        headers.update(extra)
        return headers

    def _remember(
        self,
        url: str,
        previous: UrlState | None,
        *,
        last_status: int,
        moved_to: str | None = None,
        gone: bool = False,
        answer: _Answer | None = None,
    ) -> None:
        """Store the outcome, keeping the validators already known unless the answer has new."""
        old = previous or UrlState()
        fresh: Mapping[str, str] = answer.fields if answer is not None else {}
        state = UrlState(
            etag=fresh.get("etag", old.etag),
            last_modified=fresh.get("last-modified", old.last_modified),
            last_status=last_status,
            moved_to=moved_to,
            gone=gone,
        )
        if state != previous:
            self._state.put_state(url, state)

    # -- one URL, with robots, pacing and retries --------------------------------------------

    def _exchange(self, url: str, headers: Mapping[str, str]) -> _Answer:
        origin = origin_of(url)
        if self.options.obey_robots:
            self._check_robots(url, origin)
        options = self.options
        stats = self._host_stats(url)
        last_status: int | None = None
        last_error: Exception | None = None
        delay = 0.0
        for attempt in range(1, options.max_attempts + 1):
            if attempt > 1:
                stats.retries += 1
                self._clock.sleep(delay)
            self._pacer.wait(origin)
            try:
                answer = self._send(url, headers, stats)
            except _TRANSIENT_ERRORS as exc:
                last_error, last_status = exc, None
                delay = self._backoff(attempt)
                continue
            if answer.status not in RETRYABLE_STATUSES:
                return answer
            last_error, last_status = None, answer.status
            delay = self._retry_delay(answer, attempt)
        raise self._exhausted(url, options.max_attempts, last_status, last_error)

    def _check_robots(self, url: str, origin: str) -> None:
        verdict = self._robots.check(url)
        if verdict.crawl_delay is not None:
            self._pacer.set_interval(origin, verdict.crawl_delay)
        if verdict.allowed:
            return
        if verdict.unreachable:  # no robots.txt because no site: say so, not "disallowed"
            raise ConnectError(verdict.reason, url=url, attempts=1, status=None)
        if origin not in self._disallow_logged:
            self._disallow_logged.add(origin)
            logger.warning(
                "not fetching %s: %s (further URLs refused on %s are not logged)",
                url,
                verdict.reason,
                origin,
            )
        raise DisallowedByRobots(verdict.reason, url=url)

    def _backoff(self, attempt: int) -> float:
        return backoff_seconds(
            attempt,
            base=self.options.backoff_base_seconds,
            cap=self.options.max_retry_after_seconds,
            rng=self._rng,
        )

    def _retry_delay(self, answer: _Answer, attempt: int) -> float:
        server_now = parse_http_date(answer.fields.get("date")) or datetime.now(UTC)
        asked = retry_after_seconds(answer.fields.get("retry-after"), now=server_now)
        if asked is None:
            return self._backoff(attempt)
        return min(asked, self.options.max_retry_after_seconds)

    @staticmethod
    def _exhausted(
        url: str, attempts: int, status: int | None, cause: Exception | None
    ) -> RetriesExhausted:
        what = f"HTTP {status}" if status is not None else type(cause).__name__
        message = f"gave up after {attempts} attempt(s), last: {what}"
        kind: type[RetriesExhausted] = RetriesExhausted
        if isinstance(cause, httpx.TimeoutException):
            kind = FetchTimeout
        elif isinstance(cause, httpx.ConnectError):
            kind = ConnectError
            message = f"{_cannot_connect(url, cause)} ({attempts} attempt(s))"
        error = kind(message, url=url, attempts=attempts, status=status)
        error.__cause__ = cause
        return error

    def _send(self, url: str, headers: Mapping[str, str], stats: HostStats) -> _Answer:
        """One GET; reads a 2xx body under the size cap; logs one line."""
        stats.requests += 1
        started = time.perf_counter()
        status: int | str = "-"
        try:
            with self._http.stream("GET", url, headers=headers) as response:
                status = response.status_code
                fields = _fields(response.headers)
                declared = _content_length(fields)
                if 200 <= status < 300:
                    content = self._read_capped(response, url, declared)
                else:
                    content = b""
                    if declared is not None and declared <= SMALL_ERROR_BODY_BYTES:
                        response.read()  # drained, so the connection goes back to the pool
                return _Answer(
                    url=url,
                    status=status,
                    headers=response.headers,
                    fields=fields,
                    content=content,
                    charset=declared_charset(fields.get("content-type")),
                )
        except httpx.HTTPError as exc:
            status = type(exc).__name__
            raise
        except ResponseTooLarge:
            status = f"{status} refused (too large)"
            raise
        finally:
            elapsed_ms = (time.perf_counter() - started) * 1000
            logger.info("GET %s %s %.0fms", url, status, elapsed_ms)

    def _read_capped(self, response: httpx.Response, url: str, declared: int | None) -> bytes:
        limit = self.options.max_response_bytes
        if declared is not None and declared > limit:
            raise ResponseTooLarge(
                f"Content-Length {declared} over the {limit}-byte limit",
                url=url,
                limit=limit,
                size=declared,
            )
        chunks: list[bytes] = []
        total = 0
        for chunk in response.iter_bytes():
            total += len(chunk)
            if total > limit:
                # Closing the unread stream drops the connection instead of downloading the rest.
                raise ResponseTooLarge(
                    f"body over the {limit}-byte limit", url=url, limit=limit, size=total
                )
            chunks.append(chunk)
        return b"".join(chunks)

    def _redirect_target(self, answer: _Answer) -> str:
        location = answer.fields.get("location")
        if not location:
            raise RedirectError(f"HTTP {answer.status} without Location", url=answer.url)
        try:
            target = str(httpx.URL(answer.url).join(location))
            _check_url(target)
        except (httpx.InvalidURL, InvalidUrl) as exc:
            raise RedirectError(f"redirect to unusable {location!r}", url=answer.url) from exc
        return target

    def _fetch_robots(self, robots_url: str) -> RobotsAnswer:
        """robots.txt for the robots cache: paced, logged, capped, redirects followed by httpx."""
        self._pacer.wait(origin_of(robots_url))
        stats = self._host_stats(robots_url)
        stats.requests += 1
        started = time.perf_counter()
        outcome: int | str = "-"
        try:
            with self._http.stream("GET", robots_url, follow_redirects=True) as response:
                outcome = response.status_code
                body = b"".join(_take(response.iter_bytes(), ROBOTS_MAX_BYTES))
                return RobotsAnswer(status=response.status_code, body=body)
        except httpx.TooManyRedirects:
            outcome = "TooManyRedirects"
            return RobotsAnswer(status=404)  # RFC 9309: unreachable after 5 hops = no rules
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            outcome = type(exc).__name__
            return RobotsAnswer(status=None, unreachable=_cannot_connect(robots_url, exc))
        except httpx.HTTPError as exc:
            outcome = type(exc).__name__
            return RobotsAnswer(status=None)
        finally:
            elapsed_ms = (time.perf_counter() - started) * 1000
            logger.info("GET %s %s %.0fms", robots_url, outcome, elapsed_ms)

    def _host_stats(self, url: str) -> HostStats:
        origin = origin_of(url)
        stats = self.stats.get(origin)
        if stats is None:
            stats = self.stats[origin] = HostStats()
        return stats


def _cannot_connect(url: str, exc: Exception) -> str:
    """ "cannot connect to www.lgo.org.uk: [Errno -3] Temporary failure in name resolution"."""
    host = urlsplit(url).hostname or url
    return f"cannot connect to {host}: {exc or type(exc).__name__}"


def _check_url(url: str) -> None:
    problem = _url_problem(url)
    if problem is not None:
        raise InvalidUrl(problem, url=url)


@functools.lru_cache(maxsize=4096)  # sources ask the same URLs run after run
def _url_problem(url: str) -> str | None:
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as exc:
        return f"invalid URL ({exc})"
    if parsed.scheme not in ("http", "https") or not parsed.host:
        return "not an absolute http(s) URL"
    return None


def declared_charset(content_type: str | None) -> str | None:
    """The charset parameter of a Content-Type value, lower-cased; None when not declared.

    A small regex rather than httpx's ``charset_encoding`` (email.message parsing), which cost
    a tenth of a local request.
    """
    if not content_type:
        return None
    match = _CHARSET.search(content_type)
    return match.group(1).lower() if match else None


def _fields(headers: httpx.Headers) -> dict[str, str]:
    """The response headers the client reads, in one pass: each httpx.Headers lookup scans
    and decodes the whole list, which cost more than the rest of the client's bookkeeping."""
    picked: dict[str, str] = {}
    for name, value in headers.raw:
        lower = name.lower()
        if lower in _FIELDS:
            picked[lower.decode("ascii")] = value.decode("latin-1")
    return picked


def _content_length(fields: Mapping[str, str]) -> int | None:
    """Declared Content-Length; None when absent or malformed (the stream check still applies)."""
    value = fields.get("content-length", "")
    return ascii_int(value)


def _take(chunks: Iterator[bytes], limit: int) -> Iterator[bytes]:
    """Chunks up to ``limit`` bytes in all, the last one cut; stops reading there."""
    remaining = limit
    for chunk in chunks:
        if remaining <= 0:
            return
        yield chunk[:remaining]
        remaining -= len(chunk)
