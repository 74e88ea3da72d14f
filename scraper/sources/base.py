"""The contract every source keeps, so the rest of the project handles sources one way.

A source is one package under ``scraper/sources/`` that exposes a :class:`Source`: its name,
the kind of documents it gives, its config model, a ``crawl`` that yields batches of
:class:`Item`, a pure ``parse`` for saved pages (the example harness and `councilwatch
parse`), its outcome vocabulary and its health expectation. ``scraper.sources.registry`` lists
them; the composition root iterates that list and has no per-source branches.

    crawl(fetcher, memory, window, config) -> Crawl   # iterate: lists of Item, newest first
    parse(content, url, today=...) -> JSON-able        # what a saved page holds
    check(fetcher, config, today=...) -> CheckReport    # optional: a live page of each kind

The consumer stores each batch before it asks for the next one, so a crawler may checkpoint
"page N done" right after its ``yield``: a run killed between batches loses one page at most.
Nothing here knows a database: memory comes in as :class:`SourceMemory` (the database
implements it in ``db.source_state``; tests use :class:`DictMemory`).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Protocol
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field

from scraper.fetcher import Fetcher

# Where a source keeps the fingerprint of what led to an item (a listing entry's hash): in the
# stored document's ``extra``, so the item and its fingerprint land in one transaction.
FINGERPRINT_KEY = "listing_fingerprint"


@dataclass(frozen=True)
class Item:
    """One document a source hands to storage: a decision or a story, as plain fields."""

    kind: str  # "decision" or "news"
    key: str  # unique and stable within its source (a reference, a case id, a URL)
    url: str
    title: str = ""
    summary: str = ""
    body: str = ""
    published_at: datetime | None = None
    decided_on: date | None = None
    reference: str | None = None
    organisation: str | None = None
    category: str | None = None
    subcategory: str | None = None
    outcome: str | None = None
    outcome_text: str | None = None
    author: str | None = None
    site_name: str | None = None
    partial: bool = False
    extra: Mapping[str, Any] = field(default_factory=dict)


class StoredItem(Protocol):
    """What memory knows of one stored item."""

    @property
    def fingerprint(self) -> str | None: ...

    @property
    def decided_on(self) -> date | None: ...


@dataclass(frozen=True)
class Stored:
    """A :class:`StoredItem` in memory."""

    fingerprint: str | None
    decided_on: date | None


class SourceMemory(Protocol):
    """A source's memory between runs: its stored items and named checkpoints (JSON)."""

    def stored(self, keys: Collection[str]) -> Mapping[str, StoredItem]:
        """The stored items among ``keys``; a key not stored is absent."""
        ...

    def known_between(self, date_from: date, date_to: date) -> int:
        """How many stored items are dated inside ``date_from``..``date_to``."""
        ...

    def checkpoint(self, name: str) -> dict[str, Any] | None: ...

    def save_checkpoint(self, name: str, value: dict[str, Any]) -> None: ...


class DictMemory:
    """A :class:`SourceMemory` in dicts, for tests and one-shot runs; ``store`` is a sink."""

    def __init__(self) -> None:
        self.items: dict[str, Item] = {}
        self.checkpoints: dict[str, dict[str, Any]] = {}

    def store(self, batch: Collection[Item]) -> None:
        for item in batch:
            self.items[item.key] = item

    def stored(self, keys: Collection[str]) -> Mapping[str, Stored]:
        found = {}
        for key in keys:
            item = self.items.get(key)
            if item is not None:
                fingerprint = item.extra.get(FINGERPRINT_KEY)
                found[key] = Stored(
                    fingerprint if isinstance(fingerprint, str) else None, item.decided_on
                )
        return found

    def known_between(self, date_from: date, date_to: date) -> int:
        return sum(
            1
            for item in self.items.values()
            if item.decided_on is not None and date_from <= item.decided_on <= date_to
        )

    def checkpoint(self, name: str) -> dict[str, Any] | None:
        return self.checkpoints.get(name)

    def save_checkpoint(self, name: str, value: dict[str, Any]) -> None:
        self.checkpoints[name] = dict(value)


