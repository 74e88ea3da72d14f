"""robots.txt and per-host pacing, against the local test web, timed through the fake clock."""

from __future__ import annotations

import logging
import socket

import pytest

from scraper.fetch import ConnectError, DisallowedByRobots
from scraper.politeness import HostPacer
from tests.testweb import FakeClock, LocalWeb, make_client

ROBOTS = "User-agent: *\nDisallow: /private\n"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def test_disallowed_urls_are_never_fetched_and_robots_is_asked_once(
    testweb: LocalWeb, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    testweb.robots(ROBOTS)
    testweb.route("/private/case", body=b"secret")
    testweb.route("/public", body=b"open")
    with caplog.at_level(logging.WARNING, logger="scraper.fetch"), make_client(clock) as client:
        for _ in range(2):
            with pytest.raises(DisallowedByRobots) as caught:
                client.get(testweb.url("/private/case"))
        assert client.get(testweb.url("/public")).content == b"open"
    assert caught.value.url == testweb.url("/private/case")
    assert testweb.count("/private/case") == 0
    assert testweb.count("/robots.txt") == 1
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1  # said once per host, clearly
    assert "disallowed by robots.txt" in warnings[0]
    assert testweb.base_url in warnings[0]


def test_group_for_our_user_agent_applies(testweb: LocalWeb, clock: FakeClock) -> None:
    testweb.robots("User-agent: councilwatch\nDisallow: /\n\nUser-agent: *\nAllow: /\n")
    with make_client(clock) as client, pytest.raises(DisallowedByRobots):
        client.get(testweb.url("/anything"))
    assert testweb.count("/anything") == 0


def test_min_interval_spaces_requests_to_a_host(testweb: LocalWeb, clock: FakeClock) -> None:
    testweb.route("/a", body=b"a")
    with make_client(clock, min_interval_seconds=1.5) as client:
        client.get(testweb.url("/a"))
        client.get(testweb.url("/a"))
    # robots.txt at t=0, then /a at 1.5 and 3.0
    assert clock.sleeps == [1.5, 1.5]
    assert testweb.count("/a") == 2


def test_crawl_delay_raises_the_interval(testweb: LocalWeb, clock: FakeClock) -> None:
    testweb.robots("User-agent: *\nDisallow: /private\nCrawl-delay: 3\n")
    testweb.route("/a", body=b"a")
    with make_client(clock, min_interval_seconds=1.0) as client:
        client.get(testweb.url("/a"))
        client.get(testweb.url("/a"))
    assert clock.sleeps == [3.0, 3.0]


def test_crawl_delay_below_min_interval_does_not_lower_it(
    testweb: LocalWeb, clock: FakeClock
) -> None:
    testweb.robots("User-agent: *\nCrawl-delay: 0.5\n")
    testweb.route("/a", body=b"a")
    with make_client(clock, min_interval_seconds=2.0) as client:
        client.get(testweb.url("/a"))
    assert clock.sleeps == [2.0]


def test_time_already_passed_counts_towards_the_interval(
    testweb: LocalWeb, clock: FakeClock
) -> None:
    testweb.route("/a", body=b"a")
    with make_client(clock, min_interval_seconds=2.0) as client:
        client.get(testweb.url("/a"))
        clock.now += 1.5  # the caller spent 1.5 s parsing
        client.get(testweb.url("/a"))
    assert clock.sleeps == [2.0, 0.5]


def test_robots_5xx_disallows_for_a_while_then_asks_again(
    testweb: LocalWeb, clock: FakeClock
) -> None:
    testweb.route("/robots.txt", statuses=[503, 200], body="User-agent: *\nAllow: /\n")
    testweb.route("/a", body=b"a")
    url = testweb.url("/a")
    with make_client(clock, robots_error_backoff_seconds=600.0) as client:
        with pytest.raises(DisallowedByRobots, match="503"):
            client.get(url)
        clock.now += 599.0
        with pytest.raises(DisallowedByRobots):
            client.get(url)
        assert testweb.count("/robots.txt") == 1
        clock.now += 1.0
        assert client.get(url).content == b"a"
    assert testweb.count("/robots.txt") == 2
    assert testweb.count("/a") == 1


@pytest.mark.parametrize("status", [401, 403, 404, 410])
def test_robots_4xx_allows_everything(testweb: LocalWeb, clock: FakeClock, status: int) -> None:
    testweb.route("/robots.txt", status=status)
    testweb.route("/private", body=b"p")
    with make_client(clock) as client:
        assert client.get(testweb.url("/private")).content == b"p"


def test_a_site_that_cannot_be_reached_is_a_connection_failure_not_a_robots_rule(
    clock: FakeClock,
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # RFC 9309 still holds (nothing is fetched without robots.txt), but the operator is told
    # what happened: the site did not answer, not "robots.txt unreachable: assuming disallow".
    with make_client(clock) as client, pytest.raises(ConnectError) as caught:
        client.get(f"http://127.0.0.1:{port}/page")
    assert str(caught.value).startswith("cannot connect to 127.0.0.1: ")
    assert not isinstance(caught.value, DisallowedByRobots)


def test_robots_redirect_is_followed(testweb: LocalWeb, clock: FakeClock) -> None:
    testweb.route("/robots.txt", redirect="/config/robots.txt", status=301)
    testweb.route("/config/robots.txt", body=ROBOTS, content_type="text/plain")
    with make_client(clock) as client, pytest.raises(DisallowedByRobots):
        client.get(testweb.url("/private/x"))
    assert testweb.count("/config/robots.txt") == 1


def test_robots_is_checked_on_each_redirect_hop(testweb: LocalWeb, clock: FakeClock) -> None:
    testweb.robots(ROBOTS)
    testweb.route("/open", redirect="/private/moved")
    with make_client(clock) as client, pytest.raises(DisallowedByRobots):
        client.get(testweb.url("/open"))
    assert (testweb.count("/open"), testweb.count("/private/moved")) == (1, 0)


def test_robots_can_be_switched_off(testweb: LocalWeb, clock: FakeClock) -> None:
    testweb.robots("User-agent: *\nDisallow: /\n")
    testweb.route("/a", body=b"a")
    with make_client(clock, obey_robots=False, min_interval_seconds=0.0) as client:
        assert client.get(testweb.url("/a")).content == b"a"
    assert testweb.count("/robots.txt") == 0
    assert clock.sleeps == []


def test_pacer_keeps_hosts_independent() -> None:
    clock = FakeClock()
    pacer = HostPacer(clock, min_interval=1.0)
    assert pacer.wait("http://a") == 0.0
    assert pacer.wait("http://b") == 0.0
    assert pacer.wait("http://a") == 1.0
    pacer.set_interval("http://b", 5.0)
    assert pacer.wait("http://b") == 4.0  # 5 s after b's first request, 1 s has passed
    assert clock.sleeps == [1.0, 4.0]
