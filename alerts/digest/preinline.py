"""HTML templates with their CSS inlined once, when they are loaded, instead of per email.

css-inline parses each rendered email, works out every element's style and serialises the
document again: for a 50 KB digest that is most of the cost of its HTML. Which rules apply to
an element depends only on the template (its tag, its classes, its ancestors), never on the
data, so the work can be done once on the template itself:

1. the template's source, with its includes (the stylesheet) pasted in, has every Jinja tag,
   expression and comment replaced by an inert placeholder (private-use characters);
2. css-inline inlines that skeleton once: styles added, the <style> block reduced to its
   @media rules, the document serialised the way css-inline writes it;
3. the placeholders are put back, each expression piped into a filter that writes its value
   the way css-inline's serialiser would have written it after parsing (text: & < > and
   no-break space as entities; attribute values: & " and no-break space).

Rendering the result gives, byte for byte, what css-inline gives on the rendered template:
tests/test_digest_render.py compares the two on digests with hostile text. What the parser
would rewrite rather than keep (CR, NUL and other control characters, Markup values) raises
``NeedsParser`` while rendering, and the caller inlines that email the slow way.

A template this cannot handle (an expression inside a tag or a class attribute: a class
decided while rendering would need its style decided then too) gives None at load time, and
its emails keep going through css-inline.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from jinja2 import Environment, Template

_JINJA = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.S)
_INCLUDE = re.compile(r"""\{%-?\s*include\s+["']([^"']+)["']\s*-?%\}""")
_EXPRESSION = re.compile(r"\{\{([-+]?)(.*?)([-+]?)\}\}", re.S)
_PLACEHOLDER = re.compile("\ue000([0-9]+)\ue001")
# What the HTML parser would not keep as it is: the email goes through css-inline instead.
_REWRITTEN = re.compile("[\x00-\x08\x0b-\x1f\x7f]")


class NeedsParser(Exception):
    """A value the HTML parser would rewrite: inline this email with css-inline."""


# Everything either writer changes or refuses: one search decides that a value is written
# as it is (most are).
_SPECIAL = re.compile('[&<>"\xa0\x00-\x08\x0b-\x1f\x7f]')


def _plain(value: object) -> str:
    if hasattr(value, "__html__"):  # markup: the parser would read its tags and entities
        raise NeedsParser("a Markup value")
    text = str(value)
    if _REWRITTEN.search(text):
        raise NeedsParser("a control character")
    return text


def html_text(value: object) -> str:
    """``value`` in text, as css-inline's serialiser writes a parsed text node."""
    if type(value) is str and not _SPECIAL.search(value):
        return value
    text = _plain(value)
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        .replace("\xa0", "&nbsp;")
    )  # fmt: skip


def html_attribute(value: object) -> str:
    """``value`` in a double-quoted attribute, as css-inline's serialiser writes it."""
    if type(value) is str and not _SPECIAL.search(value):
        return value
    text = _plain(value)
    return text.replace("&", "&amp;").replace('"', "&quot;").replace("\xa0", "&nbsp;")


def _contexts(html: str) -> dict[int, str]:
    """Placeholder number -> "text", "attribute" or "tag" (anywhere else inside a tag)."""
    found: dict[int, str] = {}
    in_tag = in_value = False
    cursor = 0
    for match in _PLACEHOLDER.finditer(html):
        for char in html[cursor : match.start()]:
            if in_value:
                in_value = char != '"'
            elif in_tag:
                if char == '"':
                    in_value = True
                elif char == ">":
                    in_tag = False
            elif char == "<":
                in_tag = True
        found[int(match.group(1))] = "attribute" if in_value else "tag" if in_tag else "text"
        cursor = match.end()
    return found


def _class_has_jinja(source: str) -> bool:
    return any(_JINJA.search(value) for value in re.findall(r'class="([^"]*)"', source))


def pre_inline_source(
    source: str, include: Callable[[str], str], inline: Callable[[str], str]
) -> str | None:
    """The template ``source`` with its CSS inlined (see the module), or None when it cannot
    be done. ``include(name)`` reads an included template's source; ``inline`` is css-inline."""
    source = _INCLUDE.sub(lambda m: include(m.group(1)), source)
    if _class_has_jinja(source) or "\ue000" in source or "\ue001" in source:
        return None
    pieces: list[str] = []

    def hide(match: re.Match[str]) -> str:
        pieces.append(match.group())
        return f"\ue000{len(pieces) - 1}\ue001"

    inlined = inline(_JINJA.sub(hide, source))
    contexts = _contexts(inlined)
    if len(contexts) != len(pieces) or any(c == "tag" for c in contexts.values()):
        return None  # the parser dropped or moved a placeholder, or one sits inside a tag

    def restore(match: re.Match[str]) -> str:
        number = int(match.group(1))
        piece = pieces[number]
        expression = _EXPRESSION.fullmatch(piece)
        if expression is None:  # a block tag or a comment, as it was
            return piece
        left, body, right = expression.groups()
        writer = "_cw_attribute" if contexts[number] == "attribute" else "_cw_text"
        return f"{{{{{left} ({body.strip()}) | {writer} {right}}}}}"

    return _PLACEHOLDER.sub(restore, inlined)


def pre_inlined(env: Environment, name: str, inline: Callable[[str], str]) -> Template | None:
    """Template ``name`` of ``env`` with its CSS inlined once, or None (see the module)."""
    loader = env.loader
    if loader is None:
        return None

    def include(included: str) -> str:
        return loader.get_source(env, included)[0]

    source = pre_inline_source(loader.get_source(env, name)[0], include, inline)
    if source is None:
        return None
    # Filters, not globals: Jinja calls a filter directly, a global through Context.call.
    env.filters.setdefault("_cw_text", html_text)
    env.filters.setdefault("_cw_attribute", html_attribute)
    # No autoescape: every value goes through the writers above. A name of its own, so
    # what it caches (render.FragmentCache) is not mistaken for the plain template's.
    source = "{% autoescape false %}" + source + "{% endautoescape %}"
    code = env.compile(source, name=f"{name} (CSS inlined)")
    return env.template_class.from_code(env, code, env.make_globals(None))
