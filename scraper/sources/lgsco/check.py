"""``check_site``: one listing page and one decision page from a live LGSCO site, field by field.

What the operator runs after deploying (``councilwatch sources check lgsco``): it asks the
configured site for the first listing page of the incremental window, then the decision page
of its first result, and reports every field each parse found, how long each request took,
and what a digest needs that is missing. No database, no state: nothing is stored.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta

from cwerrors import FetchError, ParseError
from scraper.fetcher import Fetcher
from scraper.sources.lgsco.decision import parse_decision
from scraper.sources.lgsco.listing import parse_listing
from scraper.sources.lgsco.models import Decision, Listing, Outcome
from scraper.sources.lgsco.urls import listing_url


@dataclass(frozen=True)
class Step:
    what: str  # "listing" | "decision"
    url: str
    seconds: float
    error: str | None = None


@dataclass
class CheckReport:
    base_url: str
    steps: list[Step] = field(default_factory=list)
    listing: Listing | None = None
    decision: Decision | None = None
    missing: list[str] = field(default_factory=list)  # what a digest needs and did not get

    @property
    def ok(self) -> bool:
        return not self.missing


def decision_fields(decision: Decision) -> list[tuple[str, str, bool]]:
    """(name, value as printed, needed by a digest) for every field of a decision."""
    remedies = decision.remedies
    found = [
        name
        for name, present in (
            ("apology", remedies.apology),
            ("service improvements", remedies.service_improvements),
            ("reconsideration", remedies.reconsideration),
        )
        if present
    ]
    found += [f"£{payment.amount_pence / 100:,.2f}" for payment in remedies.payments]
    outcome = f"{decision.outcome.value} ({decision.outcome_text})" if decision.outcome_text else ""
    return [
        ("reference", ", ".join(decision.references), True),
        ("organisation", decision.organisation, True),
        ("title", decision.title, True),
        ("url", decision.url, True),
        ("category", decision.category or "", True),
        ("subcategory", decision.subcategory or "", False),
        ("outcome", outcome, True),
        ("decision date", decision.decision_date.isoformat(), True),
        ("type", decision.document_type or "", False),
        ("summary", decision.summary, True),
        ("remedies", ", ".join(found), False),
        ("sections", " | ".join(s.heading or "(untitled)" for s in decision.sections), True),
    ]


def check_site(
    client: Fetcher,
    *,
    base_url: str,
    today: date,
    window_days: int,
    timer: Callable[[], float] = time.perf_counter,
) -> CheckReport:
    report = CheckReport(base_url=base_url)
    url = listing_url(
        base_url, date_from=today - timedelta(days=window_days), date_to=today, page=1
    )
    listing = _step(
        report,
        "listing",
        url,
        client,
        timer,
        lambda content, got: parse_listing(content, got, today=today),
    )
    if not isinstance(listing, Listing):
        return report
    report.listing = listing
    if listing.is_shell:
        report.missing.append("listing: the page shell without a results area")
        return report
    if not listing.entries:
        report.missing.append(f"listing: no result in the last {window_days} days")
        return report
    entry = listing.entries[0]
    decision = _step(
        report,
        "decision",
        entry.url,
        client,
        timer,
        lambda content, got: parse_decision(content, got, today=today),
    )
    if not isinstance(decision, Decision):
        return report
    report.decision = decision
    for name, value, needed in decision_fields(decision):
        if needed and not value:
            report.missing.append(f"decision: no {name}")
    if decision.outcome is Outcome.OTHER and decision.outcome_text:
        report.missing.append(f"decision: outcome {decision.outcome_text!r} is not one we know")
    return report


def _step(
    report: CheckReport,
    what: str,
    url: str,
    client: Fetcher,
    timer: Callable[[], float],
    parse: Callable[[bytes, str], Listing | Decision],
) -> Listing | Decision | None:
    started = timer()
    try:
        response = client.get(url, conditional=False)
        parsed = parse(response.content, response.url)
    except (FetchError, ParseError) as exc:
        report.steps.append(Step(what, url, timer() - started, str(exc)))
        report.missing.append(f"{what}: {exc}")
        return None
    report.steps.append(Step(what, url, timer() - started))
    return parsed
