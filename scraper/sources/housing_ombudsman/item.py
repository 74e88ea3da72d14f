"""A parsed decision as the shared :class:`~scraper.sources.base.Item` storage takes.

The overall outcome is the most severe finding, mapped onto the subscribers' outcome
vocabulary (the raw finding is kept as ``outcome_text``): a finding of fault, however put
right since, is "upheld"; reasonable redress (the landlord had already put it right) and no
maladministration are "not upheld"; outside jurisdiction is the counterpart of LGSCO's
"closed after initial enquiries". Remedies are stored in the shape every decision's
``extra["remedies"]`` has, so digests and pages show them without knowing the source.
"""

from __future__ import annotations

import re
from typing import Any

from scraper.sources.base import Item
from scraper.sources.housing_ombudsman.config import INFO
from scraper.sources.housing_ombudsman.models import Finding, HoDecision

_OUTCOME = {
    Finding.SEVERE: "upheld",
    Finding.MALADMINISTRATION: "upheld",
    Finding.SERVICE_FAILURE: "upheld",
    Finding.REASONABLE_REDRESS: "not upheld",
    Finding.NO_MALADMINISTRATION: "not upheld",
    Finding.OUTSIDE_JURISDICTION: "closed after initial enquiries",
}
_APOLOGY = re.compile(r"\bapolog", re.I)
_SERVICE = re.compile(r"\breview\b|\bpolic(?:y|ies)\b|\btraining\b|\bprocedures?\b|\bremind", re.I)
_RECIPIENT = re.compile(r"\bthe resident(?:s)?\b|\bthe leaseholder\b", re.I)


def outcome_of(finding: Finding) -> str:
    return _OUTCOME[finding]


def remedies_json(decision: HoDecision) -> dict[str, Any]:
    orders = [r for r in decision.remedies if r.kind == "order"]
    payments = []
    for order in orders:
        if order.amount_pence:
            recipient = _RECIPIENT.search(order.text)
            payments.append(
                {
                    "amount_pence": order.amount_pence,
                    "recipient": recipient.group(0) if recipient else None,
                    "sentence": order.text,
                }
            )
    texts = [r.text for r in decision.remedies]
    return {
        "apology": any(_APOLOGY.search(t) for t in texts),
        "payments": payments,
        "total_pence": decision.compensation_pence,
        "service_improvements": any(_SERVICE.search(t) for t in texts),
        "reconsideration": False,
        "sentences": texts,
    }


def decision_item(decision: HoDecision) -> Item:
    worst = decision.outcome
    return Item(
        kind="decision",
        key=decision.case_id,
        url=decision.url,
        title=decision.title,
        summary=decision.summary,
        body=decision.body_text(),
        decided_on=decision.decision_date,
        reference=decision.case_id,
        organisation=decision.landlord,
        category="Housing",
        subcategory=None,
        outcome=outcome_of(worst),
        outcome_text=worst.value.capitalize(),  # "Severe maladministration"
        extra={
            "ombudsman": INFO.label,
            "finding": worst.value,
            "landlord_type": decision.landlord_type,
            "decision_type": decision.decision_type,
            "jurisdiction": decision.jurisdiction,
            "occupancy": decision.occupancy,
            "layout": decision.layout,
            "findings": [f.to_json() for f in decision.findings],
            "orders": [r.to_json() for r in decision.remedies],
            "remedies": remedies_json(decision),
            "sections": [s.to_json() for s in decision.sections],
        },
    )
