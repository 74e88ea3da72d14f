"""`councilwatch sources check news`: every configured feed, and with ``catalogue`` every
publisher of the catalogue (or those covering one council), fetched live and parsed.

A configured feed that gives no items fails the check; a catalogue entry only says whether it
would now verify (the built-in data file is not written). Nothing is stored.
"""

from __future__ import annotations

from scraper.fetcher import Fetcher
from scraper.news.catalogue import Publisher, load_catalogue
from scraper.news.check import FeedCheck, check_feed
from scraper.sources.base import (
    CheckField,
    CheckOptions,
    CheckReport,
    CheckSection,
    CheckStep,
    Councils,
)
from scraper.sources.news.config import NewsConfig


def check_news(
    fetcher: Fetcher, config: NewsConfig, options: CheckOptions, councils: Councils | None
) -> CheckReport:
    feeds = config.feeds
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
    if options.catalogue or options.council is not None:
        report.sections.append(_catalogue(fetcher, config, options.council, councils, report))
    return report


def _catalogue(
    fetcher: Fetcher,
    config: NewsConfig,
    council: str | None,
    councils: Councils | None,
    report: CheckReport,
) -> CheckSection:
    from scraper.sources.news.runs import covering

    catalogue = load_catalogue(config.catalogue_file)
    publishers: tuple[Publisher, ...] = catalogue.publishers
    heading = "catalogue:"
    if council is not None and councils is not None:
        found_id, found_name = councils.lookup(council)
        publishers = tuple(covering(catalogue, councils, [found_id]))
        heading = f"catalogue, papers covering {found_name}:"
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
