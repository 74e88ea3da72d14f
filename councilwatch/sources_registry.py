"""The sources the configuration defines, as one list the CLI, the service, health and digests
share. Every source comes from ``scraper.sources.registry`` and runs through
:func:`councilwatch.source_run.fetch_source`; a source that expands into several runs (news:
one per feed) lists each of them. Nothing here tells one source from another.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from cwerrors import CouncilwatchError
from scraper.sources import registry
from scraper.sources.base import CheckOptions, Councils, RunSpec

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from alerts.councils import Register
    from councilwatch.config import Settings
    from councilwatch.runs import RunOutcome
    from councilwatch.runtime import Runtime
    from scraper.fetcher import Fetcher
    from scraper.sources.base import CheckReport

__all__ = ["CheckOptions", "ConfiguredSource", "FetchJob", "checks", "configured_sources"]

# (runtime, since, until, progress bar, only these runs) -> one outcome per recorded run
Runner = Callable[
    ["Runtime", "date | None", "date | None", bool, "list[str] | None"], "list[RunOutcome]"
]
# (runtime, fetcher, options) -> what the live site gave; nothing is stored
Checker = Callable[["Runtime", "Fetcher", CheckOptions], "CheckReport"]


@dataclass(frozen=True)
class ConfiguredSource:
    name: str  # a recorded run's name: the source's, or one of its feeds'
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
    """Every recorded run's source, in registry order (a multi-run source: its configured
    runs; the ones it adds at fetch time, such as followed councils' papers, are not listed)."""
    found = []
    for info in registry.infos():
        config = settings.sources.of(info.config_key)
        for spec in run_specs(settings, info.name):
            found.append(
                ConfiguredSource(
                    name=spec.name,
                    kind=spec.kind,
                    label=spec.label or info.label,
                    noun="decision" if info.document_kind == "decision" else "story",
                    url=spec.url,
                    enabled=config.enabled,
                    schedule=config.schedule,
                    expect_new_within_days=config.expect_new_within_days,
                    lock=f"fetch:{info.name}",
                )
            )
    return found


def fetch_jobs(settings: Settings) -> list[FetchJob]:
    jobs = []
    for info in registry.infos():
        config = settings.sources.of(info.config_key)
        wanted = info.wanted
        jobs.append(
            FetchJob(
                info.name,
                info.config_key,
                config.schedule,
                config.enabled and (wanted is None or bool(wanted(config))),
                _runner(info.name),
                label=info.label,
                earliest=info.earliest,
            )
        )
    return jobs


def resolve(settings: Settings, name: str) -> tuple[FetchJob, list[str] | None]:
    """The job that fetches ``--source name``, and the runs to make when it is one of a
    source's runs (a feed's name)."""
    jobs = {job.name: job for job in fetch_jobs(settings)}
    if name in jobs:
        return jobs[name], None
    runs = {source.name: source.lock for source in configured_sources(settings)}
    for job in jobs.values():
        if runs.get(name) == job.lock:
            return job, [name]
    known = ", ".join(dict.fromkeys([*jobs, *runs]))
    raise CouncilwatchError(f"unknown source {name!r} (configured: {known})")


def catch_up_starts(settings: Settings, now: datetime) -> dict[str, datetime]:
    """Where catch-up begins, by source name: a document dated before it is catch-up in a
    digest (the source's ``catch_up_days``). Each document kind ("decision", "news") is a key
    too, with its first registered source's start, for documents of a source no longer
    registered."""
    starts: dict[str, datetime] = {}
    for info in registry.infos():
        start = now - timedelta(days=settings.sources.of(info.config_key).catch_up_days)
        starts[info.name] = start
        starts.setdefault(info.document_kind, start)
    return starts


def run_specs(
    settings: Settings,
    name: str,
    *,
    councils: Councils | None = None,
    only: list[str] | None = None,
) -> list[RunSpec]:
    """The runs a fetch of ``name`` makes (with ``councils`` None, the configured ones only)."""
    info = registry.info(name)
    assert info is not None, f"no registered source {name!r}"
    config = settings.sources.of(info.config_key)
    if info.runs is None:
        return [RunSpec(name, name, config.base_url, info.label)]
    specs = info.runs(config, councils)
    if only is not None:
        by_name = {spec.name: spec for spec in specs}
        unknown = [wanted for wanted in only if wanted not in by_name]
        if unknown:
            known = ", ".join(by_name) or "none"
            noun = info.run_noun
            raise CouncilwatchError(
                f"unknown {info.label} {noun} {', '.join(map(repr, unknown))} "
                f"(configured {noun}s: {known})"
            )
        specs = [by_name[wanted] for wanted in dict.fromkeys(only)]
    return specs


class RegisterCouncils:
    """The register and the councils confirmed subscribers follow, as sources see them."""

    def __init__(self, runtime: Runtime) -> None:
        self._engine = runtime.migrated_engine
        self._register = lambda: runtime.register

    @classmethod
    def of(cls, engine: Engine, register: Register) -> RegisterCouncils:
        found = cls.__new__(cls)
        found._engine = lambda: engine
        found._register = lambda: register
        return found

    def followed(self) -> frozenset[str]:
        from db.following import followed_councils

        register = self._register()
        councils, counties = followed_councils(self._engine())
        wanted = set(councils)
        for county in counties:
            if county in register:
                wanted |= {county} | register.in_county(county)
        return frozenset(council for council in wanted if council in register)

    def lookup(self, name: str) -> tuple[str, str]:
        found = self._register().lookup(name)
        return found.id, found.name

    def expand(self, ids: Collection[str]) -> set[str]:
        return set(self._register().expand(ids, county_wide=False))

    def in_county(self, county: str) -> set[str]:
        return set(self._register().in_county(county))


def _runner(name: str) -> Runner:
    def run(
        runtime: Runtime,
        since: date | None,
        until: date | None,
        progress: bool,
        only: list[str] | None,
    ) -> list[RunOutcome]:
        from councilwatch.source_run import fetch_runs

        return fetch_runs(runtime, name, since=since, until=until, progress=progress, only=only)

    return run


def checks() -> dict[str, Checker]:
    """The sources `councilwatch sources check` knows: each registered source with a check."""
    return {
        info.name: _check(info.name, info.config_key)
        for info in registry.infos()
        if callable(getattr(registry.load(info.name), "check", None))
    }


def _check(name: str, config_key: str) -> Checker:
    def check(runtime: Runtime, fetcher: Fetcher, options: CheckOptions) -> CheckReport:
        from councilwatch.source_run import local_today
        from scraper.sources.base import Checkable

        info = registry.info(name)
        asked = [flag for flag, on in _asked(options) if on]
        if info is not None and any(flag not in info.check_options for flag in asked):
            takers = [i.name for i in registry.infos() if set(asked) <= set(i.check_options)]
            raise CouncilwatchError(
                " and ".join(f"--{flag}" for flag, _ in _asked(options))
                + f" are for `sources check {' / '.join(takers) or '?'}`"
            )
        source: Checkable = registry.load(name)  # type: ignore[assignment]
        config = runtime.settings.sources.of(config_key)
        return source.check(
            fetcher,
            config,
            today=local_today(runtime),
            options=options,
            councils=RegisterCouncils(runtime),
        )

    return check


def _asked(options: CheckOptions) -> list[tuple[str, bool]]:
    return [("catalogue", options.catalogue), ("council", options.council is not None)]
