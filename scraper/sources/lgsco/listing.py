"""``parse_listing``: one page of the LGSCO search results to a :class:`Listing`.

Each result card reads, in whatever markup:

    Norfolk County Council (23 018 529)   <- a link to the decision page
    Statement                             <- or Report
    Upheld                                <- the outcome
    Other                                 <- the subcategory
    09-Aug-2026                           <- the decision date (a "Decision date:" label is fine)
    Summary: ...

Lines are classified by what they say, not where they sit, so labels, order and wrapping
elements may change without breaking the parse.
"""

from __future__ import annotations

import re
from datetime import date
from urllib.parse import parse_qs, urljoin, urlsplit

from lxml.etree import _Element

from cwerrors import ParseError
from cwerrors.numbers import ascii_int
from scraper.sources.lgsco.fields import is_outcome_text, parse_date, parse_outcome
from scraper.sources.lgsco.layout import (
    FURNITURE_LINES,
    key,
    listing_total,
    match_title,
    read_page,
    split_label,
)
from scraper.sources.lgsco.models import Listing, ListingEntry, Outcome
from scraper.sources.lgsco.urls import canonical_url
from scraper.text import TextLine, normalise_space

PAGE_SIZE = 10
_DOCUMENT_TYPES = {"statement": "Statement", "report": "Report"}
_CARD_FURNITURE = frozenset({"read more", "view decision", "read the decision"})
_PAGE_OF = re.compile(r"\bpage (\d+) of (\d+)\b", re.I)
_MAX_DATE_LINE = 30


def _date_only(text: str) -> date | None:
    """A line that is nothing but a date ("09-Aug-2026"), else None."""
    if len(text) > _MAX_DATE_LINE:
        return None
    try:
        return parse_date(text)
    except ValueError:
        return None


class _Card:
    """Fields of one result card as its lines are read."""

    def __init__(self, organisation: str, reference: str, title: str) -> None:
        self.organisation = organisation
        self.reference = reference
        self.title = title
        self.fields: dict[str, str] = {}
        self.decided: date | None = None
        self.done = False

    def take(self, text: str, following: str | None) -> bool:
        """Read one line; True when it also consumed ``following`` (a label's value)."""
        text_key = key(text)
        if text_key in FURNITURE_LINES or text_key in _CARD_FURNITURE:
            return False
        label = split_label(text)
        if label is not None:
            name, value = label
            consumed = not value and following is not None
            value = value or (following or "")
            self._labelled(name, value)
            return consumed
        if text_key in _DOCUMENT_TYPES and "document_type" not in self.fields:
            self.fields["document_type"] = _DOCUMENT_TYPES[text_key]
        elif is_outcome_text(text) and "outcome" not in self.fields:
            self.fields["outcome"] = text
        elif self.decided is None and (found := _date_only(text)) is not None:
            self.decided = found
        elif "subcategory" not in self.fields:
            self.fields["subcategory"] = text
        return False

    def _labelled(self, name: str, value: str) -> None:
        if name == "decision_date":
            self.decided = _date_only(value)
        elif name == "category":
            # "Housing > Allocations": the card's category line carries the subcategory.
            self.fields["subcategory"] = re.split(r"\s*[>\u203a\u00bb]\s*", value)[-1]
        elif name == "document_type":
            self.fields["document_type"] = _DOCUMENT_TYPES.get(key(value), value)
        elif name == "summary":
            self.fields["summary"] = value
            self.done = True
        else:
            self.fields[name] = value


def _links(page_root: _Element, url: str) -> dict[str, str]:
    """Title-line text of each link to a decision -> its absolute URL."""
    links: dict[str, str] = {}
    for anchor in page_root.iter("a"):
        text = normalise_space(anchor.text_content())
        href = anchor.get("href")
        if href and match_title(text):
            links.setdefault(text, urljoin(url, href.strip()))
    return links


def _split_title(text: str, links: dict[str, str]) -> tuple[str, str]:
    """(title, rest of the line): a whole title line, or a linked title that the card's first
    field follows on the same rendered line; ("", text) for any other line."""
    if match_title(text):
        return text, ""
    for title in links:
        if text.startswith(title + " "):
            return title, text[len(title) :].strip()
    return "", text


def _page_number(url: str, lines: list[TextLine]) -> int | None:
    values = parse_qs(urlsplit(url).query).get("page")
    if values and (number := ascii_int(values[0])) is not None:
        return number
    for line in lines:
        match = _PAGE_OF.search(line.text)
        if match:
            return int(match.group(1))
    return None


def _entry(card: _Card, links: dict[str, str], url: str, today: date | None) -> ListingEntry:
    where = f"{url}: result {card.title!r}"
    link = links.get(card.title)
    if link is None:
        raise ParseError(f"{where} has no link to its decision", url=url, field="url")
    if card.decided is None:
        raise ParseError(f"{where} has no decision date", url=url, field="decision_date")
    if today is not None and card.decided > today:
        raise ParseError(f"{where} is dated in the future", url=url, field="decision_date")
    outcome_text = card.fields.get("outcome", "")
    return ListingEntry(
        reference=card.reference,
        organisation=card.organisation,
        url=canonical_url(link),
        outcome=parse_outcome(outcome_text) if outcome_text else Outcome.OTHER,
        outcome_text=outcome_text,
        document_type=card.fields.get("document_type"),
        subcategory=card.fields.get("subcategory"),
        decision_date=card.decided,
        summary=card.fields.get("summary", ""),
    )


def parse_listing(content: bytes, url: str, *, today: date | None = None) -> Listing:
    """Parse one search results page.

    An empty result ("Your search has 0 results") is a listing with no entries; the page shell
    without a results area is ``is_shell=True``. A page that announces results but shows no
    card it can read raises :class:`ParseError`: the layout changed, and that must not pass
    for "nothing new".
    """
    page = read_page(content)
    lines = page.lines
    total = listing_total(lines)
    links = _links(page.root, url)
    cards: list[_Card] = []
    index = 0
    while index < len(lines):
        text = lines[index].text
        title_text, rest = _split_title(text, links)
        if title_text:
            title = match_title(title_text)
            assert title is not None  # _split_title only returns title lines
            cards.append(_Card(title[0], title[1][0], title_text))
        if rest and cards and not cards[-1].done:
            following = lines[index + 1].text if index + 1 < len(lines) else None
            if cards[-1].take(rest, following):
                index += 1
        index += 1

    number = _page_number(url, lines)
    entries = [_entry(card, links, url, today) for card in cards]
    if total and not entries and (number is None or (number - 1) * PAGE_SIZE < total):
        raise ParseError(
            f"{url}: says {total} results but shows none that parse", url=url, field="entries"
        )
    return Listing(
        total=total,
        entries=entries,
        page=number,
        is_shell=total is None and not entries,
    )
