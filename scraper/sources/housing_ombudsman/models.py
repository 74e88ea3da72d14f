"""What the Housing Ombudsman parsers return: frozen records with a JSON form (ISO dates, pence)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any


class Finding(StrEnum):
    """The Ombudsman's findings scale, most severe first (the order is the severity)."""

    SEVERE = "severe maladministration"
    MALADMINISTRATION = "maladministration"
    SERVICE_FAILURE = "service failure"
    REASONABLE_REDRESS = "reasonable redress"
    NO_MALADMINISTRATION = "no maladministration"
    OUTSIDE_JURISDICTION = "outside jurisdiction"

    @property
    def severity(self) -> int:
        """0 for the most severe finding; lower is worse."""
        return list(Finding).index(self)


@dataclass(frozen=True)
class ComplaintFinding:
    """One complaint of a case and what was found about it."""

    complaint: str
    finding: Finding
    text: str  # the finding as printed ("Severe maladministration", or the whole sentence)

    def to_json(self) -> dict[str, Any]:
        return {"complaint": self.complaint, "finding": self.finding.value, "text": self.text}


@dataclass(frozen=True)
class Remedy:
    """One order or recommendation, with the compensation it names (pence, 0 for none)."""

    kind: str  # "order" or "recommendation"
    text: str
    amount_pence: int

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "text": self.text, "amount_pence": self.amount_pence}


@dataclass(frozen=True)
class Section:
    heading: str
    paragraphs: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {"heading": self.heading, "paragraphs": list(self.paragraphs)}


@dataclass(frozen=True)
class HoDecision:
    """One Housing Ombudsman decision page."""

    case_id: str
    title: str
    landlord: str
    landlord_type: str | None
    decision_type: str | None
    jurisdiction: str | None
    occupancy: str | None
    decision_date: date
    layout: str  # "investigation" (since late 2025) or "report" (the older REPORT style)
    summary: str
    findings: tuple[ComplaintFinding, ...]
    remedies: tuple[Remedy, ...]
    sections: tuple[Section, ...]
    url: str

    @property
    def outcome(self) -> Finding:
        """The most severe finding: the case's overall outcome."""
        return min((f.finding for f in self.findings), key=lambda finding: finding.severity)

    @property
    def compensation_pence(self) -> int:
        """Compensation ordered (recommended sums are not owed, so they are not added)."""
        return sum(r.amount_pence for r in self.remedies if r.kind == "order")

    def body_text(self) -> str:
        """The sections as plain text (the summary is one of their paragraphs already)."""
        parts: list[str] = []
        for section in self.sections:
            parts.append(section.heading)
            parts.extend(section.paragraphs)
        return "\n\n".join(parts)

    def to_json(self) -> dict[str, Any]:
        return {
            "case_id": self.case_id,
            "title": self.title,
            "landlord": self.landlord,
            "landlord_type": self.landlord_type,
            "decision_type": self.decision_type,
            "jurisdiction": self.jurisdiction,
            "occupancy": self.occupancy,
            "decision_date": self.decision_date.isoformat(),
            "layout": self.layout,
            "outcome": self.outcome.value,
            "summary": self.summary,
            "findings": [f.to_json() for f in self.findings],
            "remedies": [r.to_json() for r in self.remedies],
            "compensation_pence": self.compensation_pence,
            "sections": [s.to_json() for s in self.sections],
            "url": self.url,
        }


@dataclass(frozen=True)
class ArchiveEntry:
    """One decision listed on an archive page (the list carries no dates)."""

    case_id: str
    title: str
    url: str

    def to_json(self) -> dict[str, Any]:
        return {"case_id": self.case_id, "title": self.title, "url": self.url}


@dataclass(frozen=True)
class ArchivePage:
    """One page of /decisions/: its entries, newest published first, and whether more follow."""

    page: int
    entries: tuple[ArchiveEntry, ...]
    has_next: bool
    last_page: int  # the highest page the pagination links to (at least this one)

    def to_json(self) -> dict[str, Any]:
        return {
            "page": self.page,
            "has_next": self.has_next,
            "last_page": self.last_page,
            "entries": [e.to_json() for e in self.entries],
        }
