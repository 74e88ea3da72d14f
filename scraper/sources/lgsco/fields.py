"""Single-value parsers for LGSCO pages: references, outcomes and dates as the site prints them."""

from __future__ import annotations

import re
from datetime import date

from cwerrors import ParseError
from scraper.sources.lgsco.models import Outcome

# "23 018 529", "23-018-529", "23018529", "17 002 402b"; before about 2009 "06/B/16774".
_MODERN = r"\d{2}[ -]?\d{3}[ -]?\d{3}(?:[a-zA-Z](?![a-zA-Z]))?"
_OLD = r"\d{2}/[A-Za-z]/\d{4,6}"
REFERENCE = re.compile(rf"(?<![\d/])(?:{_MODERN}|{_OLD})(?![\d/])")
_MODERN_PARTS = re.compile(r"(\d{2})[ -]?(\d{3})[ -]?(\d{3})([a-zA-Z]?)")
_OLD_PARTS = re.compile(r"(\d{2})/([A-Za-z])/(\d{4,6})")
# The page's title line: "Norfolk County Council (23 018 529)", one or more references.
TITLE_LINE = re.compile(
    rf"^(?P<organisation>\S.*?)\s*\((?P<refs>(?:{_MODERN}|{_OLD})(?:\s*(?:,|and|&)\s*"
    rf"(?:{_MODERN}|{_OLD}))*)\)$"
)

_MONTH_NAMES = (
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
)
# Full names and three-letter forms, plus the "Sept" some pages print.
_MONTHS = {
    name: number for number, full in enumerate(_MONTH_NAMES, start=1) for name in (full, full[:3])
} | {"sept": 9}
_DAY_MONTH_YEAR = re.compile(r"\b(\d{1,2})(?:st|nd|rd|th)?[\s-]+([A-Za-z]{3,9})\.?[\s-]+(\d{4})\b")
_NUMERIC_DMY = re.compile(r"\b(\d{1,2})/(\d{1,2})/(\d{4})\b")
_ISO = re.compile(r"\b(\d{4})-(\d{1,2})-(\d{1,2})\b")


def normalise_reference(text: str) -> str:
    """The site's printed form of a reference: "23 018 529", suffix lower-case ("17 002 402b").

    Accepts URL slugs ("23-018-529"), run-together digits and the pre-2009 "06/B/16774" form
    (kept, with its letter upper-cased).
    """
    value = text.strip()
    match = _MODERN_PARTS.fullmatch(value)
    if match:
        year, middle, last, suffix = match.groups()
        return f"{year} {middle} {last}{suffix.lower()}"
    match = _OLD_PARTS.fullmatch(value)
    if match:
        year, letter, number = match.groups()
        return f"{year}/{letter.upper()}/{number}"
    raise ParseError(f"not an LGSCO reference: {text!r}", field="reference")


def base_reference(reference: str) -> str:
    """A reference without its joint-case letter: "17 002 402b" -> "17 002 402"."""
    return reference.rstrip("abcdefghijklmnopqrstuvwxyz")


def find_references(text: str) -> list[str]:
    """Every reference in ``text``, normalised, in order of appearance."""
    return [normalise_reference(match.group(0)) for match in REFERENCE.finditer(text)]


def parse_outcome(text: str) -> Outcome:
    """Map the printed decision, current or old long form, onto :class:`Outcome`.

    "Upheld: maladministration and injustice" is upheld, "Not upheld: no maladministration"
    is not upheld, "Closed after initial enquiries - out of jurisdiction" is closed.
    """
    value = " ".join(text.lower().replace("-", " ").split())
    if value.startswith(("not upheld", "no maladministration")):
        return Outcome.NOT_UPHELD
    if value.startswith(("upheld", "maladministration")):
        return Outcome.UPHELD
    if value.startswith("closed after initial enquiries"):
        return Outcome.CLOSED
    return Outcome.OTHER


def is_outcome_text(text: str) -> bool:
    """Whether a short line reads as a decision ("Upheld", "Not upheld: no maladministration")."""
    return len(text) <= 80 and parse_outcome(text) is not Outcome.OTHER


def parse_date(text: str) -> date | None:
    """The first date in ``text`` ("14 Jul 2024", "09-Aug-2026", "14/07/2024", "2024-07-14").

    Returns None when nothing looks like a date; raises ValueError when something does but is
    not a real date ("31 Feb 2024", "14 Foo 2024"), so callers can report it as such.
    """
    match = _DAY_MONTH_YEAR.search(text)
    if match:
        day, month_name, year = match.groups()
        month = _MONTHS.get(month_name.lower())
        if month is None:
            raise ValueError(f"unknown month {month_name!r} in {text!r}")
        return date(int(year), month, int(day))
    match = _NUMERIC_DMY.search(text)
    if match:
        day, month_number, year = match.groups()
        return date(int(year), int(month_number), int(day))
    match = _ISO.search(text)
    if match:
        year, month_number, day = match.groups()
        return date(int(year), int(month_number), int(day))
    return None
