"""One news feed's run as a source crawl: :class:`scraper.news.crawl.NewsCrawler` over the
source's memory, its stories as :class:`~scraper.sources.base.Item`, and what the run learnt of
stories stored before (another feed lists them, Google News saw them) as revisions.

Each story keeps in ``extra`` what earlier runs learnt of it (the feeds that list it, Google
News sightings), so storing it again through another feed loses nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from scraper.fetcher import Fetcher
from scraper.news import FeedItem, is_ldrs, normalise_title
from scraper.news.crawl import FeedSource, NewsCrawler, StoredArticle, Story
from scraper.sources.base import Item, ItemMemory, Progress
from scraper.sources.news.config import NewsConfig

log = logging.getLogger("scraper.sources.news")

# How many unmatched Google News titles a run's stats keep.
UNMATCHED_SAMPLE = 20


class _Articles:
    """The source's memory as the crawler's ArticleMemory."""

    def __init__(self, memory: ItemMemory) -> None:
        self._memory = memory

    def stored(self, urls: Sequence[str] | Any) -> Mapping[str, StoredArticle]:
        return {key: _stored_article(item) for key, item in self._memory.stored_items(urls).items()}

    def due_retries(self, feed: str, limit: int) -> list[StoredArticle]:
        found = [_stored_article(item) for item in self._memory.partial_items()]
        return [a for a in found if feed in a.feeds and a.retries < limit]

    def discovered_feeds(self, feed: str) -> list[tuple[str, str]]:
        # What discovery found is kept in the run's stats, where the operator also reads it.
        pairs = self._memory.last_run_stats().get("site_feeds") or []
        return [(str(p[0]), str(p[1])) for p in pairs if isinstance(p, list) and len(p) == 2]


def _stored_article(item: Item) -> StoredArticle:
    extra = item.extra
    feeds = extra.get("feeds") or []
    retries = extra.get("retries")
    return StoredArticle(
        url=item.key,
        partial=item.partial,
        retries=retries if isinstance(retries, int) else 0,
        feeds=tuple(str(feed) for feed in feeds) if isinstance(feeds, list) else (),
        title=item.title,
        summary=item.summary,
        published=item.published_at,
        author=item.author,
        item_published=_parse_time(extra.get("item_published")),
    )


def _parse_time(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def story_item(story: Story, source: FeedSource, *, now: datetime) -> Item:
    """The stored form of one story."""
    article = story.article if story.article is not None and not story.partial else None
    item = story.item
    ldrs = article.ldrs if article else is_ldrs(" ".join((item.author or "", item.summary)))
    extra: dict[str, Any] = {
        "feeds": list(story.feeds),
        "publisher": source.publisher,
        "area": source.area,
        "ldrs": ldrs,
        "modified": article.modified.isoformat() if article and article.modified else None,
        "jsonld_type": article.kind if article else None,
        "retries": story.retries,
        "item_published": item.published.isoformat() if item.published else None,
    }
    if story.partial:
        extra["failure"] = story.failure
    return Item(
        kind="news",
        key=story.url,
        url=story.url,
        title=story.title,
        summary=item.summary,
        body=story.text,
        published_at=story.published(now),
        author=story.author,
        site_name=(article.site_name if article else None) or item.source_name or source.publisher,
        partial=story.partial,
        extra=extra,
    )


def merge_extra(item: Item, stored: Item | None) -> Item:
    """Keep what earlier runs learnt of a story (its other feeds, Google News sightings)."""
    if stored is None:
        return item
    extra = dict(item.extra)
    extra["feeds"] = list(dict.fromkeys([*stored.extra.get("feeds", []), *extra["feeds"]]))
    if "also_seen_in" in stored.extra:
        extra["also_seen_in"] = stored.extra["also_seen_in"]
    for key in ("publisher", "area"):
        extra[key] = extra.get(key) or stored.extra.get(key)
    return replace(item, extra=extra)


def _with_extra(item: Item, **changes: Any) -> Item:
    return replace(item, extra={**item.extra, **changes})


class FeedCrawl:
    """One feed's run: iterate for batches of stories, then :meth:`revisions`."""

    def __init__(
        self,
        fetcher: Fetcher,
        memory: ItemMemory,
        config: NewsConfig,
        feed: FeedSource,
        *,
        now: Any,
    ) -> None:
        self._memory = memory
        self._config = config
        self._feed = feed
        self._now = now
        self._crawler = NewsCrawler(
            fetcher,
            memory=_Articles(memory),
            now=now,
            retry_limit=config.article_retry_limit,
        )
        self._progress = Progress(label=feed.name)
        self._extra: dict[str, Any] = {"url": feed.url}

    def __iter__(self) -> Iterator[list[Item]]:
        for batch in self._crawler.stories(self._feed):
            now = self._now()
            items = [story_item(story, self._feed, now=now) for story in batch]
            stored = self._memory.stored_items([item.key for item in items])
            self._progress.pages += 1
            self._progress.items_fetched += len(items)
            self._progress.failures = len(self._crawler.report.failed_urls)
            yield [merge_extra(item, stored.get(item.key)) for item in items]

    @property
    def progress(self) -> Progress:
        self._progress.failures = len(self._crawler.report.failed_urls)
        return self._progress

    @property
    def quarantined(self) -> list[str]:
        return []

    def stats(self) -> dict[str, Any]:
        report = self._crawler.report
        stats = {**report.as_stats(), **self._extra}
        if report.moved_to:
            stats["notice"] = f"feed moved to {report.moved_to}: update config"
        return stats

    def revisions(self) -> list[Item]:
        """The stored stories this feed lists that do not yet name it, and those Google News
        items match (by normalised title), with the feed or the sighting added."""
        report = self._crawler.report
        found: dict[str, Item] = {}
        for key, item in self._memory.stored_items(report.also_in_feed).items():
            feeds = list(item.extra.get("feeds", []))
            if self._feed.name not in feeds:
                found[key] = _with_extra(item, feeds=[*feeds, self._feed.name])
        if report.discovered:
            found.update(self._match_discoveries(report.discovered, found))
        return list(found.values())

    def _match_discoveries(
        self, items: Sequence[FeedItem], revised: Mapping[str, Item]
    ) -> dict[str, Item]:
        """Record each Google News item on the stored story with the same normalised title."""
        window = timedelta(days=self._config.cluster_window_days)
        by_title: dict[str, str] = {}
        for stored_key, title in self._memory.titles_since(self._now() - window):
            by_title.setdefault(normalise_title(title), stored_key)
        sightings: dict[str, list[dict[str, Any]]] = {}
        unmatched: list[str] = []
        for item in items:
            key = by_title.get(normalise_title(item.title, publisher=item.source_name))
            if key is None:
                unmatched.append(item.title)
                continue
            sightings.setdefault(key, []).append(
                {
                    "feed": self._feed.name,
                    "source": item.source_name,
                    "title": item.title,
                    "published": item.published.isoformat() if item.published else None,
                }
            )
        found = {}
        for key, stored in self._memory.stored_items(list(sightings)).items():
            stored = revised.get(key, stored)
            seen = list(stored.extra.get("also_seen_in", []))
            fresh = [s for s in sightings[key] if s not in seen]
            if fresh:
                found[key] = _with_extra(stored, also_seen_in=seen + fresh)
        if unmatched:
            log.info("news: %s: %d items match no stored story", self._feed.name, len(unmatched))
        self._extra.update(
            matched=sum(len(s) for s in sightings.values()),
            unmatched=len(unmatched),
            unmatched_titles=unmatched[:UNMATCHED_SAMPLE],
        )
        return found
