"""Find a publisher's feeds from its homepage.

Users know a paper's website, not its feed URL. Discovery tries, in order, and stops at the first
step that yields a working feed:

1. the homepage's ``<link rel="alternate">`` RSS/Atom links (what browsers and feed readers use);
2. the paths the big UK local publishers' platforms serve (Newsquest ``/news/rss/``, Reach
   ``/news/?service=rss``, National World ``/rss``, WordPress ``/feed/``, and the generic ones);
3. news sitemaps named by robots.txt ``Sitemap:`` lines (only those that list news entries).

A candidate counts only when it is fetched and parses as a feed with at least one item: a
homepage that links a dead feed, or a path that answers 200 with an HTML error page, is recorded
with the reason and passed over. Everything tried is kept in :class:`Discovery` so an operator
(``councilwatch feeds discover URL``) sees what was found and why.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit, urlunsplit

import lxml.html
from protego import Protego

from cwerrors import CouncilwatchError
from scraper.fetcher import FetchedPage
from scraper.news.feeds import Feed, parse_feed

__all__ = ["COMMON_PATHS", "Candidate", "Discovery", "discover_feeds", "feed_links", "site_root"]

# Platform paths, most specific first (each is tried only when step 1 found nothing).
COMMON_PATHS = (
    "/news/rss/",  # Newsquest titles
    "/news/?service=rss",  # Reach plc titles
    "/rss",  # National World titles
    "/feed/",  # WordPress (many independent local titles)
    "/rss.xml",
    "/feed",
    "/atom.xml",
    "/index.xml",
)
_FEED_TYPES = {
    "application/rss+xml": "rss",
    "application/atom+xml": "atom",
    "application/rdf+xml": "rss",
    "application/feed+json": "json",
    "text/xml": "rss",
    "application/xml": "rss",
}
# At most this many candidates are fetched: discovery must stay polite on a slow site.
MAX_CANDIDATES = 12


@dataclass(frozen=True)
class Candidate:
    """One URL that was tried, how it was found, and what came of it."""

    url: str
    found_by: str  # "link rel=alternate", "common path", "robots.txt sitemap"
    ok: bool
    reason: str  # "12 items (rss)", "HTTP 404", "not a feed: ..."
    kind: str | None = None  # the feed's kind when ok ("rss", "atom", "sitemap")
    title: str | None = None


@dataclass
class Discovery:
    """What discovering ``homepage`` found."""

    homepage: str
    site_name: str | None = None
    tried: list[Candidate] = field(default_factory=list)

    @property
    def feeds(self) -> list[Candidate]:
        return [c for c in self.tried if c.ok]


def site_root(url: str) -> str:
    """The homepage URL ``url`` belongs to, with a trailing slash."""
    if "://" not in url and ":" in url.split("/", 1)[0]:
        raise ValueError(f"not a web address: {url!r}")  # mailto:, tel:, javascript:
    parts = urlsplit(url if "://" in url else f"https://{url}")
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ValueError(f"not a web address: {url!r}")
    return urlunsplit((parts.scheme, parts.netloc, parts.path or "/", "", ""))


def feed_links(html: bytes, base_url: str) -> tuple[list[tuple[str, str]], str | None]:
    """The ``(url, kind)`` feeds a page advertises with ``<link rel="alternate">``, and the
    site's name (og:site_name, else the title), in page order and without repeats."""
    try:
        root = lxml.html.document_fromstring(html)
    except (ValueError, lxml.etree.ParserError):
        return [], None
    found: list[tuple[str, str]] = []
    for link in root.iter("link"):
        rel = {part.lower() for part in (link.get("rel") or "").split()}
        kind = _FEED_TYPES.get((link.get("type") or "").split(";")[0].strip().lower())
        href = (link.get("href") or "").strip()
        if "alternate" in rel and kind and href:
            url = urljoin(base_url, href)
            if url not in {u for u, _ in found} and urlsplit(url).scheme in {"http", "https"}:
                found.append((url, kind))
    name = None
    for meta in root.iter("meta"):
        if (meta.get("property") or "").lower() == "og:site_name" and meta.get("content"):
            name = meta.get("content", "").strip() or None
            break
    if name is None:
        title = root.findtext(".//title")
        name = " ".join(title.split()) if title and title.strip() else None
    return found, name


def discover_feeds(
    homepage: str, get: Callable[[str], FetchedPage], *, max_candidates: int = MAX_CANDIDATES
) -> Discovery:
    """Discover the feeds of the site at ``homepage`` using ``get`` (the polite client's ``get``
    or anything with that shape; it raises a :class:`~cwerrors.CouncilwatchError` on failure)."""
    root = site_root(homepage)
    found = Discovery(homepage=root)
    budget = [max_candidates]

    def attempt(url: str, found_by: str, kind: str = "auto") -> bool:
        if budget[0] <= 0 or any(c.url == url for c in found.tried):
            return False
        budget[0] -= 1
        found.tried.append(_try(url, found_by, kind, get))
        return found.tried[-1].ok

    page = _fetch(root, get)
    if isinstance(page, str):
        found.tried.append(Candidate(root, "homepage", False, page))
    else:
        links, found.site_name = feed_links(page.content, page.url)
        hits = [attempt(url, "link rel=alternate") for url, _kind in links]
        if any(hits):
            return found
    for path in COMMON_PATHS:
        if attempt(urljoin(root, path), "common path"):
            return found
    for sitemap in _robots_sitemaps(root, get):
        attempt(sitemap, "robots.txt sitemap", "sitemap")
    return found


def _fetch(url: str, get: Callable[[str], FetchedPage]) -> FetchedPage | str:
    try:
        return get(url)
    except CouncilwatchError as error:
        return str(error) or type(error).__name__


def _try(url: str, found_by: str, kind: str, get: Callable[[str], FetchedPage]) -> Candidate:
    page = _fetch(url, get)
    if isinstance(page, str):
        return Candidate(url, found_by, False, page)
    try:
        feed: Feed = parse_feed(page.content, page.url, kind=kind)
    except CouncilwatchError as error:
        return Candidate(url, found_by, False, f"not a feed: {error}")
    if kind == "sitemap" and not feed.items and not feed.sitemaps:
        return Candidate(url, found_by, False, "a sitemap with no news entries", feed.kind)
    if not feed.items and not feed.sitemaps:
        return Candidate(url, found_by, False, f"an empty {feed.kind} feed", feed.kind)
    count = f"{len(feed.items)} items" if feed.items else f"{len(feed.sitemaps)} sitemaps"
    return Candidate(page.url, found_by, True, f"{count} ({feed.kind})", feed.kind, feed.title)


def _robots_sitemaps(root: str, get: Callable[[str], FetchedPage]) -> list[str]:
    page = _fetch(urljoin(root, "/robots.txt"), get)
    if isinstance(page, str):
        return []
    robots = Protego.parse(page.content.decode("utf-8", "replace"))
    return [url for url in robots.sitemaps if "news" in url.lower()] or list(robots.sitemaps)[:2]
