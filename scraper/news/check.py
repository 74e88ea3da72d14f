"""Checking news feeds live: does a feed (or a homepage's discovered feed) give items now?

``councilwatch sources check news`` runs :func:`check_feed` for every configured feed and,
with ``--catalogue``, every publisher of the catalogue. Nothing is stored.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from cwerrors import CouncilwatchError
from scraper.fetcher import Fetcher
from scraper.news.discover import discover_feeds
from scraper.news.feeds import parse_feed

# A configured feed's kind -> what the parser is told ("rss" feeds may be Atom too).
_PARSE_KIND = {"sitemap": "sitemap", "google-news": "google-news"}


@dataclass(frozen=True)
class FeedCheck:
    name: str
    url: str
    seconds: float
    result: str  # "ok (12 items)", "ok (12 items (rss) at https://.../feed/)"
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def check_feed(
    fetcher: Fetcher,
    name: str,
    url: str,
    kind: str,
    *,
    timer: Callable[[], float] = time.perf_counter,
) -> FeedCheck:
    """Fetch and parse one feed; a "site" (a homepage) is read through feed discovery."""
    started = timer()
    if kind == "site":
        found = discover_feeds(url, lambda u: fetcher.get(u, conditional=False))
        seconds = timer() - started
        if found.feeds:
            first = found.feeds[0]
            return FeedCheck(name, url, seconds, f"ok ({first.reason} at {first.url})")
        tried = "; ".join(f"{c.url}: {c.reason}" for c in found.tried[:3])
        error = f"no feed found from the homepage ({len(found.tried)} tried: {tried})"
        return FeedCheck(name, url, seconds, error, error)
    try:
        response = fetcher.get(url, conditional=False)
        feed = parse_feed(response.content, response.url, kind=_PARSE_KIND.get(kind, "auto"))
    except CouncilwatchError as exc:
        error = str(exc) or type(exc).__name__
        return FeedCheck(name, url, timer() - started, error, error)
    seconds = timer() - started
    if not feed.items and not feed.sitemaps:
        error = f"an empty {feed.kind} feed"
        return FeedCheck(name, url, seconds, error, error)
    count = f"{len(feed.items)} items" if feed.items else f"{len(feed.sitemaps)} sitemaps"
    return FeedCheck(name, url, seconds, f"ok ({count})")
