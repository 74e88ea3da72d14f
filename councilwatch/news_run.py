"""News fetch runs: the db-free crawler wired to storage, the pipeline, clustering and runs.

    fetch_news(runtime, feeds) -> list[RunOutcome]

One recorded run per configured feed (``source`` = the feed's name), through one polite
client. Stories go through :func:`councilwatch.pipeline.process` (upsert with revisions,
council tags, alert matches). After a feed's run its new and changed stories are clustered
with the stored news of the last ``cluster_window_days``, and ``documents.cluster_key`` is
written for every member of their clusters (the earliest member's canonical URL), so one
syndicated story on five titles is one cluster.

Google News feeds run after the publisher feeds, so their items are matched (by normalised
title) to stories the same run stored; a match is recorded in ``extra["also_seen_in"]``.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import Engine

from councilwatch.config import FeedConfig
from councilwatch.pipeline import PipelineReport, process
from councilwatch.runs import RunCounts, RunOutcome, record_run
from councilwatch.runtime import Runtime
from cwerrors import CouncilwatchError
from db.ingest import DocumentRecord
from db.news import (
    NEWS_SOURCE,
    NewsText,
    StoredNews,
    news_records,
    partial_news,
    recent_news_texts,
    recent_news_titles,
    set_cluster_keys,
    stored_news,
)
from db.news_signatures import (
    forget_signatures,
    news_texts,
    save_signatures,
    sharing_bands,
    stored_shingles,
    unsigned_news,
)
from db.runs import has_succeeded, last_success_stats
from scraper.dedupe import Signer, StoryClusterer, WindowStory, clusters_around
from scraper.fetch import PoliteClient
from scraper.news import FeedItem, is_ldrs, normalise_title
from scraper.news.crawl import FeedSource, NewsCrawler, StoredArticle, Story

log = logging.getLogger("councilwatch.news")

MODE = "incremental"
# How many unmatched Google News titles a run's stats keep.
UNMATCHED_SAMPLE = 20


class DatabaseArticleMemory:
    """Adapts db.news to the crawler's ArticleMemory."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def stored(self, urls: Collection[str]) -> Mapping[str, StoredArticle]:
        return {url: _stored_article(s) for url, s in stored_news(self._engine, urls).items()}

    def due_retries(self, feed: str, limit: int) -> list[StoredArticle]:
        found = partial_news(self._engine, feed=feed, retry_limit=limit)
        return [_stored_article(s) for s in found]

    def discovered_feeds(self, feed: str) -> list[tuple[str, str]]:
        # What discovery found is kept in the run's stats, where the operator also reads it.
        pairs = last_success_stats(self._engine, feed).get("site_feeds") or []
        return [(str(p[0]), str(p[1])) for p in pairs if isinstance(p, list) and len(p) == 2]


def _stored_article(stored: StoredNews) -> StoredArticle:
    return StoredArticle(
        url=stored.source_key,
        partial=stored.partial,
        retries=stored.retries,
        feeds=stored.feeds,
        title=stored.title,
        summary=stored.summary,
        published=stored.published_at,
        author=stored.author,
        item_published=_parse_time(stored.extra.get("item_published")),
    )


