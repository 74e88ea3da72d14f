"""One fetch run of any registered source: its crawl wired to storage, the pipeline, run
recording and a progress bar. Every source of ``scraper.sources.registry`` runs through here.

    fetch_source(runtime, name, since=None, until=None, progress=False) -> RunOutcome

Without ``since`` it is the source's incremental run; with it, a resumable backfill. Neither
decides what subscribers see as catch-up: until a source's first run succeeds its documents are
stored as seeding (``backfill=True``); after that a document older than the window is catch-up
by its age (``councilwatch.digests``), so a backfill that finds one published today sends it.
"""

from __future__ import annotations

import logging
import sys
from datetime import date
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from councilwatch.pipeline import process
from councilwatch.runs import RunCounts, RunOutcome, record_run
from councilwatch.runtime import Runtime
from cwerrors import CouncilwatchError
from db.crawl_state import CrawlState
from db.ingest import DocumentRecord
from db.runs import has_succeeded
from scraper.sources import registry
from scraper.sources.base import Crawl, CrawlWindow, Item, Progress

if TYPE_CHECKING:
    from rich.progress import Progress as RichProgress
    from rich.progress import TaskID

log = logging.getLogger("councilwatch.sources")


def local_today(runtime: Runtime) -> date:
    """Today where the sources date their documents (the service's time zone)."""
    return runtime.now().astimezone(ZoneInfo(runtime.settings.service.timezone)).date()


def document_record(source: str, item: Item) -> DocumentRecord:
    return DocumentRecord(
        kind=item.kind,
        source=source,
        source_key=item.key,
        url=item.url,
        title=item.title,
        summary=item.summary,
        body=item.body,
        published_at=item.published_at,
        decided_on=item.decided_on,
        reference=item.reference,
        organisation=item.organisation,
        category=item.category,
        subcategory=item.subcategory,
        outcome=item.outcome,
        outcome_text=item.outcome_text,
        author=item.author,
        site_name=item.site_name,
        partial=item.partial,
        extra=item.extra,
    )


def fetch_source(
    runtime: Runtime,
    name: str,
    *,
    since: date | None = None,
    until: date | None = None,
    progress: bool = False,
) -> RunOutcome:
    """One recorded run of source ``name``: incremental, or a backfill ``since``..``until``."""
    source = registry.load(name)
    if until is not None and since is None:
        raise CouncilwatchError("--until needs --since: only a backfill takes a date range")
    if since is not None and not source.info.backfills:
        raise CouncilwatchError(f"--since and --until are not for --source {name}")
    today = local_today(runtime)
    if since is not None and since > (until or today):
        raise CouncilwatchError(f"--since {since} is after {until or today}")
    window = CrawlWindow(today=today, since=since, until=until)

    def work(counts: RunCounts) -> None:
        _run(runtime, name, counts, window=window, progress=progress)

    return record_run(runtime, name, window.mode, work)


def _run(
    runtime: Runtime, name: str, counts: RunCounts, *, window: CrawlWindow, progress: bool
) -> None:
    source = registry.load(name)
    engine = runtime.migrated_engine()
    config = runtime.settings.sources.of(source.info.config_key)
    # Until a run has succeeded the store is being seeded: everything is seen at once, so
    # nothing tells a document published today from one published months ago, and what was
    # decided before a subscriber confirmed is catch-up. Afterwards, a document no run has seen
    # before was published since the last run, whichever command finds it (a backfill too):
    # what is old is catch-up by its age (councilwatch.digests), not by the command.
    seeding = not has_succeeded(engine, name)
    kept = runtime.quarantine()

    def keep(url: str, content: bytes, error: str) -> str | None:
        path = kept.keep(name, url, content, error)
        return None if path is None else str(path)

    with runtime.client() as client:
        memory = CrawlState(engine, name, runtime.now)
        crawl: Crawl = source.crawl(client, memory, window, config, quarantine=keep)
        view = _ProgressView(name) if progress else None
        try:
            if view is not None:
                view.start()
            for batch in crawl:
                report = process(
                    engine,
                    [document_record(name, item) for item in batch],
                    register=runtime.register,
                    now=runtime.now(),
                    backfill=seeding,
                    alert_index=runtime.alert_index,
                )
                counts.inserted += len(report.upsert.inserted)
                counts.updated += len(report.upsert.updated)
                counts.unchanged += report.upsert.unchanged
                if view is not None:
                    view.update(crawl.progress)
                runtime.check_stopping()  # after storing the batch: nothing fetched is lost
        finally:
            if view is not None:
                view.stop()
            # Kept up to date as the crawl goes, so a failed run records what it did.
            counts.requests = sum(host.requests for host in client.stats.values())
            counts.failures = crawl.progress.failures
            counts.quarantined = list(crawl.quarantined)
            counts.stats = {**crawl.stats(), "seeding": not window.backfill and seeding}


class _ProgressView:
    """A rich progress bar (pages, documents, ETA) on a terminal, else a log line per batch."""

    def __init__(self, name: str) -> None:
        self._name = name
        self._bar: RichProgress | None = None
        self._task: TaskID | None = None
        self._pages_logged = -1

    def start(self) -> None:
        if not sys.stderr.isatty():
            return
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
            TextColumn("pages, {task.fields[items]} fetched"),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=Console(file=sys.stderr),
        )
        self._bar.start()
        self._task = self._bar.add_task(self._name, total=None, items=0)

    def stop(self) -> None:
        if self._bar is not None:
            self._bar.stop()

    def update(self, progress: Progress) -> None:
        expected = max(progress.pages_expected, progress.pages)
        if self._bar is not None and self._task is not None:
            self._bar.update(
                self._task,
                description=f"{self._name} {progress.label}",
                completed=progress.pages,
                total=expected or None,
                items=progress.items_fetched,
            )
            return
        if progress.pages == self._pages_logged:
            return
        self._pages_logged = progress.pages
        log.info(
            "%s %s: %d/~%d pages, %d fetched, %d failed",
            self._name,
            progress.label,
            progress.pages,
            expected,
            progress.items_fetched,
            progress.failures,
        )
