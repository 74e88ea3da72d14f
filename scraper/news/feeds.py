"""News feeds: RSS 0.9x/1.0/2.0, Atom, Google News search feeds and news sitemaps.

feedparser reads the bytes our polite client fetched (never its own fetching: it is always given
a stream, so a string that looks like a URL or file name is never opened). Malformed feeds yield
what can be read plus a warning, as feedparser's "bozo" flag intends; only input in which nothing
at all is a feed raises :class:`~cwerrors.ParseError`.
"""

from __future__ import annotations

import calendar
import gzip
import io
import re
import time
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import feedparser
import lxml.html
from lxml import etree
from protego import Protego

from cwerrors import ParseError
from cwerrors.numbers import ascii_int
from scraper.urls import canonical_url

KINDS = ("rss", "atom", "sitemap", "google-news")
GOOGLE_NEWS_HOST = "news.google.com"
# A gzipped sitemap is inflated at most to this size (sitemaps are capped at 50 MB by the spec).
MAX_SITEMAP_BYTES = 50 * 1024 * 1024

_SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
_NEWS_NS = "http://www.google.com/schemas/sitemap-news/0.9"
_SITEMAP_SNIFF = re.compile(rb"<(?:\w+:)?(urlset|sitemapindex)\b")
_SPACES = re.compile(r"\s+")
_UPDATE_PERIOD_MINUTES = {
    "hourly": 60,
    "daily": 1440,
    "weekly": 10080,
    "monthly": 43200,
    "yearly": 525600,
}


@dataclass(frozen=True)
class FeedItem:
    """One item of a feed; ``url`` is already canonical (tracking parameters removed)."""

    title: str
    url: str
    published: datetime | None  # aware, UTC
    summary: str
    author: str | None
    guid: str | None
    source_name: str | None  # Google News <source>, news sitemap publication name
    discovery_only: bool  # True: never fetch ``url`` (Google News links are opaque redirects)


@dataclass(frozen=True)
class Feed:
    title: str | None
    items: list[FeedItem]
    warnings: list[str]
    ttl_minutes: int | None
    kind: str  # one of KINDS
    # child sitemaps named by a sitemap index (empty for everything else)
    sitemaps: list[str] = field(default_factory=list)


def parse_feed(content: bytes, url: str, *, kind: str = "auto") -> Feed:
    """Parse feed bytes fetched from ``url``. ``kind``: "auto" or one of :data:`KINDS`."""
    if kind != "auto" and kind not in KINDS:
        raise ValueError(f"unknown feed kind {kind!r}; expected 'auto' or one of {KINDS}")
    if content[:2] == b"\x1f\x8b":
        content = _gunzip(content, url)
    if kind == "sitemap" or (kind == "auto" and _SITEMAP_SNIFF.search(content[:4096])):
        return _parse_sitemap(content, url)
    return _parse_syndication(content, url, kind)


def sitemaps_from_robots(robots_txt: str) -> list[str]:
    """Absolute http(s) ``Sitemap:`` URLs of a robots.txt, in order, without repeats."""
    found: list[str] = []
    for sitemap in Protego.parse(robots_txt).sitemaps:
        candidate = sitemap.strip()
        if urlsplit(candidate).scheme in ("http", "https") and candidate not in found:
            found.append(candidate)
    return found


# --- RSS / Atom / Google News -------------------------------------------------------------


def _parse_syndication(content: bytes, url: str, kind: str) -> Feed:
    # application/xml: the XML declaration decides the encoding (RFC 7303), as it should for
    # bytes whose HTTP headers are not passed down here
    headers = {"content-location": url, "content-type": "application/xml"}
    parsed = feedparser.parse(io.BytesIO(content), response_headers=headers)
    channel = parsed.get("feed", {})
    entries = parsed.get("entries", [])
    if not parsed.get("version") and not entries and not channel.get("title"):
        raise ParseError(f"{url}: not an RSS or Atom feed", url=url, field="feed")

    warnings: list[str] = []
    if parsed.get("bozo"):
        warnings.append(f"malformed feed, read what could be read: {parsed.get('bozo_exception')}")
    if kind == "auto":
        kind = _detect_kind(url, str(parsed.get("version", "")), entries)
    google = kind == "google-news"

    items: list[FeedItem] = []
    for position, entry in enumerate(entries, start=1):
        item = _feed_item(entry, google)
        if item is None:
            warnings.append(f"item {position} has no link; skipped")
        else:
            items.append(item)
    return Feed(
        title=_text(channel.get("title")) or None,
        items=items,
        warnings=warnings,
        ttl_minutes=_ttl_minutes(channel),
        kind=kind,
    )


def _detect_kind(url: str, version: str, entries: list[Any]) -> str:
    links = [str(e.get("link", "")) for e in entries]
    from_google = urlsplit(url).hostname == GOOGLE_NEWS_HOST or (
        bool(links) and all(urlsplit(link).hostname == GOOGLE_NEWS_HOST for link in links)
    )
    if from_google:
        return "google-news"
    return "atom" if version.startswith("atom") else "rss"