def _parse_time(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def feed_source(feed: FeedConfig) -> FeedSource:
    return FeedSource(
        name=feed.name, url=feed.url, kind=feed.kind, publisher=feed.publisher, area=feed.area
    )


def story_record(story: Story, source: FeedSource, *, now: datetime) -> DocumentRecord:
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
    published = story.published(now)
    return DocumentRecord(
        kind="news",
        source=NEWS_SOURCE,
        source_key=story.url,
        url=story.url,
        title=story.title,
        summary=item.summary,
        body=story.text,
        published_at=published,
        author=story.author,
        site_name=(article.site_name if article else None) or item.source_name or source.publisher,
        partial=story.partial,
        extra=extra,
    )


def _merge_extra(record: DocumentRecord, stored: DocumentRecord | None) -> DocumentRecord:
    """Keep what earlier runs learnt of a story (its other feeds, Google News sightings)."""
    if stored is None:
        return record
    extra = dict(record.extra)
    extra["feeds"] = list(dict.fromkeys([*stored.extra.get("feeds", []), *extra["feeds"]]))
    if "also_seen_in" in stored.extra:
        extra["also_seen_in"] = stored.extra["also_seen_in"]
    for key in ("publisher", "area"):
        extra[key] = extra.get(key) or stored.extra.get(key)
    return replace(record, extra=extra)


def _configured(runtime: Runtime, names: list[str] | None) -> list[FeedConfig]:
    feeds = list(runtime.settings.sources.news.feeds)
    if runtime.settings.sources.news.follow_subscribed_councils:
        from councilwatch.news_catalogue import followed_feeds

        feeds += followed_feeds(runtime.settings, runtime.migrated_engine(), runtime.register)
    if names is not None:
        by_name = {feed.name: feed for feed in feeds}
        unknown = [name for name in names if name not in by_name]
        if unknown:
            known = ", ".join(by_name) or "none"
            raise CouncilwatchError(
                f"unknown news feed {', '.join(map(repr, unknown))} (configured feeds: {known})"
            )
        feeds = [by_name[name] for name in dict.fromkeys(names)]
    # discovery feeds last: their items are matched to stories the publisher feeds stored
    return sorted(feeds, key=lambda feed: feed.kind == "google-news")


def fetch_news(runtime: Runtime, feeds: list[str] | None) -> list[RunOutcome]:
    """One recorded run per feed (all configured feeds when ``feeds`` is None)."""
    chosen = _configured(runtime, feeds)
    outcomes: list[RunOutcome] = []
    if not chosen:
        if runtime.settings.sources.news.follow_subscribed_councils and feeds is None:
            log.info("news: no feeds configured and no followed council is in the catalogue")
        else:
            log.warning("news: no feeds configured ([[sources.news.feeds]])")
        return outcomes
    with ExitStack() as stack:
        client = stack.enter_context(runtime.client())
        for feed in chosen:
            source = feed_source(feed)

            def work(counts: RunCounts, source: FeedSource = source) -> None:
                _run(runtime, client, source, counts)

            outcomes.append(record_run(runtime, feed.name, MODE, work))
    return outcomes


def _total_requests(client: PoliteClient) -> int:
    return sum(host.requests for host in client.stats.values())


def _run(runtime: Runtime, client: PoliteClient, source: FeedSource, counts: RunCounts) -> None:
    engine = runtime.migrated_engine()
    config = runtime.settings.sources.news
    # A feed's first successful run stores everything it lists at once: like a backfill, it
    # must not reach subscribers one story at a time.
    seeding = not has_succeeded(engine, source.name)
    requests_before = _total_requests(client)
    changed: dict[int, str] = {}  # document id -> source_key, new or changed content

    def count(report: PipelineReport, records: Sequence[DocumentRecord]) -> None:
        counts.inserted += len(report.upsert.inserted)
        counts.updated += len(report.upsert.updated)
        counts.unchanged += report.upsert.unchanged
        touched = set(report.upsert.inserted) | set(report.upsert.updated)
        for record in records:
            doc_id = report.upsert.ids.get(record.key)
            if doc_id in touched and doc_id is not None:
                changed[doc_id] = record.source_key

    def sink(batch: Sequence[Story]) -> None:
        now = runtime.now()
        records = [story_record(story, source, now=now) for story in batch]
        stored = news_records(engine, [r.source_key for r in records])
        records = [_merge_extra(r, stored.get(r.source_key)) for r in records]
        count(_process(runtime, engine, records, backfill=seeding), records)
        runtime.check_stopping()  # after storing the batch: nothing fetched is lost

    crawler = NewsCrawler(
        client,
        memory=DatabaseArticleMemory(engine),
        sink=sink,
        now=runtime.now,
        retry_limit=config.article_retry_limit,
    )
    extra_stats: dict[str, Any] = {"url": source.url}
    try:
        report = crawler.crawl(source)
        if report.also_in_feed:
            _add_feed(runtime, engine, source.name, report.also_in_feed)
        if report.discovered:
            extra_stats.update(_match_discoveries(runtime, engine, source, report.discovered))
        if changed:
            window = timedelta(days=config.cluster_window_days)
            extra_stats["clusters_written"] = cluster_news(
                engine, changed, since=runtime.now() - window, window=window
            )
    finally:
        report = crawler.report
        counts.requests = _total_requests(client) - requests_before
        counts.failures = len(report.failed_urls)
        counts.stats = {**report.as_stats(), **extra_stats, "seeding": seeding}
        if report.moved_to:
            counts.stats["notice"] = f"feed moved to {report.moved_to}: update config"


def _process(
    runtime: Runtime, engine: Engine, records: Sequence[DocumentRecord], *, backfill: bool = False
) -> PipelineReport:
    return process(
        engine,
        records,
        register=runtime.register,
        now=runtime.now(),
        backfill=backfill,
        alert_index=runtime.alert_index,
    )


def _add_feed(runtime: Runtime, engine: Engine, feed: str, urls: Sequence[str]) -> None:
    """Name ``feed`` in the stored stories it lists that were stored through another feed."""
    records = []
    for record in news_records(engine, urls).values():
        feeds = list(record.extra.get("feeds", []))
        if feed not in feeds:
            records.append(_with_extra(record, feeds=[*feeds, feed]))
    if records:
        _process(runtime, engine, records)


def _with_extra(record: DocumentRecord, **changes: Any) -> DocumentRecord:
    return replace(record, extra={**record.extra, **changes})


def _match_discoveries(
    runtime: Runtime, engine: Engine, source: FeedSource, items: Sequence[FeedItem]
) -> dict[str, Any]:
    """Record each Google News item on the stored story with the same normalised title."""
    window = timedelta(days=runtime.settings.sources.news.cluster_window_days)
    by_title: dict[str, str] = {}
    for source_key, title in recent_news_titles(engine, since=runtime.now() - window):
        by_title.setdefault(normalise_title(title), source_key)
    sightings: dict[str, list[dict[str, Any]]] = {}
    unmatched: list[str] = []
    for item in items:
        key = by_title.get(normalise_title(item.title, publisher=item.source_name))
        if key is None:
            unmatched.append(item.title)
            continue
        sightings.setdefault(key, []).append(
            {
                "feed": source.name,
                "source": item.source_name,
                "title": item.title,
                "published": item.published.isoformat() if item.published else None,
            }
        )
    records = []
    for key, record in news_records(engine, list(sightings)).items():
        seen = list(record.extra.get("also_seen_in", []))
        fresh = [s for s in sightings[key] if s not in seen]
        if fresh:
            records.append(_with_extra(record, also_seen_in=seen + fresh))
    if records:
        _process(runtime, engine, records)
    if unmatched:
        log.info("news: %s: %d items match no stored story", source.name, len(unmatched))
    return {
        "matched": sum(len(s) for s in sightings.values()),
        "unmatched": len(unmatched),
        "unmatched_titles": unmatched[:UNMATCHED_SAMPLE],
    }


class _StoredWindow:
    """db.news_signatures as the clusterer's view of the stored window."""

    def __init__(self, engine: Engine, since: datetime) -> None:
        self._engine = engine
        self._since = since

    def sharing(self, bands: Collection[int]) -> Mapping[int, Collection[int]]:
        return sharing_bands(self._engine, bands, since=self._since)

    def stories(self, ids: Collection[int]) -> Mapping[int, WindowStory]:
        texts = news_texts(self._engine, ids, since=self._since)
        shingles = stored_shingles(self._engine, [t.id for t in texts])
        return {t.id: _window_story(t, shingles.get(t.id)) for t in texts}


def _window_story(text: NewsText, shingles: bytes | None = None) -> WindowStory:
    hashes = np.frombuffer(shingles, dtype=np.uint32) if shingles is not None else None
    return WindowStory(text.id, text.source_key, text.published_at, text.text, hashes)


def cluster_news(
    engine: Engine, changed: Mapping[int, str], *, since: datetime, window: timedelta
) -> int:
    """Cluster the stories ``changed`` (id -> source_key) with the stored news since
    ``since`` and write the cluster key of every member of a cluster they touch; a changed
    story older than ``since`` is its own cluster. Returns how many rows' keys changed.

    Incremental: the changed stories (and any in the window not yet signed) are signed and
    their signatures stored; clusters are found by looking up their LSH bands among the
    stored ones (scraper.dedupe.clusters_around). Same clusters as :func:`rebuild_clusters`.
    """
    signer = Signer()
    forget_signatures(engine, before=since)
    texts = {t.id: t for t in news_texts(engine, changed)}
    texts.update((t.id, t) for t in unsigned_news(engine, since=since))
    signed = {
        doc_id: signer.sign(text.text)
        for doc_id, text in texts.items()
        if text.published_at >= since
    }
    save_signatures(
        engine,
        {
            doc_id: (texts[doc_id].published_at, sig.shingled.hashes.tobytes(), sig.bands)
            for doc_id, sig in signed.items()
        },
    )
    keys: dict[int, str] = {}
    start = []
    for doc_id, source_key in changed.items():
        text = texts.get(doc_id)
        if text is None or text.published_at < since:
            keys[doc_id] = source_key
        else:
            hashes = signed[doc_id].shingled.hashes
            start.append(WindowStory(doc_id, source_key, text.published_at, text.text, hashes))
    for members in clusters_around(start, _StoredWindow(engine, since), span=window, signer=signer):
        keys.update({member.id: members[0].key for member in members})
    return set_cluster_keys(engine, keys)


def rebuild_clusters(
    engine: Engine, changed: Mapping[int, str], *, since: datetime, window: timedelta
) -> int:
    """:func:`cluster_news` as it was: the whole window re-clustered in memory on every run.
    Kept as the reference the incremental clustering is tested against, and as the bench's
    baseline."""
    texts = recent_news_texts(engine, since=since)
    clusterer = StoryClusterer(window=window)
    for text in texts:
        clusterer.add(text.source_key, text.text, published=text.published_at)
    ids = {text.source_key: text.id for text in texts}
    touched = set(changed.values())
    keys: dict[int, str] = {doc_id: key for doc_id, key in changed.items() if key not in ids}
    for cluster_id, members in clusterer.clusters().items():
        # only clusters this run touched: a story that left the window keeps its key
        if touched.intersection(members):
            keys.update({ids[member]: cluster_id for member in members})
    return set_cluster_keys(engine, keys)
