"""What the LGSCO parsers return: frozen records with a JSON form (ISO dates, pence)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any


class Outcome(StrEnum):
    """The Ombudsman's decision, reduced to the four outcomes subscribers filter on."""

    UPHELD = "upheld"
    NOT_UPHELD = "not upheld"
    CLOSED = "closed after initial enquiries"
    OTHER = "other"


@dataclass(frozen=True)
class Payment:
    """One sum the body agreed or was asked to pay, with the sentence that says so."""

    amount_pence: int
    recipient: str | None
    sentence: str

    def to_json(self) -> dict[str, Any]:
        return {
            "amount_pence": self.amount_pence,
            "recipient": self.recipient,
            "sentence": self.sentence,
        }


@dataclass(frozen=True)
class Remedies:
    """The remedy found in a decision's agreed-action or recommendations text."""

    apology: bool = False
    payments: tuple[Payment, ...] = ()
    service_improvements: bool = False
    reconsideration: bool = False
    # Every sentence that carried at least one remedy, in page order.
    sentences: tuple[str, ...] = ()

    @property
    def total_pence(self) -> int:
        return sum(payment.amount_pence for payment in self.payments)

    def to_json(self) -> dict[str, Any]:
        return {
            "apology": self.apology,
            "payments": [payment.to_json() for payment in self.payments],
            "total_pence": self.total_pence,
            "service_improvements": self.service_improvements,
            "reconsideration": self.reconsideration,
            "sentences": list(self.sentences),
        }


@dataclass(frozen=True)
class Section:
    """A headed part of a decision; paragraphs lose their printed numbers."""

    heading: str
    paragraphs: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {"heading": self.heading, "paragraphs": list(self.paragraphs)}


@dataclass(frozen=True)
class Decision:
    """One decision page (a statement or a report) for one organisation."""

    reference: str
    references: tuple[str, ...]
    organisation: str
    title: str
    category: str | None
    subcategory: str | None
    outcome: Outcome
    outcome_text: str
    decision_date: date
    document_type: str | None
    summary: str
    sections: tuple[Section, ...]
    remedies: Remedies
    satisfied_date: date | None
    url: str
    pdf_url: str | None

    def body_text(self) -> str:
        """Summary and sections as plain text: what matching and full-text search read."""
        parts = [self.summary] if self.summary else []
        for section in self.sections:
            if section.heading:
                parts.append(section.heading)
            parts.extend(section.paragraphs)
        return "\n\n".join(parts)

    def to_json(self) -> dict[str, Any]:
        return {
            "reference": self.reference,
            "references": list(self.references),
            "organisation": self.organisation,
            "title": self.title,
            "category": self.category,
            "subcategory": self.subcategory,
            "outcome": self.outcome.value,
            "outcome_text": self.outcome_text,
            "decision_date": self.decision_date.isoformat(),
            "document_type": self.document_type,
            "summary": self.summary,
            "sections": [section.to_json() for section in self.sections],
            "remedies": self.remedies.to_json(),
            "satisfied_date": self.satisfied_date.isoformat() if self.satisfied_date else None,
            "url": self.url,
            "pdf_url": self.pdf_url,
        }


@dataclass(frozen=True)
class ListingEntry:
    """One result card of the search listing.

    Only the reference, organisation and URL are certain; the other fields are hints the
    decision page confirms (None or "" when the card did not show them).
    """

    reference: str
    organisation: str
    url: str
    outcome: Outcome
    outcome_text: str
    document_type: str | None
    subcategory: str | None
    decision_date: date | None
    summary: str

    def to_json(self) -> dict[str, Any]:
        return {
            "reference": self.reference,
            "organisation": self.organisation,
            "url": self.url,
            "outcome": self.outcome.value,
            "outcome_text": self.outcome_text,
            "document_type": self.document_type,
            "subcategory": self.subcategory,
            "decision_date": self.decision_date.isoformat() if self.decision_date else None,
            "summary": self.summary,
        }


@dataclass(frozen=True)
class Listing:
    """One page of search results.

    ``is_shell`` marks the site's page shell with no results area at all, which the site has
    served to some clients instead of results: the fetcher treats it as a fault, never as
    "nothing new". An honest empty result says ``total == 0`` and is not a shell.
    ``problems`` names what cards lacked ("24 009 118: no decision date"), and cards skipped
    for want of a link: hints missing, counted by the crawler, never fatal on their own.
    """

    total: int | None
    entries: list[ListingEntry] = field(default_factory=list)
    page: int | None = None
    is_shell: bool = False
    problems: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "page": self.page,
            "is_shell": self.is_shell,
            "entries": [entry.to_json() for entry in self.entries],
            "problems": list(self.problems),
        }
