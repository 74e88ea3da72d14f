"""PoliteClient against the local test web: requests, bodies, conditional GET, redirects, size."""

from __future__ import annotations

import gzip
import logging
import tracemalloc

import pytest

from scraper.fetch import (
    DEFAULT_USER_AGENT,
    GoneError,
    HttpStatusError,
    InvalidUrl,
    RedirectError,
    ResponseTooLarge,
    declared_charset,
)
from scraper.fetch_state import MemoryFetchStateStore, UrlState
from tests.testweb import FakeClock, LocalWeb, make_client

PAGE = b"<html><body><h1>Complaint about Leeds City Council</h1></body></html>"
# cp1252 bytes: a pound sign is 0xA3, which is not valid UTF-8 on its own.
CP1252_PAGE = "<p>Mrs B was refunded \u00a3350 by the council.</p>".encode("cp1252")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def store() -> MemoryFetchStateStore:
    return MemoryFetchStateStore()


def test_get_identifies_itself_and_returns_raw_bytes(testweb: LocalWeb, clock: FakeClock) -> None:
    testweb.route("/decision", body=PAGE)
    with make_client(clock) as client:
        response = client.get(testweb.url("/decision"))
    assert (response.status, response.content, response.not_modified) == (200, PAGE, False)
    assert response.url == response.requested_url == testweb.url("/decision")
    assert response.charset == "utf-8"
    assert response.moved_to is None
    assert [(r.method, r.path) for r in testweb.requests] == [
        ("GET", "/robots.txt"),
        ("GET", "/decision"),
    ]
    page_request = testweb.requests[1]
    assert page_request.headers["user-agent"] == DEFAULT_USER_AGENT
    assert "gzip" in page_request.headers["accept-encoding"]


def test_gzip_bodies_arrive_decoded(testweb: LocalWeb, clock: FakeClock) -> None:
    testweb.route("/feed.xml", body=PAGE * 20, gzip=True, content_type="application/rss+xml")
    with make_client(clock) as client:
        response = client.get(testweb.url("/feed.xml"))
    assert response.headers["content-encoding"] == "gzip"
    assert response.content == PAGE * 20
    assert response.charset is None


def test_declared_charset_is_reported_and_bytes_left_alone(
    testweb: LocalWeb, clock: FakeClock
) -> None:
    testweb.route("/declared", body=CP1252_PAGE, content_type="text/html; charset=windows-1252")
    testweb.route("/undeclared", body=CP1252_PAGE, content_type="text/html")
    with make_client(clock) as client:
        declared = client.get(testweb.url("/declared"))
        undeclared = client.get(testweb.url("/undeclared"))
    assert declared.charset == "windows-1252"
    assert declared.content.decode(declared.charset) == (
        "<p>Mrs B was refunded \u00a3350 by the council.</p>"
    )
    assert undeclared.charset is None  # never guessed
    assert undeclared.content == CP1252_PAGE
    assert b"\xa3350" in undeclared.content


def test_caller_headers_are_added_and_override(testweb: LocalWeb, clock: FakeClock) -> None:
    testweb.route("/p", body=b"x")
    with make_client(clock) as client:
        client.get(testweb.url("/p"), headers={"Accept": "text/html", "User-Agent": "probe/1"})
    sent = testweb.requests[-1].headers
    assert (sent["accept"], sent["user-agent"]) == ("text/html", "probe/1")


def test_etag_is_stored_sent_back_and_304_is_not_modified(
    testweb: LocalWeb, clock: FakeClock, store: MemoryFetchStateStore
) -> None:
    testweb.route("/feed.xml", body=PAGE, etag='"v1"')
    url = testweb.url("/feed.xml")
    with make_client(clock, state=store) as client:
        first = client.get(url)
        second = client.get(url)
        stats = client.stats[testweb.base_url]
    assert first.status == 200
    assert (second.status, second.not_modified, second.content) == (304, True, b"")
    assert testweb.requests[-1].headers["if-none-match"] == '"v1"'
    assert "if-none-match" not in testweb.requests[1].headers
    assert testweb.count("/feed.xml") == 2
    assert store.get_state(url) == UrlState(etag='"v1"', last_status=304)
    assert stats.not_modified == 1


def test_last_modified_is_sent_back_as_if_modified_since(
    testweb: LocalWeb, clock: FakeClock, store: MemoryFetchStateStore
) -> None:
    stamp = "Tue, 04 Jun 2024 08:30:00 GMT"
    testweb.route("/page", body=PAGE, last_modified=stamp)
    url = testweb.url("/page")
    with make_client(clock, state=store) as client:
        client.get(url)
        again = client.get(url)
    assert again.not_modified
    assert testweb.requests[-1].headers["if-modified-since"] == stamp
    assert store.get_state(url) == UrlState(last_modified=stamp, last_status=304)


def test_changed_etag_gives_new_content_and_new_validator(
    testweb: LocalWeb, clock: FakeClock, store: MemoryFetchStateStore
) -> None:
    url = testweb.url("/feed.xml")
    testweb.route("/feed.xml", body=b"first", etag='"v1"')
    with make_client(clock, state=store) as client:
        client.get(url)
        testweb.route("/feed.xml", body=b"second", etag='"v2"')
        changed = client.get(url)
    assert (changed.status, changed.content) == (200, b"second")
    stored = store.get_state(url)
    assert stored is not None and stored.etag == '"v2"'


