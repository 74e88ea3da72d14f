"""Stored documents as digest text: dates, titles, outcomes, remedies with amounts, snippets."""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from alerts.digest import Link, Segment
from db.digest_data import ShownDocument

LONDON = ZoneInfo("Europe/London")
_HIGHLIGHT = re.compile(r"\[([^\[\]]+)\]")  # the pipeline's "[term]" snippet markup


def aware(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes; everything is stored in UTC.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def local_date(moment: datetime) -> date:
    return aware(moment).astimezone(LONDON).date()


def titles(documents: Iterable[ShownDocument]) -> tuple[Link, ...]:
    """Each publication once, earliest copy first."""
    seen: dict[str, Link] = {}
    for doc in documents:
        label = doc.site_name or doc.source
        seen.setdefault(label.casefold(), Link(label, doc.url))
    return tuple(seen.values())


def outcome_label(doc: ShownDocument) -> str:
    text = (doc.outcome_text or "").strip()
    if text and len(text) <= 80:
        return text
    outcome = (doc.outcome or "").strip()
    return outcome[:1].upper() + outcome[1:] if outcome else "Decision"


def source_label(source: str) -> str:
    """How digests and pages name a registered source ("LGSCO", "Housing Ombudsman")."""
    from scraper.sources import registry

    info = registry.info(source)
    return info.label if info else ""


def shorten(text: str, limit: int) -> str:
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0].rstrip(",;:")
    return cut + "…"


def parse_snippet(snippet: str) -> tuple[Segment, ...]:
    """The pipeline's snippet (JSON [[text, highlighted], ...]) as segments; rows written
    before that format used "[term]" markup, which is still read."""
    if snippet.startswith("[["):
        try:
            spans = json.loads(snippet)
        except ValueError:
            spans = None
        if isinstance(spans, list):
            return tuple(Segment(str(text), highlighted=bool(flag)) for text, flag in spans)
    segments: list[Segment] = []
    cursor = 0
    for found in _HIGHLIGHT.finditer(snippet):
        if found.start() > cursor:
            segments.append(Segment(snippet[cursor : found.start()]))
        segments.append(Segment(found.group(1), highlighted=True))
        cursor = found.end()
    if cursor < len(snippet):
        segments.append(Segment(snippet[cursor:]))
    return tuple(segments)


def money(pence: int) -> str:
    """Format pence as pounds: 135000 -> "£1,350"; 135050 -> "£1,350.50"."""
    pounds, rest = divmod(pence, 100)
    return f"£{pounds:,}" if rest == 0 else f"£{pounds:,}.{rest:02d}"


def remedy_lines(extra: Mapping[str, Any]) -> tuple[str, ...]:
    """One line per remedy from the parser's ``extra["remedies"]``, payments first."""
    remedies = extra.get("remedies") if isinstance(extra, Mapping) else None
    if not isinstance(remedies, Mapping):
        return ()
    lines: list[str] = []
    for payment in remedies.get("payments") or ():
        amount = payment.get("amount_pence") if isinstance(payment, Mapping) else None
        if not isinstance(amount, int) or amount <= 0:
            continue
        recipient = payment.get("recipient")
        lines.append(f"{money(amount)} to {recipient}" if recipient else f"{money(amount)} payment")
    if remedies.get("apology"):
        lines.append("Apology")
    if remedies.get("reconsideration"):
        lines.append("Reconsider the matter")
    if remedies.get("service_improvements"):
        lines.append("Service improvements")
    return tuple(lines)


# A sentence ends at . ! or ? (closing quotes kept) before whitespace, or at a paragraph break.
_SENTENCE = re.compile(r"[^.!?\n]*(?:[.!?]+[\"'”’)]*(?=\s|$)|\n|$)")


def _sentences(text: str) -> list[str]:
    found = []
    for piece in _SENTENCE.findall(text):
        sentence = " ".join(piece.split())
        if sentence:
            found.append(sentence)
    return found


