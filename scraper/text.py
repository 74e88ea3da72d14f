"""Visible text of an HTML page, as lines a reader would see.

Source parsers work from the text layout first and use markup only as a hint, so the one
shared step is turning raw bytes into the lines a browser would show: block elements break
lines, inline elements join, scripts and hidden elements vanish. Each line keeps the tag of
the block it came from (``h2``, ``dt``, ``td``...), the hint parsers may use.

Everything here is pure and lxml-based (a parse is a few milliseconds for a 50 KB page).
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Callable
from dataclasses import dataclass

import lxml.html
from lxml import etree
from lxml.etree import _Element

__all__ = [
    "BLOCK_TAGS",
    "TextLine",
    "normalise_space",
    "parse_html",
    "sniff_encoding",
    "visible_lines",
]

# Elements that start and end a line in a browser's rendering.
BLOCK_TAGS: frozenset[str] = frozenset(
    {
        "address",
        "article",
        "aside",
        "blockquote",
        "body",
        "caption",
        "center",
        "dd",
        "details",
        "dialog",
        "div",
        "dl",
        "dt",
        "fieldset",
        "figcaption",
        "figure",
        "footer",
        "form",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "header",
        "hr",
        "html",
        "legend",
        "li",
        "main",
        "nav",
        "ol",
        "option",
        "p",
        "pre",
        "section",
        "summary",
        "table",
        "tbody",
        "td",
        "tfoot",
        "th",
        "thead",
        "tr",
        "ul",
    }
)
# Elements whose content is never shown as text.
_INVISIBLE_TAGS: frozenset[str] = frozenset(
    {
        "script",
        "style",
        "noscript",
        "template",
        "head",
        "title",
        "svg",
        "iframe",
        "object",
        "select",
        "button",
        "input",
        "textarea",
    }
)
_SPACE = re.compile(r"\s+")
_DISPLAY_NONE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.IGNORECASE)
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)
# WHATWG: pages that declare Latin-1 or ASCII are decoded as windows-1252 by every browser.
_CP1252_ALIASES: frozenset[str] = frozenset({"latin_1", "iso8859-1", "ascii", "cp1252"})


@dataclass(frozen=True, slots=True)
class TextLine:
    """One rendered line: its whitespace-normalised text and the block tag it sat in."""

    text: str
    tag: str


def normalise_space(text: str) -> str:
    """Collapse every run of whitespace (no-break spaces included) to one space and trim."""
    return _SPACE.sub(" ", text.replace("\xa0", " ")).strip()


def sniff_encoding(content: bytes) -> str:
    """The encoding to decode ``content`` with: BOM, then ``<meta charset>``, then a guess.

    libxml2 reads Latin-1 when a page declares nothing, which garbles UTF-8 pages, so the
    decision is made here: undeclared bytes that are valid UTF-8 are UTF-8, otherwise cp1252.
    """
    if content.startswith(codecs.BOM_UTF8):
        return "utf-8"
    if content.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    match = _META_CHARSET.search(content[:4096])
    if match:
        try:
            name = codecs.lookup(match.group(1).decode("ascii")).name
        except LookupError:
            name = ""
        if name in _CP1252_ALIASES:
            return "cp1252"
        if name:
            return name
    try:
        content.decode("utf-8")
    except UnicodeDecodeError:
        return "cp1252"
    return "utf-8"


def parse_html(content: bytes) -> _Element:
    """Parse raw page bytes into an lxml tree, decoding by :func:`sniff_encoding`."""
    parser = lxml.html.HTMLParser(encoding=sniff_encoding(content), remove_comments=True)
    try:
        return lxml.html.document_fromstring(content, parser=parser)
    except (etree.ParserError, ValueError):
        # Nothing parseable (empty, whitespace, a stray byte): an empty page, not a crash, so
        # the source parser reports what is missing.
        return lxml.html.document_fromstring(b"<html><body></body></html>")


def _hidden(element: _Element) -> bool:
    if element.get("hidden") is not None:
        return True
    style = element.get("style")
    return bool(style and _DISPLAY_NONE.search(style))


def visible_lines(
    root: _Element, *, skip: Callable[[_Element], bool] | None = None
) -> list[TextLine]:
    """The non-empty lines a browser would render from ``root``, in document order.

    ``skip`` lets a source drop whole subtrees it recognises as page furniture (navigation,
    cookie banners); their tails, which belong to the parent, are kept.
    """
    lines: list[TextLine] = []
    buffer: list[str] = []

    def flush(tag: str) -> None:
        if buffer:
            text = normalise_space("".join(buffer))
            buffer.clear()
            if text:
                lines.append(TextLine(text, tag))

    def walk(element: _Element, block: str) -> None:
        tag = element.tag if isinstance(element.tag, str) else ""
        visible = bool(tag) and tag not in _INVISIBLE_TAGS and not _hidden(element)
        if visible and not (skip is not None and skip(element)):
            if tag == "br":
                flush(block)
            elif tag in BLOCK_TAGS:
                flush(block)
                if element.text:
                    buffer.append(element.text)
                for child in element:
                    walk(child, tag)
                flush(tag)
            else:
                if element.text:
                    buffer.append(element.text)
                for child in element:
                    walk(child, block)
        if element.tail:
            buffer.append(element.tail)

    walk(root, "html")
    flush("html")
    return lines