def test_unconditional_get_sends_no_validators(
    testweb: LocalWeb, clock: FakeClock, store: MemoryFetchStateStore
) -> None:
    testweb.route(
        "/feed.xml", body=PAGE, etag='"v1"', last_modified="Tue, 04 Jun 2024 08:30:00 GMT"
    )
    url = testweb.url("/feed.xml")
    with make_client(clock, state=store) as client:
        client.get(url)
        again = client.get(url, conditional=False)
    assert (again.status, again.content) == (200, PAGE)
    headers = testweb.requests[-1].headers
    assert "if-none-match" not in headers and "if-modified-since" not in headers


def test_permanent_redirect_is_remembered_for_the_next_get(
    testweb: LocalWeb, clock: FakeClock, store: MemoryFetchStateStore
) -> None:
    testweb.route("/old", redirect="/new", status=301)
    testweb.route("/new", body=PAGE, etag='"n1"')
    old, new = testweb.url("/old"), testweb.url("/new")
    with make_client(clock, state=store) as client:
        first = client.get(old)
        second = client.get(old)
    assert (first.url, first.requested_url, first.moved_to, first.content) == (new, old, new, PAGE)
    assert (second.url, second.moved_to, second.not_modified) == (new, new, True)
    assert (testweb.count("/old"), testweb.count("/new")) == (1, 2)
    stored = store.get_state(old)
    assert stored is not None and (stored.moved_to, stored.last_status) == (new, 301)


def test_308_is_permanent_and_302_is_not(
    testweb: LocalWeb, clock: FakeClock, store: MemoryFetchStateStore
) -> None:
    testweb.route("/a", redirect="/b", status=308)
    testweb.route("/b", redirect="/c", status=302)
    testweb.route("/c", body=b"c")
    with make_client(clock, state=store) as client:
        first = client.get(testweb.url("/a"))
        second = client.get(testweb.url("/a"))
    assert first.url == second.url == testweb.url("/c")
    assert first.moved_to == second.moved_to == testweb.url("/b")
    assert [testweb.count(p) for p in ("/a", "/b", "/c")] == [1, 2, 2]
    b_state = store.get_state(testweb.url("/b"))
    assert b_state is None or b_state.moved_to is None


def test_redirect_loop_is_an_error(testweb: LocalWeb, clock: FakeClock) -> None:
    testweb.route("/ping", redirect="/pong")
    testweb.route("/pong", redirect="/ping")
    with make_client(clock) as client, pytest.raises(RedirectError, match="loop"):
        client.get(testweb.url("/ping"))
    assert (testweb.count("/ping"), testweb.count("/pong")) == (1, 1)


def test_over_long_redirect_chain_is_an_error(testweb: LocalWeb, clock: FakeClock) -> None:
    for hop in range(10):
        testweb.route(f"/hop{hop}", redirect=f"/hop{hop + 1}")
    with make_client(clock, max_redirects=3) as client, pytest.raises(RedirectError) as caught:
        client.get(testweb.url("/hop0"))
    assert "more than 3 redirects" in str(caught.value)
    assert [testweb.count(f"/hop{hop}") for hop in range(6)] == [1, 1, 1, 1, 0, 0]


def test_redirect_without_location_is_an_error(testweb: LocalWeb, clock: FakeClock) -> None:
    testweb.route("/broken", status=301)
    with make_client(clock) as client, pytest.raises(RedirectError, match="without Location"):
        client.get(testweb.url("/broken"))


def test_410_marks_gone_and_later_gets_ask_nothing(
    testweb: LocalWeb, clock: FakeClock, store: MemoryFetchStateStore
) -> None:
    testweb.route("/withdrawn", status=410)
    url = testweb.url("/withdrawn")
    with make_client(clock, state=store) as client:
        with pytest.raises(GoneError) as first:
            client.get(url)
        with pytest.raises(GoneError, match="earlier fetch"):
            client.get(url)
        stats = client.stats[testweb.base_url]
    assert (first.value.status, first.value.url) == (410, url)
    assert testweb.count("/withdrawn") == 1
    stored = store.get_state(url)
    assert stored is not None and stored.gone
    assert stats.errors == 2


def test_404_is_a_final_status_error_without_retries(testweb: LocalWeb, clock: FakeClock) -> None:
    with make_client(clock) as client, pytest.raises(HttpStatusError) as caught:
        client.get(testweb.url("/nowhere"))
    assert type(caught.value) is HttpStatusError
    assert caught.value.status == 404
    assert testweb.count("/nowhere") == 1
    assert clock.sleeps == [1.0]  # only the politeness gap after robots.txt


def test_oversized_by_content_length_is_refused_without_reading(
    testweb: LocalWeb, clock: FakeClock
) -> None:
    testweb.route("/big", body_size=50_000_000)
    tracemalloc.start()
    try:
        with make_client(clock, max_response_bytes=1_000_000) as client:
            with pytest.raises(ResponseTooLarge) as caught:
                client.get(testweb.url("/big"))
            _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert (caught.value.size, caught.value.limit) == (50_000_000, 1_000_000)
    assert peak < 2_000_000


