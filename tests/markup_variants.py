"""Re-render a saved page in other markups that read the same: the markup-variation harness.

Our example pages agree with our parsers because we wrote both. This module takes any saved
page of any source and rewrites the markup of its *field groups* - runs of short, non-sentence
elements such as a result card's "Statement / Upheld / Housing / 09-Aug-2026" or a decision's
labelled header - the ways other sites (or the next redesign) mark the same text up:

    blocks           each field its own <div>
    spans(" ")       inline <span>s on one line separated by a space (the real LGSCO card)
    spans("")        inline <span>s with no whitespace at all: "StatementUpheldHousing..."
    spans(" · "), spans(" | "), spans(", ")
    table            one table row, a cell per field
    dl               a definition list (dt, dd, dt, ...)
    list             a <ul>, an <li> per field
    wrapped          extra <div>/<span> layers around the group and each field

and, independently, ``strip=True`` removes every class and id (markup hints gone). Prose (a
sentence, a numbered paragraph), headings and fragment links ("Back to top") are never a field,
so what a reader sees keeps its meaning; a parser that reads the visible text layout must give
the same result for every variant. Generic on purpose: nothing here knows a source.

    from tests.markup_variants import RENDERINGS, rerender
    for rendering in RENDERINGS:
        assert parse(rerender(page, rendering)) == parse(page)
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import lxml.html
from lxml.etree import _Element

from scraper.text import normalise_space, parse_html, sniff_encoding


@dataclass(frozen=True)
class Rendering:
    """One way to mark up a field group."""

    kind: str  # blocks | spans | table | dl | list | wrapped
    joiner: str = " "

    def __str__(self) -> str:
        return f"spans({self.joiner!r})" if self.kind == "spans" else self.kind


RENDERINGS: tuple[Rendering, ...] = (
    Rendering("blocks"),
    Rendering("spans", " "),
    Rendering("spans", ""),
    Rendering("spans", " \u00b7 "),
    Rendering("spans", " | "),
    Rendering("spans", ", "),
    Rendering("table"),
    Rendering("dl"),
    Rendering("list"),
    Rendering("wrapped"),
)

# A field is one of these with only inline formatting inside.
_FIELD_TAGS = frozenset(
    {
        "p",
        "div",
        "span",
        "dt",
        "dd",
        "li",
        "td",
        "th",
        "small",
        "time",
        "label",
        "em",
        "i",
        "font",
        "address",
        "strong",
        "b",
    }
)
_INLINE_INSIDE = frozenset(
    {
        "a",
        "span",
        "strong",
        "b",
        "em",
        "i",
        "small",
        "time",
        "abbr",
        "font",
        "sup",
        "sub",
        "u",
        "mark",
        "cite",
        "q",
        "code",
    }
)
# Parents whose field runs may become any block rendering; inline parents only get spans.
_FLOW_PARENTS = frozenset(
    {
        "div",
        "section",
        "article",
        "main",
        "body",
        "li",
        "td",
        "th",
        "dd",
        "header",
        "aside",
        "form",
        "blockquote",
        "center",
        "details",
        "figure",
    }
)
# Never inside a link: its text is one unit (a title), whatever spans it holds.
_INLINE_PARENTS = frozenset({"p", "span", "strong", "b", "em", "i", "label", "small"})
_LIST_CONTAINERS = frozenset({"dl", "ul", "ol"})
_MAX_FIELD = 100
_SENTENCE_END = (".", "!", "?")


@dataclass
class _Group:
    parent: _Element
    fields: list[_Element]
    container: _Element | None  # a whole dl/ul/ol/table to replace, or None for a run
    inline: bool
    lines_host: bool = False  # fields are the <br>-separated lines of ``parent``


def _significant(text: str | None) -> bool:
    return bool(text and text.strip())


def is_field(element: _Element) -> bool:
    """A short piece of non-prose text: a label, a value, a type, a date."""
    if not isinstance(element.tag, str) or element.tag not in _FIELD_TAGS:
        return False
    descendants = list(element.iterdescendants())
    if any(not isinstance(d.tag, str) or d.tag not in _INLINE_INSIDE for d in descendants):
        return False
    text = normalise_space(element.text_content())
    if not text or len(text) > _MAX_FIELD or text.endswith(_SENTENCE_END):
        return False
    for child in element:
        whole = normalise_space(child.text_content()) == text
        if whole and child.tag in ("b", "strong"):
            return False  # a paragraph in bold is a heading
        if whole and child.tag == "a" and (child.get("href") or "").startswith("#"):
            return False  # "Back to top" and other in-page navigation
    return True


def _cells(table: _Element) -> list[_Element] | None:
    cells: list[_Element] = []
    rows = [row for row in table.iter("tr")]
    if not rows:
        return None
    for row in rows:
        for cell in row:
            if not isinstance(cell.tag, str) or cell.tag not in ("td", "th"):
                return None
            cells.append(cell)
    return cells


def _br_lines(element: _Element) -> list[_Element] | None:
    """The <br>-separated lines of an element holding only text and inline markup, as
    detached <span>s ("Category : ...<br>Decision : ...<br>Decision date : ..."), else None."""
    children = list(element)
    if not any(child.tag == "br" for child in children):
        return None
    lines = [lxml.html.Element("span")]
    lines[0].text = element.text
    for child in children:
        if not isinstance(child.tag, str):
            return None
        if child.tag == "br":
            line = lxml.html.Element("span")
            line.text = child.tail
            lines.append(line)
            continue
        if child.tag not in _INLINE_INSIDE:
            return None
        made = copy.deepcopy(child)
        lines[-1].append(made)
    lines = [line for line in lines if normalise_space(line.text_content())]
    for line in lines:  # the line break was the separator: no whitespace left at either end
        line.text = (line.text or "").lstrip() or None
        last = line[-1] if len(line) else None
        if last is None:
            line.text = (line.text or "").rstrip() or None
        else:
            last.tail = (last.tail or "").rstrip() or None
    return lines if len(lines) >= 2 and all(is_field(line) for line in lines) else None


def field_groups(root: _Element) -> list[_Group]:
    """Every outermost group of two or more fields, in document order."""
    groups: list[_Group] = []

    def walk(element: _Element) -> None:
        tag = element.tag if isinstance(element.tag, str) else ""
        children = [child for child in element if isinstance(child.tag, str)]
        if tag in _LIST_CONTAINERS or tag == "table":
            fields = _cells(element) if tag == "table" else children
            if fields and len(fields) >= 2 and all(is_field(f) for f in fields):
                parent = element.getparent()
                if parent is not None and parent.tag in _FLOW_PARENTS:
                    groups.append(_Group(parent, fields, element, inline=False))
                    return
        if tag in _FLOW_PARENTS or tag in _INLINE_PARENTS:
            lines = _br_lines(element)
            if lines is not None:
                groups.append(
                    _Group(element, lines, None, inline=tag in _INLINE_PARENTS, lines_host=True)
                )
                return
        run: list[_Element] = []

        def close() -> None:
            if len(run) >= 2 and (tag in _FLOW_PARENTS or tag in _INLINE_PARENTS):
                groups.append(_Group(element, list(run), None, inline=tag in _INLINE_PARENTS))
            else:
                for single in run:
                    walk(single)
            run.clear()

        for child in children:
            if is_field(child):
                if run and _significant(run[-1].tail):
                    close()
                run.append(child)
            else:
                close()
                walk(child)
        close()

    walk(root)
    return groups


def _content(field: _Element, tag: str, *, strip: bool) -> _Element:
    """A new ``tag`` element holding a copy of ``field``'s content and attributes."""
    made = lxml.html.Element(tag)
    for name, value in field.attrib.items():
        if not (strip and name in ("class", "id")):
            made.set(name, value)
    made.text = field.text
    for child in field:
        made.append(copy.deepcopy(child))
    made.tail = None
    return made


