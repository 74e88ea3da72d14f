"""Feeds found from a publisher's homepage, against a real local web server."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from scraper.fetch import PoliteClient
from scraper.fetcher import FetchedPage
from scraper.news.discover import discover_feeds, feed_links, site_root
from tests.news_sites import SimItem, rss
from tests.testweb import LocalWeb

WHEN = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
ITEMS = [
    SimItem("Parish council wins fight over closed footpath", "/news/1001.footpath/", WHEN,
            "Walkers can use the path again."),
    SimItem("Care home rated inadequate after inspection", "/news/1002.care-home/", WHEN,
            "Inspectors found staffing gaps."),
]


def _homepage(head: str = "", body: str = "") -> str:
    return (
        "<!doctype html><html><head><title>The Wensum Gazette | News</title>"
        '<meta property="og:site_name" content="Wensum Gazette">'
        f"{head}</head><body><h1>Latest</h1>{body}</body></html>"
    )


def _get(client: PoliteClient) -> Callable[[str], FetchedPage]:
    return lambda url: client.get(url, conditional=False)


def test_link_rel_alternate_is_used_first_and_a_dead_link_is_passed_over(
    testweb: LocalWeb, testweb_client: PoliteClient
) -> None:
    testweb.route("/", body=_homepage(
        '<link rel="alternate" type="application/rss+xml" href="/old/rss.xml">'
        '<link rel="alternate" type="application/rss+xml" title="News" href="news/feed.xml">'
    ), content_type="text/html")
    testweb.route("/old/rss.xml", status=410)
    testweb.route("/news/feed.xml", body=rss("Wensum Gazette", ITEMS, testweb.url("")),
                  content_type="application/rss+xml")
    found = discover_feeds(testweb.url("/"), _get(testweb_client))
    assert found.site_name == "Wensum Gazette"
    assert [c.url for c in found.feeds] == [testweb.url("/news/feed.xml")]
    assert found.feeds[0].reason == "2 items (rss)"
    dead = found.tried[0]
    assert dead.url == testweb.url("/old/rss.xml") and not dead.ok and "410" in dead.reason
    assert testweb.count("/news/rss/") == 0  # no guessing once the page said where its feed is


def test_platform_paths_when_the_page_links_no_feed(
    testweb: LocalWeb, testweb_client: PoliteClient
) -> None:
    testweb.route("/", body=_homepage(), content_type="text/html")
    # Reach-style: any section path + ?service=rss; /news/rss/ (Newsquest) is not there.
    testweb.route("/news/", body=rss("Gazette", ITEMS, testweb.url("")),
                  content_type="application/rss+xml")
    found = discover_feeds(testweb.url("/"), _get(testweb_client))
    assert [(c.url, c.found_by) for c in found.feeds] == [
        (testweb.url("/news/?service=rss"), "common path")
    ]
    assert [c.ok for c in found.tried] == [False, True]  # /news/rss/ 404 recorded; then stop


def test_an_html_page_at_a_feed_path_is_not_a_feed_and_robots_sitemaps_are_read(
    testweb: LocalWeb, testweb_client: PoliteClient
) -> None:
    testweb.route("/", body=_homepage(), content_type="text/html")
    testweb.route("/rss", body=_homepage(body="<p>Page not found</p>"), content_type="text/html")
    testweb.robots(f"User-agent: *\nAllow: /\nSitemap: {testweb.url('/sitemaps/news.xml')}\n")
    testweb.route("/sitemaps/news.xml", content_type="application/xml", body=(
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
        'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">'
        f"<url><loc>{testweb.url('/news/1001.footpath/')}</loc><news:news><news:publication>"
        "<news:name>Wensum Gazette</news:name><news:language>en</news:language>"
        "</news:publication><news:publication_date>2026-11-20T09:30:00Z</news:publication_date>"
        "<news:title>Parish council wins fight over closed footpath</news:title></news:news></url>"
        "</urlset>"
    ))
    found = discover_feeds(testweb.url("/"), _get(testweb_client))
    rss_path = next(c for c in found.tried if c.url == testweb.url("/rss"))
    assert not rss_path.ok and rss_path.reason.startswith("not a feed")
    assert [(c.url, c.kind, c.found_by) for c in found.feeds] == [
        (testweb.url("/sitemaps/news.xml"), "sitemap", "robots.txt sitemap")
    ]


def test_an_unreachable_homepage_is_recorded_and_paths_are_still_tried(
    testweb: LocalWeb, testweb_client: PoliteClient
) -> None:
    testweb.route("/", status=500)
    testweb.route("/feed/", body=rss("Gazette", ITEMS, testweb.url("")),
                  content_type="application/rss+xml")
    found = discover_feeds(testweb.url("/"), _get(testweb_client))
    assert not found.tried[0].ok and found.tried[0].found_by == "homepage"
    assert [c.url for c in found.feeds] == [testweb.url("/feed/")]


def test_nothing_found_says_what_was_tried(
    testweb: LocalWeb, testweb_client: PoliteClient
) -> None:
    testweb.route("/", body=_homepage(), content_type="text/html")
    found = discover_feeds(testweb.url("/"), _get(testweb_client), max_candidates=3)
    assert found.feeds == [] and len(found.tried) == 3  # bounded: a slow site is not hammered


@pytest.mark.parametrize(
    "markup",
    [
        '<LINK REL="Alternate" TYPE="application/rss+xml" HREF="/f.xml">',
        "<link href='/f.xml' type='application/rss+xml; charset=utf-8' rel='alternate home'>",
        '<link rel="alternate" type="application/atom+xml" href="https://x.example/f.xml">',
    ],
)
def test_feed_links_read_however_the_tag_is_written(markup: str) -> None:
    html = _homepage(head=markup).encode()
    links, name = feed_links(html, "https://x.example/")
    assert [url for url, _ in links] == ["https://x.example/f.xml"]
    assert name == "Wensum Gazette"
    # In the body instead of the head, and with other rels beside it.
    links, _ = feed_links(
        _homepage(body=markup + '<link rel="stylesheet" href="/s.css">').encode(),
        "https://x.example/",
    )
    assert [url for url, _ in links] == ["https://x.example/f.xml"]


def test_feed_links_ignore_non_feeds_and_bad_pages() -> None:
    html = _homepage(head='<link rel="alternate" hreflang="cy" href="/cy/">'
                     '<link rel="alternate" type="application/rss+xml" href="javascript:x">')
    assert feed_links(html.encode(), "https://x.example/")[0] == []
    assert feed_links(b"", "https://x.example/") == ([], None)


@pytest.mark.parametrize(
    ("given", "root"),
    [
        ("www.example-paper.co.uk", "https://www.example-paper.co.uk/"),
        ("https://www.example-paper.co.uk", "https://www.example-paper.co.uk/"),
        ("https://www.example-paper.co.uk/news/?x=1#top", "https://www.example-paper.co.uk/news/"),
    ],
)
def test_site_root(given: str, root: str) -> None:
    assert site_root(given) == root


@pytest.mark.parametrize("bad", ["ftp://x.example/", "https://", "mailto:a@b.example"])
def test_site_root_refuses_what_is_not_a_web_address(bad: str) -> None:
    with pytest.raises(ValueError, match="not a web address"):
        site_root(bad)


def test_cli_feeds_discover_prints_what_it_tried_and_stores_nothing(
    testweb: LocalWeb, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.cli import run_cli

    db = tmp_path / "never-created" / "cw.db"
    config = tmp_path / "config.toml"
    config.write_text(
        f'[database]\nurl = "sqlite:///{db}"\n[http]\nmin_interval_seconds = 0\nmax_attempts = 1\n'
    )
    testweb.route("/", body=_homepage(), content_type="text/html")
    testweb.route("/feed/", body=rss("Wensum Gazette", ITEMS, testweb.url("")),
                  content_type="application/rss+xml")
    result = run_cli(capsys, "--config", str(config), "feeds", "discover", testweb.url("/"))
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert lines[0] == f"{testweb.url('/')} (Wensum Gazette)"
    assert f"  found {testweb.url('/feed/')}  [common path] 2 items (rss)" in lines
    assert not db.parent.exists()

    testweb.route("/feed/", status=404)
    result = run_cli(capsys, "--config", str(config), "feeds", "discover", testweb.url("/"))
    assert result.code == 1
    # Log lines (one per request) go to stderr too; the error is the last line.
    assert result.err.strip().splitlines()[-1] == (
        f"error: no feed found at {testweb.url('/')} (8 addresses tried)"
    )
    result = run_cli(capsys, "--config", str(config), "feeds", "discover", "mailto:x@y.example")
    assert result.code == 1
    assert result.err.strip() == "error: not a web address: 'mailto:x@y.example'"


def _site(testweb: LocalWeb, feed_path: str, items: list[SimItem]) -> None:
    from tests.news_sites import article_page

    base = testweb.url("")
    testweb.route("/wensum/", content_type="text/html", body=_homepage(
        f'<link rel="alternate" type="application/rss+xml" href="{feed_path}">'
    ))
    testweb.route(feed_path, body=rss("Wensum Gazette", items, base),
                  content_type="application/rss+xml")
    for item in items:
        testweb.route(item.link, content_type="text/html", body=article_page(
            url=base + item.link, title=item.title, site_name="Wensum Gazette",
            author="A Reporter", published=item.published,
            paragraphs=[item.summary, "Norfolk County Council said it would respond in due "
                        "course, and councillors will discuss the matter next month."],
        ))


def test_a_publisher_given_only_by_its_homepage_is_read_and_rediscovered_when_its_feed_goes(
    testweb: LocalWeb, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    from sqlalchemy import select

    from db.engine import make_engine
    from db.tables import DOCUMENTS, FETCH_RUNS
    from tests.cli import run_cli

    site_items = [
        SimItem(i.title, "/wensum" + i.link, i.published, i.summary) for i in ITEMS
    ]
    _site(testweb, "/wensum/feed-v1.xml", site_items[:1])
    db = tmp_path / "cw.db"
    config = tmp_path / "config.toml"
    config.write_text(
        f'[database]\nurl = "sqlite:///{db}"\n[http]\nmin_interval_seconds = 0\n'
        'max_attempts = 1\n[[sources.news.feeds]]\nname = "wensum"\nkind = "site"\n'
        f'url = "{testweb.url("/wensum/")}"\npublisher = "Wensum Gazette"\n'
    )

    def fetch() -> None:
        result = run_cli(capsys, "--config", str(config), "fetch", "--source", "wensum")
        assert result.code == 0, result.err

    def stored() -> set[str]:
        engine = make_engine(f"sqlite:///{db}")
        with engine.connect() as connection:
            urls = {r.url for r in connection.execute(select(DOCUMENTS.c.url))}
            stats = [json.loads(r.stats) if isinstance(r.stats, str) else r.stats
                     for r in connection.execute(select(FETCH_RUNS.c.stats))]
        engine.dispose()
        runs_stats.append(stats[-1])
        return urls

    runs_stats: list[dict[str, object]] = []
    assert run_cli(capsys, "--config", str(config), "db", "upgrade").code == 0
    fetch()
    assert stored() == {testweb.url(site_items[0].link)}
    assert runs_stats[-1]["site_feeds"] == [[testweb.url("/wensum/feed-v1.xml"), "rss"]]
    assert any("found" in line for line in runs_stats[-1]["discovery"])  # type: ignore[attr-defined]

    fetch()  # the discovered feed is remembered: the homepage is not asked again
    assert testweb.count("/wensum/") == 1
    assert stored() == {testweb.url(site_items[0].link)}
    assert "discovery" not in runs_stats[-1]

    # The publisher moves its feed: the old one is gone, the homepage links the new one.
    testweb.route("/wensum/feed-v1.xml", status=410)
    _site(testweb, "/wensum/feed-v2.xml", site_items)
    fetch()
    assert stored() == {testweb.url(i.link) for i in site_items}
    assert testweb.count("/wensum/") == 2
    assert runs_stats[-1]["site_feeds"] == [[testweb.url("/wensum/feed-v2.xml"), "rss"]]


def test_followed_councils_bring_their_papers_and_stop_when_no_one_follows(
    testweb: LocalWeb, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    from sqlalchemy import select

    from db.engine import make_engine
    from db.tables import FETCH_RUNS
    from tests.cli import run_cli

    site_items = [SimItem(i.title, "/wensum" + i.link, i.published, i.summary) for i in ITEMS]
    _site(testweb, "/wensum/feed-v1.xml", site_items)
    db = tmp_path / "cw.db"
    config = tmp_path / "config.toml"
    config.write_text(
        f'[database]\nurl = "sqlite:///{db}"\n[http]\nmin_interval_seconds = 0\n'
        f'max_attempts = 1\n[sources.news]\nfollow_subscribed_councils = true\n'
        f'catalogue_file = "{tmp_path / "publishers.toml"}"\n'
    )
    papers = tmp_path / "papers.csv"
    # One paper given by its feed, one by its homepage only (discovered).
    papers.write_text(
        "name,publisher,homepage,councils,feeds\n"
        f"rutland-times,Rutland Times,{testweb.url('/wensum/')},rutland,"
        f"{testweb.url('/wensum/feed-v1.xml')}\n"
        f"rutland-site,Rutland Site,{testweb.url('/wensum/')},rutland,\n"
        f"island-paper,Island Paper,{testweb.url('/island/')},isle-of-wight,\n"
    )

    def cli(*args: str) -> str:
        result = run_cli(capsys, "--config", str(config), *args)
        assert result.code == 0, result.err
        return result.out

    def runs() -> list[str]:
        engine = make_engine(f"sqlite:///{db}")
        with engine.connect() as connection:
            names = [r.source for r in connection.execute(select(FETCH_RUNS.c.source))]
        engine.dispose()
        return names

    cli("db", "upgrade")
    cli("feeds", "import", str(papers))
    cli("fetch", "--source", "news")
    assert runs() == []  # nobody follows anything yet
    cli("subscribe", "reader@example.org", "--council", "Rutland", "--confirmed")
    cli("fetch", "--source", "news")
    assert sorted(runs()) == ["rutland-site", "rutland-times"]  # not the island's paper
    assert testweb.count("/island/") == 0
    listed = json.loads(cli("feeds", "list", "--json"))
    assert [(r["name"], r["origin"], r["healthy"], r["kind"]) for r in listed] == [
        ("rutland-times", "followed", True, "rss"),
        ("rutland-site", "followed", True, "site"),
    ]
    assert listed[0]["councils_30_days"] == [{"council": "Norfolk County Council", "stories": 2}]
    text = cli("feeds", "list")
    assert "rutland-site" in text and "(followed): healthy" in text
    cli("unsubscribe", "reader@example.org")
    cli("fetch", "--source", "news")
    assert len(runs()) == 2  # no follower: not read again
