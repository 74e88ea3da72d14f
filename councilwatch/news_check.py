"""`councilwatch sources check news`: every configured feed, and with ``catalogue`` every
publisher of the catalogue (or those covering one council), fetched live and parsed.

A configured feed that gives no items fails the check; a catalogue entry only says whether it
would now verify (the built-in data file is not written). Nothing is stored.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from scraper.fetcher import Fetcher
from scraper.news.check import FeedCheck, check_feed
from scraper.sources.base import CheckField, CheckReport, CheckSection, CheckStep

if TYPE_CHECKING:
    from councilwatch.runtime import Runtime
    from scraper.news.catalogue import Publisher


def check_news(
    runtime: Runtime, fetcher: Fetcher, *, catalogue: bool, council: str | None
) -> CheckReport:
    feeds = runtime.settings.sources.news.feeds
    report = CheckReport(
        base_url=f"{len(feeds)} configured feeds", passed="every configured feed gave items"
    )
    configured = CheckSection("configured feeds:")
    report.sections.append(configured)
    if not feeds:
        report.passed = "no feed is configured ([[sources.news.feeds]]), so none failed"
    for feed in feeds:
        found = _record(report, check_feed(fetcher, feed.name, feed.url, feed.kind))
        value = found.result if found.ok else f"FAILED: {found.error}"
        configured.fields.append(CheckField(feed.name, value, True))
        if not found.ok:
            report.missing.append(f"feed {feed.name}: {found.error}")
    if catalogue or council is not None:
        report.sections.append(_catalogue(runtime, fetcher, council, report))
    return report


def _catalogue(
    runtime: Runtime, fetcher: Fetcher, council: str | None, report: CheckReport
) -> CheckSection:
    from councilwatch.news_catalogue import covering, load

    publishers: tuple[Publisher, ...] = load(runtime.settings).publishers
    heading = "catalogue:"
    if council is not None:
        register = runtime.register
        found = register.lookup(council)
        publishers = tuple(covering(load(runtime.settings), register, [found.id]))
        heading = f"catalogue, papers covering {found.name}:"
    section = CheckSection(heading)
    if not publishers:
        section.hints.append("no publisher in the catalogue covers that council")
    for publisher in publishers:
        urls = [(url, "rss") for url in publisher.feeds] or [(publisher.homepage, "site")]
        checks = [_record(report, check_feed(fetcher, publisher.name, u, k)) for u, k in urls]
        good = next((c for c in checks if c.ok), None)
        state = "verified" if publisher.verified else "unverified"
        if good is not None:
            verdict = "still verifies" if publisher.verified else "would now verify"
            value = f"{state}, {verdict}: {good.result}"
        else:
            value = f"{state}, does not verify: {checks[0].error}"
        section.fields.append(CheckField(publisher.name, value))
    return section


def _record(report: CheckReport, found: FeedCheck) -> FeedCheck:
    report.steps.append(CheckStep(found.name, found.url, found.seconds, found.error))
    return found
