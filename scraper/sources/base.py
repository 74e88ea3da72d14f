"""The contract every source keeps, so the rest of the project handles sources one way.

A source is one package under ``scraper/sources/`` that exposes a :class:`Source`: its name,
the kind of documents it gives, its config model, a ``crawl`` that yields batches of
:class:`Item`, a pure ``parse`` for saved pages (the example harness and `councilwatch
parse`), its outcome vocabulary and its health expectation. ``scraper.sources.registry`` lists
them; the composition root iterates that list and has no per-source branches.

    crawl(fetcher, memory, window, config, target=...) -> Crawl  # iterate: lists of Item
    parse(content, url, today=...) -> JSON-able        # what a saved page holds
    check(fetcher, config, today=..., ...) -> CheckReport  # optional: a live page of each kind
    SourceInfo.runs(config, councils) -> list[RunSpec]  # optional: one fetch, several runs
    crawl(...).revisions() -> list[Item]               # optional: stored items to update

A fetch of a source is one recorded run, unless its info has ``runs``: news expands into one
run per feed (configured feeds, then the papers covering councils subscribers follow), each
crawled with its :class:`RunSpec` as ``target`` and recorded under the spec's name. After a
run's batches are stored the runner stores its crawl's ``revisions`` (what the run learnt about
items stored before, not counted as its own) and runs the post-store steps its
:class:`SourceInfo` asks for (``clusters``: the stories are clustered with the stored ones).

The consumer stores each batch before it asks for the next one, so a crawler may checkpoint
"page N done" right after its ``yield``: a run killed between batches loses one page at most.
Nothing here knows a database: memory comes in as :class:`SourceMemory` (the database
implements it in ``db.source_state``; tests use :class:`DictMemory`).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Protocol

from scraper.fetcher import Fetcher
from scraper.sources.settings import (
    DEFAULT_CATCH_UP_DAYS,
    Councils,
    RunSpec,
    SourceInfo,
    SourceSettings,
    check_http_url,
)

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


class ItemMemory(SourceMemory, Protocol):
    """Memory for a source that revises what it stored (news: a story's feeds, a partial
    story's retries): the stored items in full, within the source (all its runs)."""

    def stored_items(self, keys: Collection[str]) -> Mapping[str, Item]:
        """The stored items among ``keys`` as the items that would store them again."""
        ...

    def partial_items(self) -> list[Item]:
        """The stored items whose page could not be had (``partial``), oldest first."""
        ...

    def titles_since(self, since: datetime) -> list[tuple[str, str]]:
        """(key, title) of the items published (else first seen) since ``since``."""
        ...

    def last_run_stats(self) -> dict[str, Any]:
        """The stats of this run's last successful run ({} when none)."""
        ...


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

    def stored_items(self, keys: Collection[str]) -> Mapping[str, Item]:
        return {key: self.items[key] for key in keys if key in self.items}

    def partial_items(self) -> list[Item]:
        return [item for item in self.items.values() if item.partial]

    def titles_since(self, since: datetime) -> list[tuple[str, str]]:
        return [
            (item.key, item.title)
            for item in self.items.values()
            if item.published_at is None or item.published_at >= since
        ]

    def last_run_stats(self) -> dict[str, Any]:
        return dict(self.checkpoints.get("last_run_stats", {}))


@dataclass(frozen=True)
class CrawlWindow:
    """What a run covers: incremental (``since`` None) or a backfill ``since``..``until``."""

    today: date
    since: date | None = None
    until: date | None = None
    # The runtime's clock, for sources that date what they store (a story's "published").
    now: Callable[[], datetime] = field(default=lambda: datetime.now(UTC), compare=False)

    @property
    def backfill(self) -> bool:
        return self.since is not None

    @property
    def mode(self) -> str:
        return "backfill" if self.backfill else "incremental"


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


class Revising(Protocol):
    """A crawl that learns more about items stored before (another feed lists them)."""

    def revisions(self) -> list[Item]:
        """Stored items to store again, changed; called once the crawl's batches are stored."""
        ...


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


@dataclass(frozen=True)
class CheckOptions:
    """What `sources check` is asked beyond the source (see ``SourceInfo.check_options``)."""

    catalogue: bool = False
    council: str | None = None


class Checkable(Protocol):
    """A source with ``check``: one page of each kind from the configured site, parsed."""

    def check(
        self,
        fetcher: Fetcher,
        config: Any,
        *,
        today: date,
        options: CheckOptions = ...,
        councils: Councils | None = None,
    ) -> CheckReport: ...


class Showable(Protocol):
    """A source with ``show``: what `councilwatch parse <source> FILE [--json]` prints (without
    it, ``parse``'s JSON)."""

    def show(self, content: bytes, url: str, *, today: date, as_json: bool, origin: str) -> str:
        """``origin`` names the page in errors (the file)."""
        ...


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
        target: Any = None,
    ) -> Crawl: ...

    def parse(self, content: bytes, url: str, *, today: date) -> Any:
        """A saved page as JSON-able data (raises cwerrors.ParseError when it is none)."""
        ...


# Defined in scraper.sources.settings (what the configuration imports), named here too: the
# contract is one module to read.
__all__ = [
    "DEFAULT_CATCH_UP_DAYS",
    "FINGERPRINT_KEY",
    "CheckField",
    "CheckOptions",
    "CheckReport",
    "CheckSection",
    "CheckStep",
    "Checkable",
    "Councils",
    "Crawl",
    "CrawlWindow",
    "DictMemory",
    "Item",
    "ItemMemory",
    "Progress",
    "Quarantine",
    "Revising",
    "RunSpec",
    "Showable",
    "Source",
    "SourceInfo",
    "SourceMemory",
    "SourceSettings",
    "Stored",
    "StoredItem",
    "check_http_url",
]  # fmt: skip
