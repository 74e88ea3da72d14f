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

from __future__ import annotations

from typing import TYPE_CHECKING

from scraper.lazy import lazy_exports

# Names load on first use (PEP 562), so reading a source's config (``.config``, imported at
# start-up by the registry) does not import its parsers and lxml.
_EXPORTS = {
    "Decision": "scraper.sources.lgsco.models",
    "Listing": "scraper.sources.lgsco.models",
    "ListingEntry": "scraper.sources.lgsco.models",
    "Outcome": "scraper.sources.lgsco.models",
    "Payment": "scraper.sources.lgsco.models",
    "Remedies": "scraper.sources.lgsco.models",
    "Section": "scraper.sources.lgsco.models",
    "canonical_url": "scraper.sources.lgsco.urls",
    "kind_from_url": "scraper.sources.lgsco.urls",
    "detect_page_kind": "scraper.sources.lgsco.layout",
    "listing_url": "scraper.sources.lgsco.urls",
    "normalise_reference": "scraper.sources.lgsco.fields",
    "parse_decision": "scraper.sources.lgsco.decision",
    "parse_listing": "scraper.sources.lgsco.listing",
    "parse_outcome": "scraper.sources.lgsco.fields",
}

if TYPE_CHECKING:
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


__getattr__ = lazy_exports(__name__, _EXPORTS)
