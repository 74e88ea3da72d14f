"""The visible layout of Housing Ombudsman pages: furniture to drop, headings, line forms."""

from __future__ import annotations

import re
from dataclasses import dataclass

from lxml.etree import _Element

from scraper.text import TextLine, parse_html, visible_lines

_FURNITURE_MARKUP = re.compile(
    r"cookie|consent|breadcrumb|skip-?link|site-?(?:header|footer)|sidebar|widget|share", re.I
)
_FURNITURE_TAGS = frozenset({"nav", "footer", "aside"})

# Top-level headings of both layouts, in comparison form (see :func:`key`). Sub-headings
# ("Damp and mould") are kept as paragraphs: markup decides whether they look like headings,
# and the text must read the same whatever the markup.
HEADINGS: frozenset[str] = frozenset(
    {
        # the "Investigation" layout (since late 2025)
        "background",
        "what the complaint is about",
        "our decision (determination)",
        "our decision",
        "summary of reasons",
        "putting things right",
        "orders",
        "recommendations",
        "our investigation",
        "the complaint",
        "what we found",
        # the older "REPORT" layout
        "report",
        "our approach",
        "background and summary of events",
        "scope of investigation",
        "assessment and findings",
        "determination (decision)",
        "determination",
        "reasons",
        "orders and recommendations",
        "the landlord's obligations, policies and procedures",
        "policies and procedures",
        "our orders",
        "our recommendations",
        "orders we have made",
        "summary of events",
        "the ombudsman's approach",
    }
)
DECISION_HEADINGS = frozenset(
    {"our decision (determination)", "our decision", "determination (decision)", "determination"}
)
REMEDY_HEADINGS = frozenset(
    {
        "putting things right",
        "orders",
        "recommendations",
        "orders and recommendations",
        "our orders",
        "our recommendations",
        "orders we have made",
    }
)
COMPLAINT_HEADINGS = ("what the complaint is about", "the complaint")
# Lines after which nothing belongs to the decision.
_END_LINES = frozenset(
    {
        "back to decisions",
        "was this page helpful",
        "share this page",
        "print this page",
        "related decisions",
        "back to top",
    }
)
# "COMPLAINT 202012345" opens a REPORT-style decision under its "REPORT" line.
REPORT_CASE_LINE = re.compile(r"^complaint\s+\d{9}$", re.I)


def key(text: str) -> str:
    """Comparison form of a line: lower case, straight apostrophes, no trailing colon."""
    lowered = text.lower().replace("\u2019", "'").replace("\u2018", "'")
    return re.sub(r"\s+", " ", lowered).strip().rstrip(" :.?")


def is_heading(text: str) -> bool:
    return key(text) in HEADINGS


def is_end(text: str) -> bool:
    return key(text) in _END_LINES


def is_furniture_element(element: _Element) -> bool:
    tag = element.tag
    if tag in _FURNITURE_TAGS:
        return True
    parent = element.getparent()
    if tag == "header" and parent is not None and parent.tag == "body":
        return True
    if element.get("role") in ("navigation", "banner", "contentinfo", "complementary"):
        return True
    marks = f"{element.get('id', '')} {element.get('class', '')}"
    return bool(marks.strip()) and bool(_FURNITURE_MARKUP.search(marks))


@dataclass(frozen=True, slots=True)
class Page:
    root: _Element
    lines: list[TextLine]


def read_page(content: bytes) -> Page:
    root = parse_html(content)
    return Page(root, visible_lines(root, skip=is_furniture_element))
