"""One search-result card's fields, read from its text however the site wraps them.

The real site prints the type, the outcome, the subcategory and the decision date on ONE line
separated by nothing but spaces::

    Statement Closed after initial enquiries Parking and other penalties 09-Aug-2026
    Summary: ...

Other wrappings seen or likely: one field per block, " · ", " | " or commas between them,
inline elements with no whitespace at all, a table row, labels ("Decision: Upheld Decision
date: 09-Aug-2026"). Every field has a fixed vocabulary or shape, so the split is
deterministic: labelled values first, then, in what no label claims, the document type at the
start, the longest known outcome after it, the date at the end, and the subcategory is what
is left between. A field that cannot be found is a *problem* the caller counts, never a
reason to drop the card: the decision page has every field.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from scraper.sources.lgsco.fields import (
    SEPARATORS,
    document_type_at,
    find_date,
    find_outcome,
    outcome_at,
)
from scraper.sources.lgsco.layout import FURNITURE_LINES, find_labels, key, label_values

_CARD_FURNITURE = FURNITURE_LINES | {"read more", "view decision", "read the decision"}
_CATEGORY_SPLIT = re.compile(r"\s*[>\u203a\u00bb]\s*")
# A card without a "Summary:" label: its summary is the first line that reads as prose.
_PROSE_MIN = 60


@dataclass
class CardFields:
    document_type: str | None = None
    outcome_text: str = ""
    subcategory: str | None = None
    decided: date | None = None
    summary: str = ""
    problems: list[str] = field(default_factory=list)


def _strip(text: str) -> str:
    return text.strip(SEPARATORS)


def _split_summary(lines: list[str]) -> tuple[list[str], str]:
    """(the lines holding the fields, the summary)."""
    for index, line in enumerate(lines):
        mark = max(line.find("ummary"), line.find("UMMARY"))
        if mark < 0:
            continue  # cheap test first: most lines hold no summary label
        # Only the text up to the label is searched, not the summary after it.
        labels = [label for label in find_labels(line[: mark + 40]) if label.name == "summary"]
        if labels:
            label = labels[0]
            summary = _strip(line[label.end :])
            if not summary and index + 1 < len(lines):
                summary = lines[index + 1]
            return [*lines[:index], line[: label.start]], summary
    # No label: the fields end with the line holding the date; the summary is the prose after.
    for index, line in enumerate(lines):
        if find_date(line) is not None:
            rest = lines[index + 1 :]
            return lines[: index + 1], rest[0] if rest else ""
    for index, line in enumerate(lines):
        if len(line) >= _PROSE_MIN and line.rstrip().endswith((".", "!", "?")):
            return lines[:index], line
    return lines, ""


def _subcategory(text: str) -> str | None:
    value = _strip(_CATEGORY_SPLIT.split(text)[-1])
    return value or None


def read_card(lines: list[str], *, today: date | None = None) -> CardFields:
    """The fields of one card from its text lines (the title already removed)."""
    card = CardFields()
    kept = [line for line in lines if key(line) not in _CARD_FURNITURE]
    field_lines, card.summary = _split_summary(kept)
    text = "\n".join(field_lines)
    values, unclaimed = label_values(text, find_labels(text))

    if "document_type" in values:
        found_type = document_type_at(values["document_type"])
        card.document_type = found_type[0] if found_type else values["document_type"] or None
    outcome = values.get("outcome")
    if outcome is not None:
        end = outcome_at(outcome)
        card.outcome_text = outcome[:end] if end else outcome
        if end:
            unclaimed.append(outcome[end:])
    if "decision_date" in values:
        found_date = find_date(values["decision_date"])
        if found_date is not None:
            card.decided = found_date[0]
            value = values["decision_date"]
            unclaimed.append(value[: found_date[1]] + " " + value[found_date[2] :])
    labelled_category = values.get("subcategory") or values.get("category")
    if labelled_category:
        card.subcategory = _subcategory(labelled_category)

    rest = _strip("\n".join(part for part in unclaimed if _strip(part)))
    if card.document_type is None and (found_type := document_type_at(rest)) is not None:
        card.document_type = found_type[0]
        rest = _strip(rest[found_type[1] :])
    if not card.outcome_text:
        end = outcome_at(rest)
        span = (0, end) if end else find_outcome(rest)
        if span is not None:
            card.outcome_text = " ".join(rest[span[0] : span[1]].split())
            rest = _strip(rest[: span[0]] + "\n" + rest[span[1] :])
    if card.decided is None and (found_date := find_date(rest)) is not None:
        card.decided, start, end = found_date
        rest = _strip(rest[:start] + "\n" + rest[end:])
    if card.subcategory is None and rest:
        card.subcategory = _subcategory(" ".join(rest.split()))

    if card.decided is not None and today is not None and card.decided > today:
        card.problems.append(f"decision date {card.decided} is in the future")
        card.decided = None
    for name, present in (
        ("type", card.document_type),
        ("outcome", card.outcome_text),
        ("subcategory", card.subcategory),
        ("decision date", card.decided),
    ):
        if not present:
            card.problems.append(f"no {name}")
    return card
