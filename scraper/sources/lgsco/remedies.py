"""Remedies read from the words of a decision's agreed-action or recommendations text.

Each remedy is recognised in one sentence and that sentence is kept, so a subscriber (or a
test) can see why "apology" or "GBP 700 to Mr Q" was extracted.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from scraper.sources.lgsco.models import Payment, Remedies

# Split after a full stop, question or exclamation mark followed by a capital, a digit or "£".
# Titles carry no full stop in the Ombudsman's house style ("Mr X"), so they do not split.
_SENTENCE_END = re.compile(r"(?<=[.!?;])\s+(?=[A-Z0-9£(\"'\u2018\u201c])")
_AMOUNT = re.compile(r"(?:£|\bGBP\s?)(?P<amount>\d{1,3}(?:,\d{3})+|\d+)(?:\.(?P<pence>\d{2}))?")
_PAYMENT_WORD = re.compile(r"\b(?:pay|pays|paying|payment|paid|refund|reimburse|remit)", re.I)
# A person or group named right before the sum: "pay Mr Q £700", "refund Mrs B a further £90".
_PAYER_VERB_RECIPIENT = re.compile(
    # The articles are matched case-sensitively: "Mrs A" is a person, "a further" is not.
    r"\b(?:pay|refund|reimburse)\s+(?P<recipient>(?!(?-i:a|an)\b|the\s+sum\b)[\w'\u2019]+"
    r"(?:\s+(?!(?-i:a|an)\b)[\w'\u2019]+){0,5}?)\s+"
    r"(?:(?:a|an)\s+(?:further|total\s+of|additional|symbolic\s+payment\s+of|payment\s+of|sum\s+of)"
    r"\s+|the\s+sum\s+of\s+)?$",
    re.I,
)
# A person or group named right after the sum: "£200 to each daughter", "£300 to Ms C".
_TITLE = r"(?:Mr|Mrs|Ms|Miss|Mx|Dr)\s+[A-Z]\b(?:\s+and\s+(?:Mr|Mrs|Ms|Miss|Mx|Dr)\s+[A-Z]\b)?"
_TO_RECIPIENT = re.compile(
    rf"^(?:\s+each)?\s+to\s+(?P<recipient>{_TITLE}(?:'s\s+\w+)?|(?:each|both)\s+(?:of\s+)?\w+"
    rf"(?:\s+{_TITLE})?|(?:her|his|their)\s+\w+|the\s+(?:estate|family)\s+of\s+(?:the\s+late\s+)?"
    rf"{_TITLE}|the\s+(?:complainant|estate|family))\b"
)
_APOLOGY = re.compile(r"\bapolog(?:ise|ize|ised|ized|ising|izing|y|ies)\b", re.I)
_SERVICE = re.compile(
    r"service\s+improvement|\bremind(?:s|ed)?\s+(?:[\w'\u2019]+\s+){0,3}?(?:staff|officers|"
    r"workers|managers|crews|contractors?|employees|teams?)\b|\btraining\b|\bguidance\s+(?:to|for)\s+staff|"
    r"\baction\s+plan\b|\breview(?:s|ed)?\s+(?:its|the|how)\s+(?:\w+\s+){0,3}?"
    r"(?:polic(?:y|ies)|procedures?|process(?:es)?|practice)|\b(?:change|update|amend)s?\s+"
    r"(?:its|the)\s+(?:\w+\s+){0,2}?(?:polic(?:y|ies)|procedures?|process(?:es)?|guidance)",
    re.I,
)
_RECONSIDER = re.compile(
    r"\breconsider|\bre-consider|\breassess|\bre-assess|\bfresh\s+(?:assessment|decision|review)|"
    r"\bnew\s+assessment|\bre-?review\b|\btake\s+(?:a|the)\s+decision\s+again",
    re.I,
)
_NUMBERING = re.compile(r"^\(?(?:\d{1,3}|[a-z]|[ivx]{1,4})[.)]\s+")


def sentences(paragraphs: Iterable[str]) -> list[str]:
    """Sentences of the paragraphs, in order; a bullet or list item is its own sentence."""
    found: list[str] = []
    for paragraph in paragraphs:
        for piece in _SENTENCE_END.split(paragraph):
            piece = _NUMBERING.sub("", piece.strip())
            if piece:
                found.append(piece)
    return found


def _pence(match: re.Match[str]) -> int:
    pounds = int(match.group("amount").replace(",", ""))
    return pounds * 100 + int(match.group("pence") or 0)


def _recipient_before(sentence: str, start: int) -> str | None:
    match = _PAYER_VERB_RECIPIENT.search(sentence[:start])
    return match.group("recipient").strip() if match else None


def _recipient_after(sentence: str, end: int) -> str | None:
    match = _TO_RECIPIENT.match(sentence[end : end + 80])
    return match.group("recipient").strip() if match else None


def payments_in(sentence: str) -> list[Payment]:
    """Payments in one sentence; a later sum with no recipient of its own inherits the last one.

    "pay Mrs B £300 for her distress and £150 for her time" is two payments to Mrs B, while
    "pay Mr Q £700 and £200 to each daughter" gives the second to "each daughter".
    """
    if not _PAYMENT_WORD.search(sentence):
        return []
    payments: list[Payment] = []
    last: str | None = None
    for match in _AMOUNT.finditer(sentence):
        recipient = _recipient_after(sentence, match.end()) or _recipient_before(
            sentence, match.start()
        )
        recipient = recipient or last
        last = recipient
        payments.append(Payment(_pence(match), recipient, sentence))
    return payments


def extract_remedies(paragraphs: Iterable[str]) -> Remedies:
    """Remedies of a decision from the paragraphs that state its action or recommendations."""
    apology = service = reconsider = False
    payments: list[Payment] = []
    kept: list[str] = []
    for sentence in sentences(paragraphs):
        found = payments_in(sentence)
        says_sorry = bool(_APOLOGY.search(sentence))
        improves = bool(_SERVICE.search(sentence))
        redoes = bool(_RECONSIDER.search(sentence))
        if found or says_sorry or improves or redoes:
            kept.append(sentence)
        payments.extend(found)
        apology |= says_sorry
        service |= improves
        reconsider |= redoes
    return Remedies(
        apology=apology,
        payments=tuple(payments),
        service_improvements=service,
        reconsideration=reconsider,
        sentences=tuple(kept),
    )
