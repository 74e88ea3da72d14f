"""Enumerating LGSCO decisions through the search listing: incremental runs and backfills.

The only complete enumeration is ``/Decisions/SearchResults`` with explicit dates and page
(category pages show only the newest ten, so they are never used). A window of decision dates
is read page by page, newest first; a decision page is fetched only when its reference is not
stored yet, or its listing entry changed since it was stored (a *fingerprint* of the entry's
fields, kept with the stored decision).

- Incremental: one window ``[today - window_days, today]``, every listing page of it every run,
  because decisions are published after they are decided and appear mid-list. A page that was
  fully processed before is asked conditionally: a 304 costs no parsing and means its entries
  are unchanged.
- Backfill: calendar-month windows from ``since`` to ``until``, **newest first**: the recent
  decisions are the ones people search and alert on, so they are useful after minutes, not at
  the end of a day-long crawl; and the listing itself is sorted newest first. Completed windows
  and the pages done in the current one are checkpointed through :class:`CrawlMemory`, so a
  killed backfill run again continues where it stopped.

A card that lacks hints (no date, no outcome...) is still fetched by its link and reference;
what it lacked is logged and counted (``listing_hints_missing``), never fatal on its own.
A page that fails to parse is handed to ``quarantine`` (raw bytes, URL, error), which keeps it
for ``councilwatch parse`` to reproduce; the kept paths are in ``CrawlReport.quarantined``.

Faults: the page shell, or "0 results" for a window known to have results, is retried once
after a warm-up request to the site root with a Referer header, then raised as
:class:`~cwerrors.SourceFault` - never read as "nothing new". A decision page that
fails to parse is logged with its URL and counted; when most of a run's decision pages fail,
the layout has changed and that is a SourceFault too.

The crawler knows nothing of the database: it reads and writes through :class:`CrawlMemory`
and hands parsed decisions to a sink. The sink's contract: when it returns, the decisions and
their fingerprints are stored, so ``CrawlMemory.fingerprint`` answers for them (the database
keeps the fingerprint in the stored document, so both land in one transaction).
"""

from __future__ import annotations

import hashlib
import logging
import math
from collections.abc import Callable, Collection, Generator, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Protocol

from cwerrors import FetchError, ParseError, SourceFault
from scraper.fetcher import Fetcher
from scraper.sources.lgsco.config import INFO as LGSCO_INFO
from scraper.sources.lgsco.decision import parse_decision
from scraper.sources.lgsco.listing import PAGE_SIZE, parse_listing
from scraper.sources.lgsco.models import Decision, Listing, ListingEntry
from scraper.sources.lgsco.urls import listing_url

log = logging.getLogger("scraper.lgsco.crawl")

# A run whose decision pages mostly fail to parse has met a new layout; below this many
# failures it is more likely a few odd pages than a change of shape.
LAYOUT_MIN_FAILURES = 3
DEFAULT_WINDOW_DAYS = 120
# The oldest decisions the site publishes carry 2006 references ("06/B/16774"): a backfill
# never needs to ask for months before this year (each one is a request for nothing).
FIRST_DECISION_YEAR = LGSCO_INFO.earliest.year if LGSCO_INFO.earliest else 2006


@dataclass(frozen=True)
class Window:
    """Decision dates ``date_from``..``date_to``, both inclusive."""

    date_from: date
    date_to: date

    def __str__(self) -> str:
        return f"{self.date_from.isoformat()}..{self.date_to.isoformat()}"


@dataclass(frozen=True)
class WindowState:
    """What is remembered of one window: its last result count and the pages fully processed
    (every entry stored or unchanged); ``complete`` once its last page was processed."""

    total: int | None = None
    pages_done: frozenset[int] = frozenset()
    complete: bool = False


class CrawlMemory(Protocol):
    """The crawler's memory between runs; the database implements it, tests use a dict."""

    def fingerprint(self, reference: str) -> str | None:
        """The listing fingerprint stored with this decision, None when not stored."""
        ...

    def known_between(self, window: Window) -> int:
        """How many stored decisions are dated inside ``window``."""
        ...

    def window(self, window: Window) -> WindowState | None: ...

    def save_window(self, window: Window, state: WindowState) -> None: ...


@dataclass(frozen=True)
class Crawled:
    """One fetched decision with the listing entry that led to it."""

    entry: ListingEntry
    fingerprint: str
    decision: Decision


