"""Local Government and Social Care Ombudsman (LGSCO) decisions: the parsers.

Pure functions over saved page bytes (no network, database or clock)::

    parse_decision(content, url, *, today=None) -> Decision
    parse_listing(content, url, *, today=None) -> Listing
    detect_page_kind(content) -> "decision" | "listing" | "unknown"
    normalise_reference("23-018-529") -> "23 018 529"
    listing_url(base_url, date_from=..., date_to=..., page=...) -> str

Pages are read from their visible text layout first and markup second (see ``decision`` and
``listing``); a page that no longer looks like what it should raises
``cwerrors.ParseError`` naming the URL and the field.
"""

from scraper.sources.lgsco.decision import parse_decision
from scraper.sources.lgsco.fields import normalise_reference, parse_outcome
from scraper.sources.lgsco.layout import detect_page_kind
from scraper.sources.lgsco.listing import parse_listing
from scraper.sources.lgsco.models import (
    Decision,
    Listing,
    ListingEntry,
    Outcome,
    Payment,
    Remedies,
    Section,
)
from scraper.sources.lgsco.urls import canonical_url, kind_from_url, listing_url

__all__ = [
    "Decision",
    "Listing",
    "ListingEntry",
    "Outcome",
    "Payment",
    "Remedies",
    "Section",
    "canonical_url",
    "detect_page_kind",
    "kind_from_url",
    "listing_url",
    "normalise_reference",
    "parse_decision",
    "parse_listing",
    "parse_outcome",
]
