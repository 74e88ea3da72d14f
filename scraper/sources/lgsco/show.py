"""What `councilwatch parse lgsco` prints: a decision's or a listing's fields, or its JSON.

A page is told apart by content or, for a page too broken to tell, by its URL: how a
quarantined page is reproduced.
"""

from __future__ import annotations

import json
from datetime import date

from cwerrors import CouncilwatchError
from scraper.sources.lgsco import (
    Decision,
    Listing,
    detect_page_kind,
    kind_from_url,
    parse_decision,
    parse_listing,
)


def show(content: bytes, url: str, *, today: date, as_json: bool, origin: str) -> str:
    kind = detect_page_kind(content)
    if kind == "unknown":
        kind = kind_from_url(url)
    if kind == "decision":
        decision = parse_decision(content, url, today=today)
        if as_json:
            return _json(decision.to_json())
        return "\n".join(_decision_lines(decision))
    if kind == "listing":
        listing = parse_listing(content, url, today=today)
        if as_json:
            return _json([entry.to_json() for entry in listing.entries])
        return "\n".join(_listing_lines(listing))
    raise CouncilwatchError(f"{origin}: neither an LGSCO decision nor a search listing page")


def _json(value: object) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, default=str)


def _decision_lines(decision: Decision) -> list[str]:
    rows = [
        ("reference", ", ".join(decision.references)),
        ("organisation", decision.organisation),
        ("category", f"{decision.category or '-'} > {decision.subcategory or '-'}"),
        ("outcome", f"{decision.outcome.value} ({decision.outcome_text})"),
        ("decision date", decision.decision_date.isoformat()),
        ("type", decision.document_type or "-"),
        ("satisfied", _iso(decision.satisfied_date)),
        ("url", decision.url),
        ("pdf", decision.pdf_url or "-"),
        ("summary", decision.summary),
    ]
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
    found += [
        f"£{p.amount_pence / 100:,.2f}" + (f" to {p.recipient}" if p.recipient else "")
        for p in remedies.payments
    ]
    rows.append(("remedies", ", ".join(found) or "none found"))
    rows.append(("sections", " | ".join(s.heading or "(untitled)" for s in decision.sections)))
    return [f"{name + ':':15}{value}" for name, value in rows]


def _listing_lines(listing: Listing) -> list[str]:
    shell = " (page shell: no results area)" if listing.is_shell else ""
    lines = [f"listing page {listing.page or '?'}, {listing.total} results in all{shell}"]
    lines += [f"missing hint: {problem}" for problem in listing.problems]
    for entry in listing.entries:
        lines.append(
            f"{_iso(entry.decision_date):10}  {entry.reference:12} {entry.outcome.value:32}"
            f"{entry.organisation}"
        )
        lines.append(f"{'':12}{entry.subcategory or '-'}: {entry.summary}")
        lines.append(f"{'':12}{entry.url}")
    return lines


def _iso(value: date | None) -> str:
    return value.isoformat() if value else "-"
