"""An LGSCO fetch run: the crawler wired to storage, the pipeline and run recording.

    fetch_lgsco(runtime, since=None, until=None, progress=False) -> RunOutcome

Without ``since`` it is the incremental run (the rolling ``window_days`` window); with it, a
resumable backfill of month windows. Neither decides what subscribers see as catch-up: a
decision older than the window is catch-up by its age (``councilwatch.digests``), so a
backfill that finds a decision published today sends it like any new one.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence
from contextlib import ExitStack
from datetime import date
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from councilwatch.pipeline import process
from councilwatch.runs import RunCounts, RunOutcome, record_run
from councilwatch.runtime import Runtime
from cwerrors import CouncilwatchError
from db.ingest import DocumentRecord
from db.lgsco_state import FINGERPRINT_KEY, LgscoState, StoredWindow
from db.runs import has_succeeded
from scraper.sources.lgsco import canonical_url
from scraper.sources.lgsco.crawl import (
    Crawled,
    CrawlReport,
    LgscoCrawler,
    Progress,
    Window,
    WindowState,
)

if TYPE_CHECKING:
    from rich.progress import Progress as RichProgress
    from rich.progress import TaskID

log = logging.getLogger("councilwatch.lgsco")

SOURCE = "lgsco"


class DatabaseCrawlMemory:
    """Adapts db.lgsco_state to the crawler's CrawlMemory."""

    def __init__(self, state: LgscoState) -> None:
        self._state = state

    def fingerprint(self, reference: str) -> str | None:
        return self._state.fingerprint(reference)

    def known_between(self, window: Window) -> int:
        return self._state.known_between(window.date_from, window.date_to)

    def window(self, window: Window) -> WindowState | None:
        stored = self._state.window(window.date_from, window.date_to)
        if stored is None:
            return None
        return WindowState(stored.total, stored.pages_done, stored.complete)

    def save_window(self, window: Window, state: WindowState) -> None:
        self._state.save_window(
            window.date_from,
            window.date_to,
            StoredWindow(state.total, state.pages_done, state.complete),
        )


def decision_record(item: Crawled) -> DocumentRecord:
    """The stored form of one crawled decision; the listing fingerprint rides in ``extra``."""
    decision = item.decision
    return DocumentRecord(
        kind="decision",
        source=SOURCE,
        source_key=decision.reference,
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


def local_today(runtime: Runtime) -> date:
    """Today where the Ombudsman dates its decisions (the service's time zone)."""
    return runtime.now().astimezone(ZoneInfo(runtime.settings.service.timezone)).date()


def fetch_lgsco(
    runtime: Runtime,
    *,
    since: date | None = None,
    until: date | None = None,
    progress: bool = False,
) -> RunOutcome:
    """One recorded LGSCO run: incremental, or a backfill from ``since`` to ``until``."""
    if until is not None and since is None:
        raise CouncilwatchError("--until needs --since: only a backfill takes a date range")
    today = local_today(runtime)
    if since is not None and since > (until or today):
        raise CouncilwatchError(f"--since {since} is after {until or today}")
    mode = "backfill" if since is not None else "incremental"

    def work(counts: RunCounts) -> None:
        _run(runtime, counts, today=today, since=since, until=until, progress=progress)

    return record_run(runtime, SOURCE, mode, work)


def _run(
    runtime: Runtime,
    counts: RunCounts,
    *,
    today: date,
    since: date | None,
    until: date | None,
    progress: bool,
) -> None:
    engine = runtime.migrated_engine()
    config = runtime.settings.sources.lgsco
    # Until a run has succeeded the store is being seeded: everything is seen at once, so
    # nothing tells a decision published today from one published months ago, and what was
    # decided before a subscriber confirmed is catch-up. Afterwards, a decision in the window
    # that no run has seen before was published since the last run, whichever command finds it.
    backfill = not has_succeeded(engine, SOURCE)

    def sink(batch: Sequence[Crawled]) -> None:
        report = process(
            engine,
            [decision_record(item) for item in batch],
            register=runtime.register,
            now=runtime.now(),
            backfill=backfill,
            alert_index=runtime.alert_index,
        )
        counts.inserted += len(report.upsert.inserted)
        counts.updated += len(report.upsert.updated)
        counts.unchanged += report.upsert.unchanged
        runtime.check_stopping()  # after storing the page: nothing fetched is lost

    kept = runtime.quarantine()

    def keep(url: str, content: bytes, error: str) -> str | None:
        path = kept.keep(SOURCE, url, content, error)
        return None if path is None else str(path)

    with ExitStack() as stack:
        client = stack.enter_context(runtime.client())
        crawler = LgscoCrawler(
            client,
            base_url=config.base_url,
            memory=DatabaseCrawlMemory(LgscoState(engine, runtime.now)),
            sink=sink,
            today=today,
            progress=stack.enter_context(_ProgressView()) if progress else None,
            quarantine=keep,
        )
        try:
            if since is not None:
                crawler.backfill(since, until)
            else:
                crawler.incremental(config.window_days)
        finally:
            # Kept up to date as the crawl goes, so a failed run records what it did.
            counts.requests = sum(host.requests for host in client.stats.values())
            counts.failures = crawler.report.decisions_failed
            counts.quarantined = list(crawler.report.quarantined)
            counts.stats = {**crawler.report.as_stats(), "seeding": since is None and backfill}


def estimated_pages(report: CrawlReport) -> int:
    """Listing pages this run will read: those known so far, plus the windows not reached
    yet at the average seen (a backfill learns each month's size only when it gets there)."""
    started = max(1, report.windows_done - report.windows_skipped + (report.window is not None))
    ahead = max(0, report.windows_total - report.windows_done - 1)
    return report.pages_expected + round(ahead * report.pages_expected / started)


class _ProgressView:
    """A rich progress bar (pages, decisions, ETA) on a terminal, else a log line per page."""

    def __init__(self) -> None:
        self._bar: RichProgress | None = None
        self._task: TaskID | None = None
        self._pages_logged = -1

    def __enter__(self) -> Progress:
        if sys.stderr.isatty():
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )
            from rich.progress import Progress as RichProgress

            self._bar = RichProgress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("pages, {task.fields[decisions]} decisions"),
                TimeElapsedColumn(),
                TextColumn("ETA"),
                TimeRemainingColumn(),
                console=Console(file=sys.stderr),
            )
            self._bar.start()
            self._task = self._bar.add_task("lgsco", total=None, decisions=0)
        return self.update

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()

    def update(self, report: CrawlReport) -> None:
        window = f" {report.window}" if report.window else ""
        if self._bar is not None and self._task is not None:
            self._bar.update(
                self._task,
                description=f"lgsco {report.mode}{window}",
                completed=report.listing_pages,
                total=max(estimated_pages(report), report.listing_pages),
                decisions=report.decisions_fetched,
            )
            return
        if report.listing_pages == self._pages_logged:
            return  # one line per listing page, not per decision
        self._pages_logged = report.listing_pages
        log.info(
            "lgsco %s:%s %d/~%d listing pages (%d not modified), %d decisions fetched, "
            "%d failed; window %d of %d",
            report.mode,
            window,
            report.listing_pages,
            max(estimated_pages(report), report.listing_pages),
            report.not_modified_pages,
            report.decisions_fetched,
            report.decisions_failed,
            min(report.windows_done + 1, report.windows_total),
            report.windows_total,
        )