def test_oversized_stream_is_refused_at_the_cap(testweb: LocalWeb, clock: FakeClock) -> None:
    testweb.route("/endless", body_size=50_000_000, chunked=True)
    tracemalloc.start()
    try:
        with make_client(clock, max_response_bytes=1_000_000) as client:
            with pytest.raises(ResponseTooLarge) as caught:
                client.get(testweb.url("/endless"))
            _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert 1_000_000 < caught.value.size < 1_200_000
    assert peak < 4_000_000  # about the cap, nowhere near the 50 MB on offer


def test_cap_applies_to_decoded_bytes(testweb: LocalWeb, clock: FakeClock) -> None:
    testweb.route("/bomb", body=b"\0" * 3_000_000, gzip=True)  # a few KB on the wire
    with (
        make_client(clock, max_response_bytes=1_000_000) as client,
        pytest.raises(ResponseTooLarge),
    ):
        client.get(testweb.url("/bomb"))


def test_body_at_the_cap_is_accepted(testweb: LocalWeb, clock: FakeClock) -> None:
    testweb.route("/exact", body=b"e" * 1000, chunked=True)
    with make_client(clock, max_response_bytes=1000) as client:
        assert len(client.get(testweb.url("/exact")).content) == 1000


@pytest.mark.parametrize("url", ["ftp://example.org/file", "/relative/path", "http://"])
def test_invalid_urls_are_refused(clock: FakeClock, url: str) -> None:
    with make_client(clock) as client, pytest.raises(InvalidUrl) as caught:
        client.get(url)
    assert caught.value.url == url


def test_one_log_line_per_request(
    testweb: LocalWeb, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    testweb.route("/p", body=b"x")
    with caplog.at_level(logging.INFO, logger="scraper.fetch"), make_client(clock) as client:
        client.get(testweb.url("/p"))
    lines = [r.getMessage() for r in caplog.records if r.name == "scraper.fetch"]
    assert len(lines) == 2
    assert lines[0].startswith(f"GET {testweb.url('/robots.txt')} 404 ")
    assert lines[1].startswith(f"GET {testweb.url('/p')} 200 ")
    assert lines[1].endswith("ms")


def test_stats_count_per_host(testweb: LocalWeb, clock: FakeClock) -> None:
    testweb.route("/feed", body=b"f", etag='"e"')
    testweb.route("/flaky", statuses=[503, 200], body=b"ok")
    with make_client(clock, backoff_base_seconds=0.5) as client:
        client.get(testweb.url("/feed"))
        client.get(testweb.url("/feed"))
        client.get(testweb.url("/flaky"))
        with pytest.raises(HttpStatusError):
            client.get(testweb.url("/missing"))
        stats = client.stats[testweb.base_url]
    # robots + feed x2 + flaky x2 + missing
    assert (stats.requests, stats.retries, stats.not_modified, stats.errors) == (6, 1, 1, 1)


def test_gzip_payload_matches_what_the_server_compressed(
    testweb: LocalWeb, clock: FakeClock
) -> None:
    body = PAGE * 50
    testweb.route("/z", body=body, gzip=True)
    with make_client(clock, max_response_bytes=len(body)) as client:
        response = client.get(testweb.url("/z"))
    assert len(gzip.compress(body)) < len(body) == len(response.content)


def test_memory_store_copies_state() -> None:
    store = MemoryFetchStateStore()
    state = UrlState(etag='"a"')
    store.put_state("http://x/", state)
    state.etag = '"changed"'
    fetched = store.get_state("http://x/")
    assert fetched == UrlState(etag='"a"')
    assert fetched is not None
    fetched.gone = True
    assert store.get_state("http://x/") == UrlState(etag='"a"')
    assert store.get_state("http://y/") is None


class CountingStore(MemoryFetchStateStore):
    def __init__(self) -> None:
        super().__init__()
        self.writes = 0

    def put_state(self, url: str, state: UrlState) -> None:
        self.writes += 1
        super().put_state(url, state)


def test_store_is_written_only_when_state_changes(testweb: LocalWeb, clock: FakeClock) -> None:
    store = CountingStore()
    testweb.route("/listing", body=b"same")
    with make_client(clock, state=store) as client:
        for _ in range(3):
            client.get(testweb.url("/listing"))
        assert store.writes == 1
        testweb.route("/listing", body=b"now tagged", etag='"t"')
        client.get(testweb.url("/listing"))
    assert store.writes == 2


@pytest.mark.parametrize(
    ("content_type", "charset"),
    [
        ("text/html; charset=windows-1252", "windows-1252"),
        ('text/html;charset="UTF-8"', "utf-8"),
        ("text/plain; format=flowed; Charset=ISO-8859-1", "iso-8859-1"),
        ("text/html", None),
        ("text/html; charset=", None),
        (None, None),
    ],
)
def test_declared_charset(content_type: str | None, charset: str | None) -> None:
    assert declared_charset(content_type) == charset