def _render(group: _Group, rendering: Rendering, *, strip: bool) -> _Element:
    kind = rendering.kind
    if group.inline and kind not in ("spans", "blocks"):
        kind = "spans"
    fields = group.fields
    if kind == "spans" or (group.inline and kind == "blocks"):
        outer = lxml.html.Element("span" if group.inline else "div")
        previous: _Element | None = None
        for field in fields:
            made = _content(field, "span", strip=strip)
            if previous is not None:
                if kind == "blocks":
                    previous.tail = None
                    line_break = lxml.html.Element("br")
                    outer.append(line_break)
                else:
                    previous.tail = rendering.joiner or None
            outer.append(made)
            previous = made
        return outer
    if kind == "table":
        outer = lxml.html.Element("table")
        row = lxml.html.Element("tr")
        body = lxml.html.Element("tbody")
        outer.append(body)
        body.append(row)
        for field in fields:
            row.append(_content(field, "td", strip=strip))
        return outer
    if kind == "dl":
        outer = lxml.html.Element("dl")
        for index, field in enumerate(fields):
            outer.append(_content(field, "dt" if index % 2 == 0 else "dd", strip=strip))
        return outer
    if kind == "list":
        outer = lxml.html.Element("ul")
        for field in fields:
            outer.append(_content(field, "li", strip=strip))
        return outer
    if kind == "wrapped":
        outer = lxml.html.Element("div")
        inner = lxml.html.Element("div")
        outer.append(inner)
        for field in fields:
            layer = lxml.html.Element("div")
            shell = lxml.html.Element("div")
            layer.append(shell)
            shell.append(_content(field, "span", strip=strip))
            inner.append(layer)
        return outer
    outer = lxml.html.Element("div")  # blocks
    for field in fields:
        outer.append(_content(field, "div", strip=strip))
    return outer


