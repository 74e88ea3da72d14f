"""News's ``[sources.news]`` settings and what it is."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from scraper.sources.news.runs import runs, wanted
from scraper.sources.settings import SourceInfo, SourceSettings, check_http_url

FeedKind = Literal["rss", "google-news", "sitemap", "site"]


class FeedConfig(BaseModel):
    """One ``[[sources.news.feeds]]`` entry (or a feed of a followed council's paper)."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    name: str = Field(min_length=1)
    url: str
    publisher: str | None = None
    area: str | None = None
    kind: FeedKind = "rss"

    _check_url = field_validator("url")(check_http_url)


class NewsConfig(SourceSettings):
    # news reads feeds (below), not one site: the contract's base_url is not a key of its own
    base_url: str = Field("", exclude=True)
    schedule: str = "interval:30m"
    cluster_window_days: int = Field(14, ge=1)
    article_retry_limit: int = Field(3, ge=0)
    expect_new_within_days: int = Field(3, ge=1)
    feeds: tuple[FeedConfig, ...] = ()
    # The operator's additions to the built-in publisher catalogue (`councilwatch feeds import`).
    catalogue_file: Path = Path("var/publishers.toml")
    # Read the catalogue's publishers for every council a confirmed subscriber follows.
    follow_subscribed_councils: bool = False

    @property
    def catch_up_days(self) -> int:
        # a story older than the clustering window is old news
        return self.cluster_window_days

    @field_validator("feeds")
    @classmethod
    def _unique_names(cls, feeds: tuple[FeedConfig, ...]) -> tuple[FeedConfig, ...]:
        from scraper.sources import registry  # registry imports this module

        seen: set[str] = set()
        for feed in feeds:
            if feed.name in registry.names():
                raise ValueError(
                    f"feed name {feed.name!r} is a built-in source; give the feed another name"
                )
            if feed.name in seen:
                raise ValueError(f"two feeds are named {feed.name!r}; feed names must be unique")
            seen.add(feed.name)
        return feeds


INFO = SourceInfo(
    name="news",
    label="news",
    config_key="news",
    document_kind="news",
    config_model=NewsConfig,
    backfills=False,
    clusters=True,
    check_options=("catalogue", "council"),
    run_noun="feed",
    runs=runs,
    wanted=wanted,
    parse_aliases=("article",),
)
