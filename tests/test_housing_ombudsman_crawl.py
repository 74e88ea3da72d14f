"""The Housing Ombudsman crawler on the simulated archive served by the local test web."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

import pytest

from cwerrors import FetchError, SourceFault
from scraper.fetch import PoliteClient
from scraper.sources.base import CrawlWindow, DictMemory, Item
from scraper.sources.housing_ombudsman.crawl import HousingOmbudsmanCrawl
from tests.housing_ombudsman_site import SimulatedHousingOmbudsman, decision_page
from tests.testweb import LocalWeb, Reply

TODAY = date(2026, 6, 30)


class Store(DictMemory):
    """Memory that counts how often each case id was handed over to be stored."""

    def __init__(self) -> None:
        super().__init__()
        self.stores: Counter[str] = Counter()

    def take(self, batch: list[Item]) -> None:
        self.store(batch)
        self.stores.update(item.key for item in batch)


@pytest.fixture
def site(testweb: LocalWeb) -> SimulatedHousingOmbudsman:
    return SimulatedHousingOmbudsman(testweb, today=TODAY, count=45).install()


def crawl(
    client: PoliteClient,
    site: SimulatedHousingOmbudsman,
    store: Store,
    *,
    since: date | None = None,
    max_pages: int = 20,
    stop_after: int | None = None,
) -> HousingOmbudsmanCrawl:
    run = HousingOmbudsmanCrawl(
        client,
        store,
        CrawlWindow(today=TODAY, since=since),
        base_url=site.base_url,
        max_pages=max_pages,
    )
    for number, batch in enumerate(run, start=1):
        store.take(batch)
        if stop_after is not None and number == stop_after:
            break  # the process dies after storing this batch
    return run


def test_two_runs_store_every_decision_once_and_the_second_stops_at_the_first_known_page(
    site: SimulatedHousingOmbudsman, testweb_client: PoliteClient, testweb: LocalWeb
) -> None:
    store = Store()
    first = crawl(testweb_client, site, store)
    assert set(store.items) == {d.case_id for d in site.published}
    assert site.archive_requests() == [1, 2, 3, 4, 5]  # 45 decisions: the whole archive
    assert first.stopped_at is None

    new = site.publish(3)
    testweb.requests.clear()
    second = crawl(testweb_client, site, store)
    # Page 1 has the three new decisions; page 2 is all stored, so the walk ends there.
    assert site.archive_requests() == [1, 2]
    assert second.stopped_at == 2
    assert set(site.decision_requests()) == {site.prefix + d.path for d in new}
    assert set(store.items) == {d.case_id for d in site.published}
    assert max(store.stores.values()) == 1  # every decision stored once


def test_a_run_with_nothing_new_reads_one_page(
    site: SimulatedHousingOmbudsman, testweb_client: PoliteClient, testweb: LocalWeb
) -> None:
    store = Store()
    crawl(testweb_client, site, store)
    testweb.requests.clear()
    assert crawl(testweb_client, site, store).stopped_at == 1
    assert site.archive_requests() == [1] and site.decision_requests() == {}


def test_an_empty_store_reads_only_the_newest_pages(
    site: SimulatedHousingOmbudsman, testweb_client: PoliteClient
) -> None:
    store = Store()
    crawl(testweb_client, site, store, max_pages=2)
    assert site.archive_requests() == [1, 2]
    assert set(store.items) == {d.case_id for d in site.newest_first()[:20]}


def test_a_killed_backfill_continues_where_it_stopped(
    site: SimulatedHousingOmbudsman, testweb_client: PoliteClient, testweb: LocalWeb
) -> None:
    store = Store()
    since = TODAY - timedelta(days=2000)
    crawl(testweb_client, site, store, since=since, stop_after=2)
    assert len(store.items) == 20
    site.publish(4)  # meanwhile four more are published: everything moves down the archive
    resumed = crawl(testweb_client, site, store, since=since)
    assert resumed.resumed_from == 2  # page 2 again: its checkpoint was not written yet
    assert set(store.items) == {d.case_id for d in site.published[:45]}
    assert max(store.stores.values()) == 1
    assert max(site.decision_requests().values()) == 1  # no decision page fetched twice
    assert store.checkpoints["backfill"]["done"] is True
    # Done: a second backfill from the same date reads nothing.
    testweb.requests.clear()
    crawl(testweb_client, site, store, since=since)
    assert site.archive_requests() == []


def test_a_backfill_stops_at_the_first_page_older_than_since(
    site: SimulatedHousingOmbudsman, testweb_client: PoliteClient
) -> None:
    store = Store()
    oldest_on_page_1 = min(d.decided for d in site.newest_first()[:10])
    crawl(testweb_client, site, store, since=oldest_on_page_1 + timedelta(days=1))
    pages = site.archive_requests()
    assert pages[0] == 1 and len(pages) < site.last_page()
    last_read = site.newest_first()[(pages[-1] - 1) * 10 : pages[-1] * 10]
    assert max(d.decided for d in last_read) < oldest_on_page_1 + timedelta(days=1)


def test_an_empty_archive_is_a_source_fault_not_nothing_new(
    site: SimulatedHousingOmbudsman, testweb_client: PoliteClient, testweb: LocalWeb
) -> None:
    testweb.route("/decisions/", body="<html><body><main><h1>Decisions</h1></main></body></html>")
    with pytest.raises(SourceFault, match="lists no decisions"):
        crawl(testweb_client, site, Store())


def test_decision_pages_in_a_new_layout_stop_the_run(
    site: SimulatedHousingOmbudsman, testweb_client: PoliteClient, testweb: LocalWeb
) -> None:
    for decision in site.newest_first()[:10]:
        testweb.route(decision.path, body="<html><body><p>Case 1</p></body></html>")
    with pytest.raises(SourceFault, match="no longer parse"):
        crawl(testweb_client, site, Store())


def test_a_decision_that_fails_is_fetched_again_next_run(
    site: SimulatedHousingOmbudsman, testweb_client: PoliteClient, testweb: LocalWeb
) -> None:
    broken = site.newest_first()[3]
    testweb.route(broken.path, handler=lambda request: Reply(status=404, body="gone"))
    store = Store()
    run = crawl(testweb_client, site, store)
    assert broken.case_id not in store.items and run.progress.failures == 1
    site.web.route(broken.path, handler=lambda request: Reply(body=decision_page(broken)))
    testweb.requests.clear()
    crawl(testweb_client, site, store)
    assert broken.case_id in store.items
    # Page 1 had one unknown decision, so page 2 is read and found all stored.
    assert site.archive_requests() == [1, 2]
    assert set(site.decision_requests()) == {broken.path}


def test_a_missing_page_past_the_end_ends_the_walk_but_a_missing_first_page_is_a_fault(
    site: SimulatedHousingOmbudsman, testweb_client: PoliteClient, testweb: LocalWeb
) -> None:
    store = Store()
    gone = Reply(status=404, body="not found")
    for page in range(2, 6):
        testweb.route(f"/decisions/page/{page}/", handler=lambda request: gone)
    crawl(testweb_client, site, store)  # page 1 links to page 2, which is gone
    assert set(store.items) == {d.case_id for d in site.newest_first()[:10]}
    testweb.route("/decisions/", handler=lambda request: gone)
    with pytest.raises(FetchError):
        crawl(testweb_client, site, Store())


def test_a_decision_page_that_no_longer_parses_is_kept_to_reproduce(
    site: SimulatedHousingOmbudsman, testweb_client: PoliteClient, testweb: LocalWeb
) -> None:
    broken = site.newest_first()[2]
    testweb.route(broken.path, body="<html><body><p>Case ID 1</p></body></html>")
    kept: list[tuple[str, bytes, str]] = []

    def keep(url: str, content: bytes, error: str) -> str:
        kept.append((url, content, error))
        return f"quarantine/{len(kept)}.html"

    store = Store()
    run = HousingOmbudsmanCrawl(
        testweb_client,
        store,
        CrawlWindow(today=TODAY),
        base_url=site.base_url,
        max_pages=20,
        quarantine=keep,
    )
    for batch in run:
        store.take(batch)
    [(url, content, error)] = kept
    assert url.endswith(broken.path) and b"Case ID 1" in content and "no landlord" in error
    assert run.quarantined == ["quarantine/1.html"] and run.stats()["parse_failures"] == 1
    assert broken.case_id not in store.items
