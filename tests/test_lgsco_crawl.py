"""The LGSCO crawler on a simulated site served by the local test web (no database)."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import pytest

from cwerrors import SourceFault
from scraper.fetch import PoliteClient
from scraper.quarantine import Quarantine
from scraper.sources.lgsco.crawl import (
    LAYOUT_MIN_FAILURES,
    Crawled,
    LgscoCrawler,
    MemoryCrawlMemory,
    Window,
    entry_fingerprint,
    month_windows,
)
from tests.lgsco_site import LISTING_PATH, SimDecision, SimulatedLgsco
from tests.testweb import LocalWeb

TODAY = date(2026, 6, 30)
WINDOW_DAYS = 120
SINCE = TODAY - timedelta(days=620)


class Killed(Exception):
    """Stands for the process dying mid-run."""


class Store:
    """The sink and memory of a crawl; counts how often each reference was stored."""

    def __init__(self) -> None:
        self.memory = MemoryCrawlMemory()
        self.stores: Counter[str] = Counter()
        self.kill_after: int | None = None

    def sink(self, batch: Sequence[Crawled]) -> None:
        self.memory.store(batch)
        self.stores.update(item.decision.reference for item in batch)
        if self.kill_after is not None and sum(self.stores.values()) >= self.kill_after:
            self.kill_after = None
            raise Killed  # after the batch was stored: the resumed run must not fetch it again


@pytest.fixture
def site(testweb: LocalWeb) -> SimulatedLgsco:
    return SimulatedLgsco(testweb, today=TODAY, count=300).install()


@pytest.fixture
def store() -> Store:
    return Store()


def crawler(client: PoliteClient, site: SimulatedLgsco, store: Store) -> LgscoCrawler:
    return LgscoCrawler(
        client, base_url=site.web.url(), memory=store.memory, sink=store.sink, today=site.today
    )


def window_pages(site: SimulatedLgsco, window: Window) -> int:
    return max(1, math.ceil(len(site.visible(window.date_from, window.date_to)) / 10))


def refs(decisions: Iterable[SimDecision]) -> set[str]:
    return {d.reference for d in decisions}


def test_backfill_then_incremental_stores_everything_once(
    site: SimulatedLgsco, store: Store, testweb_client: PoliteClient
) -> None:
    report = crawler(testweb_client, site, store).backfill(SINCE)
    visible = site.visible()
    assert len(visible) > 250
    assert set(store.stores) == refs(visible)
    windows = month_windows(SINCE, TODAY)
    assert report.windows_done == len(windows) == 21
    assert site.listing_requests() == sum(window_pages(site, w) for w in windows)
    assert site.decision_requests() == {d.path: 1 for d in visible}

    # A week later: decisions decided weeks ago are published, in the middle of the list,
    # and a few more land mid-window on the day of the run.
    site.advance(7)
    added = site.publish_mid_window(4, window_days=WINDOW_DAYS)
    newly = refs(site.visible()) - refs(visible)
    assert refs(added) <= newly and len(newly) > len(added)
    newest = site.visible()[0].decided
    assert all(site.by_reference(r).decided < newest for r in refs(added))  # not at the top
    before = Counter(site.decision_requests())
    report = crawler(testweb_client, site, store).incremental(WINDOW_DAYS)
    fetched = Counter(site.decision_requests()) - before
    assert set(fetched) == {site.by_reference(r).path for r in newly}
    assert set(fetched.values()) == {1}
    assert report.decisions_fetched == len(newly) and report.decisions_failed == 0
    assert set(store.stores) == refs(site.visible())
    assert set(store.stores.values()) == {1}  # every decision stored exactly once


def test_the_real_one_line_layout_is_crawled_whole_and_once(
    testweb: LocalWeb, store: Store, testweb_client: PoliteClient
) -> None:
    # The real site: each card's type, outcome, subcategory and date on one line separated by
    # spaces; the decision header's fields inline with no whitespace between them.
    site = SimulatedLgsco(testweb, today=TODAY, count=0).install()
    assert site.layout == "real"
    for index in range(40):
        decided = TODAY - timedelta(days=1 + index * 2)
        site.add(decided, published=decided + timedelta(days=1))
    seen: list[Crawled] = []

    def sink(batch: Sequence[Crawled]) -> None:
        seen.extend(batch)
        store.sink(batch)

    def run() -> tuple[dict[str, int], int]:
        before = Counter(site.decision_requests())
        report = LgscoCrawler(
            testweb_client,
            base_url=site.web.url(),
            memory=store.memory,
            sink=sink,
            today=site.today,
        ).incremental(WINDOW_DAYS)
        assert report.decisions_failed == 0 and report.listing_hints_missing == 0
        return dict(Counter(site.decision_requests()) - before), report.decisions_fetched

    fetched, count = run()
    assert count == 40 and fetched == {d.path: 1 for d in site.visible()}
    for item in seen:
        listed = site.by_reference(item.entry.reference)
        entry, decision = item.entry, item.decision
        assert (entry.document_type, entry.outcome_text, entry.subcategory) == (
            "Statement",
            listed.outcome,
            listed.subcategory,
        )
        assert entry.decision_date == listed.decided
        assert (decision.category, decision.subcategory, decision.outcome_text) == (
            listed.category,
            listed.subcategory,
            listed.outcome,
        )
        assert decision.decision_date == listed.decided and decision.summary == listed.summary

    late = site.publish_mid_window(20, window_days=WINDOW_DAYS)
    fetched, count = run()
    assert count == 20 and fetched == {d.path: 1 for d in late}

    fetched, count = run()
    assert (count, fetched) == (0, {})
    assert set(store.stores) == refs(site.visible()) and set(store.stores.values()) == {1}


def test_second_incremental_run_costs_only_the_listing_pages(
    site: SimulatedLgsco, store: Store, testweb: LocalWeb, testweb_client: PoliteClient
) -> None:
    first = crawler(testweb_client, site, store).incremental(WINDOW_DAYS)
    window = Window(TODAY - timedelta(days=WINDOW_DAYS), TODAY)
    pages = window_pages(site, window)
    assert pages >= 5 and first.listing_pages == pages
    assert first.decisions_fetched == len(site.visible(window.date_from, window.date_to))

    requests_before = len(testweb.requests)
    second = crawler(testweb_client, site, store).incremental(WINDOW_DAYS)
    run = testweb.requests[requests_before:]
    assert len(run) == pages  # listing pages only ...
    assert all(r.route == LISTING_PATH for r in run)
    assert second.decisions_fetched == 0  # ... and zero decision pages
    assert second.not_modified_pages == pages  # every one a 304: no parsing
    assert all(r.headers.get("If-None-Match") for r in run)


def test_a_changed_listing_entry_refetches_that_decision_once(
    site: SimulatedLgsco, store: Store, testweb_client: PoliteClient
) -> None:
    crawler(testweb_client, site, store).incremental(WINDOW_DAYS)
    changed = site.visible()[12]
    old = store.memory.fingerprint(changed.reference)
    changed.outcome = "Not upheld" if changed.outcome != "Not upheld" else "Upheld"
    changed.amount = 400
    before = Counter(site.decision_requests())
    report = crawler(testweb_client, site, store).incremental(WINDOW_DAYS)
    assert Counter(site.decision_requests()) - before == {changed.path: 1}
    assert report.decisions_fetched == 1
    assert store.memory.fingerprint(changed.reference) not in (None, old)


def test_killed_backfill_resumes_without_fetching_anything_twice(
    site: SimulatedLgsco, store: Store, testweb_client: PoliteClient
) -> None:
    store.kill_after = 95
    with pytest.raises(Killed):
        crawler(testweb_client, site, store).backfill(SINCE)
    stored_before_kill = set(store.stores)
    assert 95 <= len(stored_before_kill) < 110

    resumed = crawler(testweb_client, site, store).backfill(SINCE)
    visible = site.visible()
    assert resumed.windows_skipped > 0
    assert resumed.decisions_fetched == len(visible) - len(stored_before_kill)
    assert site.decision_requests() == {d.path: 1 for d in visible}
    assert set(store.stores) == refs(visible) and set(store.stores.values()) == {1}

    # Run once more: every window is complete, nothing at all is fetched.
    listing_before = site.listing_requests()
    again = crawler(testweb_client, site, store).backfill(SINCE)
    assert again.windows_skipped == again.windows_total
    assert site.listing_requests() == listing_before


def test_backfill_goes_newest_first_and_an_empty_old_window_is_not_a_fault(
    site: SimulatedLgsco, store: Store, testweb: LocalWeb, testweb_client: PoliteClient
) -> None:
    report = crawler(testweb_client, site, store).backfill(date(2023, 1, 1), date(2023, 2, 28))
    assert report.windows_done == 2 and report.decisions_fetched == 0 and not store.stores
    asked = [r.query["fd"] for r in testweb.requests if r.route == LISTING_PATH]
    assert asked == ["2023-02-01", "2023-01-01"]


def test_zero_results_for_a_window_that_had_results_is_a_source_fault(
    site: SimulatedLgsco, store: Store, testweb: LocalWeb, testweb_client: PoliteClient
) -> None:
    crawler(testweb_client, site, store).incremental(WINDOW_DAYS)
    site.mode = "zero"
    requests_before = len(testweb.requests)
    with pytest.raises(SourceFault, match=r"0 results where there were \d+"):
        crawler(testweb_client, site, store).incremental(WINDOW_DAYS)
    run = testweb.requests[requests_before:]
    assert [r.route for r in run] == [LISTING_PATH, "/", LISTING_PATH]
    assert run[2].headers.get("Referer") == testweb.url("/")  # the retry after the warm-up
    assert run[2].headers.get("If-None-Match") is None


def test_the_page_shell_is_a_source_fault_even_for_a_new_window(
    site: SimulatedLgsco, store: Store, testweb_client: PoliteClient
) -> None:
    site.mode = "shell"
    with pytest.raises(SourceFault, match="page shell"):
        crawler(testweb_client, site, store).incremental(WINDOW_DAYS)
    assert not store.stores


def test_the_shell_served_until_a_warm_up_is_retried_and_the_run_goes_on(
    site: SimulatedLgsco, store: Store, testweb_client: PoliteClient
) -> None:
    site.mode = "shell-once"
    report = crawler(testweb_client, site, store).incremental(WINDOW_DAYS)
    assert report.warmups == 1
    window = Window(TODAY - timedelta(days=WINDOW_DAYS), TODAY)
    assert set(store.stores) == refs(site.visible(window.date_from, window.date_to))


def test_a_few_unparseable_decisions_are_counted_and_retried_next_run(
    site: SimulatedLgsco, store: Store, testweb_client: PoliteClient
) -> None:
    broken = site.visible()[3:5]
    site.broken = refs(broken)
    report = crawler(testweb_client, site, store).incremental(WINDOW_DAYS)
    assert report.decisions_failed == 2
    assert sorted(report.failed_urls) == sorted(served_url(site, d.path) for d in broken)
    assert not refs(broken) & set(store.stores)

    site.broken = set()
    before = Counter(site.decision_requests())
    again = crawler(testweb_client, site, store).incremental(WINDOW_DAYS)
    assert set(Counter(site.decision_requests()) - before) == {d.path for d in broken}
    assert again.decisions_failed == 0 and refs(broken) <= set(store.stores)
    # The page that had failures was asked afresh, the others conditionally (304).
    assert again.not_modified_pages == again.listing_pages - 1


def test_cards_with_only_their_title_links_are_still_fetched_and_their_gaps_counted(
    site: SimulatedLgsco, store: Store, testweb: LocalWeb, testweb_client: PoliteClient
) -> None:
    # A card degrades, a page does not: the decision page supplies what the card lacks.
    first, second = site.visible()[:2]
    cards = "".join(
        f'<div><h3><a href="{d.path}">{d.organisation} ({d.reference})</a></h3></div>'
        for d in (first, second)
    )
    testweb.route(
        LISTING_PATH, body=f"<html><body><p>Your search has 2 results</p>{cards}</body></html>"
    )
    report = crawler(testweb_client, site, store).incremental(WINDOW_DAYS)
    assert set(store.stores) == {first.reference, second.reference}
    assert report.decisions_failed == 0
    assert report.listing_hints_missing == 8  # type, outcome, subcategory, date; two cards
    assert report.as_stats()["listing_hints_missing"] == 8


def test_a_listing_that_no_longer_parses_is_kept_and_named_in_the_fault(
    site: SimulatedLgsco,
    store: Store,
    testweb: LocalWeb,
    testweb_client: PoliteClient,
    tmp_path: Path,
) -> None:
    # Results announced, cards shown, but no card links to its decision: a redesign.
    redesigned = (
        "<html><body><p>Your search has 12 results</p><div class='card'><h3>Leeds City Council "
        "(25 101 202)</h3><p>Statement Upheld Homelessness 02-Jun-2026</p></div></body></html>"
    )
    testweb.route(LISTING_PATH, body=redesigned)
    kept = Quarantine(tmp_path)
    run = LgscoCrawler(
        testweb_client,
        base_url=site.web.url(),
        memory=store.memory,
        sink=store.sink,
        today=site.today,
        quarantine=lambda url, content, error: str(kept.keep("lgsco", url, content, error)),
    )
    with pytest.raises(SourceFault, match="no link to its decision") as caught:
        run.incremental(WINDOW_DAYS)
    [page] = kept.recent("lgsco")
    assert page.path.read_bytes() == redesigned.encode()
    assert f"(kept as {page.path})" in str(caught.value)
    assert run.report.quarantined == [str(page.path)]


def served_url(site: SimulatedLgsco, path: str) -> str:
    return site.web.url(path)


def test_most_decisions_failing_to_parse_is_a_layout_change(
    site: SimulatedLgsco, store: Store, testweb_client: PoliteClient
) -> None:
    site.broken = refs(site.decisions)
    with pytest.raises(SourceFault, match="no longer parse: 10 of 10 fetched so far"):
        crawler(testweb_client, site, store).incremental(WINDOW_DAYS)
    assert sum(site.decision_requests().values()) == 10  # stopped after the first page


def test_missing_decision_pages_are_failures_but_not_a_layout_change(
    site: SimulatedLgsco, store: Store, testweb_client: PoliteClient
) -> None:
    window = Window(TODAY - timedelta(days=WINDOW_DAYS), TODAY)
    for decision in site.visible(window.date_from, window.date_to):
        site.web.route(decision.path, status=404)  # listed, but the pages are not there
    report = crawler(testweb_client, site, store).incremental(WINDOW_DAYS)
    assert report.decisions_failed == report.decisions_fetched > LAYOUT_MIN_FAILURES
    assert report.parse_failures == 0 and not store.stores


def test_month_windows_cover_the_range_newest_first() -> None:
    windows = month_windows(date(2024, 1, 15), date(2024, 3, 10))
    assert windows == [
        Window(date(2024, 3, 1), date(2024, 3, 10)),
        Window(date(2024, 2, 1), date(2024, 2, 29)),
        Window(date(2024, 1, 15), date(2024, 1, 31)),
    ]
    with pytest.raises(ValueError):
        month_windows(date(2024, 2, 1), date(2024, 1, 1))


def test_fingerprint_follows_every_listing_field(site: SimulatedLgsco) -> None:
    from scraper.sources.lgsco import parse_listing
    from tests.lgsco_site import listing_page

    entry = parse_listing(listing_page(site.visible(), 1).encode(), site.web.url("/x")).entries[0]
    base = entry_fingerprint(entry)
    assert entry_fingerprint(replace(entry)) == base
    for change in (
        {"summary": entry.summary + "."},
        {"outcome_text": "Upheld: maladministration and injustice"},
        {"subcategory": "Other"},
        {"decision_date": entry.decision_date - timedelta(days=1)},
        {"organisation": "Another Council"},
    ):
        assert entry_fingerprint(replace(entry, **change)) != base
