"""The Housing Ombudsman as a :class:`~scraper.sources.base.Source` (the registry's entry)."""

from __future__ import annotations

from datetime import date
from typing import Any

from cwerrors import ParseError
from scraper.fetcher import Fetcher
from scraper.sources.base import (
    CheckOptions,
    CheckReport,
    Councils,
    CrawlWindow,
    Quarantine,
    SourceMemory,
)
from scraper.sources.housing_ombudsman.archive import parse_archive
from scraper.sources.housing_ombudsman.config import INFO
from scraper.sources.housing_ombudsman.crawl import HousingOmbudsmanCrawl
from scraper.sources.housing_ombudsman.decision import is_decision_page, parse_decision
from scraper.sources.housing_ombudsman.layout import read_page


class HousingOmbudsman:
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
    ) -> HousingOmbudsmanCrawl:
        return HousingOmbudsmanCrawl(
            fetcher,
            memory,
            window,
            base_url=config.base_url,
            max_pages=config.incremental_max_pages,
            quarantine=quarantine,
        )

    def parse(self, content: bytes, url: str, *, today: date) -> Any:
        """A decision page or an archive page, told apart by content."""
        if is_decision_page(read_page(content)):
            decision = parse_decision(content, url, today=today)
            return {"kind": "decision", "result": decision.to_json()}
        listing = parse_archive(content, url)
        if listing.entries:
            return {"kind": "archive", "result": listing.to_json()}
        raise ParseError(f"{url}: neither a Housing Ombudsman decision nor an archive page")

    def check(
        self,
        fetcher: Fetcher,
        config: Any,
        *,
        today: date,
        options: CheckOptions = CheckOptions(),
        councils: Councils | None = None,
    ) -> CheckReport:
        """Archive page 1 and the decision page of its first entry."""
        from scraper.sources.housing_ombudsman.check import check_site

        return check_site(fetcher, base_url=config.base_url, today=today)


SOURCE = HousingOmbudsman()
