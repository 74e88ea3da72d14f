"""The local test web: a real HTTP server on 127.0.0.1 that tests script in a few lines.

    def test_feed(testweb, testweb_client):
        testweb.route("/feed.xml", body=b"<rss/>", content_type="application/rss+xml", etag='"v1"')
        testweb.route("/flaky", statuses=[503, 503, 200], body=b"ok", retry_after="2")
        testweb.route("/old", redirect="/new", status=301)
        testweb.route("/search", handler=lambda req: Reply(body=page(req.query.get("page"))))
        testweb.robots("User-agent: *\\nDisallow: /private\\n")
        testweb.serve_dir(Path(__file__).parent / "fixtures" / "site", prefix="/")
        ... testweb_client.get(testweb.url("/feed.xml")) ...
        assert testweb.count("/flaky") == 3

One server runs for the whole session; the ``testweb`` fixture resets it before each test.
Unrouted paths answer 404 (so robots.txt means "allow all" until ``robots()`` is called).
A route answers conditional requests for real: ``etag`` / ``last_modified`` give 304s.
Fixtures: ``testweb`` (the server), ``fake_clock`` (a :class:`FakeClock`), ``testweb_client``
(a :class:`~scraper.fetch.PoliteClient` on the fake clock, so politeness costs no wall time);
``make_client(clock, **options)`` builds one with other options.
"""

from __future__ import annotations

import gzip as gzip_module
import mimetypes
import random
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import format_datetime, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from scraper.fetch import ClientOptions, PoliteClient
from scraper.fetch_state import MemoryFetchStateStore

_CHUNK = 64 * 1024


class Request(NamedTuple):
    """A request the server received; ``path`` includes the query string."""

    method: str
    path: str
    headers: httpx.Headers  # case-insensitive

    @property
    def route(self) -> str:
        """The path without its query string."""
        return urlsplit(self.path).path

    @property
    def query(self) -> dict[str, str]:
        """Query parameters, first value of each."""
        return {key: values[0] for key, values in parse_qs(urlsplit(self.path).query).items()}


@dataclass
class Reply:
    """What a ``handler=`` route returns (a handler may also return bytes or str for a 200)."""

    body: bytes | str = b""
    status: int = 200
    content_type: str = "text/html; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)


Handler = Callable[[Request], "Reply | bytes | str"]


@dataclass
class Route:
    body: bytes = b""
    status: int = 200
    statuses: list[int] = field(default_factory=list)  # one per request; the last repeats
    content_type: str | None = "text/html; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    etag: str | None = None
    last_modified: str | None = None
    retry_after: str | None = None  # sent with every non-2xx answer
    redirect: str | None = None
    delay: float = 0.0  # seconds before the status line (to hit read timeouts)
    body_size: int | None = None  # a generated body of this many bytes, never held in memory
    truncate_at: int | None = None  # promise the full length, send this much, hang up
    chunked: bool = False  # no Content-Length
    gzip: bool = False  # Content-Encoding: gzip when the client accepts it
    handler: Handler | None = None
    served: int = 0

    def next_status(self) -> int:
        if self.statuses:
            status = self.statuses[min(self.served, len(self.statuses) - 1)]
        else:
            status = self.status
        self.served += 1
        return status


