"""The Housing Ombudsman (England): decisions about social landlords, councils among them.

Site https://www.housing-ombudsman.org.uk. Archive ``/decisions/`` and ``/decisions/page/N/``
(ten a page, newest published first, no dates); decision pages
``/decisions/{landlord-slug}-{case id}/`` with a field table (Case ID, Decision type,
Jurisdiction, Landlord, Landlord type, Occupancy, Date) and the decision in the
"Investigation" layout (since late 2025) or the older "REPORT" one.

    parse_decision(content, url, today=None) -> HoDecision
    parse_archive(content, url) -> ArchivePage
    source.SOURCE: the :class:`scraper.sources.base.Source` the registry lists
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from scraper.lazy import lazy_exports

# Names load on first use (PEP 562), so reading a source's config (``.config``, imported at
# start-up by the registry) does not import its parsers and lxml.
_EXPORTS = {
    "ArchiveEntry": "scraper.sources.housing_ombudsman.models",
    "ArchivePage": "scraper.sources.housing_ombudsman.models",
    "ComplaintFinding": "scraper.sources.housing_ombudsman.models",
    "Finding": "scraper.sources.housing_ombudsman.models",
    "HoDecision": "scraper.sources.housing_ombudsman.models",
    "HousingOmbudsmanConfig": "scraper.sources.housing_ombudsman.config",
    "INFO": "scraper.sources.housing_ombudsman.config",
    "Remedy": "scraper.sources.housing_ombudsman.models",
    "archive_url": "scraper.sources.housing_ombudsman.archive",
    "decision_item": "scraper.sources.housing_ombudsman.item",
    "parse_archive": "scraper.sources.housing_ombudsman.archive",
    "parse_decision": "scraper.sources.housing_ombudsman.decision",
}

if TYPE_CHECKING:
    from scraper.sources.housing_ombudsman.archive import archive_url, parse_archive
    from scraper.sources.housing_ombudsman.config import INFO, HousingOmbudsmanConfig
    from scraper.sources.housing_ombudsman.decision import parse_decision
    from scraper.sources.housing_ombudsman.item import decision_item
    from scraper.sources.housing_ombudsman.models import (
        ArchiveEntry,
        ArchivePage,
        ComplaintFinding,
        Finding,
        HoDecision,
        Remedy,
    )

__all__ = [
    "INFO",
    "ArchiveEntry",
    "ArchivePage",
    "ComplaintFinding",
    "Finding",
    "HoDecision",
    "HousingOmbudsmanConfig",
    "Remedy",
    "archive_url",
    "decision_item",
    "parse_archive",
    "parse_decision",
]


__getattr__ = lazy_exports(__name__, _EXPORTS)
