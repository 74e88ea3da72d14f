"""What the configuration needs of the sources' contract, and nothing else: each source's
settings model (:class:`SourceSettings`), what it is (:class:`SourceInfo`), the runs a fetch
makes (:class:`RunSpec`) and what a source may ask of the council register (:class:`Councils`).

Every command reads the config at start-up, and the config reads every source's settings
through ``scraper.sources.registry``, so this module (and each source's ``config`` module)
imports only pydantic: the rest of the contract, items, crawls, memory and checks, lives in
``scraper.sources.base``, which re-exports these names, and is imported by what crawls.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field


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

    @property
    def catch_up_days(self) -> int:
        """A document dated more than this many days before a digest is catch-up (sent once,
        marked as such), not news. A source's model overrides it from its own keys."""
        return DEFAULT_CATCH_UP_DAYS


# What a source without a window of its own counts as recent.
DEFAULT_CATCH_UP_DAYS = 120


@dataclass(frozen=True)
class RunSpec:
    """One recorded run a fetch of a source makes: ``name`` is its fetch_runs.source (and its
    row in `councilwatch sources` and health); ``target`` is handed to ``crawl``."""

    name: str
    kind: str  # what `councilwatch sources` shows: the source's name, or a feed's kind
    url: str
    label: str = ""  # how digests name it; "" for the source's label
    target: Any = None


class Councils(Protocol):
    """The council register and what subscribers follow, for a source whose runs or checks
    depend on them (news reads the papers covering followed councils)."""

    def followed(self) -> frozenset[str]:
        """Every council id a confirmed subscriber follows, county members included."""
        ...

    def lookup(self, name: str) -> tuple[str, str]:
        """(id, name) of the council called ``name`` (cwerrors.CouncilwatchError if none)."""
        ...

    def expand(self, ids: Collection[str]) -> set[str]:
        """``ids`` with their successors."""
        ...

    def in_county(self, county: str) -> set[str]:
        """The councils inside county ``county``."""
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
    # Post-store step: after each run its new and changed stories are clustered with the
    # stored ones of the last ``config.cluster_window_days`` (documents.cluster_key).
    clusters: bool = False
    # Options of `sources check` beyond the source ("catalogue", "council").
    check_options: tuple[str, ...] = ()
    # What one of its runs is, for a source that expands into several ("feed").
    run_noun: str = "run"
    # More names for `councilwatch parse <name>` ("article" for news).
    parse_aliases: tuple[str, ...] = ()
    # A source whose fetch is several recorded runs (news: one per feed): runs(config,
    # councils) -> the runs, in order; ``councils`` None gives the configured ones only (what
    # `councilwatch sources` and health list). Light, like the rest of SourceInfo.
    runs: Callable[[Any, Councils | None], list[RunSpec]] | None = None
    # Whether a fetch may have anything to run (the service schedules it only then).
    wanted: Callable[[Any], bool] | None = None