class LocalWeb:
    """The scriptable server. Thread-safe; one instance serves a whole test session."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._routes: dict[str, Route] = {}
        self._dirs: list[tuple[str, Path, str | None]] = []
        self.requests: list[Request] = []
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> LocalWeb:
        self._server = _Server(("127.0.0.1", 0), _handler_class(self))
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def reset(self) -> None:
        """Forget every route, directory and recorded request."""
        with self._lock:
            self._routes.clear()
            self._dirs.clear()
            self.requests = []

    # -- scripting ---------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        assert self._server is not None, "LocalWeb not started"
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def url(self, path: str = "/") -> str:
        return self.base_url + path

    def route(
        self,
        path: str,
        *,
        body: bytes | str = b"",
        status: int | None = None,
        statuses: Sequence[int] = (),
        last_modified: str | datetime | None = None,
        **options: Any,
    ) -> Route:
        """Script ``path`` (without query); keyword options are :class:`Route` fields.

        ``status`` defaults to 200, or 302 with ``redirect``. A str body is sent as UTF-8.
        """
        if isinstance(last_modified, datetime):
            last_modified = format_datetime(last_modified, usegmt=True)
        if status is None:
            status = 302 if options.get("redirect") else 200
        route = Route(
            body=body.encode() if isinstance(body, str) else body,
            status=status,
            statuses=list(statuses),
            last_modified=last_modified,
            **options,
        )
        with self._lock:
            self._routes[path] = route
        return route

    def robots(self, text: str) -> Route:
        return self.route("/robots.txt", body=text, content_type="text/plain")

    def serve_dir(self, root: Path, prefix: str = "/", *, charset: str | None = None) -> None:
        """Serve the files under ``root`` at ``prefix``; ``charset`` is declared if given."""
        with self._lock:
            self._dirs.append((prefix.rstrip("/") + "/", root.resolve(), charset))

    def count(self, path: str) -> int:
        """Requests received for ``path``: any query string, unless ``path`` has one."""
        with self._lock:
            if "?" in path:
                return sum(1 for request in self.requests if request.path == path)
            return sum(1 for request in self.requests if request.route == path)

    # -- serving -----------------------------------------------------------------------------

    def _lookup(self, request: Request) -> Route | None:
        with self._lock:
            self.requests.append(request)
            route = self._routes.get(request.route)
            if route is not None:
                return route
            dirs = list(self._dirs)
        for prefix, root, charset in dirs:
            if not request.route.startswith(prefix):
                continue
            file = (root / request.route[len(prefix) :]).resolve()
            if file.is_dir():
                file = file / "index.html"
            if file.is_relative_to(root) and file.is_file():
                kind = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
                ctype = f"{kind}; charset={charset}" if charset else kind
                return Route(body=file.read_bytes(), content_type=ctype)
        return None


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients hanging up (timeouts, refused bodies) are normal here; anything else is loud.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


def _handler_class(web: LocalWeb) -> type[BaseHTTPRequestHandler]:
    class _Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as real servers do
        timeout = 30  # idle keep-alive connections end eventually
        disable_nagle_algorithm = True  # headers and body go out as separate small writes

        def do_GET(self) -> None:
            self._serve(head=False)

        def do_HEAD(self) -> None:
            self._serve(head=True)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # the test's own assertions say what happened

        def _serve(self, *, head: bool) -> None:
            request = Request(self.command, self.path, httpx.Headers(list(self.headers.items())))
            route = web._lookup(request)
            try:
                if route is None:
                    self._send(404, b"not found", "text/plain", {}, head=head)
                elif route.handler is not None:
                    self._send_reply(route.handler(request), head=head)
                else:
                    self._send_route(route, request, head=head)
            except ConnectionError:
                self.close_connection = True

        def _send_reply(self, reply: Reply | bytes | str, *, head: bool) -> None:
            if not isinstance(reply, Reply):
                reply = Reply(body=reply)
            body = reply.body.encode() if isinstance(reply.body, str) else reply.body
            self._send(reply.status, body, reply.content_type, reply.headers, head=head)

        def _send_route(self, route: Route, request: Request, *, head: bool) -> None:
            with web._lock:
                status = route.next_status()
            if route.delay:
                time.sleep(route.delay)
            headers = dict(route.headers)
            if route.redirect is not None:
                headers["Location"] = route.redirect
                self._send(status, b"", "text/plain", headers, head=head)
                return
            if not 200 <= status < 300:
                if route.retry_after is not None:
                    headers["Retry-After"] = route.retry_after
                self._send(status, f"status {status}".encode(), "text/plain", headers, head=head)
                return
            if route.etag is not None:
                headers["ETag"] = route.etag
            if route.last_modified is not None:
                headers["Last-Modified"] = route.last_modified
            if _not_modified(route, request):
                self._send(304, b"", None, headers, head=True)
                return
            if route.body_size is not None:
                self._send_generated(status, route, headers, head=head)
                return
            body = route.body
            if route.gzip and "gzip" in request.headers.get("Accept-Encoding", ""):
                body = gzip_module.compress(body)
                headers["Content-Encoding"] = "gzip"
            if route.truncate_at is not None:
                self._start(status, route.content_type, {**headers, "Connection": "close"})
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body[: route.truncate_at])
                self.close_connection = True
                return
            if route.chunked:
                self._send_chunked(status, route.content_type, headers, [body], head=head)
                return
            self._send(status, body, route.content_type, headers, head=head)

        def _send_generated(
            self, status: int, route: Route, headers: dict[str, str], *, head: bool
        ) -> None:
            size = route.body_size or 0
            pieces = (b"x" * min(_CHUNK, size - sent) for sent in range(0, size, _CHUNK))
            if route.chunked:
                self._send_chunked(status, route.content_type, headers, pieces, head=head)
                return
            self._start(status, route.content_type, headers)
            self.send_header("Content-Length", str(size))
            self.end_headers()
            if not head:
                for piece in pieces:
                    self.wfile.write(piece)

        def _send_chunked(
            self,
            status: int,
            content_type: str | None,
            headers: dict[str, str],
            pieces: Iterator[bytes] | list[bytes],
            *,
            head: bool,
        ) -> None:
            self._start(status, content_type, {**headers, "Transfer-Encoding": "chunked"})
            self.end_headers()
            if head:
                return
            for piece in pieces:
                if piece:
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
            self.wfile.write(b"0\r\n\r\n")

        def _send(
            self,
            status: int,
            body: bytes,
            content_type: str | None,
            headers: dict[str, str],
            *,
            head: bool,
        ) -> None:
            self._start(status, content_type, headers)
            if status != 304:
                self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if not head and status != 304:
                self.wfile.write(body)

        def _start(self, status: int, content_type: str | None, headers: dict[str, str]) -> None:
            self.send_response(status)
            if content_type is not None and status != 304:
                self.send_header("Content-Type", content_type)
            for name, value in headers.items():
                self.send_header(name, value)

    return _Handler


def _not_modified(route: Route, request: Request) -> bool:
    """RFC 9110 13.1: If-None-Match wins over If-Modified-Since."""
    if_none_match = request.headers.get("If-None-Match")
    if if_none_match is not None:
        tags = [tag.strip() for tag in if_none_match.split(",")]
        return route.etag is not None and ("*" in tags or route.etag in tags)
    since = request.headers.get("If-Modified-Since")
    if since is None or route.last_modified is None:
        return False
    try:
        return parsedate_to_datetime(route.last_modified) <= parsedate_to_datetime(since)
    except (TypeError, ValueError):
        return False


class FakeClock:
    """A :class:`scraper.politeness.Clock` that records sleeps and advances only by them."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += max(0.0, seconds)


