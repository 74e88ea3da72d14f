"""The sources the configuration defines, as one list the CLI, the service, health and digests
share. Crawled sources come from ``scraper.sources.registry`` and run through
:func:`councilwatch.source_run.fetch_source`; news feeds (one run per feed, then clustering)
run through :mod:`councilwatch.news_run`. Nothing outside this module tells sources apart.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from cwerrors import CouncilwatchError
from scraper.sources import registry

if TYPE_CHECKING:
    from councilwatch.config import Settings
    from councilwatch.runs import RunOutcome
    from councilwatch.runtime import Runtime
    from scraper.fetcher import Fetcher
    from scraper.sources.base import CheckReport

NEWS = "news"
# (runtime, since, until, progress bar, only these feeds) -> one outcome per recorded run
Runner = Callable[
    ["Runtime", "date | None", "date | None", bool, "list[str] | None"], "list[RunOutcome]"
]



@dataclass(frozen=True)
class CheckOptions:
    """What `sources check` is asked beyond the source: news reads the catalogue too."""

    catalogue: bool = False
    council: str | None = None


# (runtime, fetcher, options) -> what the live site gave; nothing is stored
Checker = Callable[["Runtime", "Fetcher", CheckOptions], "CheckReport"]


@dataclass(frozen=True)
class ConfiguredSource:
    name: str
    kind: str  # a registered source's name, or a feed kind ("rss", "google-news", "sitemap")
    label: str  # how digests name it ("LGSCO", "Housing Ombudsman", a feed's name)
    noun: str  # "decision" or "story"
    url: str
    enabled: bool
    schedule: str
    expect_new_within_days: int
    lock: str  # the fetch lock its runs are taken under


@dataclass(frozen=True)
class FetchJob:
    """What the service schedules and `councilwatch fetch` runs: one lock, one runner."""

    name: str  # "lgsco", "housing-ombudsman", "news"
    config_key: str  # where its schedule is set: sources.<config_key>.schedule
    schedule: str
    enabled: bool
    run: Runner
    label: str = ""
    earliest: date | None = None  # a backfill starts here at the earliest

    @property
    def lock(self) -> str:
        return f"fetch:{self.name}"


def configured_sources(settings: Settings) -> list[ConfiguredSource]:
    found = []
    for info in registry.infos():
        config = settings.sources.of(info.config_key)
        found.append(
            ConfiguredSource(
                name=info.name,
                kind=info.name,
                label=info.label,
                noun="decision" if info.document_kind == "decision" else "story",
                url=config.base_url,
                enabled=config.enabled,
                schedule=config.schedule,
                expect_new_within_days=config.expect_new_within_days,
                lock=f"fetch:{info.name}",
            )
        )
    news = settings.sources.news
    found += [
        ConfiguredSource(
            feed.name,
            feed.kind,
            feed.name,
            "story",
            feed.url,
            news.enabled,
            news.schedule,
            news.expect_new_within_days,
            f"fetch:{NEWS}",
        )
        for feed in news.feeds
    ]
    return found


def fetch_jobs(settings: Settings) -> list[FetchJob]:
    jobs = []
    for info in registry.infos():
        config = settings.sources.of(info.config_key)
        jobs.append(
            FetchJob(
                info.name,
                info.config_key,
                config.schedule,
                config.enabled,
                _registered(info.name),
                label=info.label,
                earliest=info.earliest,
            )
        )
    news = settings.sources.news
    jobs.append(
        FetchJob(
            NEWS,
            NEWS,
            news.schedule,
            # followed councils bring feeds of their own at each run
            news.enabled and (bool(news.feeds) or news.follow_subscribed_councils),
            _news,
            "news",
        )
    )
    return jobs


def resolve(settings: Settings, name: str) -> tuple[FetchJob, list[str] | None]:
    """The job that fetches ``--source name``, and the feeds to run when it is one feed."""
    jobs = {job.name: job for job in fetch_jobs(settings)}
    if name in jobs:
        return jobs[name], None
    feeds = [feed.name for feed in settings.sources.news.feeds]
    if name in feeds:
        return jobs[NEWS], [name]
    known = ", ".join([*jobs, *feeds])
    raise CouncilwatchError(f"unknown source {name!r} (configured: {known})")


def _registered(name: str) -> Runner:
    def run(
        runtime: Runtime,
        since: date | None,
        until: date | None,
        progress: bool,
        only: list[str] | None,
    ) -> list[RunOutcome]:
        from councilwatch.source_run import fetch_source

        return [fetch_source(runtime, name, since=since, until=until, progress=progress)]

    return run


def _news(
    runtime: Runtime,
    since: date | None,
    until: date | None,
    progress: bool,
    only: list[str] | None,
) -> list[RunOutcome]:
    from councilwatch.news_run import fetch_news

    if since is not None or until is not None:
        raise CouncilwatchError("--since and --until are not for news feeds")
    outcomes: list[RunOutcome] = fetch_news(runtime, only)
    return outcomes


def checks() -> dict[str, Checker]:
    """The sources `councilwatch sources check` knows: each registered source that has a
    ``check``, then news (its feeds are configured, not registered)."""
    found: dict[str, Checker] = {}
    for info in registry.infos():
        if callable(getattr(registry.load(info.name), "check", None)):
            found[info.name] = _registered_check(info.name, info.config_key)
    found[NEWS] = _news_check
    return found


def _registered_check(name: str, config_key: str) -> Checker:
    def check(runtime: Runtime, fetcher: Fetcher, options: CheckOptions) -> CheckReport:
        from councilwatch.source_run import local_today
        from scraper.sources.base import Checkable

        if options.catalogue or options.council is not None:
            raise CouncilwatchError("--catalogue and --council are for `sources check news`")
        source: Checkable = registry.load(name)  # type: ignore[assignment]
        config = runtime.settings.sources.of(config_key)
        return source.check(fetcher, config, today=local_today(runtime))

    return check


def _news_check(runtime: Runtime, fetcher: Fetcher, options: CheckOptions) -> CheckReport:
    from councilwatch.news_check import check_news

    return check_news(runtime, fetcher, catalogue=options.catalogue, council=options.council)
