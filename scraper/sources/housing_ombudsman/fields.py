"""Field values as the Housing Ombudsman prints them: case ids, dates, findings, sums."""

from __future__ import annotations

import re
from datetime import date

from scraper.dates import MONTHS
from scraper.sources.housing_ombudsman.models import Finding

# Case ids are nine digits, the first four the year the case was opened (202312345).
CASE_ID = re.compile(r"(?<!\d)(20[12]\d{6})(?!\d)")
# The decision URL ends in the landlord's slug and the case id: /decisions/clarion-202312345/
URL_CASE_ID = re.compile(r"/decisions/(?:[a-z0-9-]+-)?(20[12]\d{6})/?$")

# "18 May 2026", "18May 2026" (the site's table runs them together), "18th May, 2026",
# "18-May-2026"; then "18/05/2026" and "2026-05-18".
_DAY_MONTH_YEAR = re.compile(
    r"\b(\d{1,2})(?:st|nd|rd|th)?[\s-]*([A-Za-z]{3,9})\.?,?[\s-]*(\d{4})\b"
)
_NUMERIC = re.compile(r"\b(\d{1,2})/(\d{1,2})/(\d{4})\b")
_ISO = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")


def parse_date(text: str) -> date | None:
    """The first date in ``text``, or None."""
    for written in _DAY_MONTH_YEAR.finditer(text):
        month = MONTHS.get(written.group(2)[:3].lower())
        if month is not None:
            return _date(int(written.group(3)), month, int(written.group(1)))
    numeric = _NUMERIC.search(text)
    if numeric:
        return _date(int(numeric.group(3)), int(numeric.group(2)), int(numeric.group(1)))
    iso = _ISO.search(text)
    if iso:
        return _date(int(iso.group(1)), int(iso.group(2)), int(iso.group(3)))
    return None


def _date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


# Longest phrases first: "no maladministration" must not read as "maladministration".
_FINDING_PHRASES: tuple[tuple[re.Pattern[str], Finding], ...] = (
    (re.compile(r"\bsevere\s+maladministration\b", re.I), Finding.SEVERE),
    (re.compile(r"\bno\s+maladministration\b", re.I), Finding.NO_MALADMINISTRATION),
    (re.compile(r"\bmaladministration\b", re.I), Finding.MALADMINISTRATION),
    (re.compile(r"\bservice\s+failure\b", re.I), Finding.SERVICE_FAILURE),
    (
        re.compile(
            r"\breasonable\s+redress\b|\b(?:offered|offer\s+of|made)\s+(?:\w+\s+){0,3}?redress\b"
            r".{0,160}?\bresolves?\b",
            re.I,
        ),
        Finding.REASONABLE_REDRESS,
    ),
    (
        re.compile(
            r"\boutside\s+(?:of\s+)?(?:the\s+)?(?:ombudsman'?s\s+|our\s+)?jurisdiction\b"
            r"|\bnot\s+within\s+(?:the\s+)?(?:ombudsman'?s\s+|our\s+)?jurisdiction\b"
            r"|\bnot\s+(?:one\s+)?(?:that\s+)?(?:the\s+ombudsman|we)\s+(?:can|will|could)\s+"
            r"(?:consider|investigate)\b",
            re.I,
        ),
        Finding.OUTSIDE_JURISDICTION,
    ),
)


def finding_label(text: str) -> Finding | None:
    """The finding when ``text`` is nothing but a finding ("Service failure", a table cell)."""
    cleaned = re.sub(r"[\s.:;]+$", "", text.strip()).lower().replace("\u2019", "'")
    aliases = {
        "severe maladministration": Finding.SEVERE,
        "maladministration": Finding.MALADMINISTRATION,
        "service failure": Finding.SERVICE_FAILURE,
        "reasonable redress": Finding.REASONABLE_REDRESS,
        "redress": Finding.REASONABLE_REDRESS,
        "no maladministration": Finding.NO_MALADMINISTRATION,
        "outside jurisdiction": Finding.OUTSIDE_JURISDICTION,
        "outside of jurisdiction": Finding.OUTSIDE_JURISDICTION,
        "outside the ombudsman's jurisdiction": Finding.OUTSIDE_JURISDICTION,
    }
    return aliases.get(cleaned)


def finding_in(sentence: str) -> tuple[Finding, re.Match[str]] | None:
    """The finding a determination sentence states, and where, or None."""
    for pattern, finding in _FINDING_PHRASES:
        match = pattern.search(sentence)
        if match:
            return finding, match
    return None


_AMOUNT = re.compile(r"£\s?(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d{2}))?")
_ON_TOP = re.compile(r"\b(?:in addition to|on top of|as well as)(?:\s+the)?\s*$", re.I)
# A total followed by its breakdown: only the total is owed.
_BREAKDOWN = re.compile(
    r"\b(?:comprised|comprising|made up|consisting|broken down|which includes|including)\b", re.I
)


def amount_pence(text: str) -> int:
    """The compensation one order or recommendation names, in pence (0 for none).

    "£600, comprised of £400 for distress and £200 for time" is £600, not £1,200; separate
    sums without a stated total ("£150 for X and £100 for Y") add up; a sum the order comes
    on top of ("in addition to the £300 it offered") is not part of it.
    """
    total = 0
    for sentence in re.split(r"(?<=[.;])\s+(?=[A-Z])", text):
        sums = [
            int(m.group(1).replace(",", "")) * 100 + int(m.group(2) or 0)
            for m in _AMOUNT.finditer(sentence)
            if not _ON_TOP.search(sentence[: m.start()])
        ]
        if sums:
            total += sums[0] if _BREAKDOWN.search(sentence) else sum(sums)
    return total