@dataclass
class CrawlReport:
    """What a crawl did so far; kept up to date, so a failed run still reports its work."""

    mode: str
    windows_total: int = 0
    windows_done: int = 0
    windows_skipped: int = 0  # completed by an earlier (killed) backfill run
    listing_pages: int = 0  # listing requests answered 200 or 304
    not_modified_pages: int = 0
    pages_expected: int = 0  # estimate, grows as windows report their totals
    entries_seen: int = 0
    decisions_fetched: int = 0
    decisions_stored: int = 0
    decisions_failed: int = 0  # could not be fetched or parsed
    parse_failures: int = 0  # fetched, but the page did not parse: the layout signal
    failed_urls: list[str] = field(default_factory=list)
    listing_hints_missing: int = 0  # fields cards lacked: the decision page supplies them
    quarantined: list[str] = field(default_factory=list)  # where failing pages were kept
    warmups: int = 0
    window: Window | None = None

    def as_stats(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "windows": self.windows_done,
            "windows_skipped": self.windows_skipped,
            "listing_pages": self.listing_pages,
            "not_modified_pages": self.not_modified_pages,
            "entries_seen": self.entries_seen,
            "decisions_fetched": self.decisions_fetched,
            "decisions_failed": self.decisions_failed,
            "parse_failures": self.parse_failures,
            "failed_urls": self.failed_urls[:20],
            "listing_hints_missing": self.listing_hints_missing,
            "quarantined": self.quarantined[:20],
            "warmups": self.warmups,
        }


Sink = Callable[[Sequence[Crawled]], None]
Progress = Callable[[CrawlReport], None]
Known = Callable[[str], "str | None"]
# Keeps a page that failed to parse: (url, raw bytes, error) -> where it was kept, or None.
Quarantine = Callable[[str, bytes, str], "str | None"]


def entry_fingerprint(entry: ListingEntry) -> str:
    """A hash of everything the listing says about a decision: a change means refetch."""
    digest = hashlib.sha256()
    for value in (
        entry.reference,
        entry.organisation,
        entry.url,
        entry.outcome_text,
        entry.document_type or "",
        entry.subcategory or "",
        entry.decision_date.isoformat() if entry.decision_date else "",
        entry.summary,
    ):
        digest.update(value.encode())
        digest.update(b"\x1f")  # separator: ("ab", "c") and ("a", "bc") differ
    return digest.hexdigest()[:32]


