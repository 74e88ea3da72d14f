"""The local test web does what its scripts say (checked with plain httpx, not our client)."""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from scraper.fetch import PoliteClient
from tests.testweb import FakeClock, LocalWeb, Reply, Request


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=5.0) as client:
        yield client


def test_routes_serve_body_type_and_headers(testweb: LocalWeb, http: httpx.Client) -> None:
    testweb.route(
        "/a.xml", body=b"<rss/>", content_type="application/rss+xml", headers={"X-A": "a"}
    )
    response = http.get(testweb.url("/a.xml"))
    assert (response.status_code, response.content) == (200, b"<rss/>")
    assert response.headers["content-type"] == "application/rss+xml"
    assert response.headers["x-a"] == "a"
    assert http.get(testweb.url("/missing")).status_code == 404


def test_status_sequence_repeats_last_and_counts(testweb: LocalWeb, http: httpx.Client) -> None:
    testweb.route("/flaky", statuses=[503, 429, 200], body=b"ok", retry_after="2")
    answers = [http.get(testweb.url("/flaky")) for _ in range(4)]
    assert [a.status_code for a in answers] == [503, 429, 200, 200]
    assert answers[0].headers["retry-after"] == "2"
    assert "retry-after" not in answers[2].headers
    assert answers[3].content == b"ok"
    assert testweb.count("/flaky") == 4


def test_count_and_requests_keep_query_and_headers(testweb: LocalWeb, http: httpx.Client) -> None:
    testweb.route("/search", body=b"x")
    http.get(testweb.url("/search?page=1"), headers={"X-Probe": "p"})
    http.get(testweb.url("/search?page=2"))
    assert testweb.count("/search") == 2
    assert testweb.count("/search?page=2") == 1
    method, path, headers = testweb.requests[0]
    assert (method, path, headers["x-probe"]) == ("GET", "/search?page=1", "p")


def test_reset_forgets_routes_and_requests(testweb: LocalWeb, http: httpx.Client) -> None:
    testweb.route("/a", body=b"x")
    http.get(testweb.url("/a"))
    testweb.reset()
    assert testweb.requests == []
    assert http.get(testweb.url("/a")).status_code == 404


def test_etag_gives_real_304(testweb: LocalWeb, http: httpx.Client) -> None:
    testweb.route("/feed", body=b"feed", etag='"v1"')
    first = http.get(testweb.url("/feed"))
    assert first.headers["etag"] == '"v1"'
    again = http.get(testweb.url("/feed"), headers={"If-None-Match": '"v1"'})
    assert (again.status_code, again.content) == (304, b"")
    changed = http.get(testweb.url("/feed"), headers={"If-None-Match": '"v0"'})
    assert changed.status_code == 200


def test_last_modified_gives_real_304(testweb: LocalWeb, http: httpx.Client) -> None:
    testweb.route("/page", body=b"p", last_modified=datetime(2024, 3, 1, 9, 0, tzinfo=UTC))
    stamp = http.get(testweb.url("/page")).headers["last-modified"]
    assert stamp == "Fri, 01 Mar 2024 09:00:00 GMT"
    assert http.get(testweb.url("/page"), headers={"If-Modified-Since": stamp}).status_code == 304
    older = "Thu, 29 Feb 2024 09:00:00 GMT"
    assert http.get(testweb.url("/page"), headers={"If-Modified-Since": older}).status_code == 200


def test_redirect_defaults_to_302(testweb: LocalWeb, http: httpx.Client) -> None:
    testweb.route("/tmp", redirect="/new")
    testweb.route("/old", redirect="/new", status=301)
    assert http.get(testweb.url("/tmp")).status_code == 302
    moved = http.get(testweb.url("/old"))
    assert (moved.status_code, moved.headers["location"]) == (301, "/new")


def test_handler_routes_see_the_query(testweb: LocalWeb, http: httpx.Client) -> None:
    def listing(request: Request) -> Reply | str:
        page = int(request.query.get("page", "1"))
        if page > 2:
            return Reply(status=404, body="no such page")
        return f"<p>page {page}</p>"

    testweb.route("/list", handler=listing)
    assert http.get(testweb.url("/list?page=2")).text == "<p>page 2</p>"
    assert http.get(testweb.url("/list?page=3")).status_code == 404


def test_truncated_body_breaks_the_read(testweb: LocalWeb, http: httpx.Client) -> None:
    testweb.route("/trunc", body=b"y" * 1000, truncate_at=100)
    with pytest.raises(httpx.RemoteProtocolError):
        http.get(testweb.url("/trunc"))


def test_generated_body_has_its_size_with_or_without_length(
    testweb: LocalWeb, http: httpx.Client
) -> None:
    testweb.route("/big", body_size=200_000)
    testweb.route("/big-chunked", body_size=200_000, chunked=True)
    big = http.get(testweb.url("/big"))
    assert (big.headers["content-length"], len(big.content)) == ("200000", 200_000)
    chunked = http.get(testweb.url("/big-chunked"))
    assert "content-length" not in chunked.headers
    assert len(chunked.content) == 200_000


def test_gzip_only_when_accepted(testweb: LocalWeb, http: httpx.Client) -> None:
    testweb.route("/z", body=b"zip me " * 100, gzip=True)
    zipped = http.get(testweb.url("/z"))
    assert zipped.headers["content-encoding"] == "gzip"
    assert zipped.content == b"zip me " * 100
    assert int(zipped.headers["content-length"]) == len(gzip.compress(b"zip me " * 100))
    plain = http.get(testweb.url("/z"), headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers


def test_delay_holds_the_answer(testweb: LocalWeb) -> None:
    testweb.route("/slow", body=b"x", delay=0.5)
    with httpx.Client(timeout=0.1) as impatient, pytest.raises(httpx.ReadTimeout):
        impatient.get(testweb.url("/slow"))


def test_serve_dir_serves_files_with_optional_charset(
    testweb: LocalWeb, http: httpx.Client, tmp_path: Path
) -> None:
    (tmp_path / "decisions").mkdir()
    (tmp_path / "decisions" / "index.html").write_bytes(b"<h1>Decisions</h1>")
    (tmp_path / "note.txt").write_bytes("Fee \u00a3120".encode("cp1252"))
    testweb.serve_dir(tmp_path, prefix="/site")
    testweb.route("/site/note.txt", body=b"route wins")
    assert http.get(testweb.url("/site/decisions/")).content == b"<h1>Decisions</h1>"
    assert http.get(testweb.url("/site/note.txt")).content == b"route wins"
    assert http.get(testweb.url("/site/../../etc/passwd")).status_code == 404
    testweb.reset()
    testweb.serve_dir(tmp_path, prefix="/", charset="windows-1252")
    note = http.get(testweb.url("/note.txt"))
    assert note.headers["content-type"] == "text/plain; charset=windows-1252"
    assert note.text == "Fee \u00a3120"


def test_robots_is_plain_text(testweb: LocalWeb, http: httpx.Client) -> None:
    assert http.get(testweb.url("/robots.txt")).status_code == 404
    testweb.robots("User-agent: *\nDisallow: /private\n")
    robots = http.get(testweb.url("/robots.txt"))
    assert robots.headers["content-type"] == "text/plain"
    assert "Disallow: /private" in robots.text


def test_client_fixture_waits_on_the_fake_clock(
    testweb: LocalWeb, testweb_client: PoliteClient, fake_clock: FakeClock
) -> None:
    testweb.route("/a", body=b"a")
    for _ in range(2):
        assert testweb_client.get(testweb.url("/a")).content == b"a"
    assert fake_clock.sleeps == [1.0, 1.0]  # after robots.txt, then between the two pages
