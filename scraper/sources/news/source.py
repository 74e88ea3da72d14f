"""News as a :class:`~scraper.sources.base.Source` (the registry's entry): a fetch is one run
per feed, Google News feeds last so their items match the stories the same fetch stored."""

from __future__ import annotations

from datetime import date
from typing import Any

from scraper.fetcher import Fetcher
from scraper.news.catalogue import Catalogue, Publisher, load_catalogue
from scraper.news.crawl import FeedSource
from scraper.sources.base import (
    CheckOptions,
    CheckReport,
    Councils,
    CrawlWindow,
    ItemMemory,
    Quarantine,
    RunSpec,
)
from scraper.sources.news.config import INFO, FeedConfig, NewsConfig
from scraper.sources.news.crawl import FeedCrawl


def feed_source(feed: FeedConfig) -> FeedSource:
    return FeedSource(
        name=feed.name, url=feed.url, kind=feed.kind, publisher=feed.publisher, area=feed.area
    )


def covering(catalogue: Catalogue, councils: Councils, ids: Any) -> list[Publisher]:
    """The publishers covering the councils ``ids`` or their successors."""
    wanted = set(ids) | councils.expand(ids)
    return catalogue.for_councils(
        wanted, in_county=lambda county: {county} | councils.in_county(county)
    )


def followed_feeds(config: NewsConfig, councils: Councils) -> list[FeedConfig]:
    """With ``follow_subscribed_councils``, a feed for each catalogue publisher covering a
    council a confirmed subscriber follows (its known feeds, else its homepage as a "site"),
    leaving out addresses the configuration already reads. Computed at each run, so a paper
    stops being read when its last follower goes."""
    if not config.follow_subscribed_councils:
        return []
    known = councils.followed()
    if not known:
        return []
    configured_urls = {feed.url for feed in config.feeds}
    configured_names = {feed.name for feed in config.feeds}
    feeds: list[FeedConfig] = []
    for publisher in covering(load_catalogue(config.catalogue_file), councils, known):
        urls = list(publisher.feeds) or [publisher.homepage]
        kind = "rss" if publisher.feeds else "site"
        for position, url in enumerate(urls):
            name = publisher.name if position == 0 else f"{publisher.name}-{position + 1}"
            if url in configured_urls or name in configured_names:
                continue
            feeds.append(FeedConfig(name=name, url=url, kind=kind, publisher=publisher.publisher))
    return feeds


class News:
    info = INFO

    def wanted(self, config: NewsConfig) -> bool:
        """Whether a fetch may have a feed to read (the service schedules it only then)."""
        return bool(config.feeds) or config.follow_subscribed_councils

    def runs(self, config: NewsConfig, councils: Councils | None) -> list[RunSpec]:
        feeds = list(config.feeds)
        if councils is not None:
            feeds += followed_feeds(config, councils)
        # discovery feeds last: their items are matched to stories the publisher feeds stored
        feeds.sort(key=lambda feed: feed.kind == "google-news")
        return [RunSpec(f.name, f.kind, f.url, f.name, feed_source(f)) for f in feeds]

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
        assert isinstance(target, FeedSource), "news crawls one feed: its RunSpec's target"
        return FeedCrawl(fetcher, memory, config, target, now=window.now)

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


SOURCE = News()
