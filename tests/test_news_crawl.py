"""The db-free news crawler on the local test web, with its memory in a dict."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta

import pytest

from scraper.fetch import PoliteClient
from scraper.news.crawl import FeedGone, FeedSource, MemoryArticleMemory, NewsCrawler, Story
from tests.news_sites import SimItem, article_page, rss
from tests.testweb import FakeClock, LocalWeb, make_client

NOW = datetime(2024, 3, 8, 12, 0, tzinfo=UTC)
PARAGRAPHS = [
    "Rutland County Council has agreed to repair the roof of the Oakham library after water "
    "came through the ceiling of the children's room during the storms in January this year.",
    "The work will cost about £85,000 and will be paid for from the council's building "
    "maintenance budget, according to a report to the cabinet on Tuesday afternoon.",
    "The library will stay open while the work is done, although the children's room will be "
    "closed for about three weeks and story time will move to the community hall.",
]


@pytest.fixture
def client(fake_clock: FakeClock) -> Iterator[PoliteClient]:
    with make_client(fake_clock, max_attempts=1) as made:
        yield made


class Harness:
    def __init__(self, web: LocalWeb, client: PoliteClient, retry_limit: int = 2) -> None:
        self.web = web
        self.memory = MemoryArticleMemory()
        self.batches: list[list[Story]] = []
        self.crawler = NewsCrawler(
            client, memory=self.memory, sink=self.sink, now=lambda: NOW, retry_limit=retry_limit
        )

    def sink(self, batch: Sequence[Story]) -> None:
        self.batches.append(list(batch))
        self.memory.store(batch)

    def stories(self) -> dict[str, Story]:
        return {story.url: story for batch in self.batches for story in batch}


def page(web: LocalWeb, path: str, title: str, published: datetime = NOW) -> bytes:
    return article_page(
        url=web.url(path),
        title=title,
        site_name="Rutland Times",
        author="Mo Ellis",
        published=published - timedelta(hours=1),
        paragraphs=PARAGRAPHS,
    )


def serve_feed(web: LocalWeb, path: str, items: list[SimItem]) -> None:
    body = rss("Rutland Times", items, web.base_url)
    web.route(
        path,
        body=body,
        etag='"' + hashlib.sha256(body).hexdigest()[:12] + '"',
        content_type="application/rss+xml",
    )


def item(path: str, title: str, published: datetime = NOW) -> SimItem:
    return SimItem(title, path, published, f"Summary of {title.lower()}.", "Mo Ellis")


def test_new_items_are_fetched_once_and_a_304_feed_costs_one_request(
    testweb: LocalWeb, client: PoliteClient
) -> None:
    roof, bins = "/news/24600001.library-roof/", "/news/24600002.bin-day-changes/"
    testweb.route(roof, body=page(testweb, roof, "Library roof to be repaired"))
    testweb.route(bins, body=page(testweb, bins, "Bin days change in April"))
    serve_feed(
        testweb,
        "/news/rss/",
        [
            item(roof + "?ref=rss", "Library roof to be repaired"),
            item(roof + "#comments", "Library roof to be repaired"),  # the same story again
            item(bins + "?utm_source=rss&utm_medium=feed", "Bin days change in April"),
        ],
    )
    harness = Harness(testweb, client)
    source = FeedSource("rutland", testweb.url("/news/rss/"), publisher="Rutland Times")
    report = harness.crawler.crawl(source)
    stories = harness.stories()
    assert set(stories) == {testweb.url(roof), testweb.url(bins)}
    roof_story = stories[testweb.url(roof)]
    assert not roof_story.partial and roof_story.feeds == ("rutland",)
    assert roof_story.title == "Library roof to be repaired" and "£85,000" in roof_story.text
    assert roof_story.published(NOW) == NOW - timedelta(hours=1)  # the page's date wins
    assert (report.items, report.known, report.articles_fetched, report.stored) == (2, 0, 2, 2)
    assert (testweb.count(roof), testweb.count(bins), testweb.count("/news/rss/")) == (1, 1, 1)

    again = harness.crawler.crawl(source)
    assert again.not_modified and again.stored == 0
    assert (testweb.count(roof), testweb.count(bins), testweb.count("/news/rss/")) == (1, 1, 2)

    # a changed feed: only the new story's page is asked
    fire = "/news/24600003.fire-station/"
    testweb.route(fire, body=page(testweb, fire, "Fire station plans"))
    serve_feed(
        testweb,
        "/news/rss/",
        [
            item(fire, "Fire station plans"),
            item(roof, "Library roof to be repaired"),
        ],
    )
    third = harness.crawler.crawl(source)
    assert (third.items, third.known, third.articles_fetched) == (2, 1, 1)
    assert (testweb.count(roof), testweb.count(fire)) == (1, 1)


@pytest.mark.parametrize(
    ("status", "failure"), [(403, "HTTP 403"), (503, "gave up after 1 attempt(s), last: HTTP 503")]
)
def test_an_unavailable_page_is_a_partial_story_retried_at_most_retry_limit_times(
    testweb: LocalWeb, client: PoliteClient, status: int, failure: str
) -> None:
    path = "/news/24600010.pool-closure/"
    testweb.route(path, status=status)
    serve_feed(testweb, "/news/rss/", [item(path, "Pool to close for repairs")])
    harness = Harness(testweb, client, retry_limit=2)
    source = FeedSource("rutland", testweb.url("/news/rss/"))
    retries = []
    for _ in range(4):
        harness.crawler.crawl(source)
        story = harness.stories()[testweb.url(path)]
        retries.append(story.retries)
        assert story.partial and story.text == "" and failure in (story.failure or "")
        assert story.title == "Pool to close for repairs"
        assert story.item.summary == "Summary of pool to close for repairs."
    assert retries == [0, 1, 2, 2]
    assert testweb.count(path) == 3  # the first attempt and two retries
    assert harness.crawler.report.failed_urls == []  # the fourth crawl asked nothing


def test_a_partial_story_is_retried_even_when_the_feed_dropped_it(
    testweb: LocalWeb, client: PoliteClient
) -> None:
    path = "/news/24600011.market-moves/"
    testweb.route(path, statuses=[403, 200], body=page(testweb, path, "Market moves"))
    serve_feed(testweb, "/news/rss/", [item(path, "Market moves")])
    harness = Harness(testweb, client)
    source = FeedSource("rutland", testweb.url("/news/rss/"))
    harness.crawler.crawl(source)
    serve_feed(testweb, "/news/rss/", [])
    report = harness.crawler.crawl(source)
    story = harness.stories()[testweb.url(path)]
    assert report.retried == 1 and not story.partial and story.retries == 0
    assert "£85,000" in story.text


def test_a_republished_story_is_fetched_again_but_a_wall_does_not_replace_its_text(
    testweb: LocalWeb, client: PoliteClient
) -> None:
    path = "/news/24600012.council-tax/"
    testweb.route(path, statuses=[200, 403], body=page(testweb, path, "Council tax rise"))
    serve_feed(testweb, "/news/rss/", [item(path, "Council tax rise", NOW - timedelta(hours=3))])
    harness = Harness(testweb, client)
    source = FeedSource("rutland", testweb.url("/news/rss/"))
    harness.crawler.crawl(source)
    serve_feed(testweb, "/news/rss/", [item(path, "Council tax rise", NOW)])
    report = harness.crawler.crawl(source)
    assert report.republished == 1 and testweb.count(path) == 2
    assert report.stored == 0 and not harness.stories()[testweb.url(path)].partial


def test_future_dates_are_not_believed(testweb: LocalWeb, client: PoliteClient) -> None:
    path = "/news/24600013.fete/"
    testweb.route(path, body=page(testweb, path, "Summer fete", NOW + timedelta(days=30)))
    serve_feed(testweb, "/news/rss/", [item(path, "Summer fete", NOW - timedelta(hours=2))])
    harness = Harness(testweb, client)
    harness.crawler.crawl(FeedSource("rutland", testweb.url("/news/rss/")))
    story = harness.stories()[testweb.url(path)]
    assert story.published(NOW) == NOW - timedelta(hours=2)  # the item's, not the page's


def test_a_story_listed_by_a_second_feed_is_reported_not_fetched(
    testweb: LocalWeb, client: PoliteClient
) -> None:
    path = "/news/24600014.new-mayor/"
    testweb.route(path, body=page(testweb, path, "New mayor chosen"))
    serve_feed(testweb, "/news/rss/", [item(path, "New mayor chosen")])
    serve_feed(testweb, "/politics/rss/", [item(path, "New mayor chosen")])
    harness = Harness(testweb, client)
    harness.crawler.crawl(FeedSource("news", testweb.url("/news/rss/")))
    report = harness.crawler.crawl(FeedSource("politics", testweb.url("/politics/rss/")))
    assert report.also_in_feed == [testweb.url(path)] and testweb.count(path) == 1


def test_google_news_items_are_discovered_and_their_links_never_fetched(
    testweb: LocalWeb, client: PoliteClient
) -> None:
    testweb.route(
        "/rss/search",
        body=(
            '<?xml version="1.0"?><rss version="2.0"><channel><title>Google News</title>'
            "<item><title>Rutland library roof repaired - Rutland Times</title>"
            f"<link>{testweb.url('/rss/articles/CBMiabc')}</link>"
            "<pubDate>Fri, 08 Mar 2024 07:12:00 GMT</pubDate>"
            '<source url="https://www.rutlandtimes.example">Rutland Times</source></item>'
            "</channel></rss>"
        ),
    )
    harness = Harness(testweb, client)
    report = harness.crawler.crawl(
        FeedSource("google", testweb.url("/rss/search"), kind="google-news")
    )
    [found] = report.discovered
    assert (found.title, found.source_name) == ("Rutland library roof repaired", "Rutland Times")
    assert report.stored == 0 and report.articles_fetched == 0 and harness.batches == []
    assert testweb.count("/rss/articles/CBMiabc") == 0


def news_sitemap(web: LocalWeb, paths: list[str]) -> str:
    entries = "".join(
        f"<url><loc>{web.url(p)}</loc><news:news><news:publication><news:name>Rutland Times"
        "</news:name><news:language>en</news:language></news:publication>"
        f"<news:publication_date>2024-03-08T06:00:00+00:00</news:publication_date>"
        f"<news:title>Story {i}</news:title></news:news></url>"
        for i, p in enumerate(paths)
    )
    return (
        '<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
        f'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">{entries}</urlset>'
    )


def test_sitemap_feed_reads_news_sitemaps_named_in_robots_txt(
    testweb: LocalWeb, client: PoliteClient
) -> None:
    story = "/news/24600020.parking/"
    testweb.route(story, body=page(testweb, story, "Parking charges"))
    testweb.robots(f"User-agent: *\nDisallow:\nSitemap: {testweb.url('/sitemaps/index.xml')}\n")
    testweb.route(
        "/sitemaps/index.xml",
        body=(
            '<?xml version="1.0"?><sitemapindex '
            'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            f"<sitemap><loc>{testweb.url('/sitemaps/news.xml')}</loc></sitemap>"
            "</sitemapindex>"
        ),
    )
    testweb.route("/sitemaps/news.xml", body=news_sitemap(testweb, [story + "?amp"]))
    harness = Harness(testweb, client)
    report = harness.crawler.crawl(FeedSource("site", testweb.url("/"), kind="sitemap"))
    assert set(harness.stories()) == {testweb.url(story)}
    assert report.sitemaps == [
        testweb.url("/sitemaps/index.xml"),
        testweb.url("/sitemaps/news.xml"),
    ]
    # robots.txt twice: the client's own rules check, and the crawler reading Sitemap: lines
    assert testweb.count("/robots.txt") == 2
    # a sitemap configured directly needs no robots.txt lookup of its own
    direct = harness.crawler.crawl(
        FeedSource("site", testweb.url("/sitemaps/news.xml"), kind="sitemap")
    )
    assert direct.sitemaps == [testweb.url("/sitemaps/news.xml")] and direct.known == 1
    assert testweb.count("/robots.txt") == 2


def test_a_moved_feed_is_reported_and_a_gone_one_raises(
    testweb: LocalWeb, client: PoliteClient
) -> None:
    path = "/news/24600030.bridge/"
    testweb.route(path, body=page(testweb, path, "Bridge reopens"))
    testweb.route("/old/rss/", redirect="/new/rss/", status=301)
    serve_feed(testweb, "/new/rss/", [item(path, "Bridge reopens")])
    testweb.route("/dead/rss/", status=410)
    harness = Harness(testweb, client)
    report = harness.crawler.crawl(FeedSource("moved", testweb.url("/old/rss/")))
    assert report.moved_to == testweb.url("/new/rss/") and report.stored == 1
    assert report.as_stats()["moved_to"] == testweb.url("/new/rss/")
    gone = FeedSource("dead", testweb.url("/dead/rss/"))
    for _ in range(2):
        with pytest.raises(FeedGone, match=r"^feed gone \(410\): remove it from config"):
            harness.crawler.crawl(gone)
    assert testweb.count("/dead/rss/") == 1  # the client remembers: no second request
