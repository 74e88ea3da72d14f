"""``parse_listing``: one page of the LGSCO search results to a :class:`Listing`.

Each result card reads, in whatever markup:

    Norfolk County Council (23 018 529)                 <- a link to the decision page
    Statement Upheld Other 09-Aug-2026                  <- one line on the real site; or one
    Summary: ...                                           field per block, labels, tables...

A card starts wherever the text of a link to a decision ("Organisation (YY NNN NNN)") appears,
even mid-line, and runs to the next one; its fields are read by :mod:`card` from the text in
between. A card degrades, a page does not: a title and a link are enough to fetch the decision
page (which has every field), and what a card lacks is recorded in ``Listing.problems``. Only a
page that announces results and yields no card with a link and a reference is an error.
"""

from __future__ import annotations

import re
from datetime import date
from urllib.parse import parse_qs, urljoin, urlsplit

from lxml.etree import _Element

from cwerrors import ParseError
from cwerrors.numbers import ascii_int
from scraper.sources.lgsco.card import read_card
from scraper.sources.lgsco.fields import find_references, parse_outcome
from scraper.sources.lgsco.layout import listing_total, match_title, read_page
from scraper.sources.lgsco.models import Listing, ListingEntry, Outcome
from scraper.sources.lgsco.urls import canonical_url
from scraper.text import TextLine, normalise_space

PAGE_SIZE = 10
_PAGE_OF = re.compile(r"\bpage (\d+) of (\d+)\b", re.I)
_SLUG_REFERENCE = re.compile(r"/(\d{2}-\d{3}-\d{3}[a-z]?)/?$", re.I)


class _Card:
    """One card as the page's lines are read: its title and the text after it."""

    __slots__ = ("organisation", "reference", "texts", "title")

    def __init__(self, organisation: str, reference: str, title: str) -> None:
        self.organisation = organisation
        self.reference = reference
        self.title = title
        self.texts: list[str] = []


def _links(page_root: _Element, url: str) -> tuple[dict[str, str], list[str]]:
    """(title text of each link to a decision -> URL, every other link that may lead to a
    decision page, for cards whose title is not itself the link)."""
    titles: dict[str, str] = {}
    others: list[str] = []
    for anchor in page_root.iter("a"):
        href = (anchor.get("href") or "").strip()
        if not href:
            continue
        text = normalise_space(anchor.text_content())
        if "(" in text and match_title(text):
            titles.setdefault(text, urljoin(url, href))
        elif "ecisions/" in href:
            others.append(href)
    return titles, others


def _by_reference(hrefs: list[str], url: str) -> dict[str, str]:
    """Reference in a decision URL's last segment -> the absolute URL."""
    found: dict[str, str] = {}
    for href in hrefs:
        slug = _SLUG_REFERENCE.search(urlsplit(href).path)
        if slug:
            for reference in find_references(slug.group(1)):
                found.setdefault(reference, urljoin(url, href))
    return found


def _cards(lines: list[TextLine], titles: dict[str, str]) -> list[_Card]:
    """Split the page's text into cards at every linked title, wherever it sits in a line;
    a whole line that reads as a title starts a card too (its link is found by reference)."""
    finder = (
        re.compile("|".join(re.escape(t) for t in sorted(titles, key=len, reverse=True)))
        if titles
        else None
    )
    cards: list[_Card] = []
    for line in lines:
        text = line.text
        position = 0
        found = list(finder.finditer(text)) if finder is not None and "(" in text else []
        if not found and "(" in text and (whole := match_title(text)):
            cards.append(_Card(whole[0], whole[1][0], text))
            continue
        for match in found:
            title = match_title(match.group(0))
            if title is None:
                continue
            if cards and match.start() > position:
                cards[-1].texts.append(text[position : match.start()])
            cards.append(_Card(title[0], title[1][0], match.group(0)))
            position = match.end()
        if cards and position < len(text):
            cards[-1].texts.append(text[position:])
    return cards


def _page_number(url: str, lines: list[TextLine]) -> int | None:
    values = parse_qs(urlsplit(url).query).get("page")
    if values and (number := ascii_int(values[0])) is not None:
        return number
    for line in lines:
        match = _PAGE_OF.search(line.text)
        if match:
            return int(match.group(1))
    return None


def parse_listing(content: bytes, url: str, *, today: date | None = None) -> Listing:
    """Parse one search results page.

    An empty result ("Your search has 0 results") is a listing with no entries; the page shell
    without a results area is ``is_shell=True``. A page that announces results but shows no
    card with a link and a reference raises :class:`ParseError`: the layout changed, and that
    must not pass for "nothing new". Fields a card lacks are listed in ``problems``.
    """
    page = read_page(content)
    lines = page.lines
    total = listing_total(lines)
    titles, other_links = _links(page.root, url)
    by_reference: dict[str, str] | None = None  # made only if a card needs it
    entries: list[ListingEntry] = []
    problems: list[str] = []
    for card in _cards(lines, titles):
        link = titles.get(card.title)
        if link is None:
            if by_reference is None:
                by_reference = _by_reference(other_links, url)
            link = by_reference.get(card.reference)
        if link is None:
            problems.append(f"{card.title}: no link to its decision (card skipped)")
            continue
        fields = read_card(card.texts, today=today)
        outcome = parse_outcome(fields.outcome_text) if fields.outcome_text else Outcome.OTHER
        problems.extend(f"{card.reference}: {problem}" for problem in fields.problems)
        entries.append(
            ListingEntry(
                reference=card.reference,
                organisation=card.organisation,
                url=canonical_url(link),
                outcome=outcome,
                outcome_text=fields.outcome_text,
                document_type=fields.document_type,
                subcategory=fields.subcategory,
                decision_date=fields.decided,
                summary=fields.summary,
            )
        )

    number = _page_number(url, lines)
    if total and not entries and (number is None or (number - 1) * PAGE_SIZE < total):
        why = f" ({problems[0]})" if problems else ""
        raise ParseError(
            f"{url}: says {total} results but shows none with a link and a reference{why}",
            url=url,
            field="entries",
        )
    return Listing(
        total=total,
        entries=entries,
        page=number,
        is_shell=total is None and not entries,
        problems=problems,
    )