def _replace(group: _Group, made: _Element, *, strip: bool) -> None:
    if group.lines_host:
        host = group.parent
        for child in list(host):
            host.remove(child)
        host.text = None
        host.append(made)
        return
    if group.container is not None:
        old = group.container
        for name, value in old.attrib.items():
            if not (strip and name in ("class", "id")):
                made.set(name, value)
        made.tail = old.tail
        parent = old.getparent()
        assert parent is not None
        parent.replace(old, made)
        return
    first, last = group.fields[0], group.fields[-1]
    made.tail = last.tail
    group.parent.replace(first, made)
    for field in group.fields[1:]:
        group.parent.remove(field)


def rerender(
    content: bytes,
    rendering: Rendering | Callable[[int], Rendering] | None,
    *,
    strip: bool = False,
) -> bytes:
    """``content`` with every field group re-marked-up; ``rendering`` is one rendering for all
    groups, a function of the group's index (for Hypothesis to choose), or None to leave the
    groups as they are. Encoded as the page was, so its ``<meta charset>`` stays true."""
    root = parse_html(content)
    choose = rendering if callable(rendering) else (lambda _index: rendering)
    for index, group in enumerate(field_groups(root)):
        chosen = choose(index)
        if chosen is not None:
            _replace(group, _render(group, chosen, strip=strip), strip=strip)
    if strip:
        for element in root.iter():
            if isinstance(element.tag, str):
                element.attrib.pop("class", None)
                element.attrib.pop("id", None)
    encoding = sniff_encoding(content)
    encoding = "windows-1252" if encoding == "cp1252" else encoding
    return lxml.html.tostring(root, encoding=encoding, method="html", doctype="<!DOCTYPE html>")


def count_groups(content: bytes) -> int:
    return len(field_groups(parse_html(content)))


def variants(content: bytes) -> Iterator[tuple[str, bytes]]:
    """Every named variant of ``content``: each rendering for all groups, then the same page
    with classes and ids stripped."""
    for rendering in RENDERINGS:
        yield str(rendering), rerender(content, rendering)
    yield "classes and ids stripped", rerender(content, None, strip=True)
