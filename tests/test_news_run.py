"""News end to end through the CLI: `fetch --source news` and `--source <feed>` on the
simulated publishers, storage on SQLite and PostgreSQL, runs recorded per feed, partial
stories retried a bounded number of times, syndicated copies clustered; `parse article`."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from councilwatch.source_run import fetch_runs
from cwerrors import CouncilwatchError
from db.engine import make_engine
from db.tables import DOCUMENT_REVISIONS as REVS
from db.tables import DOCUMENTS as DOCS
from db.tables import FETCH_RUNS as RUNS
from scraper.sources import registry
from tests.cli import run_cli
from tests.news_sites import SYNDICATION, NewsSites, SimItem, article_page
from tests.runtimes import make_runtime
from tests.testweb import LocalWeb

NEWS = Path(__file__).resolve().parent / "sources" / "news"
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
    assert sites.article_requests() == Counter(
        {
            path: 1
            for path in sites.article_paths()
            if path.startswith(("/oxfordmail/", "/men/", "/bbc/news/articles/c4", "/bbc/news/uk-"))
            and not path.endswith(".amp")
        }
    )
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


def test_syndicated_copies_form_one_cluster_and_google_news_records_sightings(
    sites: NewsSites, config_for: Any, db: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    # google first in the config: discovery feeds still run after the publishers
    config = config_for("google", *SYNDICATED)
    result = fetch(capsys, config, "news")
    assert result.code == 0, result.err
    stored = news(db)
    copies = [sites.base + path for path in sites.syndicated]
    original, other = copies[0], sites.base + sites.other_story
    assert {stored[url].cluster_key for url in copies} == {original}
    assert stored[other].cluster_key == other
    assert all(stored[url].extra["ldrs"] for url in copies)
    assert [r.source for r in runs(db)] == [*SYNDICATED, "google"]
    # the Google News item matched the original by title; its link was never followed
    assert stored[original].extra["also_seen_in"] == [
        {
            "feed": "google",
            "source": "Eastern Daily Press",
            "title": "Council told to pay £2,350 after boy left without school transport",
            "published": "2024-03-08T07:12:00+00:00",
        }
    ]
    google_run = runs(db)[-1]
    assert (google_run.stats["matched"], google_run.stats["unmatched"]) == (2, 0)
    # the same title from another outlet is a sighting of the same story
    assert [s["source"] for s in stored[other].extra["also_seen_in"]] == ["BBC"]
    assert google_run.requests == 1 and google_run.inserted == 0
    assert all("google" not in r.path for r in sites.web.requests if r.route != "/gnews/rss/search")


def test_a_late_original_renames_the_cluster_to_the_earliest_member(
    sites: NewsSites, config_for: Any, db: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    later = sites.base + sites.syndicated[1]
    assert fetch(capsys, config_for("norfolklive"), "norfolklive").code == 0
    assert fetch(capsys, config_for("eveningnews"), "eveningnews").code == 0
    assert {news(db)[later].cluster_key} == {later}
    assert news(db)[sites.base + sites.syndicated[3]].cluster_key == later
    # the original, published first, is fetched last: the whole cluster takes its name
    assert fetch(capsys, config_for("edp24"), "edp24").code == 0
    stored = news(db)
    original = sites.base + sites.syndicated[0]
    members = (sites.syndicated[0], sites.syndicated[1], sites.syndicated[3])
    assert [stored[sites.base + path].cluster_key for path in members] == [original] * 3


def test_consent_walled_article_is_partial_and_retried_a_bounded_number_of_times(
    sites: NewsSites, config_for: Any, db: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    config = config_for("oxfordmail")
    wall = sites.base + sites.wall_path
    for run in range(RETRY_LIMIT + 2):
        result = fetch(capsys, config, "oxfordmail")
        assert result.code == 0, result.err
        row = news(db)[wall]
        assert row.partial and row.body == ""
        assert row.title == "Bus lane cameras switched on in Botley Road"  # the feed's
        assert row.summary == "Drivers will be fined £70 from next week."
        assert row.published_at.replace(tzinfo=UTC) == datetime(2024, 3, 5, 7, 5, tzinfo=UTC)
        assert row.extra["retries"] == min(run, RETRY_LIMIT)
        # the first run and RETRY_LIMIT later runs ask the page, then no more
        assert sites.article_requests()[sites.wall_path] == min(run + 1, RETRY_LIMIT + 1)
    assert [r.failures for r in runs(db)] == [1, 1, 1, 0]


def test_a_partial_story_is_completed_when_the_wall_lifts(
    sites: NewsSites, config_for: Any, db: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    config = config_for("oxfordmail")
    wall = sites.base + sites.wall_path
    assert fetch(capsys, config, "oxfordmail").code == 0
    first_id = news(db)[wall].id
    sites.lift_wall()
    result = fetch(capsys, config, "oxfordmail")
    assert result.code == 0, result.err
    row = news(db)[wall]
    assert row.id == first_id and not row.partial and row.extra["retries"] == 0
    assert "warning letter" in row.body and row.author == "Priya Nair"
    with db.connect() as connection:
        [revision] = connection.execute(select(REVS).where(REVS.c.document_id == row.id)).all()
    assert revision.body == "" and revision.extra["retries"] == 0
    assert runs(db)[-1].updated == 1


def test_only_new_items_are_fetched_and_republished_stories_become_revisions(
    sites: NewsSites, config_for: Any, db: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    config = config_for("edp24")
    assert fetch(capsys, config, "edp24").code == 0
    before = sites.article_requests()
    path = "/edp24/news/24580333.norfolk-county-council-new-library/"
    published = sites.now - timedelta(hours=2)
    paragraphs = [
        "A new library will open in Attleborough next year, Norfolk County Council said, "
        "after it bought a former bank building on the high street for the purpose.",
        "The council expects the library to open six days a week and to host a weekly "
        "job club run with the town's college.",
    ]
    page = article_page(
        url=sites.base + path,
        title="New library for Attleborough",
        site_name="Eastern Daily Press",
        author="Sam Whitlock",
        published=published,
        paragraphs=paragraphs,
    )
    sites.add_item(
        "edp24",
        SimItem(
            "New library for Attleborough",
            path + "?ref=rss",
            published,
            "A former bank will become a library.",
        ),
        page,
    )
    assert fetch(capsys, config, "edp24").code == 0
    assert sites.article_requests() - before == Counter({path: 1})
    assert runs(db)[-1].inserted == 1 and runs(db)[-1].stats["known"] == 2

    other = sites.base + sites.other_story
    first = news(db)[other]
    updated = [
        *(SYNDICATION / "other_story.txt").read_text().split("\n\n"),
        "Update: the council has since said work will begin on the worst roads first.",
    ]
    sites.republish("edp24", sites.other_story, updated)
    assert fetch(capsys, config, "edp24").code == 0
    row = news(db)[other]
    assert row.id == first.id and "worst roads first" in row.body
    assert runs(db)[-1].updated == 1 and runs(db)[-1].stats["republished"] == 1
    with db.connect() as connection:
        [revision] = connection.execute(select(REVS).where(REVS.c.document_id == row.id)).all()
    assert revision.body == first.body


def test_sitemap_malformed_cp1252_and_moved_feeds(
    sites: NewsSites, config_for: Any, db: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    config = config_for("liverpoolecho", "hampshire", "wyre", "moved")
    result = fetch(capsys, config, "news")
    assert result.code == 0, result.err
    stored = news(db)
    base = sites.base
    echo = {key for key in stored if key.startswith(base + "/liverpoolecho/")}
    assert echo == {
        f"{base}/liverpoolecho/news/liverpool-news/council-housing-repairs-backlog-28770011",
        f"{base}/liverpoolecho/news/liverpool-news/wirral-council-leisure-centres-28769540",
        f"{base}/liverpoolecho/news/liverpool-news/sefton-school-places-28768801",
    }
    assert sites.web.count("/liverpoolecho/sport/") == 0  # a section sitemap is not news
    by_source = {r.source: r for r in runs(db)}
    assert by_source["liverpoolecho"].stats["sitemaps"] == [
        f"{base}/liverpoolecho/map_news.xml",
        f"{base}/liverpoolecho/map_sections.xml",
    ]
    # the malformed feed: what could be read is stored, with a warning in the run
    hampshire = by_source["hampshire"]
    assert hampshire.ok and hampshire.inserted == 3  # the item without a link is skipped
    assert any("malformed feed" in w for w in hampshire.stats["warnings"])
    assert "item 3 has no link; skipped" in hampshire.stats["warnings"]
    assert not any(stored[key].partial for key in stored if "/hampshire/" in key)
    # an old cp1252 page without a declared charset keeps its pound signs and quotes
    wyre = stored[f"{base}/wyre/news/council-tax-rise.html"]
    assert "about £90 more" in wyre.body and "“difficult choices”" in wyre.body
    # 301: the run works from the new address and tells the operator to update the config
    moved = by_source["moved"]
    assert moved.ok and moved.inserted == 1
    assert moved.stats["notice"] == f"feed moved to {base}/moved/news/feed/: update config"
    assert "feed moved to" in result.err
    assert fetch(capsys, config, "moved").code == 0
    assert sites.web.count("/moved/news/rss/") == 1  # the move is remembered


def test_gone_feed_fails_its_run_and_the_source_turns_unhealthy(
    sites: NewsSites, config_for: Any, db: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    config = config_for("gone", "wyre")
    result = fetch(capsys, config, "news")
    assert result.code == 1
    assert result.err.strip().splitlines()[-1] == (
        f"error: gone run failed: feed gone (410): remove it from config "
        f"(gone: {sites.base}/gone/news/rss/)"
    )
    assert "wyre: ok" in result.out  # the other feed's run goes on
    assert [(r.source, r.ok) for r in runs(db)] == [("gone", False), ("wyre", True)]
    status = run_cli(capsys, "--config", str(config), "status")
    assert "gone" in status.out and "unhealthy" in status.out.lower()


def test_unknown_feed_name_is_one_line_naming_the_configured_feeds(
    config_for: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    result = fetch(capsys, config_for("wyre", "moved"), "nosuch")
    assert result.code != 0
    known = ", ".join([*registry.names(), "wyre", "moved"])
    assert result.err.strip() == f"error: unknown source 'nosuch' (configured: {known})"


@pytest.mark.parametrize("source", ["news", "wyre"])
@pytest.mark.parametrize("dates", [("--since", "2026-01-01"), ("--until", "2026-01-01")])
def test_since_and_until_are_refused_for_news_in_one_line(
    config_for: Any, capsys: pytest.CaptureFixture[str], source: str, dates: tuple[str, str]
) -> None:
    config = config_for("wyre")
    result = run_cli(capsys, "--config", str(config), "fetch", "--source", source, *dates)
    assert (result.code, result.err) == (1, "error: --since and --until are not for news feeds\n")


@pytest.mark.parametrize(
    "name", ["newsquest_article", "reach_article_amp", "cp1252_article", "consent_wall"]
)
def test_parse_article_json_is_the_extraction_of_the_saved_page(
    name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    expected = json.loads((NEWS / f"{name}.json").read_text(encoding="utf-8"))
    result = run_cli(capsys, "parse", "article", str(NEWS / f"{name}.html"), "--json")
    assert result.code == 0, result.err
    assert json.loads(result.out) == expected  # the URL comes from the saved-from comment


def test_parse_article_lists_fields_and_text_and_takes_a_url(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    page = NEWS / "newsquest_article.html"
    result = run_cli(
        capsys,
        "parse",
        "article",
        str(page),
        "--url",
        "https://www.example.co.uk/news/99.story/?utm_source=x",
    )
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    title = "Oxfordshire County Council apologises over lost care assessment"
    assert lines[0] == f"title:         {title}"
    assert "author:        Tom Hadley" in lines and "ldrs:          yes" in lines
    # the page's rel=canonical wins over the URL given
    assert any(
        line.startswith("canonical_url: https://www.oxfordmail.co.uk/news/24567812.")
        for line in lines
    )
    assert "retired bus driver" in result.out
    missing = run_cli(capsys, "parse", "article", str(tmp_path / "nope.html"))
    assert missing.code != 0
    assert missing.err.strip() == (
        f"error: {tmp_path / 'nope.html'}: cannot read (No such file or directory)"
    )


def test_fetch_news_names_the_configured_feeds_when_asked_for_an_unknown_one(
    tmp_path: Path, database_url: str, sites: NewsSites
) -> None:
    runtime = make_runtime(database_url, tmp_path, toml=sites.config_toml("wyre", "moved"))
    try:
        with pytest.raises(CouncilwatchError) as caught:
            fetch_runs(runtime, "news", only=["wyre", "nosuch"])
        assert str(caught.value) == "unknown news feed 'nosuch' (configured feeds: wyre, moved)"
        assert runs(runtime.engine) == []  # nothing ran
    finally:
        runtime.close()
