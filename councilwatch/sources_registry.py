"""The sources the configuration defines, as one list the CLI and the service share."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from councilwatch.config import Settings


@dataclass(frozen=True)
class ConfiguredSource:
    name: str
    kind: str  # "lgsco" or a feed kind ("rss", "google-news", "sitemap")
    url: str
    enabled: bool
    schedule: str


def configured_sources(settings: Settings) -> list[ConfiguredSource]:
    lgsco = settings.sources.lgsco
    news = settings.sources.news
    found = [ConfiguredSource("lgsco", "lgsco", lgsco.base_url, lgsco.enabled, lgsco.schedule)]
    found += [
        ConfiguredSource(feed.name, feed.kind, feed.url, news.enabled, news.schedule)
        for feed in news.feeds
    ]
    return found
