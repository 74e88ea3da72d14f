"""The visible layout shared by LGSCO pages: furniture to drop, the title line, the page kind.

Furniture is removed twice over: subtrees whose markup announces them (``nav``, ``footer``,
the page-level ``header``, anything whose id or class says cookie or breadcrumb) are never
read, and lines whose text is furniture ("Back to top", "Print this page", the cookie banner)
are dropped or end the body, so a page with no helpful markup at all still reads cleanly.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from lxml.etree import _Element

from scraper.sources.lgsco.fields import TITLE_LINE, find_references
from scraper.text import TextLine, parse_html, visible_lines

PageKind = Literal["decision", "listing", "unknown"]

_FURNITURE_MARKUP = re.compile(
    r"cookie|consent|breadcrumb|skip-?link|site-?(?:header|footer)", re.I
)
_ALWAYS_FURNITURE_TAGS = frozenset({"nav", "footer"})

# Lines that are chrome wherever they appear; "Back to top" also separates sections.
BACK_TO_TOP = "back to top"
FURNITURE_LINES: frozenset[str] = frozenset(
    {
        BACK_TO_TOP,
        "print this page",
        "lgo logogram",
        "skip to main content",
        "share this page",
        "top of page",
        "print",
        "share",
    }
)
# First lines of the cookie and privacy banner: everything from here on is not the decision.
_BANNER_START = re.compile(
    r"^(?:review your privacy settings|privacy settings|required cookies|analytical cookies|"
    r"we use cookies|this website uses cookies|cookies on (?:this|our) (?:site|website)|"
    r"accept (?:all )?cookies|manage cookies)\b",
    re.I,
)
# Header labels as printed ("Decision date : 14 Jul 2024"), or alone on a line when a dt/th
# holds the label and the next line the value.
_LABELS = {
    "category": "category",
    "decision date": "decision_date",
    "date of decision": "decision_date",
    "decision": "outcome",
    "outcome": "outcome",
    "type": "document_type",
    "decision type": "document_type",
    "document type": "document_type",
    "summary": "summary",
}
_LABEL = re.compile(
    r"^(?P<label>"
    + "|".join(sorted(_LABELS, key=len, reverse=True))
    + r")\s*(?::\s*(?P<value>.*)|$)",
    re.I,
)
_SATISFIED = re.compile(
    r"^ombudsman satisfied with (?:the )?[\w\s'\u2019-]{0,60}?response\s*(?::\s*(?P<value>.*)|$)",
    re.I,
)
_LISTING_TOTAL = re.compile(r"\byour search has ([\d,]+) results?\b", re.I)
_SEARCH_FORM_ACTION = re.compile(r"newsearchpost|searchresults", re.I)


def key(text: str) -> str:
    """Comparison form of a line: lower case, straight apostrophes, no trailing colon."""
    return text.lower().replace("\u2019", "'").replace("\u2018", "'").rstrip(" :.")


def is_furniture_element(element: _Element) -> bool:
    """Subtrees the site marks as navigation, banners or breadcrumbs."""
    tag = element.tag
    if tag in _ALWAYS_FURNITURE_TAGS:
        return True
    parent = element.getparent()
    if tag == "header" and parent is not None and parent.tag == "body":
        return True
    if element.get("role") in ("navigation", "banner", "contentinfo"):
        return True
    marks = f"{element.get('id', '')} {element.get('class', '')}"
    return bool(marks.strip()) and bool(_FURNITURE_MARKUP.search(marks))


def split_label(text: str) -> tuple[str, str] | None:
    """``("decision_date", "14 Jul 2024")`` for a header label line, else None.

    The value is empty when the label stands alone and its value is on the next line.
    """
    match = _LABEL.match(text)
    if match:
        return _LABELS[match.group("label").lower()], (match.group("value") or "").strip()
    match = _SATISFIED.match(text)
    if match:
        return "satisfied_date", (match.group("value") or "").strip()
    return None


def is_banner_start(text: str) -> bool:
    return bool(_BANNER_START.match(text))


@dataclass(frozen=True, slots=True)
class Page:
    """A parsed page: its tree (for links) and its visible lines without marked furniture."""

    root: _Element
    lines: list[TextLine]


def read_page(content: bytes) -> Page:
    root = parse_html(content)
    return Page(root, visible_lines(root, skip=is_furniture_element))


@dataclass(frozen=True, slots=True)
class TitleLine:
    index: int
    organisation: str
    references: tuple[str, ...]
    text: str


def match_title(text: str) -> tuple[str, tuple[str, ...]] | None:
    """``("Norfolk County Council", ("23 018 529",))`` for a title line, else None."""
    match = TITLE_LINE.match(text)
    if not match:
        return None
    return match.group("organisation").strip(), tuple(find_references(match.group("refs")))


def find_title(lines: list[TextLine]) -> TitleLine | None:
    """The first "Organisation (YY NNN NNN)" line of the page."""
    for index, line in enumerate(lines):
        found = match_title(line.text)
        if found:
            return TitleLine(index, found[0], found[1], line.text)
    return None


def listing_total(lines: list[TextLine]) -> int | None:
    for line in lines:
        match = _LISTING_TOTAL.search(line.text)
        if match:
            return int(match.group(1).replace(",", ""))
    return None


def has_search_form(root: _Element) -> bool:
    return any(_SEARCH_FORM_ACTION.search(form.get("action", "")) for form in root.iter("form"))


def page_kind(page: Page) -> PageKind:
    if listing_total(page.lines) is not None:
        return "listing"
    title = find_title(page.lines)
    if title is not None:
        for line in page.lines[title.index + 1 :]:
            label = split_label(line.text)
            if label and label[0] in ("decision_date", "summary", "category"):
                return "decision"
    if has_search_form(page.root):
        return "listing"
    return "unknown"


def detect_page_kind(content: bytes) -> PageKind:
    """Decision page, search listing (results, empty or the bare shell), or unknown."""
    return page_kind(read_page(content))
