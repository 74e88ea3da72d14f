"""What a news fetch runs: one run per feed, the configured ones and, with
``follow_subscribed_councils``, the catalogue's papers covering councils subscribers follow.
Light (no parser, no catalogue until it is needed): `status` and `sources` read the runs."""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING

from scraper.sources.settings import Councils, RunSpec

if TYPE_CHECKING:
    from scraper.news.catalogue import Catalogue, Publisher
    from scraper.sources.news.config import FeedConfig, NewsConfig


def wanted(config: NewsConfig) -> bool:
    """Whether a fetch may have a feed to read (the service schedules it only then)."""
    return bool(config.feeds) or config.follow_subscribed_councils


def runs(config: NewsConfig, councils: Councils | None) -> list[RunSpec]:
    feeds = list(config.feeds)
    if councils is not None:
        feeds += followed_feeds(config, councils)
    # discovery feeds last: their items are matched to stories the publisher feeds stored
    feeds.sort(key=lambda feed: feed.kind == "google-news")
    return [RunSpec(f.name, f.kind, f.url, f.name, f) for f in feeds]


def covering(catalogue: Catalogue, councils: Councils, ids: Collection[str]) -> list[Publisher]:
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
    from scraper.news.catalogue import load_catalogue
    from scraper.sources.news.config import FeedConfig

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