def _feed_item(entry: Any, google: bool) -> FeedItem | None:
    link = str(entry.get("link") or "").strip()
    if not link:
        return None
    source = entry.get("source") or {}
    source_name = _text(source.get("title")) or None
    title = _text(entry.get("title"))
    if google and source_name:
        # Google News appends " - Source" to every title; the source is kept separately
        suffix = f" - {source_name}"
        if title.endswith(suffix):
            title = title[: -len(suffix)].rstrip()
    detail = entry.get("author_detail") or {}
    author = _text(detail.get("name") or entry.get("author")) or None
    return FeedItem(
        title=title,
        url=link if google else canonical_url(link),
        published=_entry_time(entry),
        summary=_text(entry.get("summary")),
        author=author,
        guid=str(entry.get("id")) if entry.get("id") else None,
        source_name=source_name,
        discovery_only=google,
    )


def _entry_time(entry: Any) -> datetime | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        value = entry.get(key)
        if isinstance(value, time.struct_time):
            # feedparser normalises every date to UTC struct_time
            return datetime.fromtimestamp(calendar.timegm(value), tz=UTC)
    return None


def _ttl_minutes(channel: Any) -> int | None:
    ttl = str(channel.get("ttl", "")).strip()
    if (minutes := ascii_int(ttl, minimum=1)) is not None:
        return minutes
    period = str(channel.get("sy_updateperiod", "")).strip().lower()
    if period in _UPDATE_PERIOD_MINUTES:
        frequency = str(channel.get("sy_updatefrequency", "1")).strip()
        per = ascii_int(frequency, minimum=1) or 1
        return max(1, _UPDATE_PERIOD_MINUTES[period] // per)
    return None


def _text(value: object) -> str:
    """Plain text of a feed field that may hold (sanitised) HTML."""
    if not value:
        return ""
    raw = str(value)
    if "<" in raw or "&" in raw:
        raw = lxml.html.fromstring(f"<div>{raw}</div>").text_content()
    return _SPACES.sub(" ", raw).strip()


# --- News sitemaps ------------------------------------------------------------------------


def _gunzip(content: bytes, url: str) -> bytes:
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(content)) as stream:
            data = stream.read(MAX_SITEMAP_BYTES + 1)
    except (OSError, EOFError, zlib.error) as exc:
        raise ParseError(f"{url}: broken gzip data: {exc}", url=url, field="feed") from exc
    if len(data) > MAX_SITEMAP_BYTES:
        raise ParseError(f"{url}: inflates beyond {MAX_SITEMAP_BYTES} bytes", url=url, field="feed")
    return data


def _parse_sitemap(content: bytes, url: str) -> Feed:
    parser = etree.XMLParser(recover=True, resolve_entities=False, no_network=True, huge_tree=False)
    try:
        root = etree.fromstring(content, parser)
    except etree.XMLSyntaxError as exc:
        raise ParseError(f"{url}: not a sitemap: {exc}", url=url, field="urlset") from exc
    if root is None or etree.QName(root).localname not in ("urlset", "sitemapindex"):
        raise ParseError(f"{url}: not a sitemap (no urlset)", url=url, field="urlset")
    warnings = [f"malformed sitemap: {e.message} (line {e.line})" for e in parser.error_log]

    if etree.QName(root).localname == "sitemapindex":
        nodes = _children(root, _SITEMAP_NS, "sitemap")
        children = [_child_text(node, _SITEMAP_NS, "loc") for node in nodes]
        return Feed(None, [], warnings, None, "sitemap", sitemaps=[c for c in children if c])

    items: list[FeedItem] = []
    publications: list[str] = []
    for position, node in enumerate(_children(root, _SITEMAP_NS, "url"), start=1):
        loc = _child_text(node, _SITEMAP_NS, "loc")
        if not loc:
            warnings.append(f"url {position} has no loc; skipped")
            continue
        news = node.find(f"{{{_NEWS_NS}}}news")
        title = publication = ""
        stamp = _child_text(node, _SITEMAP_NS, "lastmod")
        if news is not None:
            title = _child_text(news, _NEWS_NS, "title")
            stamp = _child_text(news, _NEWS_NS, "publication_date") or stamp
            pub_node = news.find(f"{{{_NEWS_NS}}}publication")
            if pub_node is not None:
                publication = _child_text(pub_node, _NEWS_NS, "name")
        published = _w3c_datetime(stamp)
        if stamp and published is None:
            warnings.append(f"url {position}: unreadable date {stamp!r}")
        if publication and publication not in publications:
            publications.append(publication)
        items.append(
            FeedItem(
                title=title,
                url=canonical_url(loc),
                published=published,
                summary="",
                author=None,
                guid=None,
                source_name=publication or None,
                discovery_only=False,
            )
        )
    name = publications[0] if len(publications) == 1 else None
    return Feed(name, items, warnings, None, "sitemap")


def _children(node: Any, namespace: str, name: str) -> list[Any]:
    # Some publishers omit the namespace; accept both forms.
    return list(node.iterfind(f"{{{namespace}}}{name}")) or list(node.iterfind(name))


def _child_text(node: Any, namespace: str, name: str) -> str:
    child = node.find(f"{{{namespace}}}{name}")
    if child is None:
        child = node.find(name)
    return _SPACES.sub(" ", child.text or "").strip() if child is not None else ""


def _w3c_datetime(value: str) -> datetime | None:
    """W3C datetime (the sitemap format) as aware UTC; a bare date is midnight UTC."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)
