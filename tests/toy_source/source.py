"""The toy source: one listing page (JSON) whose entries are the decisions themselves."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from typing import Any

from cwerrors import ParseError
from scraper.fetcher import Fetcher
from scraper.sources.base import (
    CrawlWindow,
    Item,
    Progress,
    Quarantine,
    SourceMemory,
)
from tests.toy_source.config import INFO


def parse_listing(content: bytes, url: str) -> list[dict[str, Any]]:
    try:
        entries = json.loads(content)
    except ValueError as exc:
        raise ParseError(f"{url}: not a toy listing ({exc})") from None
    if not isinstance(entries, list):
        raise ParseError(f"{url}: not a toy listing (no list of decisions)")
    return entries


class ToyCrawl:
    def __init__(self, fetcher: Fetcher, memory: SourceMemory, base_url: str) -> None:
        self._fetcher = fetcher
        self._memory = memory
        self._url = base_url.rstrip("/") + "/decisions.json"
        self._progress = Progress(label="listing")

    def __iter__(self) -> Iterator[list[Item]]:
        response = self._fetcher.get(self._url, conditional=False)
        entries = parse_listing(response.content, self._url)
        self._progress.pages = 1
        self._progress.items_fetched = len(entries)
        yield [
            Item(
                kind="decision",
                key=entry["case"],
                url=f"{self._url}#{entry['case']}",
                title=f"{entry['council']} ({entry['case']})",
                summary=entry["summary"],
                decided_on=date.fromisoformat(entry["decided"]),
                reference=entry["case"],
                organisation=entry["council"],
                category="Toys",
                outcome=entry["outcome"],
                outcome_text=entry["outcome"].capitalize(),
            )
            for entry in entries
        ]

    @property
    def progress(self) -> Progress:
        return self._progress

    def stats(self) -> dict[str, Any]:
        return {"entries": self._progress.items_fetched}

    @property
    def quarantined(self) -> list[str]:
        return []


class Toy:
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
    ) -> ToyCrawl:
        return ToyCrawl(fetcher, memory, config.base_url)

    def parse(self, content: bytes, url: str, *, today: date) -> Any:
        return {"kind": "listing", "result": parse_listing(content, url)}


SOURCE = Toy()