def _without_title(body: str, title: str) -> str:
    """The body less a leading copy of the headline (extractors often keep the <h1>)."""
    squashed, head = " ".join(body.split()), " ".join(title.split())
    if head and squashed.casefold().startswith(head.casefold()):
        return squashed[len(head) :].lstrip(" .:-–—")
    return body


@dataclass(frozen=True, slots=True)
class StorySentences:
    """A story's sentences (body less the headline, else the summary), as written and
    case-folded: what ``story_excerpt`` chooses from, worked out once per document."""

    sentences: list[str]
    folded: list[str]


def story_sentences(doc: ShownDocument) -> StorySentences:
    body = _without_title(doc.body or "", doc.title or "")
    sentences = _sentences(body) or _sentences(doc.summary or "")
    return StorySentences(sentences, [s.casefold() for s in sentences])


@functools.lru_cache(maxsize=4096)
def _terms_pattern(terms: tuple[str, ...]) -> re.Pattern[str]:
    """The terms, longest first, as one case-insensitive pattern: compiled once per set of
    terms (re's own cache of 512 missed most of a digest run's sets)."""
    return re.compile("|".join(re.escape(t) for t in terms), re.I)


def story_excerpt(
    doc: ShownDocument | StorySentences,
    names: Iterable[str],
    terms: Iterable[str],
    limit: int,
) -> tuple[Segment, ...]:
    """One clean excerpt of a story: the first sentence with a matched term, else the first
    that names the council, else the first; never the feed summary, headline and body run
    together. Matched terms are highlighted wherever they occur in it. ``doc`` may be its
    ``story_sentences`` already (a digest run shares them between subscribers)."""
    wanted = [t for t in dict.fromkeys(t.strip() for t in terms) if t]
    split = doc if isinstance(doc, StorySentences) else story_sentences(doc)
    sentences, folded = split.sentences, split.folded
    if not sentences:
        return ()
    chosen = None
    for needles in ([t.casefold() for t in wanted], [n.casefold() for n in names if n]):
        pairs = zip(sentences, folded, strict=True)
        chosen = next((s for s, f in pairs if any(n in f for n in needles)), None)
        if chosen is not None:
            break
    text = shorten(chosen or sentences[0], limit)
    if not wanted:
        return (Segment(text),)
    ordered = tuple(sorted(wanted, key=len, reverse=True))
    segments: list[Segment] = []
    cursor = 0
    for start, end in _term_spans(text, ordered):
        if start > cursor:
            segments.append(Segment(text[cursor:start]))
        segments.append(Segment(text[start:end], highlighted=True))
        cursor = end
    if cursor < len(text):
        segments.append(Segment(text[cursor:]))
    return tuple(segments)


def _term_spans(text: str, terms: tuple[str, ...]) -> list[tuple[int, int]]:
    """Where ``_terms_pattern(terms)`` matches ``text`` (its ``finditer`` spans).

    ASCII text and terms (most excerpts) need no pattern: case-insensitive matching is
    then plain lower-casing, and the pattern's leftmost-first alternation is, from each
    cursor, the earliest place any term is found, the first (longest) term found there.
    A run's excerpts hold hundreds of distinct term sets, and compiling a pattern for
    each (Python code in ``re``) was about half of cutting them. Other text keeps the
    pattern: Unicode case folding matches more than lower-casing ("ſ" matches "s").
    """
    if not (text.isascii() and all(t.isascii() for t in terms)):
        return [m.span() for m in _terms_pattern(terms).finditer(text)]
    low = text.lower()
    needles = [t.lower() for t in terms]
    found: list[tuple[int, int]] = []
    cursor = 0
    while True:
        best, at = "", -1
        for needle in needles:
            where = low.find(needle, cursor)
            if where >= 0 and (at < 0 or where < at):
                best, at = needle, where
        if at < 0:
            return found
        found.append((at, at + len(best)))
        cursor = at + len(best)
