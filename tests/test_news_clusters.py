"""Incremental news clustering (stored signatures, only new stories looked up) gives exactly
the clusters of re-clustering the whole window from scratch, run after run: stories arriving
late, backdated, undated, rewritten, copied from stories that have left the window, and
same-template stories that share the wording but not the facts."""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, func, select

from councilwatch.clustering import cluster_news, rebuild_clusters
from db.engine import make_engine
from db.ingest import DocumentRecord, upsert_documents
from db.tables import DOCUMENTS as DOCS
from db.tables import NEWS_SIGNATURES as SIGS
from tests.dbfixtures import fresh_database_url

WINDOW = timedelta(days=14)
START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
SYLLABLES = [c + v for c in "bdfgklmnprstvz" for v in "aeiou"]


class Newsroom:
    """Invented stories and their syndicated copies, deterministic from a seed."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.vocab = [
            "".join(self.rng.choices(SYLLABLES, k=self.rng.randint(1, 3))) for _ in range(3000)
        ]
        self.texts: dict[str, str] = {}
        self.dates: dict[str, datetime | None] = {}

    def words(self, n: int) -> list[str]:
        return self.rng.choices(self.vocab, k=n)

    def story(self, url: str, published: datetime | None) -> DocumentRecord:
        rng = self.rng
        if self.texts and rng.random() < 0.5:  # a copy of an earlier story, cut or extended
            base = self.texts[rng.choice(sorted(self.texts))].split()
            kind = rng.choice(["half", "intro", "footer", "same", "template"])
            if kind == "template":  # the same wording with its own facts: another story
                base = [f"£{rng.randrange(100, 9000):,}" if w.startswith("£") else w for w in base]
            elif kind == "half":
                base = base[: int(len(base) * rng.uniform(0.5, 0.7))]
            elif kind == "intro":
                base = self.words(30) + base[30:]
            elif kind == "footer":
                base = base + self.words(25)
            text = " ".join(base)
        else:
            words = self.words(rng.randint(8, 220))  # some too short to cluster
            for slot in range(7, len(words), 40):  # an amount, as a council story has
                words[slot] = f"£{rng.randrange(100, 9000):,}"
            text = " ".join(words)
        self.texts[url] = text
        self.dates[url] = published
        return self.record(url)

    def rewrite(self, url: str) -> DocumentRecord:
        words = self.texts[url].split()
        self.texts[url] = " ".join(self.words(len(words) // 2) + words[len(words) // 2 :])
        return self.record(url)

    def record(self, url: str) -> DocumentRecord:
        return DocumentRecord(
            kind="news",
            source="news",
            source_key=url,
            url=url,
            title=url,
            body=self.texts[url],
            published_at=self.dates[url],
        )


def cluster_keys(engine: Engine) -> dict[int, str | None]:
    with engine.connect() as connection:
        return dict(connection.execute(select(DOCS.c.id, DOCS.c.cluster_key)).all())  # type: ignore[arg-type]


@pytest.fixture(params=["sqlite", "postgresql"])
def two_stores(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Engine, Engine]]:
    with ExitStack() as stack:
        engines = []
        for name in ("incremental", "rebuilt"):
            urls = fresh_database_url(request.param, tmp_path_factory.mktemp(name))
            stack.callback(lambda urls=urls: next(urls, None))
            engine = make_engine(next(urls))
            stack.callback(engine.dispose)
            engines.append(engine)
        yield engines[0], engines[1]


@pytest.mark.parametrize("seed", range(4))
def test_incremental_clusters_equal_rebuilt_clusters(
    two_stores: tuple[Engine, Engine], seed: int
) -> None:
    incremental, rebuilt = two_stores
    room = Newsroom(seed)
    rng = room.rng
    now = START
    number = 0
    for _run in range(9):
        now += timedelta(days=rng.uniform(1, 6))
        batch = []
        for _ in range(rng.randint(5, 25)):
            number += 1
            roll = rng.random()
            if roll < 0.1:
                published = None  # undated: clustered by when it was first seen
            elif roll < 0.2:
                published = now - timedelta(days=rng.uniform(10, 30))  # backdated, maybe out
            else:
                published = now - timedelta(hours=rng.uniform(0, 72))
            batch.append(room.story(f"https://news.example/{seed}/{number}", published))
        if room.texts and rng.random() < 0.7:
            batch += [room.rewrite(url) for url in rng.sample(sorted(room.texts), 2)]
        since = now - WINDOW
        for engine, cluster in ((incremental, cluster_news), (rebuilt, rebuild_clusters)):
            report = upsert_documents(engine, batch, now=now)
            changed = {
                doc_id: key[1]
                for key, doc_id in report.ids.items()
                if doc_id in set(report.inserted) | set(report.updated)
            }
            cluster(engine, changed, since=since, window=WINDOW)
        assert cluster_keys(incremental) == cluster_keys(rebuilt)
    keys = [key for key in cluster_keys(incremental).values() if key is not None]
    assert len(keys) - len(set(keys)) >= 5, "the stories must form real clusters to compare"
    with incremental.connect() as connection:
        oldest = connection.execute(select(func.min(SIGS.c.stamp))).scalar_one()
    assert oldest is None or oldest.replace(tzinfo=UTC) >= since, "old signatures are dropped"