def make_client(
    clock: FakeClock,
    *,
    state: MemoryFetchStateStore | None = None,
    rng: random.Random | None = None,
    **options: Any,
) -> PoliteClient:
    """A PoliteClient on ``clock``; ``options`` override :class:`ClientOptions` defaults."""
    return PoliteClient(
        ClientOptions(**{"timeout_seconds": 5.0, **options}),
        state=state if state is not None else MemoryFetchStateStore(),
        clock=clock,
        rng=rng,
    )


# -- pytest fixtures (register with pytest_plugins = ["tests.testweb"]) --------------------------


# Fixtures carry explicit names so a module that imports them (a bench, another plugin)
# never has test parameters shadowing the imported functions.
@pytest.fixture(scope="session", name="testweb_server")
def testweb_server_fixture() -> Iterator[LocalWeb]:
    web = LocalWeb().start()
    yield web
    web.stop()


@pytest.fixture(name="testweb")
def testweb_fixture(testweb_server: LocalWeb) -> LocalWeb:
    testweb_server.reset()
    return testweb_server


@pytest.fixture(name="fake_clock")
def fake_clock_fixture() -> FakeClock:
    return FakeClock()


@pytest.fixture(name="testweb_client")
def testweb_client_fixture(fake_clock: FakeClock) -> Iterator[PoliteClient]:
    """Default (polite, robots-obeying) options, on the fake clock: no real waiting."""
    with make_client(fake_clock) as client:
        yield client
