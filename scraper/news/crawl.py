"""Crawling one news feed: feed -> items -> article pages, without a database.

One :meth:`NewsCrawler.crawl` call reads one configured feed and hands what it found to a sink:

- RSS/Atom: the feed is asked conditionally (a 304 means nothing new). Each item's URL is
  already canonical (tracking parameters and AMP forms removed by the feed parser); an article
  page is fetched only when that URL is not stored yet, and extracted. When the page cannot be
  had (403, timeout, consent wall or paywall, a page that does not parse) the item's own title,
  summary and date are handed on as a *partial* story.
- Partial stories stored by earlier runs of this feed are fetched again, at most
  ``retry_limit`` times each, whether or not the feed still lists them. A stored story the
  feed now dates later than it did is re-published: its page is fetched again.
- Sitemap feeds: the configured URL is a site (or its robots.txt): its ``Sitemap:`` lines lead to
  the news sitemaps, whose ``<news:news>`` entries are the items. A URL ending in ``.xml`` is
  taken to be the sitemap itself.
- Google News feeds are discovery only: their items come back in ``report.discovered`` and
  their news.google.com links are never fetched.

A permanent redirect of the feed is reported (``report.moved_to``) so the operator can update
the configuration; a 410 ends the crawl with :class:`FeedGone`.

The crawler reads what is stored through :class:`ArticleMemory` and writes only through the
sink (or hands batches out from :meth:`NewsCrawler.stories`), so it is tested with dicts and
wired to the database through ``scraper.sources.news`` and the one source runner.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol
from urllib.parse import urlsplit, urlunsplit

from cwerrors import FetchError, ParseError
from scraper.fetch import GoneError, HttpStatusError
from scraper.fetcher import Fetcher
from scraper.news.article import Article, extract_article
from scraper.news.discover import discover_feeds
from scraper.news.feeds import GOOGLE_NEWS_HOST, Feed, FeedItem, parse_feed, sitemaps_from_robots

log = logging.getLogger("scraper.news.crawl")

# Stories handed to the sink at a time: a killed run loses at most this many fetched pages.
BATCH_SIZE = 20
# Child sitemaps followed from one sitemap index (an index may name thousands of sections).
MAX_CHILD_SITEMAPS = 5
# Publishers' clocks run a little ahead; a date further in the future than this is a mistake.
FUTURE_SLACK = timedelta(hours=1)
# How many failed URLs and warnings a report keeps for the run's stats.
REPORT_SAMPLE = 20


class NoFeedFound(FetchError):
    """A "site" feed's homepage led to no working feed (the run fails; health reports it)."""

    def __init__(self, name: str, url: str, tried: int) -> None:
        super().__init__(f"{name}: no feed found from {url} ({tried} addresses tried)")
        self.name = name
        self.url = url


class FeedGone(FetchError):
    """The feed answered 410 Gone (now or on an earlier run)."""

    def __init__(self, name: str, url: str) -> None:
        super().__init__(f"feed gone (410): remove it from config ({name}: {url})")
        self.url = url


@dataclass(frozen=True)
class FeedSource:
    """One configured feed. ``kind``: "rss" (RSS or Atom), "sitemap", "google-news", or "site"
    (``url`` is a publisher's homepage whose feeds are discovered, see :mod:`.discover`)."""

    name: str
    url: str
    kind: str = "rss"
    publisher: str | None = None
    area: str | None = None


@dataclass(frozen=True)
class StoredArticle:
    """What the crawler needs to know of a stored story."""

    url: str  # its identity (canonical URL)
    partial: bool
    retries: int  # failed attempts to fetch its page after the first
    feeds: tuple[str, ...]
    title: str = ""
    summary: str = ""
    published: datetime | None = None
    author: str | None = None
    item_published: datetime | None = None  # the feed item's date when the page was stored


class ArticleMemory(Protocol):
    """What is stored; the database implements it, tests use :class:`MemoryArticleMemory`."""

    def stored(self, urls: Collection[str]) -> Mapping[str, StoredArticle]:
        """The stored stories among ``urls``, by URL."""
        ...

    def due_retries(self, feed: str, limit: int) -> list[StoredArticle]:
        """Partial stories found through ``feed`` with fewer than ``limit`` retries."""
        ...

    def discovered_feeds(self, feed: str) -> list[tuple[str, str]]:
        """The ``(url, kind)`` feeds the last successful run of the ``site`` feed found."""
        ...