@dataclass(frozen=True)
class CrawlWindow:
    """What a run covers: incremental (``since`` None) or a backfill ``since``..``until``."""

    today: date
    since: date | None = None
    until: date | None = None

    @property
    def backfill(self) -> bool:
        return self.since is not None

    @property
    def mode(self) -> str:
        return "backfill" if self.backfill else "incremental"


def check_http_url(value: str) -> str:
    """A field validator for a source's base URL."""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"not an http(s) URL: {value!r}")
    return value


class SourceSettings(BaseModel):
    """What every source's config section has; a source's model adds its own keys."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    enabled: bool = True
    base_url: str = ""
    schedule: str = "interval:3h"
    # No new document for this many days makes the source look unhealthy.
    expect_new_within_days: int = Field(7, ge=1)


@dataclass
class Progress:
    """How far a crawl is, for the progress bar and the per-page log line."""

    label: str = ""  # e.g. the window or archive page being read
    pages: int = 0
    pages_expected: int = 0  # an estimate; 0 when unknown
    items_fetched: int = 0
    failures: int = 0


# Keeps a page that failed to parse: (url, raw bytes, error) -> where it was kept, or None.
Quarantine = Callable[[str, bytes, str], "str | None"]


class Crawl(Protocol):
    """One run's crawl: iterate for batches; ``progress`` and ``stats`` are kept up to date, so
    a run that fails half way still reports what it did."""

    def __iter__(self) -> Iterator[list[Item]]: ...

    @property
    def progress(self) -> Progress: ...

    def stats(self) -> dict[str, Any]: ...

    @property
    def quarantined(self) -> list[str]:
        """Where the pages that failed to parse were kept, in order."""
        ...


@dataclass(frozen=True)
class SourceInfo:
    """What the rest of the project knows of a source without importing its parsers (each
    package's ``config`` module defines one; it imports only pydantic)."""

    name: str  # "lgsco": the --source value, fetch_runs.source, documents.source
    label: str  # "LGSCO": how digests and pages name it
    config_key: str  # its [sources.<config_key>] section
    document_kind: str  # "decision" or "news"
    config_model: type[SourceSettings]
    # The outcomes it stores in ``Item.outcome`` (the subscribers' vocabulary).
    outcomes: tuple[str, ...] = ()
    # Takes --since/--until: a resumable backfill through its archive.
    backfills: bool = True
    # The oldest documents the site publishes: a backfill never asks for anything earlier.
    earliest: date | None = None


@dataclass(frozen=True)
class CheckStep:
    """One request a check made: what it was for, how long it took, why it failed."""

    what: str  # "listing", "archive", "decision", ...
    url: str
    seconds: float
    error: str | None = None


@dataclass(frozen=True)
class CheckField:
    """One parsed field as printed; ``needed`` when a digest cannot do without it."""

    name: str
    value: str
    needed: bool = False


@dataclass
class CheckSection:
    """A heading ("first result:", "decision page:"), its hints and its fields."""

    heading: str
    fields: list[CheckField] = field(default_factory=list)
    hints: list[str] = field(default_factory=list)  # what the page lacks but a digest can spare


@dataclass
class CheckReport:
    """What ``Source.check`` found on the live site; nothing of it is stored."""

    base_url: str
    steps: list[CheckStep] = field(default_factory=list)
    sections: list[CheckSection] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # what a digest needs and did not get
    passed: str = "every field a digest needs was found"  # what an ok check says

    @property
    def ok(self) -> bool:
        return not self.missing


class Checkable(Protocol):
    """A source with ``check``: one page of each kind from the configured site, parsed."""

    def check(self, fetcher: Fetcher, config: Any, *, today: date) -> CheckReport: ...


class Source(Protocol):
    """One source: its :class:`SourceInfo`, a crawl and a parser of saved pages."""

    info: SourceInfo

    def crawl(
        self,
        fetcher: Fetcher,
        memory: SourceMemory,
        window: CrawlWindow,
        config: Any,
        *,
        quarantine: Quarantine | None = None,
    ) -> Crawl: ...

    def parse(self, content: bytes, url: str, *, today: date) -> Any:
        """A saved page as JSON-able data (raises cwerrors.ParseError when it is none)."""
        ...
