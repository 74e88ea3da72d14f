"""The facts a reader tells two stories apart by, and whether two stories disagree on them.

Syndicated copies of one story differ in wording (a rewritten intro, a cut ending, a footer)
but not in facts; stories a publisher writes from one template ("... ruling number 1", "number
2") share almost every sentence and differ exactly in the facts: amounts and numbers, case and
planning references, names, dates, places. Text overlap alone cannot separate the two, so the
clusterer asks this module before it joins a candidate pair.

A fact is compared only where both stories say the same thing around it: each fact occurrence
is filed under its context (its kind, the two tokens before it and the two after it). Two
stories *disagree* when a context appears in both with no value in common: "ruling number 1 ."
against "ruling number 2 .", "would pay Mrs B £300 on" against "would pay Mr C £450 on". Both
sides must match: where a copy's rewritten intro or different footer meets the shared text,
only one side of a fact's context is shared, so a copy cut short, re-introduced or re-signed
still clusters with its original.

Pure and fast (one regular-expression pass per story): no I/O, no state.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_MONTHS = (
    "January|February|March|April|May|June|July|August|September|October|November|December|"
    "Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept?|Oct|Nov|Dec"
)
_DAYS = "Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday"
# Only the facts are matched; the words around them are read from the text on either side.
# That keeps extraction to one case-sensitive regular-expression scan plus a little work per
# fact, not per word (most words are not facts): case-insensitive alternations of month names
# cost several times more. News style capitalises months and days; numbers written as words
# ("eleven") are left as ordinary words. Earlier alternatives win: a date before its number.
_FACT = re.compile(
    # The lookahead lets the engine skip, in C, every position no fact can start at (8x faster).
    rf"""
    (?=[£\dA-Z])
    (?P<date>\b\d{{1,2}}(?:st|nd|rd|th)?\s(?:{_MONTHS})\b\.?(?:\s\d{{4}})?
        |\b(?:{_MONTHS})\s\d{{1,2}}(?:st|nd|rd|th)?\b(?:,?\s\d{{4}})?
        |\b(?:{_DAYS})\b)
    |(?P<ref>\b\d{{2}}\s\d{{3}}\s\d{{3}}\b
        |\b[A-Z]{{0,4}}\d+(?:/[A-Z0-9]+)+\b
        |\b[A-Z]{{1,4}}-?\d{{3,}}[A-Z]?\b)
    |(?P<money>£\s?\d[\d,]*(?:\.\d+)?(?:\s?(?:bn|m|k|million|billion)\b)?)
    |(?P<num>\b\d[\d,]*(?:\.\d+)?%?)
    |(?P<name>\b[A-Z][\w'’-]*(?:\s[A-Z][\w'’-]*)*)
    """,
    re.VERBOSE,
)
_CONTEXT = re.compile(r"\d[\d,.]*|[^\W\d_][\w'’-]*|[.!?;:]")
_OPENERS = frozenset('.!?:;"“”‘(')
_SCALE = {"k": 1_000, "m": 1_000_000, "million": 1_000_000, "bn": 10**9, "billion": 10**9}
_REACH = 48  # characters either side read for the two context tokens


@dataclass(frozen=True, slots=True)
class Facts:
    """A story's facts by context: (kind, 2 tokens before, 2 after) -> the values seen there."""

    slots: dict[tuple[str, str, str, str, str], frozenset[str]]

    def __len__(self) -> int:
        return len(self.slots)


def _money(text: str) -> str:
    match = re.match(r"£\s?([\d,]+(?:\.\d+)?)\s?([a-z]*)", text.lower())
    if not match:
        return text
    amount = float(match.group(1).replace(",", "")) * _SCALE.get(match.group(2), 1)
    return f"{amount:.2f}"


def _date(text: str) -> str:
    parts = re.findall(r"\d+|[a-z]+", text.lower())
    day = next((p for p in parts if p.isdigit() and len(p) <= 2), "")
    year = next((p for p in parts if p.isdigit() and len(p) == 4), "")
    month = next((p[:3] for p in parts if p.isalpha() and p not in ("st", "nd", "rd", "th")), "")
    return f"{year}-{month}-{day}".strip("-")


def _value(kind: str, raw: str) -> str:
    if kind == "money":
        return _money(raw)
    if kind == "date":
        return _date(raw)
    if kind == "num":
        return raw.replace(",", "").rstrip("%")
    words = raw.replace("’", "'").casefold().split()
    while len(words) > 1 and words[0] in _LEADING:
        words.pop(0)  # "The Local Government Ombudsman" at a sentence start is the same name
    return " ".join(words)


_LEADING = frozenset(
    [
        "the",
        "a",
        "an",
        "this",
        "that",
        "these",
        "those",
        "but",
        "and",
        "or",
        "so",
        "in",
        "on",
        "at",
        "for",
        "when",
        "after",
        "before",
        "if",
        "as",
        "by",
        "from",
        "of",
        "to",
        "with",
        "while",
        "it",
        "he",
        "she",
        "they",
        "we",
    ]
)


def _shape(token: str) -> str:
    # In a context a number stands for any number ("aged 45 and" fits "aged 52 and") and a
    # capitalised word for any name, so a fact next to another fact is still compared.
    if token[0].isdigit():
        return "#"
    return "A" if token[0].isupper() else token


def extract(text: str) -> Facts:
    """The facts of ``text``, filed by their context on either side."""
    slots: dict[tuple[str, str, str, str, str], set[str]] = {}
    for match in _FACT.finditer(text):
        kind = match.lastgroup or "name"
        raw = match.group()
        start, end = match.span()
        head = text[max(0, start - _REACH) : start]
        if kind == "name" and " " not in raw and (head.rstrip()[-1:] or ".") in _OPENERS:
            continue  # "The", "Families": a sentence's first word, not a name
        before = [_shape(t) for t in _CONTEXT.findall(head)[-2:]]
        after = [_shape(t) for t in _CONTEXT.findall(text, end, end + _REACH)[:2]]
        if len(before) == 2 and len(after) == 2:  # the very start or end is no context
            key = (kind, before[0], before[1], after[0], after[1])
            slots.setdefault(key, set()).add(_value(kind, raw))
    return Facts({key: frozenset(values) for key, values in slots.items()})


def _differ(kind: str, ours: frozenset[str], theirs: frozenset[str]) -> bool:
    if not ours.isdisjoint(theirs):
        return False
    if kind == "name":  # "Norfolk County Council" and "Norfolk": one place, said shorter
        return not any(a in b or b in a for a in ours for b in theirs)
    return True


def disagreements(a: Facts, b: Facts) -> int:
    """How many contexts both stories fill with different facts."""
    if len(b.slots) < len(a.slots):
        a, b = b, a
    other = b.slots
    return sum(
        1 for key, values in a.slots.items() if key in other and _differ(key[0], values, other[key])
    )


def same_facts(a: Facts, b: Facts) -> bool:
    """True unless the stories contradict each other on some fact (then they are two stories)."""
    return disagreements(a, b) == 0