@dataclass(frozen=True)
class Story:
    """One story ready to store: a fetched article, or a partial one from its feed item."""

    url: str  # identity: the page's canonical URL, or the item's; a retry keeps its stored URL
    item: FeedItem
    article: Article | None  # None when the page could not be had
    partial: bool
    retries: int
    feeds: tuple[str, ...]
    failure: str | None  # why the page could not be had

    @property
    def _page(self) -> Article | None:
        # a wall's own title and byline ("Before you continue") are not the story's
        return self.article if not self.partial else None

    @property
    def title(self) -> str:
        return (self._page.title if self._page else None) or self.item.title

    @property
    def text(self) -> str:
        return self.article.text if self.article and not self.partial else ""

    @property
    def author(self) -> str | None:
        return (self._page.author if self._page else None) or self.item.author

    def published(self, now: datetime) -> datetime | None:
        """The article's date, else the item's; a date in the future is not believed."""
        for candidate in (self._page.published if self._page else None, self.item.published):
            if candidate is not None and candidate <= now + FUTURE_SLACK:
                return candidate
        return None


@dataclass
class FeedReport:
    """What one feed's crawl did; kept up to date, so a failed crawl still reports its work."""

    feed: str
    kind: str
    not_modified: bool = False
    moved_to: str | None = None
    items: int = 0  # distinct items read from the feed
    known: int = 0  # items already stored (no page fetched)
    articles_fetched: int = 0  # article page requests attempted
    stored: int = 0  # stories handed to the sink
    partial: int = 0  # of those, partial
    retried: int = 0  # partial stories fetched again
    republished: int = 0  # stored stories fetched again because the feed dates them later
    failed_urls: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    sitemaps: list[str] = field(default_factory=list)
    # stored stories this feed lists but that do not yet name it in their feeds
    also_in_feed: list[str] = field(default_factory=list)
    discovered: list[FeedItem] = field(default_factory=list)  # Google News items
    # a "site" feed: the feeds read for it, and what discovery tried when it ran
    site_feeds: list[tuple[str, str]] = field(default_factory=list)
    discovery: list[str] = field(default_factory=list)

    def as_stats(self) -> dict[str, Any]:
        stats: dict[str, Any] = {
            "kind": self.kind,
            "not_modified": self.not_modified,
            "items": self.items,
            "known": self.known,
            "articles_fetched": self.articles_fetched,
            "stored": self.stored,
            "partial": self.partial,
            "retried": self.retried,
            "republished": self.republished,
            "failed_urls": self.failed_urls[:REPORT_SAMPLE],
            "warnings": self.warnings[:REPORT_SAMPLE],
        }
        if self.moved_to:
            stats["moved_to"] = self.moved_to
        if self.sitemaps:
            stats["sitemaps"] = self.sitemaps
        if self.kind == "google-news":
            stats["discovered"] = len(self.discovered)
        if self.kind == "site":
            stats["site_feeds"] = [list(pair) for pair in self.site_feeds]
            if self.discovery:
                stats["discovery"] = self.discovery[:REPORT_SAMPLE]
        return stats


Sink = Callable[[Sequence[Story]], None]


class MemoryArticleMemory:
    """An :class:`ArticleMemory` in a dict, for tests and one-shot runs; :meth:`store` is a sink."""

    def __init__(self) -> None:
        self.articles: dict[str, StoredArticle] = {}
        # a "site" feed's name -> the (url, kind) feeds its last discovery found
        self.site_feeds: dict[str, list[tuple[str, str]]] = {}

    def store(self, batch: Sequence[Story]) -> None:
        for story in batch:
            self.articles[story.url] = StoredArticle(
                url=story.url,
                partial=story.partial,
                retries=story.retries,
                feeds=story.feeds,
                title=story.title,
                summary=story.item.summary,
                published=story.item.published,
                author=story.author,
                item_published=story.item.published,
            )

    def stored(self, urls: Collection[str]) -> Mapping[str, StoredArticle]:
        return {url: self.articles[url] for url in urls if url in self.articles}

    def due_retries(self, feed: str, limit: int) -> list[StoredArticle]:
        return [
            a for a in self.articles.values() if a.partial and feed in a.feeds and a.retries < limit
        ]

    def discovered_feeds(self, feed: str) -> list[tuple[str, str]]:
        return list(self.site_feeds.get(feed, ()))


