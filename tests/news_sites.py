"""Simulated local news publishers on the local test web.

    sites = NewsSites(testweb, now=datetime.now(UTC)).install()
    config = sites.config_toml("oxfordmail", "men")   # [[sources.news.feeds]] entries
    ... councilwatch fetch --source news ...
    assert sites.article_requests() == {...}

Three publisher families, each at its own path prefix on the one local host, serving the news
fixtures (tests/sources/news, their hosts rewritten to the local server) and pages generated
here:

- Newsquest-like: ``/<title>/news/rss/``, article URLs ``/<title>/news/<8 digits>.<slug>/``,
  feed links carrying ``?ref=rss`` or a ``#comments`` fragment (titles oxfordmail, edp24,
  eveningnews);
- Reach-like: ``/<title>/news/?service=rss``, article URLs ending ``-<8 digits>``, feed links
  carrying ``utm_*`` parameters or pointing at the ``.amp`` copy (titles men, norfolklive);
- BBC-like: ``/bbc/news/england/<area>/rss.xml`` with ``?at_medium=RSS&at_campaign=rss`` links.

Plus a Google News search feed, a sitemap-only publisher found through robots.txt, a malformed
feed, a feed answering 410, one answering 301, a consent-walled article (until
:meth:`lift_wall`) and an old cp1252 page. The syndication set puts one LDRS story on four
titles (original on edp24, rewritten intro on norfolklive, truncated on bbc-norfolk, with a
footer on eveningnews) and a different story on the same council on edp24.

Every feed answers conditional GETs with an ETag of its content, so an unchanged feed costs a
304. Every request is recorded by the test web; :meth:`article_requests` counts article pages.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from html import escape
from pathlib import Path

from tests.testweb import LocalWeb, Reply, Request

NEWS = Path(__file__).resolve().parent / "sources" / "news"
FEEDS = NEWS / "feeds"
SYNDICATION = NEWS / "syndication"
GOOGLE_FEED_PATH = "/gnews/rss/search"

# The fixtures' real hosts, each mapped to a path prefix on the local server.
HOSTS = {
    "https://www.oxfordmail.co.uk": "/oxfordmail",
    "https://www.manchestereveningnews.co.uk": "/men",
    "https://www.bbc.co.uk": "/bbc",
    "https://www.liverpoolecho.co.uk": "/liverpoolecho",
    "https://www.hampshirechronicle.co.uk": "/hampshire",
    "http://www.wyreweekly.example": "/wyre",
}


@dataclass
class SimItem:
    """One feed item; ``link`` is what the feed says (tracking and AMP forms included)."""

    title: str
    link: str  # a path on the local server, with whatever decoration the feed adds
    published: datetime
    summary: str
    author: str | None = None


@dataclass
class SimFeed:
    name: str
    path: str  # without query
    publisher: str
    area: str | None = None
    kind: str = "rss"
    query: str = ""  # Reach feeds: "service=rss"
    items: list[SimItem] = field(default_factory=list)
    static: bytes | None = None  # a fixture feed served as is (hosts rewritten)


def _rewrite(content: bytes, base: str) -> bytes:
    for host, prefix in HOSTS.items():
        content = content.replace(host.encode(), (base + prefix).encode())
    return content


def _etag(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:16] + '"'


def rss(title: str, items: list[SimItem], base: str) -> bytes:
    """An RSS 2.0 feed of ``items``, links made absolute on ``base``."""
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel>'
        f"<title>{escape(title)}</title><link>{base}/</link><description>Latest news"
        "</description><ttl>15</ttl>"
    ]
    for item in items:
        author = f"<dc:creator>{escape(item.author)}</dc:creator>" if item.author else ""
        parts.append(
            f"<item><title>{escape(item.title)}</title>"
            f"<link>{escape(base + item.link)}</link>"
            f"<description>{escape(item.summary)}</description>"
            f"<pubDate>{format_datetime(item.published, usegmt=True)}</pubDate>{author}"
            f'<guid isPermaLink="false">{escape(item.link)}</guid></item>'
        )
    parts.append("</channel></rss>")
    return "".join(parts).encode()


def article_page(
    *,
    url: str,
    title: str,
    site_name: str,
    author: str,
    published: datetime,
    paragraphs: list[str],
    kind: str = "NewsArticle",
) -> bytes:
    """A server-rendered article page with JSON-LD, Open Graph and page furniture."""
    ld = {
        "@context": "https://schema.org",
        "@type": kind,
        "headline": title,
        "datePublished": published.isoformat(),
        "author": {"@type": "Person", "name": author},
        "publisher": {"@type": "Organization", "name": site_name},
        "mainEntityOfPage": url,
    }
    body = "\n".join(f"<p>{escape(p)}</p>" for p in paragraphs)
    return f"""<!DOCTYPE html>
