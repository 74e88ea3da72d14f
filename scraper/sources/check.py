"""What every source's ``check`` shares: one timed request and parse, recorded as a step."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from cwerrors import FetchError, ParseError
from scraper.fetcher import Fetcher
from scraper.sources.base import CheckField, CheckReport, CheckSection, CheckStep

T = TypeVar("T")


def run_step(
    report: CheckReport,
    what: str,
    url: str,
    client: Fetcher,
    parse: Callable[[bytes, str], T],
    timer: Callable[[], float] = time.perf_counter,
) -> T | None:
    """Fetch ``url`` (unconditionally) and parse it; a failure is a step with its error and
    a missing ``what``, and gives None."""
    started = timer()
    try:
        response = client.get(url, conditional=False)
        parsed = parse(response.content, response.url)
    except (FetchError, ParseError) as exc:
        report.steps.append(CheckStep(what, url, timer() - started, str(exc)))
        report.missing.append(f"{what}: {exc}")
        return None
    report.steps.append(CheckStep(what, url, timer() - started))
    return parsed


def check_decision(
    report: CheckReport,
    url: str,
    client: Fetcher,
    parse: Callable[[bytes, str], T],
    fields: Callable[[T], list[CheckField]],
    timer: Callable[[], float] = time.perf_counter,
) -> T | None:
    """The decision-page step every source's check ends with: fetch and parse ``url``, list
    its fields, and name each field a digest needs that the page lacks."""
    decision = run_step(report, "decision", url, client, parse, timer)
    if decision is None:
        return None
    found = fields(decision)
    report.sections.append(CheckSection("decision page:", found))
    report.missing += [f"decision: no {f.name}" for f in found if f.needed and not f.value]
    return decision
