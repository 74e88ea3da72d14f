"""A council's ombudsman record from the store: decisions by quarter and outcome, upheld rate,
remedies and their total, top subjects, the latest decisions and the latest news naming it."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import Engine, select

from db.document_tables import DOCUMENT_COUNCILS as _TAGS
from db.document_tables import DOCUMENTS as _DOCS
from db.engine import read_connection
from db.search import Scope, StoredDocument, find_documents

# Outcomes that are the result of an investigation: the upheld rate is upheld among these
# (a complaint closed after initial enquiries was never investigated).
INVESTIGATED = ("upheld", "not upheld")


@dataclass(frozen=True)
class Quarter:
    year: int
    quarter: int
    outcomes: dict[str, int]

    @property
    def label(self) -> str:
        return f"{self.year} Q{self.quarter}"

    @property
    def total(self) -> int:
        return sum(self.outcomes.values())


@dataclass(frozen=True)
class CouncilRecord:
    decisions: int
    outcomes: dict[str, int]
    quarters: list[Quarter]
    remedied: int  # decisions with any remedy (apology, payment, improvement, reconsideration)
    payments: int  # decisions ordering a payment
    total_pence: int
    categories: list[tuple[str, int]]
    latest_decisions: list[StoredDocument] = field(default_factory=list)
    latest_news: list[StoredDocument] = field(default_factory=list)

    @property
    def investigated(self) -> int:
        return sum(self.outcomes.get(o, 0) for o in INVESTIGATED)

    @property
    def upheld_rate(self) -> float | None:
        return self.outcomes.get("upheld", 0) / self.investigated if self.investigated else None


def _quarter(day: date) -> tuple[int, int]:
    return day.year, (day.month - 1) // 3 + 1


def _remedies(extra: Any) -> dict[str, Any]:
    found = extra.get("remedies") if isinstance(extra, dict) else None
    return found if isinstance(found, dict) else {}


def council_record(
    engine: Engine,
    council_ids: Sequence[str],
    *,
    quarters: int = 12,
    latest: int = 5,
    top: int = 5,
    today: date,
) -> CouncilRecord:
    """The record of decisions tagged with any of ``council_ids`` (a council, or it and its
    predecessors), with ``quarters`` quarters up to ``today`` (empty ones included)."""
    ids = list(council_ids)
    with read_connection(engine) as connection:
        rows = connection.execute(
            select(_DOCS.c.decided_on, _DOCS.c.outcome, _DOCS.c.category, _DOCS.c.extra).where(
                _DOCS.c.kind == "decision",
                _DOCS.c.id.in_(select(_TAGS.c.document_id).where(_TAGS.c.council_id.in_(ids))),
            )
        ).all()
    outcomes: Counter[str] = Counter()
    by_quarter: dict[tuple[int, int], Counter[str]] = {}
    categories: Counter[str] = Counter()
    remedied = payments = total_pence = 0
    for row in rows:
        outcome = row.outcome or "unknown"
        outcomes[outcome] += 1
        if row.decided_on is not None:
            by_quarter.setdefault(_quarter(row.decided_on), Counter())[outcome] += 1
        if row.category:
            categories[row.category] += 1
        remedies = _remedies(row.extra)
        pence = int(remedies.get("total_pence") or 0)
        if remedies.get("payments") or pence:
            payments += 1
            total_pence += pence
        if pence or any(
            remedies.get(k)
            for k in ("apology", "payments", "service_improvements", "reconsideration")
        ):
            remedied += 1
    year, q = _quarter(today)
    shown = []
    for _ in range(quarters):
        shown.append(Quarter(year, q, dict(by_quarter.get((year, q), {}))))
        year, q = (year, q - 1) if q > 1 else (year - 1, 4)
    return CouncilRecord(
        decisions=len(rows),
        outcomes=dict(outcomes),
        quarters=list(reversed(shown)),
        remedied=remedied,
        payments=payments,
        total_pence=total_pence,
        categories=categories.most_common(top),
        latest_decisions=find_documents(
            engine, None, Scope(kinds=["decision"], council_ids=ids), limit=latest
        ),
        latest_news=find_documents(
            engine, None, Scope(kinds=["news"], council_ids=ids), limit=latest
        ),
    )
