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

from scraper.sources.lgsco.fields import (
    SEPARATORS,
    TITLE_LINE,
    date_at,
    document_type_at,
    find_references,
    outcome_at,
)
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


# The same labels found anywhere in running text: "...standardsDecision : Closed after initial
# enquiriesDecision date : 13 Sep 2021" is three labels, run together by inline markup.
_LABEL_ANYWHERE = re.compile(
    r"(?P<label>ombudsman satisfied with (?:the )?[\w\s'\u2019-]{0,60}?response|"
    + "|".join(sorted((*_LABELS, "subcategory", "date"), key=len, reverse=True))
    + r")(?P<colon>\s*:)?",
    re.I,
)
_INLINE_SEPARATORS = SEPARATORS.replace("\n", "")
# Every label holds one of these words.
_LABEL_WORDS = ("categor", "decision", "date", "outcome", "type", "summary", "ombudsman")
_ANY_LABELS = {**_LABELS, "subcategory": "subcategory", "date": "decision_date"}


@dataclass(frozen=True, slots=True)
class Label:
    """A field label found in running text: ``text[start:end]`` is the label (with its colon)."""

    name: str
    start: int
    end: int


def _validates(name: str, text: str, end: int) -> bool:
    """Without a colon a label counts only when what follows reads as its value."""
    start = end
    while start < len(text) and text[start] in _INLINE_SEPARATORS:
        start += 1
    if name == "outcome":
        return outcome_at(text, start) is not None
    if name == "decision_date":
        return date_at(text, start) is not None
    if name == "document_type":
        return document_type_at(text, start) is not None
    if name in ("category", "subcategory"):
        return start < len(text) and text[start].isupper()
    return False


def find_labels(text: str) -> list[Label]:
    """Every field label in ``text`` (lines joined by newlines), in order.

    A label starts a line, follows a separator, or starts a capitalised word run into the
    previous value ("standardsDecision"); it ends in a colon, stands alone on its line (a
    dt/th holding the label), or - with neither - is followed by a value of its own kind
    ("Decision Upheld", "Decision date 09-Aug-2026"), so ordinary words are never labels.
    """
    found: list[Label] = []
    lowered = text.lower()
    if not any(word in lowered for word in _LABEL_WORDS):
        return found  # the common case (a card's one line, prose), answered without a regex
    position = 0
    while True:
        match = _LABEL_ANYWHERE.search(text, position)
        if match is None:
            return found
        start, end = match.start(), match.end()
        label = match.group("label").lower()
        name = "satisfied_date" if label.startswith("ombudsman") else _ANY_LABELS[label]
        line_start = start == 0 or text[start - 1] == "\n"
        before = "" if line_start else text[start - 1]
        capital = text[start].isupper()
        starts = (
            line_start
            or (capital and not before.isupper())
            or (not before.isalnum() and before not in "'\u2019")
        )
        if not line_start and not capital:
            starts = False
        line_end = text.find("\n", end)
        rest = text[end : line_end if line_end >= 0 else len(text)]
        if starts and (
            match.group("colon")
            or not rest.strip()
            or ((end >= len(text) or not text[end].islower()) and _validates(name, text, end))
        ):
            if name == "summary" and not (match.group("colon") or not rest.strip()):
                position = start + 1
                continue
            found.append(Label(name, start, end))
            position = end
        else:
            position = start + 1


def label_values(text: str, labels: list[Label]) -> tuple[dict[str, str], list[str]]:
    """The value of each label and the text no label claims.

    A value runs to the next label or the end of its line; a label alone on its line takes
    the next line. What is left (text before the first label, lines after a value) is
    returned in order for the caller to read by vocabulary.
    """
    values: dict[str, str] = {}
    unclaimed: list[str] = []
    if not labels:
        return values, [text]
    unclaimed.append(text[: labels[0].start])
    for index, label in enumerate(labels):
        stop = labels[index + 1].start if index + 1 < len(labels) else len(text)
        segment = text[label.end : stop]
        head, newline, tail = segment.partition("\n")
        if not head.strip(SEPARATORS) and newline:
            head, newline, tail = tail.partition("\n")
        if label.name not in values:
            values[label.name] = head.strip(SEPARATORS)
        else:
            unclaimed.append(head)
        unclaimed.append(tail)
    return values, unclaimed


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
    rest: str = ""  # header text run into the title on the same line, if any


def match_title(text: str) -> tuple[str, tuple[str, ...]] | None:
    """``("Norfolk County Council", ("23 018 529",))`` for a title line, else None."""
    match = TITLE_LINE.match(text)
    if not match:
        return None
    return match.group("organisation").strip(), tuple(find_references(match.group("refs")))


def find_title(lines: list[TextLine]) -> TitleLine | None:
    """The first "Organisation (YY NNN NNN)" line of the page, or the first line that starts
    with one and runs straight into a header label ("... (23 018 529)Category : ...")."""
    for index, line in enumerate(lines):
        text = line.text
        found = match_title(text)
        if found:
            return TitleLine(index, found[0], found[1], text)
        if ")" in text:
            cut = text.find(")") + 1
            while cut:
                found = match_title(text[:cut].rstrip())
                if found:
                    labels = find_labels(text[cut : cut + 40])
                    if labels and labels[0].start == 0:
                        return TitleLine(index, found[0], found[1], text[:cut], text[cut:])
                cut = text.find(")", cut) + 1
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
        texts = [title.rest, *(line.text for line in page.lines[title.index + 1 :])]
        for text in texts:
            if any(
                label.name in ("decision_date", "summary", "category")
                for label in find_labels(text)
            ):
                return "decision"
    if has_search_form(page.root):
        return "listing"
    return "unknown"


def detect_page_kind(content: bytes) -> PageKind:
    """Decision page, search listing (results, empty or the bare shell), or unknown."""
    return page_kind(read_page(content))
