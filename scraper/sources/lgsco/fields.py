"""Single-value parsers for LGSCO pages: references, outcomes and dates as the site prints them."""

from __future__ import annotations

import re
from datetime import date

from cwerrors import ParseError
from scraper.dates import MONTHS
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
        month = MONTHS.get(month_name.lower())
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


# -- reading fields out of running text --------------------------------------------------------
#
# Result cards and decision headers print a fixed vocabulary (Statement | Report, a known
# outcome, a date) in whatever wrapping the site chooses: one field per block, one line
# separated by spaces, " · " or " | ", or inline elements with no whitespace at all
# ("StatementUpheldHomelessness09-Aug-2026"). The helpers below find each field by its
# vocabulary and shape, never by what separates it from its neighbours.

# Characters that only separate fields; stripped from the ends of a value.
SEPARATORS = " \t\n\u00a0\u00b7\u2022|,;:\u2013\u2014-/"
_DOCUMENT_TYPES = {"statement": "Statement", "report": "Report"}
# Outcomes as printed: the current three, the older long forms and rarer decisions.
_OUTCOME_BASES = (
    "closed after initial enquiries",
    "not upheld",
    "upheld",
    "no maladministration",
    "maladministration and injustice",
    "maladministration, no injustice",
    "maladministration no injustice",
    "investigation discontinued",
    "premature complaint",
    "premature",
    "outside jurisdiction",
    "out of jurisdiction",
    "not investigated",
    "ombudsman's discretion",
    "local settlement",
    "no further action",
    "injustice remedied",
)
_OUTCOME_QUALIFIERS = (
    "maladministration and injustice",
    "maladministration, injustice",
    "maladministration, no injustice",
    "maladministration no injustice",
    "no maladministration or injustice",
    "no maladministration",
    "no further action",
    "out of jurisdiction",
    "outside jurisdiction",
    "no worthwhile outcome",
    "injustice remedied",
    "fault and injustice",
    "fault, no injustice",
    "no fault",
    "premature",
    "not investigated",
    "ombudsman's discretion",
    "injustice",
)


def _phrases(options: tuple[str, ...]) -> str:
    ordered = sorted(options, key=len, reverse=True)  # the longest known form wins
    return "|".join(
        re.escape(option).replace("'", "['\u2019]").replace(r"\ ", r"\s+") for option in ordered
    )


_OUTCOME_AT = re.compile(
    rf"(?:{_phrases(_OUTCOME_BASES)})(?:\s*[:\-\u2013\u2014]\s*(?:{_phrases(_OUTCOME_QUALIFIERS)}))?",
    re.I,
)
_TYPE_AT = re.compile(r"statement|report", re.I)
_DATE_FORMS = (
    r"(?P<d>\d{1,2})(?:st|nd|rd|th)?[\s-]+(?P<m>[A-Za-z]{3,9})\.?[\s-]+(?P<y>\d{4})"
    r"|(?P<nd>\d{1,2})/(?P<nm>\d{1,2})/(?P<ny>\d{4})"
    r"|(?P<iy>\d{4})-(?P<im>\d{1,2})-(?P<id>\d{1,2})"
)
# No word boundary before the day: "Homelessness09-Aug-2026" is a subcategory and a date.
_DATE_ANYWHERE = re.compile(rf"(?:{_DATE_FORMS})(?!\d)")
_DATE_AT_START = re.compile(rf"(?:{_DATE_FORMS})(?!\d)")
_DATE_AT_END = re.compile(rf"(?:{_DATE_FORMS})[\s\u00b7|,;.]*$")


def _word_ends(text: str, end: int) -> bool:
    """A match ending at ``end`` ends a word: "Upheld" in "UpheldHousing", not in "Upheldx"."""
    return end >= len(text) or not text[end].islower()


def document_type_at(text: str, start: int = 0) -> tuple[str, int] | None:
    """("Statement", end) when ``text`` reads a document type at ``start``."""
    match = _TYPE_AT.match(text, start)
    if match and _word_ends(text, match.end()):
        return _DOCUMENT_TYPES[match.group(0).lower()], match.end()
    return None


def outcome_at(text: str, start: int = 0) -> int | None:
    """End of the longest known outcome (long forms included) at ``start``, else None."""
    match = _OUTCOME_AT.match(text, start)
    if match and _word_ends(text, match.end()):
        return match.end()
    return None


def find_outcome(text: str) -> tuple[int, int] | None:
    """(start, end) of the first known outcome that starts a word anywhere in ``text``."""
    for match in _OUTCOME_AT.finditer(text):
        start = match.start()
        starts_word = start == 0 or not text[start - 1].isalpha() or text[start].isupper()
        if starts_word and _word_ends(text, match.end()):
            return start, match.end()
    return None


def _date_of(match: re.Match[str]) -> date:
    """The date a _DATE_* match spells; ValueError when it is not a real date."""
    if match.group("d"):
        month = MONTHS.get(match.group("m").lower())
        if month is None:
            raise ValueError(f"unknown month {match.group('m')!r}")
        return date(int(match.group("y")), month, int(match.group("d")))
    if match.group("nd"):
        return date(int(match.group("ny")), int(match.group("nm")), int(match.group("nd")))
    return date(int(match.group("iy")), int(match.group("im")), int(match.group("id")))


def date_at(text: str, start: int = 0) -> tuple[date, int] | None:
    """(date, end) when a real date starts at ``start``."""
    match = _DATE_AT_START.match(text, start)
    if match is None:
        return None
    try:
        return _date_of(match), match.end()
    except ValueError:
        return None


def find_date(text: str) -> tuple[date, int, int] | None:
    """(date, start, end) of the last real date at the end of ``text``, else of the first
    real date anywhere in it; None when there is none."""
    for match in (_DATE_AT_END.search(text), *_DATE_ANYWHERE.finditer(text)):
        if match is None:
            continue
        try:
            found = _date_of(match)
        except ValueError:
            continue
        end = match.end()
        while end > match.start() and text[end - 1] in SEPARATORS + ".":
            end -= 1
        return found, match.start(), end
    return None