class NewsCrawler:
    """Crawls feeds through ``client``; stories go to ``sink`` in batches.

    ``now`` is asked once per crawl; article dates after it are not believed.
    """

    def __init__(
        self,
        client: Fetcher,
        *,
        memory: ArticleMemory,
        sink: Sink = lambda batch: None,
        now: Callable[[], datetime],
        retry_limit: int = 3,
        batch_size: int = BATCH_SIZE,
    ) -> None:
        self._client = client
        self._memory = memory
        self._sink = sink
        self._now = now
        self._retry_limit = retry_limit
        self._batch_size = max(1, batch_size)
        self.report = FeedReport(feed="", kind="")

    def crawl(self, source: FeedSource) -> FeedReport:
        """Read one feed and store what is new in it; raises FeedGone on a 410."""
        for batch in self.stories(source):
            self._sink(batch)
        return self.report

    def stories(self, source: FeedSource) -> Iterator[list[Story]]:
        """Read one feed: what is new in it, in batches (each counted in the report once the
        consumer asks for the next); raises FeedGone on a 410."""
        self.report = FeedReport(feed=source.name, kind=source.kind)
        now = self._now()
        try:
            items = self._items(source)
        except GoneError:
            if source.kind == "site":  # a discovered feed went: the site itself has not
                raise
            raise FeedGone(source.name, source.url) from None
        if source.kind == "google-news" or any(i.discovery_only for i in items):
            self.report.discovered = [i for i in items if i.discovery_only]
            items = [i for i in items if not i.discovery_only]
        tasks = self._tasks(source, items)
        batch: list[Story] = []
        for item, stored in tasks:
            story = self._story(source, item, stored, now)
            if story is not None:
                batch.append(story)
            if len(batch) >= self._batch_size:
                yield from self._flush(batch)
        yield from self._flush(batch)

    # -- reading the feed --------------------------------------------------------------------

    def _items(self, source: FeedSource) -> list[FeedItem]:
        """The feed's items, or [] when it answered 304."""
        if source.kind == "sitemap":
            return self._sitemap_items(source)
        if source.kind == "site":
            return self._site_items(source)
        feed = self._read(source.url, kind=_parse_kind(source.kind))
        return feed.items if feed is not None else []

    def _read(self, url: str, *, kind: str) -> Feed | None:
        response = self._client.get(url, conditional=True)
        if response.moved_to:
            self._moved(url, response.moved_to)
        if response.not_modified:
            self.report.not_modified = True
            return None
        feed = parse_feed(response.content, response.url, kind=kind)
        for warning in feed.warnings:
            log.warning("news: %s: %s: %s", self.report.feed, url, warning)
            self.report.warnings.append(warning)
        return feed

    def _moved(self, url: str, target: str) -> None:
        if self.report.moved_to is None:
            self.report.moved_to = target
            log.warning(
                "news: %s: feed moved to %s: update config (was %s)",
                self.report.feed,
                target,
                url,
            )

    def _sitemap_items(self, source: FeedSource) -> list[FeedItem]:
        path = urlsplit(source.url).path
        if path.endswith((".xml", ".xml.gz")):
            sitemaps = [source.url]
        else:
            robots_url = _robots_url(source.url)
            response = self._client.get(robots_url, conditional=False)
            if response.moved_to:
                self._moved(robots_url, response.moved_to)
            sitemaps = sitemaps_from_robots(response.content.decode("utf-8", "replace"))
            if not sitemaps:
                self.report.warnings.append(f"no Sitemap: lines in {robots_url}")
                log.warning("news: %s: no Sitemap: lines in %s", source.name, robots_url)
        items: list[FeedItem] = []
        all_not_modified = True
        for url in sitemaps:
            feed = self._read_sitemap(url)
            if feed is None:
                continue
            all_not_modified = False
            children = feed.sitemaps[:MAX_CHILD_SITEMAPS]
            for child in children:
                nested = self._read_sitemap(child)
                if nested is not None:
                    items += _news_entries(nested)
            items += _news_entries(feed)
        self.report.not_modified = bool(sitemaps) and all_not_modified
        return items

    def _site_items(self, source: FeedSource) -> list[FeedItem]:
        """Items of the feeds a homepage's last discovery found; discovered again when there
        is none yet or one of them is gone (404/410: publishers move their feeds)."""
        known = self._memory.discovered_feeds(source.name)
        if known:
            try:
                return self._read_site_feeds(source, known)
            except HttpStatusError as error:
                if error.status not in (404, 410):
                    raise
                log.warning("news: %s: %s answered %s; discovering the site's feeds again",
                            source.name, error.url, error.status)
        found = discover_feeds(source.url, lambda url: self._client.get(url, conditional=False))
        self.report.discovery = [
            f"{'found' if c.ok else 'no'} {c.url} [{c.found_by}] {c.reason}" for c in found.tried
        ]
        feeds = [(c.url, c.kind or "rss") for c in found.feeds]
        if not feeds:
            raise NoFeedFound(source.name, source.url, len(found.tried))
        log.info("news: %s: discovered %s", source.name, ", ".join(url for url, _ in feeds))
        return self._read_site_feeds(source, feeds)

    def _read_site_feeds(self, source: FeedSource, feeds: list[tuple[str, str]]) -> list[FeedItem]:
        self.report.site_feeds = list(feeds)
        items: list[FeedItem] = []
        for url, kind in feeds:
            if kind == "sitemap":
                feed = self._read(url, kind="sitemap")
                items += _news_entries(feed) if feed is not None else []
                for child in (feed.sitemaps if feed is not None else [])[:MAX_CHILD_SITEMAPS]:
                    nested = self._read_sitemap(child)
                    items += _news_entries(nested) if nested is not None else []
            else:
                feed = self._read(url, kind="auto")
                items += feed.items if feed is not None else []
        return items

    def _read_sitemap(self, url: str) -> Feed | None:
        self.report.sitemaps.append(url)
        try:
            return self._read(url, kind="sitemap")
        except (FetchError, ParseError) as exc:
            # one broken sitemap of several is a warning; the others still count
            self.report.warnings.append(f"sitemap {url}: {exc}")
            log.warning("news: %s: sitemap %s failed: %s", self.report.feed, url, exc)
            return None

    # -- deciding what to fetch --------------------------------------------------------------

    def _tasks(
        self, source: FeedSource, items: list[FeedItem]
    ) -> list[tuple[FeedItem, StoredArticle | None]]:
        """(item, stored) pairs to fetch: new items, then partial stories due for a retry."""
        unique: dict[str, FeedItem] = {}
        for item in items:
            unique.setdefault(item.url, item)  # AMP and tracking copies share one URL
        self.report.items = len(unique)
        stored = self._memory.stored(list(unique))
        due = {a.url: a for a in self._memory.due_retries(source.name, self._retry_limit)}
        tasks: list[tuple[FeedItem, StoredArticle | None]] = []
        for url, item in unique.items():
            known = stored.get(url)
            if known is None:
                tasks.append((item, None))
                continue
            self.report.known += 1
            if source.name not in known.feeds:
                self.report.also_in_feed.append(url)
            if url in due:  # a partial story the feed still lists: retry with its fresh item
                tasks.append((item, due.pop(url)))
            elif not known.partial and _republished(item, known):
                self.report.republished += 1
                tasks.append((item, known))
        tasks += [(_stored_item(a), a) for a in due.values()]
        return tasks

    # -- one article -------------------------------------------------------------------------

    def _story(
        self, source: FeedSource, item: FeedItem, stored: StoredArticle | None, now: datetime
    ) -> Story | None:
        """The story to store; None when a re-published story's page cannot be had now (the
        stored complete text is better than the item's summary)."""
        feeds = tuple(dict.fromkeys([*(stored.feeds if stored else ()), source.name]))
        if stored is not None and stored.partial:
            self.report.retried += 1
        article, failure = self._article(item.url)
        partial = article is None or article.partial
        if partial and stored is not None and not stored.partial:
            log.info(
                "news: %s: re-published %s not refetched (%s)",
                source.name,
                item.url,
                failure or "consent wall or paywall",
            )
            return None
        retries = 0
        if partial:
            failure = failure or "consent wall or paywall"
            # the first attempt is not a retry; each later failed attempt counts one
            retries = stored.retries + 1 if stored is not None and stored.partial else 0
            self.report.failed_urls.append(item.url)
            log.info("news: %s: %s stored partial (%s)", source.name, item.url, failure)
        if stored is not None:
            url = stored.url  # a story keeps the identity it was stored under
        elif article is not None and not partial:
            url = article.canonical_url
        else:
            url = item.url
        return Story(url, item, article, partial, retries, feeds, failure)

    def _article(self, url: str) -> tuple[Article | None, str | None]:
        if urlsplit(url).hostname == GOOGLE_NEWS_HOST:  # never, whatever a feed says
            return None, "news.google.com links are never fetched"
        self.report.articles_fetched += 1
        try:
            response = self._client.get(url, conditional=False)
            return extract_article(response.content, response.url, charset=response.charset), None
        except (FetchError, ParseError) as exc:
            return None, str(exc)

    def _flush(self, batch: list[Story]) -> Iterator[list[Story]]:
        if not batch:
            return
        yield list(batch)
        self.report.stored += len(batch)
        self.report.partial += sum(1 for story in batch if story.partial)
        batch.clear()


def _parse_kind(kind: str) -> str:
    return kind if kind == "google-news" else "auto"


def _robots_url(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/robots.txt", "", ""))


def _news_entries(feed: Feed) -> list[FeedItem]:
    # a general sitemap lists every page of a site; only entries with news metadata are news
    return [item for item in feed.items if item.title]


def _republished(item: FeedItem, known: StoredArticle) -> bool:
    """The feed dates the item later than it did when the page was stored: fetch it again
    (an updated story keeps its URL; the new text becomes a revision)."""
    return (
        item.published is not None
        and known.item_published is not None
        and item.published > known.item_published
    )


def _stored_item(article: StoredArticle) -> FeedItem:
    """A feed item rebuilt from a stored partial story, for a retry the feed no longer lists."""
    return FeedItem(
        title=article.title,
        url=article.url,
        published=article.published,
        summary=article.summary,
        author=article.author,
        guid=None,
        source_name=None,
        discovery_only=False,
    )
