"""Walking the Housing Ombudsman's decisions archive: incremental runs and backfills.

The archive lists decisions newest *published* first, ten a page, with no dates, so:

- Incremental: read ``/decisions/`` then ``/decisions/page/N/`` and fetch the decision pages
  whose case id is not stored; stop at the first page whose entries are all stored (anything
  older was seen by an earlier run). A store that knows nothing yet reads at most
  ``incremental_max_pages`` pages: the rest of the archive is a backfill's job.
- Backfill (``--since``): read on, page after page, until a page whose decisions are all
  dated before ``since`` or the end of the archive. The next page to read is checkpointed
  after each page is stored, so a killed backfill continues where it stopped; a page read
  again after new publications pushed entries down finds them stored and costs no decision
  request.

Faults: an empty first page (the archive is never empty), or most decision pages failing to
parse, is :class:`cwerrors.SourceFault`; one decision that cannot be fetched or parsed is
logged, counted and left unstored, so the next run tries it again.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import date
from typing import Any

from cwerrors import FetchError, ParseError, SourceFault
from scraper.fetcher import Fetcher
from scraper.sources.base import CrawlWindow, Item, Progress, Quarantine, SourceMemory
from scraper.sources.housing_ombudsman.archive import archive_url, parse_archive
from scraper.sources.housing_ombudsman.decision import parse_decision
from scraper.sources.housing_ombudsman.item import decision_item
from scraper.sources.housing_ombudsman.models import ArchiveEntry, ArchivePage

log = logging.getLogger("scraper.housing_ombudsman.crawl")

CHECKPOINT = "backfill"
LAYOUT_MIN_FAILURES = 3


class HousingOmbudsmanCrawl:
    """One run over the archive; iterate for one batch of new decisions per archive page."""

    def __init__(
        self,
        fetcher: Fetcher,
        memory: SourceMemory,
        window: CrawlWindow,
        *,
        base_url: str,
        max_pages: int,
        quarantine: Quarantine | None = None,
    ) -> None:
        self._fetcher = fetcher
        self._memory = memory
        self._window = window
        self._base_url = base_url.rstrip("/")
        self._max_pages = max_pages
        self._quarantine = quarantine
        self.quarantined: list[str] = []  # where pages that failed to parse were kept
        self.progress = Progress()
        self.entries_seen = 0
        self.stopped_at: int | None = None  # the all-known page an incremental run stopped at
        self.resumed_from: int | None = None
        self.parse_failures = 0
        self.failed_urls: list[str] = []

    def stats(self) -> dict[str, Any]:
        return {
            "mode": self._window.mode,
            "archive_pages": self.progress.pages,
            "entries_seen": self.entries_seen,
            "decisions_fetched": self.progress.items_fetched,
            "decisions_failed": self.progress.failures,
            "parse_failures": self.parse_failures,
            "stopped_at_known_page": self.stopped_at,
            "resumed_from_page": self.resumed_from,
            "failed_urls": self.failed_urls[:20],
            "quarantined": self.quarantined[:20],
        }

    def __iter__(self) -> Iterator[list[Item]]:
        if self._window.since is None:
            yield from self._incremental()
        else:
            yield from self._backfill(self._window.since)

    # -- the two modes -----------------------------------------------------------------------

    def _incremental(self) -> Iterator[list[Item]]:
        page = 1
        while page <= self._max_pages:
            try:
                listing = self._archive(page)
            except FetchError as exc:
                if page > 1 and _gone(exc):  # past the last page, though linked to it
                    return
                raise
            new = self._unknown(listing.entries)
            if not new:
                self.stopped_at = page
                log.info("housing-ombudsman: page %d is all stored; stopping", page)
                return
            batch = self._decisions(new)
            if batch:
                yield batch
            if not listing.has_next:
                return
            page += 1
        log.info(
            "housing-ombudsman: read %d pages without reaching stored decisions; older ones "
            "need a backfill (councilwatch fetch --source housing-ombudsman --since ...)",
            self._max_pages,
        )

    def _backfill(self, since: date) -> Iterator[list[Item]]:
        state = self._memory.checkpoint(CHECKPOINT) or {}
        reached = _date(state.get("reached"))  # oldest decision date a backfill got to
        if state.get("done") and (state.get("at_end") or (reached and reached < since)):
            # The whole archive, or all of it back to before ``since``, was read already;
            # what is published from now on is at the top, for incremental runs.
            log.info("housing-ombudsman: the archive was backfilled past %s already", since)
            return
        # A killed run continues at its next page; a finished one given an earlier ``since``
        # continues past the page where it stopped.
        page = int(state.get("next_page", 1))
        if page > 1:
            self.resumed_from = page
        while True:
            try:
                listing = self._archive(page)
            except FetchError as exc:
                if page > 1 and _gone(exc):  # past the last page: WordPress answers 404
                    self._save(page, reached, done=True, at_end=True)
                    return
                raise
            stored = self._memory.stored([e.case_id for e in listing.entries])
            new = [e for e in listing.entries if e.case_id not in stored]
            batch = self._decisions(new) if new else []
            if batch:
                yield batch
            dates = [s.decided_on for s in stored.values() if s.decided_on]
            dates += [item.decided_on for item in batch if item.decided_on]
            if dates:
                reached = min([*dates, *([reached] if reached else [])])
            past = bool(dates) and max(dates) < since
            at_end = not listing.has_next
            self._save(page + 1, reached, done=past or at_end, at_end=at_end)
            if past or at_end:
                return
            page += 1

    def _save(self, next_page: int, reached: date | None, *, done: bool, at_end: bool) -> None:
        self._memory.save_checkpoint(
            CHECKPOINT,
            {
                "next_page": next_page,
                "reached": reached.isoformat() if reached else None,
                "done": done,
                "at_end": at_end,
            },
        )

    # -- pages -------------------------------------------------------------------------------

    def _archive(self, page: int) -> ArchivePage:
        url = archive_url(self._base_url, page)
        self.progress.label = f"archive page {page}"
        response = self._fetcher.get(url, conditional=False)
        self.progress.pages += 1
        try:
            listing = parse_archive(response.content, response.url)
        except ParseError as exc:
            kept = self._keep(response.url, response.content, str(exc))
            raise SourceFault(
                f"Housing Ombudsman archive page no longer parses: {exc}{kept}"
            ) from exc
        if not listing.entries:
            problem = f"archive page {page} lists no decisions ({url})"
            kept = self._keep(response.url, response.content, problem)
            raise SourceFault(
                f"Housing Ombudsman {problem}: the archive is never empty, so its layout has "
                f"changed{kept}"
            )
        self.progress.pages_expected = max(self.progress.pages_expected, listing.last_page)
        self.entries_seen += len(listing.entries)
        return listing

    def _unknown(self, entries: tuple[ArchiveEntry, ...]) -> list[ArchiveEntry]:
        stored = self._memory.stored([entry.case_id for entry in entries])
        return [entry for entry in entries if entry.case_id not in stored]

    def _decisions(self, entries: list[ArchiveEntry]) -> list[Item]:
        batch = []
        for entry in entries:
            item = self._decision(entry)
            if item is not None:
                batch.append(item)
        self._check_layout()
        return batch

    def _decision(self, entry: ArchiveEntry) -> Item | None:
        self.progress.items_fetched += 1
        try:
            response = self._fetcher.get(entry.url, conditional=False)
        except FetchError as exc:  # a page gone or refused is the site's business
            self.progress.failures += 1
            self.failed_urls.append(entry.url)
            log.warning("housing-ombudsman: decision %s failed: %s", entry.url, exc)
            return None
        try:
            decision = parse_decision(response.content, response.url, today=self._window.today)
        except ParseError as exc:  # one that no longer parses is ours: keep it to reproduce
            self.progress.failures += 1
            self.parse_failures += 1
            self.failed_urls.append(entry.url)
            kept = self._keep(response.url, response.content, str(exc))
            log.warning("housing-ombudsman: decision %s failed: %s%s", entry.url, exc, kept)
            return None
        if decision.case_id != entry.case_id:
            log.warning(
                "housing-ombudsman: %s is listed as %s but its page says %s",
                entry.url,
                entry.case_id,
                decision.case_id,
            )
        return decision_item(decision)

    def _keep(self, url: str, content: bytes, error: str) -> str:
        """Quarantine a page that failed to parse; " (kept as PATH)" for the message."""
        if self._quarantine is None:
            return ""
        path = self._quarantine(url, content, error)
        if path is None:
            return ""
        self.quarantined.append(path)
        return f" (kept as {path})"

    def _check_layout(self) -> None:
        failed, fetched = self.parse_failures, self.progress.items_fetched
        if failed >= LAYOUT_MIN_FAILURES and failed * 2 > fetched:
            kept = f" (kept as {self.quarantined[0]})" if self.quarantined else ""
            raise SourceFault(
                f"Housing Ombudsman decision pages no longer parse: {failed} of {fetched} "
                f"failed (layout change?), e.g. {self.failed_urls[0]}{kept}"
            )


def _date(value: object) -> date | None:
    if not isinstance(value, str):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def _gone(exc: FetchError) -> bool:
    return getattr(exc, "status", None) in (404, 410)