def month_windows(since: date, until: date) -> list[Window]:
    """Calendar-month windows covering ``since``..``until``, newest first."""
    if since > until:
        raise ValueError(f"since {since} is after until {until}")
    windows = []
    start = since
    while start <= until:
        month_end = (start.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
        windows.append(Window(start, min(month_end, until)))
        start = month_end + timedelta(days=1)
    windows.reverse()
    return windows


class MemoryCrawlMemory:
    """A :class:`CrawlMemory` in dicts, for tests and one-shot runs.

    ``stored`` maps reference -> (decision date, fingerprint); a sink fills it with
    :meth:`store`.
    """

    def __init__(self) -> None:
        self.stored: dict[str, tuple[date, str]] = {}
        self.windows: dict[Window, WindowState] = {}

    def store(self, batch: Sequence[Crawled]) -> None:
        for item in batch:
            self.stored[item.entry.reference] = (item.decision.decision_date, item.fingerprint)

    def fingerprint(self, reference: str) -> str | None:
        found = self.stored.get(reference)
        return found[1] if found else None

    def known_between(self, window: Window) -> int:
        dates = (decided for decided, _ in self.stored.values())
        return sum(1 for decided in dates if window.date_from <= decided <= window.date_to)

    def window(self, window: Window) -> WindowState | None:
        return self.windows.get(window)

    def save_window(self, window: Window, state: WindowState) -> None:
        self.windows[window] = state


class LgscoCrawler:
    """Walks listing windows and hands new or changed decisions to ``sink``, a page at a time.

    ``today`` bounds windows and is passed to the parsers (a date after it is a parse error);
    ``known`` defaults to ``memory.fingerprint``.
    """

    def __init__(
        self,
        client: Fetcher,
        *,
        base_url: str,
        memory: CrawlMemory,
        sink: Sink,
        today: date,
        progress: Progress | None = None,
        known: Known | None = None,
        quarantine: Quarantine | None = None,
    ) -> None:
        self._client = client
        self._base_url = base_url.rstrip("/")
        self._memory = memory
        self._sink = sink
        self._today = today
        self._progress = progress
        self._known: Known = known if known is not None else memory.fingerprint
        self._quarantine = quarantine
        self.report = CrawlReport(mode="")

    # -- the two modes -----------------------------------------------------------------------

    def incremental(self, window_days: int = DEFAULT_WINDOW_DAYS) -> CrawlReport:
        """Every listing page of ``[today - window_days, today]``; new or changed decisions."""
        for batch in self.iter_incremental(window_days):
            self._sink(batch)
        return self.report

    def backfill(self, since: date, until: date | None = None) -> CrawlReport:
        """Month windows ``since``..``until`` (default today), newest first, resumable."""
        for batch in self.iter_backfill(since, until):
            self._sink(batch)
        return self.report

    def iter_incremental(self, window_days: int = DEFAULT_WINDOW_DAYS) -> Iterator[list[Crawled]]:
        """:meth:`incremental` as batches, one per listing page with new decisions; the
        caller stores each before asking for the next (the page checkpoint follows it)."""
        window = Window(self._today - timedelta(days=window_days), self._today)
        self.report = CrawlReport(mode="incremental", windows_total=1)
        yield from self._crawl_window(window, resume=False)
        self._check_layout(final=True)

    def iter_backfill(self, since: date, until: date | None = None) -> Iterator[list[Crawled]]:
        """:meth:`backfill` as batches (see :meth:`iter_incremental`)."""
        until = min(until or self._today, self._today)
        windows = month_windows(since, until)
        self.report = CrawlReport(mode="backfill", windows_total=len(windows))
        for window in windows:
            state = self._memory.window(window)
            if state is not None and state.complete:
                self.report.windows_skipped += 1
                self.report.windows_done += 1
                continue
            yield from self._crawl_window(window, resume=True)
        self._check_layout(final=True)

    # -- one window --------------------------------------------------------------------------

    def _crawl_window(self, window: Window, *, resume: bool) -> Iterator[list[Crawled]]:
        """All pages of one window.

        A page joins ``pages_done`` once every entry on it is stored or unchanged (a decision
        that failed keeps its page out, so the next run asks that page afresh and retries it).
        With ``resume`` (backfill) pages done are skipped; otherwise (incremental) they are
        asked conditionally, and a 304 means their entries are still all stored.
        """
        report = self.report
        report.window = window
        state = self._memory.window(window) or WindowState()
        expected = max(state.total or 0, self._memory.known_between(window))
        pages_done = set(state.pages_done)
        total = state.total
        estimated = False
        page = 0
        while total is None or page < _page_count(total):
            page += 1
            if resume and page in pages_done and total is not None:
                continue  # done by the run that was stopped
            conditional = not resume and page in pages_done and total is not None
            listing = self._listing(window, page, conditional=conditional, expected=expected)
            clean = True
            if listing is None:  # 304: entries unchanged, the remembered total still holds
                if total is None:  # only asked conditionally with a total: a server bug
                    raise SourceFault(f"LGSCO answered 304 for {window} page {page} unasked")
            else:
                total = listing.total or 0
                expected = max(expected, total)
                clean = yield from self._process_entries(listing.entries)
            if clean:
                pages_done.add(page)
            else:
                pages_done.discard(page)
            if not estimated:
                skipped = len(pages_done & set(range(page + 1, _page_count(total) + 1)))
                report.pages_expected += _page_count(total) - (page - 1) - skipped
                estimated = True
            complete = pages_done >= set(range(1, _page_count(total) + 1))
            self._memory.save_window(
                window,
                WindowState(total=total, pages_done=frozenset(pages_done), complete=complete),
            )
            self._check_layout(final=False)
            self._report_progress()
        report.windows_done += 1
        log.info("lgsco: window %s done: %d results", window, total or 0)

    def _listing(
        self, window: Window, page: int, *, conditional: bool, expected: int
    ) -> Listing | None:
        """One listing page, None for a 304; faults retried once, then raised."""
        url = listing_url(
            self._base_url, date_from=window.date_from, date_to=window.date_to, page=page
        )
        response = self._client.get(url, conditional=conditional)
        self.report.listing_pages += 1
        if response.not_modified:
            self.report.not_modified_pages += 1
            return None
        listing = self._parse_listing(response.content, url)
        problem = _fault(listing, expected)
        if problem is None:
            return listing
        log.warning("lgsco: %s: %s; retrying after a warm-up request", url, problem)
        root = self._base_url + "/"
        self._client.get(root, conditional=False)
        self.report.warmups += 1
        response = self._client.get(url, conditional=False, headers={"Referer": root})
        self.report.listing_pages += 1
        listing = self._parse_listing(response.content, url)
        problem = _fault(listing, expected)
        if problem is not None:
            raise SourceFault(f"LGSCO listing for {window}, page {page}: {problem} ({url})")
        return listing

    def _parse_listing(self, content: bytes, url: str) -> Listing:
        try:
            listing = parse_listing(content, url, today=self._today)
        except ParseError as exc:
            kept = self._keep(url, content, exc)
            raise SourceFault(f"LGSCO listing page no longer parses: {exc}{kept}") from exc
        if listing.problems:
            self.report.listing_hints_missing += len(listing.problems)
            log.warning(
                "lgsco: %s: %d listing hints missing (decision pages supply them): %s",
                url,
                len(listing.problems),
                "; ".join(listing.problems[:5]),
            )
        return listing

    def _keep(self, url: str, content: bytes, error: ParseError) -> str:
        """Quarantine a page that failed to parse; " (kept as PATH)" for the message."""
        if self._quarantine is None:
            return ""
        path = self._quarantine(url, content, str(error))
        if path is None:
            return ""
        self.report.quarantined.append(path)
        return f" (kept as {path})"

    # -- decisions ---------------------------------------------------------------------------

    def _process_entries(
        self, entries: Sequence[ListingEntry]
    ) -> Generator[list[Crawled], None, bool]:
        """Fetch what is new or changed on one page; the page's decisions go out as one
        batch, so storage and the page checkpoint move in step (a kill loses one page).
        False when a decision on the page failed."""
        batch: list[Crawled] = []
        clean = True
        for entry in _unique(entries):
            self.report.entries_seen += 1
            fingerprint = entry_fingerprint(entry)
            if self._known(entry.reference) == fingerprint:
                continue
            decision = self._decision(entry)
            if decision is None:
                clean = False
            else:
                batch.append(Crawled(entry, fingerprint, decision))
            self._report_progress()
        if batch:
            yield batch
            self.report.decisions_stored += len(batch)
        return clean

    def _decision(self, entry: ListingEntry) -> Decision | None:
        """The parsed decision page, or None (logged and counted) when it cannot be had."""
        self.report.decisions_fetched += 1
        try:
            response = self._client.get(entry.url, conditional=False)
        except FetchError as exc:
            # A page gone or refused is the site's business; one that no longer parses is ours.
            self.report.decisions_failed += 1
            self.report.failed_urls.append(entry.url)
            log.warning("lgsco: decision %s failed: %s", entry.url, exc)
            return None
        try:
            decision = parse_decision(response.content, response.url, today=self._today)
        except ParseError as exc:
            self.report.decisions_failed += 1
            self.report.parse_failures += 1
            self.report.failed_urls.append(entry.url)
            kept = self._keep(response.url, response.content, exc)
            log.warning("lgsco: decision %s failed: %s%s", entry.url, exc, kept)
            return None
        if decision.reference != entry.reference:
            log.warning(
                "lgsco: %s is listed as %s but its page says %s",
                entry.url,
                entry.reference,
                decision.reference,
            )
        return decision

    def _check_layout(self, *, final: bool) -> None:
        """Most decision pages failing to parse is a layout change, not bad luck.

        Checked after every listing page too, so a changed site stops a long backfill early.
        """
        report = self.report
        failed, fetched = report.parse_failures, report.decisions_fetched
        if failed >= LAYOUT_MIN_FAILURES and failed * 2 > fetched:
            when = "" if final else " so far"
            kept = f" (kept as {report.quarantined[0]})" if report.quarantined else ""
            raise SourceFault(
                f"LGSCO decision pages no longer parse: {failed} of {fetched} fetched{when} "
                f"failed (layout change?), e.g. {report.failed_urls[0]}{kept}"
            )

    def _report_progress(self) -> None:
        if self._progress is not None:
            self._progress(self.report)


def _page_count(total: int) -> int:
    """Listing pages for ``total`` results; an empty window still has its one page."""
    return max(1, math.ceil(total / PAGE_SIZE))


def _fault(listing: Listing, expected: int) -> str | None:
    """Why a listing page cannot be taken at its word, or None.

    The shell is never an honest answer (it has no results area at all); "0 results" is
    honest only for a window with no stored decisions and no earlier count.
    """
    if listing.is_shell:
        return "the page shell without a results area"
    if listing.total == 0 and expected > 0:
        return f"0 results where there were {expected}"
    return None


def _unique(entries: Collection[ListingEntry]) -> Iterator[ListingEntry]:
    seen: set[str] = set()
    for entry in entries:
        if entry.reference not in seen:
            seen.add(entry.reference)
            yield entry