<html lang="en-GB"><head><meta charset="utf-8">
<title>{escape(title)} | {escape(site_name)}</title>
<link rel="canonical" href="{escape(url)}">
<meta property="og:title" content="{escape(title)}">
<meta property="og:site_name" content="{escape(site_name)}">
<script type="application/ld+json">{json.dumps(ld)}</script>
</head><body>
<header><a href="/">{escape(site_name)}</a> <nav><a href="/news/">News</a></nav></header>
<main><article>
<h1>{escape(title)}</h1>
<p class="byline">By {escape(author)}</p>
<figure><img src="/img/1.jpg" alt=""><figcaption>The county hall offices</figcaption></figure>
{body}
</article>
<aside class="most-read"><h2>Most Read</h2><ul><li><a href="/x">Road closed for a week</a></li>
</ul></aside></main>
<footer>All rights reserved</footer>
</body></html>""".encode()


def _paragraphs(name: str) -> list[str]:
    text = (SYNDICATION / name).read_text(encoding="utf-8")
    return [" ".join(p.split()) for p in text.split("\n\n") if p.strip()]


class NewsSites:
    """The simulated publishers; see the module docstring."""

    def __init__(self, web: LocalWeb, *, now: datetime) -> None:
        self.web = web
        self.base = web.base_url
        self.now = now.astimezone(UTC).replace(microsecond=0)
        self.feeds: dict[str, SimFeed] = {}
        self.articles: dict[str, bytes] = {}  # path -> page
        self.walled = True

    # -- set-up ------------------------------------------------------------------------------

    def install(self) -> NewsSites:
        self._fixture_feeds()
        self._syndication()
        self._special_feeds()
        self.web.robots(
            "User-agent: *\nDisallow: /private/\n\n"
            f"Sitemap: {self.base}/liverpoolecho/map_news.xml\n"
            f"Sitemap: {self.base}/liverpoolecho/map_sections.xml\n"
        )
        for feed in self.feeds.values():
            self._serve_feed(feed)
        for path in self.articles:
            self._serve_article(path)
        self._serve_article(self.wall_path)
        return self

    def _fixture(self, name: str) -> bytes:
        return _rewrite((NEWS / name).read_bytes(), self.base)

    def _fixture_feeds(self) -> None:
        base = self.base
        self.feeds["oxfordmail"] = SimFeed(
            "oxfordmail",
            "/oxfordmail/news/rss/",
            "Oxford Mail",
            "Oxfordshire",
            static=_rewrite((FEEDS / "newsquest_rss.xml").read_bytes(), base),
        )
        self.articles[
            "/oxfordmail/news/24567812.oxfordshire-county-council-apologises-lost-care-assessment/"
        ] = self._fixture("newsquest_article.html")
        self.wall_path = "/oxfordmail/news/24568030.bus-lane-cameras-switched-botley-road/"
        library = "/oxfordmail/news/24566119.library-opening-hours-cut-three-branches/"
        self.articles[library] = self._generated(
            library,
            "Library opening hours cut at three branches",
            "Oxford Mail",
            "Priya Nair",
            [
                "Three branch libraries in Oxford will open on fewer days from April after "
                "Oxfordshire County Council agreed savings in its library service.",
                "Campaigners said the change would hit families who rely on the libraries for "
                "homework clubs and free internet access in the evenings.",
                "The council said mobile library visits would continue and that volunteers "
                "could help to keep one branch open on Saturday mornings.",
            ],
            published=datetime(2024, 3, 4, 18, 45, tzinfo=UTC),
        )

        self.feeds["men"] = SimFeed(
            "men",
            "/men/news/",
            "Manchester Evening News",
            "Greater Manchester",
            query="service=rss",
            static=_rewrite((FEEDS / "reach_rss.xml").read_bytes(), base),
        )
        heating = "/men/news/greater-manchester-news/council-tenants-left-without-heating-28765432"
        self.articles[heating] = self._fixture("reach_article.html")
        self.articles[heating + ".amp"] = self._fixture("reach_article_amp.html")
        homes = "/men/news/greater-manchester-news/plans-300-homes-near-wigan-28764100"
        self.articles[homes] = self._generated(
            homes,
            "Plans for 300 homes near Wigan approved despite objections",
            "Manchester Evening News",
            "Liam Foster",
            [
                "Wigan Council's planning committee has approved plans for 300 homes on "
                "farmland near Standish despite more than 200 objections from residents.",
                "Councillors voted seven to four in favour after the developer agreed to pay "
                "towards a new crossing and extra places at the local primary school.",
                "Objectors said the roads around the site already flood after heavy rain.",
            ],
            published=datetime(2024, 3, 6, 11, 0, tzinfo=UTC),
        )

        self.feeds["bbc-cumbria"] = SimFeed(
            "bbc-cumbria",
            "/bbc/news/england/cumbria/rss.xml",
            "BBC News",
            "Cumbria",
            static=_rewrite((FEEDS / "bbc_rss.xml").read_bytes(), base),
        )
        self.articles["/bbc/news/articles/c4nn2x7yk8zo"] = self._fixture("bbc_article.html")
        flood = "/bbc/news/uk-england-cumbria-68431207"
        self.articles[flood] = self._generated(
            flood,
            "Carlisle flood defence works to start in spring",
            "BBC News",
            "Anna Reid",
            [
                "Work on new flood defences along the River Petteril in Carlisle will start "
                "in the spring, the Environment Agency has said.",
                "The scheme is expected to protect about 400 homes and businesses which "
                "flooded twice in the last ten years.",
                "Cumberland Council will close part of a riverside path while the walls are "
                "built and has promised a diversion for cyclists.",
            ],
            published=datetime(2024, 3, 6, 19, 20, tzinfo=UTC),
        )

    def _syndication(self) -> None:
        """One LDRS story on four titles, and a different story on the same council."""
        hours = [timedelta(hours=h) for h in (30, 29, 27, 26, 20)]
        title = "Council told to pay £2,350 after boy left without school transport"
        summary = "A watchdog found a series of avoidable failures in the case."
        placements = [
            (
                "edp24",
                "Eastern Daily Press",
                "/edp24/news/rss/",
                "/edp24/news/24580001.council-told-pay-boy-left-without-school-transport/",
                title,
                "original.txt",
                "Norfolk",
            ),
            (
                "norfolklive",
                "Norfolk Live",
                "/norfolklive/news/",
                "/norfolklive/news/norfolk-news/family-wins-school-transport-complaint-28790001",
                "Family wins complaint after disabled son missed school transport",
                "rewritten_intro.txt",
                "Norfolk",
            ),
            (
                "bbc-norfolk",
                "BBC News",
                "/bbc/news/england/norfolk/rss.xml",
                "/bbc/news/articles/c7pq2ldrs01o",
                "Norfolk council to pay family over school transport failings",
                "first_half.txt",
                "Norfolk",
            ),
            (
                "eveningnews",
                "Norwich Evening News",
                "/eveningnews/news/rss/",
                "/eveningnews/news/24580950.norfolk-county-council-pay-school-transport/",
                "Norfolk County Council must pay £2,350 over school transport",
                "with_footer.txt",
                "Norfolk",
            ),
        ]
        self.syndicated: list[str] = []
        for (name, site, feed_path, path, headline, text, area), ago in zip(
            placements, hours, strict=False
        ):
            published = self.now - ago
            self.articles[path] = self._generated(
                path,
                headline,
                site,
                "Jane Corbett, Local Democracy Reporting Service",
                _paragraphs(text),
                published=published,
            )
            feed = self.feeds.setdefault(
                name,
                SimFeed(
                    name,
                    feed_path,
                    site,
                    area,
                    query="service=rss" if name == "norfolklive" else "",
                ),
            )
            link = path + ("?ref=rss" if name in ("edp24", "eveningnews") else "")
            if name == "norfolklive":
                link = path + ".amp?utm_source=rss&utm_medium=feed"
            if name == "bbc-norfolk":
                link = path + "?at_medium=RSS&at_campaign=rss"
            feed.items.append(SimItem(headline, link, published, summary, "Jane Corbett"))
            self.syndicated.append(path)
        other = "/edp24/news/24580207.norfolk-county-council-extra-6m-potholes/"
        published = self.now - hours[4]
        self.articles[other] = self._generated(
            other,
            "Extra £6m for Norfolk pothole repairs",
            "Eastern Daily Press",
            "Sam Whitlock",
            _paragraphs("other_story.txt"),
            published=published,
        )
        self.other_story = other
        self.feeds["edp24"].items.append(
            SimItem(
                "Extra £6m for Norfolk pothole repairs",
                other,
                published,
                "Rural roads will be resurfaced.",
                "Sam Whitlock",
            )
        )

    def _special_feeds(self) -> None:
        base = self.base
        self.feeds["google"] = SimFeed(
            "google",
            GOOGLE_FEED_PATH,
            "Google News",
            kind="google-news",
            static=(FEEDS / "google_news.xml").read_bytes(),  # its links stay on news.google.com
        )
        self.feeds["liverpoolecho"] = SimFeed(
            "liverpoolecho",
            "/liverpoolecho/",
            "Liverpool Echo",
            "Merseyside",
            kind="sitemap",
        )
        self.web.route(
            "/liverpoolecho/map_news.xml",
            body=_rewrite((FEEDS / "news_sitemap.xml").read_bytes(), base),
            content_type="application/xml",
        )
        # a general sitemap: every section page, no news entries; never crawled from
        self.web.route(
            "/liverpoolecho/map_sections.xml",
            body=(
                '<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
                f"<url><loc>{base}/liverpoolecho/sport/</loc></url>"
                f"<url><loc>{base}/liverpoolecho/whats-on/</loc></url></urlset>"
            ),
            content_type="application/xml",
        )
        for slug, headline in (
            (
                "council-housing-repairs-backlog-28770011",
                "Liverpool City Council housing repairs backlog tops 5,000",
            ),
            (
                "wirral-council-leisure-centres-28769540",
                "Wirral Council to keep two leisure centres open for another year",
            ),
            (
                "sefton-school-places-28768801",
                "Sefton Council short of primary school places in Southport",
            ),
        ):
            path = f"/liverpoolecho/news/liverpool-news/{slug}"
            self.articles[path] = self._generated(
                path,
                headline,
                "Liverpool Echo",
                "Dan Carroll",
                [
                    f"{headline}, according to figures seen by the Echo this week.",
                    "Councillors will discuss the figures at a scrutiny meeting later this "
                    "month, where officers are expected to set out a plan to catch up.",
                    "Residents who are affected can contact their ward councillor or the "
                    "council's customer service centre for advice in the meantime.",
                ],
                published=datetime(2024, 3, 7, 12, 0, tzinfo=UTC),
            )

        self.feeds["hampshire"] = SimFeed(
            "hampshire",
            "/hampshire/news/rss/",
            "Hampshire Chronicle",
            "Hampshire",
            static=_rewrite((FEEDS / "malformed.xml").read_bytes(), base),
        )
        for slug, headline in (
            (
                "24571100.winchester-city-council-approves-new-car-park-charges",
                "Winchester City Council approves new car park charges",
            ),
            (
                "24571045.fish-chip-shop-plans-turned-test-valley",
                "Fish & chip shop plans turned down by Test Valley Borough Council",
            ),
            (
                "24570777.eastleigh-borough-council-leader-step",
                "Eastleigh Borough Council leader to step down",
            ),
        ):
            path = f"/hampshire/news/{slug}/"
            self.articles[path] = self._generated(
                path,
                headline,
                "Hampshire Chronicle",
                "Kit Morley",
                [
                    f"{headline}, it was confirmed at a meeting on Thursday evening.",
                    "Members of the public spoke for and against the decision, and the "
                    "committee's chair thanked everyone who had written in about it.",
                    "The council said more details would be published on its website.",
                ],
                published=datetime(2024, 3, 8, 9, 0, tzinfo=UTC),
            )

        self.feeds["wyre"] = SimFeed(
            "wyre",
            "/wyre/rss.xml",
            "Wyre Forest Weekly",
            "Worcestershire",
            items=[
                SimItem(
                    "Council tax to rise by 4.99% in Wyre Forest",
                    "/wyre/news/council-tax-rise.html",
                    datetime(2024, 2, 22, 9, 0, tzinfo=UTC),
                    "Band D bills rise in April.",
                )
            ],
        )
        self.web.route(
            "/wyre/news/council-tax-rise.html",
            body=self._fixture("cp1252_article.html"),
            content_type="text/html",  # no charset: the page's own meta says windows-1252
        )

        self.web.route("/gone/news/rss/", status=410)
        self.feeds["moved"] = SimFeed(
            "moved",
            "/moved/news/feed/",
            "Moved Gazette",
            "Kent",
            items=[
                SimItem(
                    "Kent County Council opens new recycling centre",
                    "/moved/news/24590001.kent-recycling-centre/",
                    self.now - timedelta(hours=5),
                    "The site replaces two older ones.",
                )
            ],
        )
        self.web.route("/moved/news/rss/", redirect="/moved/news/feed/", status=301)
        self.articles["/moved/news/24590001.kent-recycling-centre/"] = self._generated(
            "/moved/news/24590001.kent-recycling-centre/",
            "Kent County Council opens new recycling centre",
            "Moved Gazette",
            "Ruth Ade",
            [
                "A new household recycling centre has opened near Ashford, replacing two "
                "smaller sites that Kent County Council closed last year.",
                "Visitors will need to book a slot online for vans and trailers.",
            ],
            published=self.now - timedelta(hours=5),
        )

    def _generated(
        self,
        path: str,
        title: str,
        site_name: str,
        author: str,
        paragraphs: list[str],
        *,
        published: datetime,
    ) -> bytes:
        return article_page(
            url=self.base + path,
            title=title,
            site_name=site_name,
            author=author,
            published=published,
            paragraphs=paragraphs,
        )

    # -- serving -----------------------------------------------------------------------------

    def feed_url(self, name: str) -> str:
        feed = self.feeds.get(name)
        if feed is None:  # the 410 feed has no items to keep
            return self.base + "/gone/news/rss/"
        if name == "moved":
            return self.base + "/moved/news/rss/"  # the old address, answering 301
        return self.base + feed.path + (f"?{feed.query}" if feed.query else "")

    def feed_body(self, feed: SimFeed) -> bytes:
        if feed.static is not None:
            return feed.static
        return rss(f"{feed.publisher} | News", feed.items, self.base)

    def _serve_feed(self, feed: SimFeed) -> None:
        if feed.kind == "sitemap":
            return
        body = self.feed_body(feed)
        if not feed.query:
            self.web.route(
                feed.path,
                body=body,
                etag=_etag(body),
                content_type="application/rss+xml; charset=utf-8",
            )
            return

        def answer(request: Request, body: bytes = body, query: str = feed.query) -> Reply:
            key, _, value = query.partition("=")
            if request.query.get(key) != value:
                return Reply(body="a section front page", status=200)
            etag = _etag(body)
            if request.headers.get("If-None-Match") == etag:
                return Reply(status=304, headers={"ETag": etag})
            return Reply(body=body, content_type="application/rss+xml", headers={"ETag": etag})

        self.web.route(feed.path, handler=answer)

    def _serve_article(self, path: str) -> None:
        if path == self.wall_path:
            self.web.route(path, handler=self._walled)
        else:
            self.web.route(path, body=self.articles[path])

    def _walled(self, request: Request) -> Reply:
        if self.walled:
            return Reply(body=self._fixture("consent_wall.html"))
        return Reply(
            body=self._generated(
                self.wall_path,
                "Bus lane cameras switched on in Botley Road",
                "Oxford Mail",
                "Priya Nair",
                [
                    "Cameras enforcing the Botley Road bus lane in Oxford have been switched "
                    "on, and drivers who use the lane will be fined £70 from next week.",
                    "Oxfordshire County Council said a warning letter would be sent for a first "
                    "offence during the first month instead of a fine.",
                    "Traders on the road said they had not been told which hours the lane "
                    "would operate and asked for clearer signs at each end.",
                ],
                published=datetime(2024, 3, 5, 7, 5, tzinfo=UTC),
            )
        )

    # -- scripting ---------------------------------------------------------------------------

    def lift_wall(self) -> None:
        self.walled = False

    def add_item(self, feed_name: str, item: SimItem, page: bytes) -> None:
        """Publish a new story: its page goes up and the feed lists it (a new ETag)."""
        feed = self.feeds[feed_name]
        path = item.link.split("?")[0]
        self.articles[path] = page
        self._serve_article(path)
        feed.items.insert(0, item)
        self._serve_feed(feed)

    def republish(self, feed_name: str, path: str, paragraphs: list[str]) -> None:
        """The story at ``path`` is updated: new text, and the feed dates it an hour later."""
        feed = self.feeds[feed_name]
        item = next(i for i in feed.items if i.link.split("?")[0].removesuffix(".amp") == path)
        item.published += timedelta(hours=1)
        self.articles[path] = self._generated(
            path,
            item.title,
            feed.publisher,
            item.author or "Staff",
            paragraphs,
            published=item.published - timedelta(hours=1),
        )
        self._serve_article(path)
        self._serve_feed(feed)

    def config_toml(self, *names: str) -> str:
        """``[[sources.news.feeds]]`` entries for the named feeds (every feed when none)."""
        chosen = names or ("gone", *self.feeds)
        out = []
        for name in chosen:
            feed = self.feeds.get(name)
            kind = feed.kind if feed else "rss"
            url = self.feed_url(name)
            if feed is not None and feed.kind == "sitemap":
                url = self.base + feed.path
            publisher = f'publisher = "{feed.publisher}"\n' if feed else ""
            area = f'area = "{feed.area}"\n' if feed and feed.area else ""
            out.append(
                f'[[sources.news.feeds]]\nname = "{name}"\nurl = "{url}"\nkind = "{kind}"\n'
                f"{publisher}{area}"
            )
        return "".join(out)

    def article_paths(self) -> set[str]:
        return {*self.articles, self.wall_path}

    def article_requests(self) -> Counter[str]:
        """Requests for article pages (any path under an article route), by path."""
        paths = self.article_paths()
        return Counter(r.route for r in self.web.requests if r.route in paths)
