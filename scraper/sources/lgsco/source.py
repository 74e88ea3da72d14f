"""LGSCO as a :class:`~scraper.sources.base.Source`: the listing crawler over the shared
memory, and its decisions as :class:`~scraper.sources.base.Item`."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

from cwerrors import ParseError
from scraper.fetcher import Fetcher
from scraper.sources.base import (
    FINGERPRINT_KEY,
    CheckOptions,
    CheckReport,
    Councils,
    CrawlWindow,
    Item,
    Progress,
    Quarantine,
    SourceMemory,
)
from scraper.sources.lgsco.config import INFO, LgscoConfig
from scraper.sources.lgsco.crawl import Crawled, CrawlReport, LgscoCrawler, Window, WindowState
from scraper.sources.lgsco.decision import parse_decision
from scraper.sources.lgsco.layout import detect_page_kind
from scraper.sources.lgsco.listing import parse_listing
from scraper.sources.lgsco.urls import canonical_url


class CheckpointMemory:
    """The crawler's CrawlMemory over a :class:`SourceMemory`: a window is a checkpoint."""

    def __init__(self, memory: SourceMemory) -> None:
        self._memory = memory

    def fingerprint(self, reference: str) -> str | None:
        found = self._memory.stored([reference]).get(reference)
        return found.fingerprint if found else None

    def known_between(self, window: Window) -> int:
        return self._memory.known_between(window.date_from, window.date_to)

    def window(self, window: Window) -> WindowState | None:
        value = self._memory.checkpoint(_name(window))
        if value is None:
            return None
        return WindowState(
            value.get("total"),
            frozenset(value.get("pages_done") or ()),
            bool(value.get("complete")),
        )

    def save_window(self, window: Window, state: WindowState) -> None:
        self._memory.save_checkpoint(
            _name(window),
            {
                "total": state.total,
                "pages_done": sorted(state.pages_done),
                "complete": state.complete,
            },
        )


def _name(window: Window) -> str:
    return f"window:{window.date_from.isoformat()}..{window.date_to.isoformat()}"


def decision_item(item: Crawled) -> Item:
    """The stored form of one crawled decision; the listing fingerprint rides in ``extra``."""
    decision = item.decision
    return Item(
        kind="decision",
        key=decision.reference,
        url=canonical_url(decision.url),
        title=decision.title,
        summary=decision.summary,
        body=decision.body_text(),
        decided_on=decision.decision_date,
        reference=decision.reference,
        organisation=decision.organisation,
        category=decision.category,
        subcategory=decision.subcategory,
        outcome=decision.outcome.value,
        outcome_text=decision.outcome_text,
        extra={
            "remedies": decision.remedies.to_json(),
            "references": list(decision.references),
            "document_type": decision.document_type,
            "satisfied_date": (
                decision.satisfied_date.isoformat() if decision.satisfied_date else None
            ),
            "pdf_url": decision.pdf_url,
            "sections": [section.to_json() for section in decision.sections],
            FINGERPRINT_KEY: item.fingerprint,
        },
    )


class LgscoCrawl:
    def __init__(
        self,
        fetcher: Fetcher,
        memory: SourceMemory,
        window: CrawlWindow,
        config: LgscoConfig,
        quarantine: Quarantine | None = None,
    ) -> None:
        self._window = window
        self._config = config
        self._crawler = LgscoCrawler(
            fetcher,
            base_url=config.base_url,
            memory=CheckpointMemory(memory),
            sink=lambda batch: None,  # unused: batches come out of iter_incremental/iter_backfill
            today=window.today,
            quarantine=quarantine,
        )
        self._progress = Progress()

    @property
    def report(self) -> CrawlReport:
        return self._crawler.report

    @property
    def progress(self) -> Progress:
        report = self._crawler.report
        progress = self._progress
        progress.label = f"{report.mode} {report.window}" if report.window else report.mode
        progress.pages = report.listing_pages
        progress.pages_expected = estimated_pages(report)
        progress.items_fetched = report.decisions_fetched
        progress.failures = report.decisions_failed
        return progress

    def stats(self) -> dict[str, Any]:
        return self._crawler.report.as_stats()

    @property
    def quarantined(self) -> list[str]:
        return list(self._crawler.report.quarantined)

    def __iter__(self) -> Iterator[list[Item]]:
        if self._window.since is not None:
            batches = self._crawler.iter_backfill(self._window.since, self._window.until)
        else:
            batches = self._crawler.iter_incremental(self._config.window_days)
        for batch in batches:
            yield [decision_item(item) for item in batch]


def estimated_pages(report: CrawlReport) -> int:
    """Listing pages this run will read: those known so far, plus the windows not reached
    yet at the average seen (a backfill learns each month's size only when it gets there)."""
    started = max(1, report.windows_done - report.windows_skipped + (report.window is not None))
    ahead = max(0, report.windows_total - report.windows_done - 1)
    return report.pages_expected + round(ahead * report.pages_expected / started)


class Lgsco:
    info = INFO

    def crawl(
        self,
        fetcher: Fetcher,
        memory: SourceMemory,
        window: CrawlWindow,
        config: Any,
        *,
        quarantine: Quarantine | None = None,
        target: Any = None,
    ) -> LgscoCrawl:
        return LgscoCrawl(fetcher, memory, window, config, quarantine)

    def parse(self, content: bytes, url: str, *, today: date) -> Any:
        """A decision or a search listing page, told apart by content."""
        kind = detect_page_kind(content)
        if kind == "decision":
            return {"kind": kind, "result": parse_decision(content, url, today=today).to_json()}
        if kind == "listing":
            return {"kind": kind, "result": parse_listing(content, url, today=today).to_json()}
        raise ParseError(f"{url}: neither an LGSCO decision nor a search listing page")

    def check(
        self,
        fetcher: Fetcher,
        config: Any,
        *,
        today: date,
        options: CheckOptions = CheckOptions(),
        councils: Councils | None = None,
    ) -> CheckReport:
        """The first listing page of the incremental window and its first decision."""
        from scraper.sources.lgsco.check import check_site

        return check_site(
            fetcher, base_url=config.base_url, today=today, window_days=config.window_days
        )

    def show(self, content: bytes, url: str, *, today: date, as_json: bool, origin: str) -> str:
        """What `councilwatch parse lgsco` prints."""
        from scraper.sources.lgsco.show import show

        return show(content, url, today=today, as_json=as_json, origin=origin)


SOURCE = Lgsco()
