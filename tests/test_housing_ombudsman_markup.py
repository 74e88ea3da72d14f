"""Every Housing Ombudsman example page re-rendered into other markups parses to the same JSON:
the parser reads the visible text layout, and markup is only a hint.

Variants: classes and ids stripped; no whitespace between elements; table cells and headings
turned into plain blocks (div/p) or inline spans; ordered lists written out as numbered
paragraphs. tests/test_markup_variants.py re-renders the same pages' field groups (spans with
separators, tables, lists...); this file changes the page's structure around them.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from pathlib import Path

import lxml.html
import pytest
from lxml.etree import _Element

from scraper.sources import registry
from tests.test_source_examples import SOURCES_DIR, TODAY, saved_from

SOURCE = "housing-ombudsman"
PAGES = sorted((SOURCES_DIR / SOURCE).glob("*.html"))


def _strip_marks(root: _Element) -> None:
    for element in root.iter():
        if isinstance(element.tag, str):
            for attribute in ("class", "id", "style"):
                element.attrib.pop(attribute, None)


def _rename(root: _Element, mapping: dict[str, str]) -> None:
    for element in list(root.iter()):
        if isinstance(element.tag, str) and element.tag in mapping:
            element.tag = mapping[element.tag]


def blocks(root: _Element) -> None:
    """Tables, headings and lists as generic blocks: what a theme without semantics renders."""
    _rename(
        root,
        {
            "table": "div",
            "thead": "div",
            "tbody": "div",
            "tr": "div",
            "th": "div",
            "td": "div",
            "h1": "div",
            "h2": "div",
            "h3": "div",
            "ol": "div",
            "ul": "div",
            "li": "p",
        },
    )


def inline_cells(root: _Element) -> None:
    """Each table row as one line of spans separated by a space (cells inline)."""
    for row in list(root.iter("tr")):
        row.tag = "p"
        for cell in row:
            cell.tag = "span"
            cell.tail = (cell.tail or "") + " "
    _rename(root, {"table": "div", "thead": "div", "tbody": "div"})


def numbered_paragraphs(root: _Element) -> None:
    """Ordered lists printed as "N. text" paragraphs, as pasted from a word processor."""
    for ol in list(root.iter("ol")):
        start = int(ol.get("start", "1"))
        for offset, li in enumerate(ol.findall("li")):
            li.tag = "p"
            li.text = f"{start + offset}. {li.text or ''}"
        ol.tag = "div"


Variant = Callable[[_Element], None]
VARIANTS: dict[str, Variant] = {
    "no-classes": _strip_marks,
    "blocks": blocks,
    "inline-cells": inline_cells,
    "numbered-paragraphs": numbered_paragraphs,
}


def render(content: bytes, variant: Variant | None, *, squeeze: bool = False) -> bytes:
    root = lxml.html.document_fromstring(content)
    tree = copy.deepcopy(root)
    if variant is not None:
        variant(tree)
    html = lxml.html.tostring(tree, encoding="unicode", doctype="<!DOCTYPE html>")
    if squeeze:  # no whitespace between elements at all
        html = re.sub(r">\s+<", "><", html)
    comment = re.search(rb"<!--\s*saved from url=\(\d+\)\S+?\s*-->", content)
    assert comment is not None
    return comment.group(0) + b"\n" + html.encode()


def parsed(content: bytes, page: Path) -> str:
    result = registry.load(SOURCE).parse(content, saved_from(content, page), today=TODAY)
    return json.dumps(result, indent=1, ensure_ascii=False, sort_keys=True)


@pytest.mark.parametrize("squeeze", [False, True], ids=["spaced", "squeezed"])
@pytest.mark.parametrize("variant", [None, *VARIANTS], ids=lambda v: v or "as-saved")
@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.stem)
def test_other_markup_same_json(page: Path, variant: str | None, squeeze: bool) -> None:
    content = page.read_bytes()
    expected = json.loads(page.with_suffix(".json").read_text(encoding="utf-8"))
    changed = render(content, VARIANTS[variant] if variant else None, squeeze=squeeze)
    assert json.loads(parsed(changed, page)) == expected
