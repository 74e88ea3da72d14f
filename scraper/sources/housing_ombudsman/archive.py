"""``parse_archive``: one page of the decisions archive (``/decisions/``, ``/decisions/page/N/``).

A WordPress archive: ten decisions a page, newest published first, with no dates. Entries are
found by what they link to, a decision URL ending in a nine-digit case id, wherever the
theme puts it; links in navigation, sidebars ("recent decisions") and footers are not the
list. Pagination is read from links to ``/decisions/page/N/``.
"""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

from lxml.etree import _Element

from scraper.sources.housing_ombudsman.fields import URL_CASE_ID
from scraper.sources.housing_ombudsman.layout import is_furniture_element
from scraper.sources.housing_ombudsman.models import ArchiveEntry, ArchivePage
from scraper.text import normalise_space, parse_html

PAGE_SIZE = 10
_PAGE_PATH = re.compile(r"/decisions/page/(\d+)/?$")


def archive_url(base_url: str, page: int) -> str:
    base = base_url.rstrip("/")
    return f"{base}/decisions/" if page <= 1 else f"{base}/decisions/page/{page}/"


def page_number(url: str) -> int:
    match = _PAGE_PATH.search(urlsplit(url).path)
    return int(match.group(1)) if match else 1


def _links(root: _Element) -> list[tuple[_Element, bool]]:
    """Anchors in document order, each with whether it sits in page furniture (navigation,
    sidebars, footers: where pagination lives, and where the list never does)."""
    found: list[tuple[_Element, bool]] = []

    def walk(element: _Element, furniture: bool) -> None:
        if not isinstance(element.tag, str):
            return
        furniture = furniture or is_furniture_element(element)
        if element.tag == "a" and element.get("href"):
            found.append((element, furniture))
        for child in element:
            walk(child, furniture)

    walk(root, False)
    return found


def parse_archive(content: bytes, url: str) -> ArchivePage:
    root = parse_html(content)
    number = page_number(url)
    entries: dict[str, ArchiveEntry] = {}
    pages: set[int] = set()
    has_next = False
    for anchor, furniture in _links(root):
        href = urljoin(url, anchor.get("href", ""))
        path = urlsplit(href).path
        case = URL_CASE_ID.search(path)
        text = normalise_space(anchor.text_content())
        if case:
            if not furniture and case.group(1) not in entries:
                entries[case.group(1)] = ArchiveEntry(case.group(1), text, href.split("#")[0])
            continue
        listed = _PAGE_PATH.search(path)
        if listed:
            pages.add(int(listed.group(1)))
            if int(listed.group(1)) == number + 1 or anchor.get("rel") == "next":
                has_next = True
    return ArchivePage(
        page=number,
        entries=tuple(entries.values()),
        has_next=has_next,
        last_page=max(pages | {number}),
    )
