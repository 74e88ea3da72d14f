"""News end to end through the CLI: `fetch --source news` and `--source <feed>` on the
simulated publishers, storage on SQLite and PostgreSQL, runs recorded per feed, partial
stories retried a bounded number of times, syndicated copies clustered; `parse article`."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from db.engine import make_engine
from db.models import Document, DocumentRevision, FetchRun
from tests.cli import run_cli
from tests.news_sites import NewsSites
from tests.testweb import LocalWeb

NEWS = Path(__file__).resolve().parent / "sources" / "news"
DOCS = Document.__table__  # type: ignore[attr-defined]
REVS = DocumentRevision.__table__  # type: ignore[attr-defined]
RUNS = FetchRun.__table__  # type: ignore[attr-defined]
RETRY_LIMIT = 2
PUBLISHERS = ("oxfordmail", "men", "bbc-cumbria")
SYNDICATED = ("edp24", "norfolklive", "bbc-norfolk", "eveningnews")


@pytest.fixture
def sites(testweb: LocalWeb) -> NewsSites:
    return NewsSites(testweb, now=datetime.now(UTC)).install()


@pytest.fixture
def db(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


def write_config(tmp_path: Path, database_url: str, feeds: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(
        f'[database]\nurl = "{database_url}"\n'
        "[http]\nmin_interval_seconds = 0\nmax_attempts = 1\nunhealthy_after_failed_runs = 1\n"
        f"[sources.news]\narticle_retry_limit = {RETRY_LIMIT}\n" + feeds
    )
    return path


@pytest.fixture
def config_for(
    tmp_path: Path, database_url: str, sites: NewsSites, monkeypatch: pytest.MonkeyPatch
) -> Any:
    monkeypatch.delenv("COUNCILWATCH_DATABASE_URL", raising=False)

    def make(*names: str) -> Path:
        return write_config(tmp_path, database_url, sites.config_toml(*names))

    return make


def fetch(capsys: pytest.CaptureFixture[str], config: Path, source: str) -> Any:
    return run_cli(capsys, "--config", str(config), "fetch", "--source", source)


def news(engine: Engine) -> dict[str, Any]:
    with engine.connect() as connection:
        rows = connection.execute(select(DOCS).where(DOCS.c.source == "news")).all()
    return {row.source_key: row for row in rows}


def runs(engine: Engine) -> list[Any]:
    with engine.connect() as connection:
        return list(connection.execute(select(RUNS).order_by(RUNS.c.id)).all())


def test_publisher_feeds_store_each_story_once_per_canonical_url(
    sites: NewsSites, config_for: Any, db: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    config = config_for(*PUBLISHERS)
    result = fetch(capsys, config, "news")
    assert result.code == 0, result.err
    base = sites.base
    stored = news(db)
    heating = (
        f"{base}/men/news/greater-manchester-news/council-tenants-left-without-heating-28765432"
    )
    care = (
        f"{base}/oxfordmail/news/24567812.oxfordshire-county-council-apologises-lost-care-"
        "assessment/"
    )
    assert set(stored) == {
        care,
        f"{base}/oxfordmail/news/24568030.bus-lane-cameras-switched-botley-road/",
        f"{base}/oxfordmail/news/24566119.library-opening-hours-cut-three-branches/",
        heating,
        f"{base}/men/news/greater-manchester-news/plans-300-homes-near-wigan-28764100",
        f"{base}/bbc/news/articles/c4nn2x7yk8zo",
        f"{base}/bbc/news/uk-england-cumbria-68431207",
    }
    # every article page once; the .amp copy and the tracking forms never
    assert sites.article_requests() == Counter({path: 1 for path in sites.article_paths()
                                                if path.startswith(("/oxfordmail/", "/men/",
                                                                    "/bbc/news/articles/c4",
                                                                    "/bbc/news/uk-"))
                                                and not path.endswith(".amp")})
    row = stored[care]
    assert row.kind == "news" and row.url == care and not row.partial
    assert row.title == "Oxfordshire County Council apologises over lost care assessment"
    assert row.author == "Tom Hadley" and row.site_name == "Oxford Mail"
    assert row.published_at.replace(tzinfo=UTC) == datetime(2024, 3, 5, 9, 30, tzinfo=UTC)
    assert "retired bus driver" in row.body and "Most Read" not in row.body
    assert row.summary.startswith("A family waited eight months")
    assert row.extra["feeds"] == ["oxfordmail"] and row.extra["ldrs"] is True
    assert row.extra["publisher"] == "Oxford Mail" and row.extra["area"] == "Oxfordshire"
    assert row.extra["retries"] == 0 and row.extra["modified"].startswith("2024-03-05T11:02")
    assert stored[heating].extra["jsonld_type"] == "NewsArticle"
    assert row.cluster_key == care  # a story on one title is its own cluster
    recorded = runs(db)
    assert [(r.source, r.ok) for r in recorded] == [(name, True) for name in PUBLISHERS]
    assert [r.inserted for r in recorded] == [3, 2, 2]
    assert result.out.splitlines()[0].startswith("oxfordmail: ok, ")

    # a second run: every feed answers 304, nothing is stored, no article page is asked
    pages_before = sites.article_requests()
    feed_requests = len(sites.web.requests)
    result = fetch(capsys, config, "news")
    assert result.code == 0, result.err
    assert sites.article_requests() - pages_before == Counter({sites.wall_path: 1})  # retry
    assert len(sites.web.requests) - feed_requests == 1 + 3 + 1  # robots, 3 feeds, the retry
    second = runs(db)[3:]
    assert [r.stats["not_modified"] for r in second] == [True, True, True]
    assert [r.inserted for r in second] == [0, 0, 0]
