"""Local news, pure parts: feeds, article extraction, LDRS attribution, title matching.

Everything here takes bytes or text and returns data: no network, no database, no clock.
"""

from scraper.news.article import Article, extract_article
from scraper.news.feeds import Feed, FeedItem, parse_feed, sitemaps_from_robots
from scraper.news.ldrs import is_ldrs
from scraper.news.titles import normalise_title

__all__ = [
    "Article",
    "Feed",
    "FeedItem",
    "extract_article",
    "is_ldrs",
    "normalise_title",
    "parse_feed",
    "sitemaps_from_robots",
]
