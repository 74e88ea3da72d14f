"""Retries, backoff and Retry-After, timed through the fake clock; the pure helpers too."""

from __future__ import annotations

import random
import socket
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import httpx
import pytest

from scraper.fetch import ConnectError, FetchTimeout, HttpStatusError, RetriesExhausted
from scraper.http_retry import backoff_seconds, parse_http_date, retry_after_seconds
from tests.testweb import FakeClock, LocalWeb, Reply, Request, make_client


class FixedRandom(random.Random):
    """A Random whose random() is always the same value, so jitter is known."""

    def __init__(self, value: float) -> None:
        super().__init__(0)
        self.value = value

    def random(self) -> float:
        return self.value


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def test_retry_after_seconds_is_honoured(testweb: LocalWeb, clock: FakeClock) -> None:
    testweb.route("/flaky", statuses=[503, 503, 200], body=b"ok", retry_after="2")
    with make_client(clock, obey_robots=False) as client:
        response = client.get(testweb.url("/flaky"))
        stats = client.stats[testweb.base_url]
    assert response.content == b"ok"
    assert testweb.count("/flaky") == 3
    assert clock.sleeps == [2.0, 2.0]  # each wait covers the 1 s politeness gap as well
    assert (stats.requests, stats.retries, stats.errors) == (3, 2, 0)


def test_retry_after_http_date_is_measured_from_the_server_date(
    testweb: LocalWeb, clock: FakeClock
) -> None:
    answers = iter([429, 200])

    def busy(request: Request) -> Reply:
        status = next(answers)
        later = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
        return Reply(status=status, body="ok", headers={"Retry-After": later})

    testweb.route("/busy", handler=busy)
    with make_client(clock, obey_robots=False) as client:
        assert client.get(testweb.url("/busy")).content == b"ok"
    assert len(clock.sleeps) == 1
    assert 29.0 <= clock.sleeps[0] <= 31.0  # whole-second dates on both sides


def test_retry_after_is_capped(testweb: LocalWeb, clock: FakeClock) -> None:
    testweb.route("/slowdown", statuses=[429, 200], retry_after="86400")
    with make_client(clock, obey_robots=False, max_retry_after_seconds=60.0) as client:
        client.get(testweb.url("/slowdown"))
    assert clock.sleeps == [60.0]


def test_backoff_doubles_with_bounded_jitter(testweb: LocalWeb, clock: FakeClock) -> None:
    testweb.route("/err", statuses=[500, 502, 504, 200])
    options: dict[str, Any] = {"obey_robots": False, "min_interval_seconds": 0.0}
    with make_client(clock, rng=FixedRandom(0.0), **options) as client:
        client.get(testweb.url("/err"))
    assert clock.sleeps == [1.0, 2.0, 4.0]
    testweb.route("/err", statuses=[500, 502, 504, 200])
    clock.sleeps.clear()
    with make_client(clock, rng=FixedRandom(1.0), **options) as client:
        client.get(testweb.url("/err"))
    assert clock.sleeps == [1.25, 2.5, 5.0]


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503, 504])
def test_transient_statuses_are_retried(testweb: LocalWeb, clock: FakeClock, status: int) -> None:
    testweb.route("/t", statuses=[status, 200], body=b"fine")
    with make_client(clock, obey_robots=False) as client:
        assert client.get(testweb.url("/t")).content == b"fine"
    assert testweb.count("/t") == 2


@pytest.mark.parametrize("status", [400, 401, 403, 404, 501, 505])
def test_final_statuses_are_not_retried(testweb: LocalWeb, clock: FakeClock, status: int) -> None:
    testweb.route("/f", statuses=[status, 200])
    with make_client(clock, obey_robots=False) as client, pytest.raises(HttpStatusError) as caught:
        client.get(testweb.url("/f"))
    assert caught.value.status == status
    assert testweb.count("/f") == 1
    assert clock.sleeps == []


