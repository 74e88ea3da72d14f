"""LGSCO's ``Source.check``: one listing page and one decision page from a live site.

What the operator runs after deploying (``councilwatch sources check lgsco``): it asks the
configured site for the first listing page of the incremental window, then the decision page
of its first result, and reports every field each parse found, how long each request took,
and what a digest needs that is missing. No database, no state: nothing is stored.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date, timedelta

from scraper.fetcher import Fetcher
from scraper.sources.base import CheckField, CheckReport, CheckSection
from scraper.sources.check import check_decision, run_step
from scraper.sources.lgsco.decision import parse_decision
from scraper.sources.lgsco.listing import parse_listing
from scraper.sources.lgsco.models import Decision, Listing, ListingEntry, Outcome
from scraper.sources.lgsco.urls import listing_url


def decision_fields(decision: Decision) -> list[CheckField]:
    """Every field of a decision as printed, flagged when a digest needs it."""
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
        CheckField("reference", ", ".join(decision.references), True),
        CheckField("organisation", decision.organisation, True),
        CheckField("title", decision.title, True),
        CheckField("url", decision.url, True),
        CheckField("category", decision.category or "", True),
        CheckField("subcategory", decision.subcategory or ""),
        CheckField("outcome", outcome, True),
        CheckField("decision date", decision.decision_date.isoformat(), True),
        CheckField("type", decision.document_type or ""),
        CheckField("summary", decision.summary, True),
        CheckField("remedies", ", ".join(found)),
        CheckField(
            "sections", " | ".join(s.heading or "(untitled)" for s in decision.sections), True
        ),
    ]


def entry_fields(entry: ListingEntry) -> list[CheckField]:
    return [
        CheckField("reference", entry.reference),
        CheckField("organisation", entry.organisation),
        CheckField("url", entry.url),
        CheckField("type", entry.document_type or ""),
        CheckField("outcome", entry.outcome_text or ""),
        CheckField("subcategory", entry.subcategory or ""),
        CheckField("decision date", entry.decision_date.isoformat() if entry.decision_date else ""),
        CheckField("summary", entry.summary or ""),
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
    listing = run_step(
        report, "listing", url, client, lambda c, got: parse_listing(c, got, today=today), timer
    )
    if not isinstance(listing, Listing):
        return report
    report.sections.append(
        CheckSection(
            f"listing: {listing.total} results in all, page {listing.page or '?'}, "
            f"{len(listing.entries)} results with a link and a reference",
            hints=list(listing.problems),
        )
    )
    if listing.is_shell:
        report.missing.append("listing: the page shell without a results area")
        return report
    if not listing.entries:
        report.missing.append(f"listing: no result in the last {window_days} days")
        return report
    entry = listing.entries[0]
    report.sections.append(CheckSection("first result:", entry_fields(entry)))
    decision = check_decision(
        report,
        entry.url,
        client,
        lambda c, got: parse_decision(c, got, today=today),
        decision_fields,
        timer,
    )
    if not isinstance(decision, Decision):
        return report
    if decision.outcome is Outcome.OTHER and decision.outcome_text:
        report.missing.append(f"decision: outcome {decision.outcome_text!r} is not one we know")
    return report
