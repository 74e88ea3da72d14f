"""The fetch runs of any registered source: its crawl wired to storage, the pipeline, run
recording and a progress bar. Every source of ``scraper.sources.registry`` runs through here.

    fetch_runs(runtime, name, since=None, until=None, progress=False, only=None)
        -> list[RunOutcome]   # one per run: one, or one per feed of a source with ``runs``
    fetch_source(runtime, name, ...) -> RunOutcome   # a source that makes one run

After a run's batches are stored come its crawl's revisions (stored items it learnt more of)
and the post-store steps its SourceInfo asks for (``clusters``: story clustering).

Without ``since`` it is the source's incremental run; with it, a resumable backfill. Neither
decides what subscribers see as catch-up: until a source's first run succeeds its documents are
stored as seeding (``backfill=True``); after that a document older than the window is catch-up
by its age (``councilwatch.digests``), so a backfill that finds one published today sends it.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Collection
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine

from councilwatch.clustering import cluster_news
from councilwatch.pipeline import process
from councilwatch.runs import RunCounts, RunOutcome, record_run
from councilwatch.runtime import Runtime
from councilwatch.sources_registry import RegisterCouncils, run_specs
from cwerrors import CouncilwatchError
from db.crawl_state import CrawlState
from db.ingest import DocumentRecord
from db.news import news_records, partial_records, recent_news_titles
from db.runs import has_succeeded, last_success_stats
from scraper.fetch import PoliteClient
from scraper.sources import registry
from scraper.sources.base import (
    Crawl,
    CrawlWindow,
    Item,
    Progress,
    Revising,
    RunSpec,
)

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
    """The one recorded run of a source that makes one (see :func:`fetch_runs`)."""
    [outcome] = fetch_runs(runtime, name, since=since, until=until, progress=progress)
    return outcome


def fetch_runs(
    runtime: Runtime,
    name: str,
    *,
    since: date | None = None,
    until: date | None = None,
    progress: bool = False,
    only: list[str] | None = None,
) -> list[RunOutcome]:
    """The recorded runs of a fetch of source ``name``: incremental, or a backfill
    ``since``..``until``; one run, or one per :class:`RunSpec` of a source with ``runs`` (all,
    or those named ``only``)."""
    source = registry.load(name)
    info = source.info
    if (since is not None or until is not None) and not info.backfills:
        what = f"{info.label} {info.run_noun}s" if info.runs else f"--source {name}"
        raise CouncilwatchError(f"--since and --until are not for {what}")
    if until is not None and since is None:
        raise CouncilwatchError("--until needs --since: only a backfill takes a date range")
    today = local_today(runtime)
    if since is not None and since > (until or today):
        raise CouncilwatchError(f"--since {since} is after {until or today}")
    window = CrawlWindow(today=today, since=since, until=until, now=runtime.now)
    specs = run_specs(runtime.settings, name, councils=RegisterCouncils(runtime), only=only)
    if not specs:
        log.warning("%s: no %s to run (none configured or followed)", name, info.run_noun)
    outcomes = []
    with runtime.client() as client:
        for spec in specs:

            def work(counts: RunCounts, spec: RunSpec = spec) -> None:
                _run(runtime, name, spec, client, counts, window=window, progress=progress)

            outcomes.append(record_run(runtime, spec.name, window.mode, work))
    return outcomes


def _run(
    runtime: Runtime,
    name: str,
    spec: RunSpec,
    client: PoliteClient,
    counts: RunCounts,
    *,
    window: CrawlWindow,
    progress: bool,
) -> None:
    source = registry.load(name)
    engine = runtime.migrated_engine()
    config = runtime.settings.sources.of(source.info.config_key)
    # Until a run has succeeded the store is being seeded: everything is seen at once, so
    # nothing tells a document published today from one published months ago, and what was
    # decided before a subscriber confirmed is catch-up. Afterwards, a document no run has seen
    # before was published since the last run, whichever command finds it (a backfill too):
    # what is old is catch-up by its age (councilwatch.digests), not by the command.
    seeding = not has_succeeded(engine, spec.name)
    kept = runtime.quarantine()
    requests_before = _requests(client)
    changed: dict[int, str] = {}  # document id -> source_key, new or changed content
    after: dict[str, Any] = {}

    def keep(url: str, content: bytes, error: str) -> str | None:
        path = kept.keep(name, url, content, error)
        return None if path is None else str(path)

    def store(items: list[Item], *, counted: bool = True) -> None:
        records = [document_record(name, item) for item in items]
        report = process(
            engine,
            records,
            register=runtime.register,
            now=runtime.now(),
            backfill=seeding and counted,
            alert_index=runtime.alert_index,
        )
        if not counted:  # a revision of what earlier runs stored is not this run's work
            return
        counts.inserted += len(report.upsert.inserted)
        counts.updated += len(report.upsert.updated)
        counts.unchanged += report.upsert.unchanged
        touched = set(report.upsert.inserted) | set(report.upsert.updated)
        for record in records:
            doc_id = report.upsert.ids.get(record.key)
            if doc_id is not None and doc_id in touched:
                changed[doc_id] = record.source_key

    memory = StoreMemory(engine, name, spec.name, runtime.now)
    crawl: Crawl = source.crawl(client, memory, window, config, quarantine=keep, target=spec.target)
    view = _ProgressView(spec.name) if progress else None
    try:
        if view is not None:
            view.start()
        for batch in crawl:
            store(batch)
            if view is not None:
                view.update(crawl.progress)
            runtime.check_stopping()  # after storing the batch: nothing fetched is lost
        revise = getattr(crawl, "revisions", None)
        if callable(revise):
            revising: Revising = crawl  # type: ignore[assignment]
            revisions = revising.revisions()
            if revisions:
                store(revisions, counted=False)
        if source.info.clusters and changed:
            # post-store step: the new and changed stories join the stored ones' clusters
            days = timedelta(days=config.cluster_window_days)  # type: ignore[attr-defined]
            after["clusters_written"] = cluster_news(
                engine, changed, since=runtime.now() - days, window=days
            )
    finally:
        if view is not None:
            view.stop()
        # Kept up to date as the crawl goes, so a failed run records what it did.
        counts.requests = _requests(client) - requests_before
        counts.failures = crawl.progress.failures
        counts.quarantined = list(crawl.quarantined)
        counts.stats = {**crawl.stats(), **after, "seeding": not window.backfill and seeding}


def _requests(client: PoliteClient) -> int:
    return sum(host.requests for host in client.stats.values())


class StoreMemory(CrawlState):
    """The database as a source's memory (:class:`scraper.sources.base.ItemMemory`): its
    stored documents and checkpoints (``db.crawl_state``), the stored items in full, and the
    stats of run ``run``'s last success."""

    def __init__(
        self, engine: Engine, source: str, run: str, clock: Callable[[], datetime]
    ) -> None:
        super().__init__(engine, source, clock)
        self._engine = engine
        self._name = source
        self._run_name = run

    def stored_items(self, keys: Collection[str]) -> dict[str, Item]:
        found = news_records(self._engine, keys, source=self._name)
        return {key: _item(record) for key, record in found.items()}

    def partial_items(self) -> list[Item]:
        return [_item(record) for record in partial_records(self._engine, source=self._name)]

    def titles_since(self, since: datetime) -> list[tuple[str, str]]:
        return recent_news_titles(self._engine, since=since, source=self._name)

    def last_run_stats(self) -> dict[str, Any]:
        return last_success_stats(self._engine, self._run_name)


def _item(record: DocumentRecord) -> Item:
    values = {name: getattr(record, name) for name in ITEM_FIELDS}
    return Item(key=record.source_key, **values)


ITEM_FIELDS = tuple(name for name in Item.__dataclass_fields__ if name != "key")


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
