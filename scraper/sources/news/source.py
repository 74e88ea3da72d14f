"""News as a :class:`~scraper.sources.base.Source` (the registry's entry): a fetch is one run
per feed (:mod:`.runs`), each crawled by :class:`~.crawl.FeedCrawl`."""

from __future__ import annotations

from datetime import date
from typing import Any

from scraper.fetcher import Fetcher
from scraper.news.crawl import FeedSource
from scraper.sources.base import (
    CheckOptions,
    CheckReport,
    Councils,
    CrawlWindow,
    ItemMemory,
    Quarantine,
)
from scraper.sources.news.config import INFO, FeedConfig, NewsConfig
from scraper.sources.news.crawl import FeedCrawl


def feed_source(feed: FeedConfig) -> FeedSource:
    return FeedSource(
        name=feed.name, url=feed.url, kind=feed.kind, publisher=feed.publisher, area=feed.area
    )


class News:
    info = INFO

    def crawl(
        self,
        fetcher: Fetcher,
        memory: ItemMemory,
        window: CrawlWindow,
        config: NewsConfig,
        *,
        quarantine: Quarantine | None = None,
        target: Any = None,
    ) -> FeedCrawl:
        assert isinstance(target, FeedConfig), "news crawls one feed: its RunSpec's target"
        return FeedCrawl(fetcher, memory, config, feed_source(target), now=window.now)

    def parse(self, content: bytes, url: str, *, today: date) -> Any:
        """A saved article page: what extraction finds in it."""
        from scraper.news import extract_article

        return extract_article(content, url).to_json()

    def check(
        self,
        fetcher: Fetcher,
        config: NewsConfig,
        *,
        today: date,
        options: CheckOptions = CheckOptions(),
        councils: Councils | None = None,
    ) -> CheckReport:
        """Every configured feed; with ``catalogue`` (or ``council``) the catalogue's papers."""
        from scraper.sources.news.check import check_news

        return check_news(fetcher, config, options, councils)

    def show(self, content: bytes, url: str, *, today: date, as_json: bool, origin: str) -> str:
        """What `councilwatch parse news` prints."""
        from scraper.sources.news.show import show

        return show(content, url, today=today, as_json=as_json, origin=origin)


SOURCE = News()
