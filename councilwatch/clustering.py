"""Story clustering, the post-store step of a source whose SourceInfo says ``clusters``
(news): after a run, its new and changed stories are clustered with the stored news of the
last ``cluster_window_days`` and ``documents.cluster_key`` is written for every member of
their clusters (the earliest member's canonical URL), so one syndicated story on five titles
is one cluster. The runner (:mod:`councilwatch.source_run`) calls :func:`cluster_news`.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime, timedelta

import numpy as np
from sqlalchemy import Engine

from db.news import NewsText, recent_news_texts, set_cluster_keys
from db.news_signatures import (
    forget_signatures,
    news_texts,
    save_signatures,
    sharing_bands,
    stored_shingles,
    unsigned_news,
)
from scraper.dedupe import Signer, StoryClusterer, WindowStory, clusters_around


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