def test_attempts_are_bounded_then_a_typed_error(testweb: LocalWeb, clock: FakeClock) -> None:
    testweb.route("/down", status=503)
    with (
        make_client(clock, obey_robots=False, max_attempts=3) as client,
        pytest.raises(RetriesExhausted) as caught,
    ):
        client.get(testweb.url("/down"))
    assert type(caught.value) is RetriesExhausted
    assert (caught.value.status, caught.value.attempts) == (503, 3)
    assert testweb.count("/down") == 3
    assert len(clock.sleeps) == 2  # no pointless wait after the last attempt


def test_timeouts_are_retried_then_fetch_timeout(testweb: LocalWeb, clock: FakeClock) -> None:
    testweb.route("/slow", body=b"late", delay=0.6)
    with (
        make_client(clock, obey_robots=False, max_attempts=2, timeout_seconds=0.15) as client,
        pytest.raises(FetchTimeout) as caught,
    ):
        client.get(testweb.url("/slow"))
    assert isinstance(caught.value, RetriesExhausted)
    assert caught.value.status is None
    assert isinstance(caught.value.__cause__, httpx.ReadTimeout)
    assert testweb.count("/slow") == 2


def test_a_timeout_then_success(testweb: LocalWeb, clock: FakeClock) -> None:
    testweb.route("/slow", body=b"late", delay=0.6)
    with make_client(clock, obey_robots=False, timeout_seconds=0.15, max_attempts=1) as client:
        with pytest.raises(FetchTimeout):
            client.get(testweb.url("/slow"))
        testweb.route("/slow", body=b"prompt")
        assert client.get(testweb.url("/slow")).content == b"prompt"


def test_truncated_bodies_are_retried(testweb: LocalWeb, clock: FakeClock) -> None:
    testweb.route("/trunc", body=b"z" * 5000, truncate_at=100)
    with (
        make_client(clock, obey_robots=False, max_attempts=2) as client,
        pytest.raises(RetriesExhausted) as caught,
    ):
        client.get(testweb.url("/trunc"))
    assert isinstance(caught.value.__cause__, httpx.RemoteProtocolError)
    assert "RemoteProtocolError" in str(caught.value)
    assert testweb.count("/trunc") == 2


def test_connection_refused_is_retried_then_connect_error(clock: FakeClock) -> None:
    with socket.socket() as probe:  # a port that was free a moment ago and has no listener
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/x"
    with make_client(clock, obey_robots=False, max_attempts=3) as client:
        with pytest.raises(ConnectError) as caught:
            client.get(url)
        stats = client.stats[f"http://127.0.0.1:{port}"]
    assert (caught.value.url, caught.value.attempts) == (url, 3)
    assert (stats.requests, stats.retries, stats.errors) == (3, 2, 1)
    assert len(clock.sleeps) == 2


def test_retry_after_parsing() -> None:
    now = datetime(2024, 6, 4, 12, 0, 0, tzinfo=UTC)
    assert retry_after_seconds("120", now=now) == 120.0
    assert retry_after_seconds(" 7 ", now=now) == 7.0
    assert retry_after_seconds("Tue, 04 Jun 2024 12:01:30 GMT", now=now) == 90.0
    assert retry_after_seconds("Tue, 04 Jun 2024 11:00:00 GMT", now=now) == 0.0
    assert retry_after_seconds("-5", now=now) is None
    assert retry_after_seconds("soon", now=now) is None
    assert retry_after_seconds(None, now=now) is None


def test_http_date_parsing() -> None:
    parsed = parse_http_date("Tue, 04 Jun 2024 12:01:30 GMT")
    assert parsed == datetime(2024, 6, 4, 12, 1, 30, tzinfo=UTC)
    assert parse_http_date("yesterday") is None
    assert parse_http_date(None) is None


def test_backoff_is_capped() -> None:
    rng = FixedRandom(1.0)
    assert backoff_seconds(1, base=2.0, cap=100.0, rng=rng) == 2.5
    assert backoff_seconds(3, base=2.0, cap=100.0, rng=rng) == 10.0
    assert backoff_seconds(20, base=2.0, cap=100.0, rng=rng) == 100.0
