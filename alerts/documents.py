"""The match-side types: what an alert asks for, what a document offers, and a match.

These carry no storage ids beyond an opaque ``id``: the composition root turns stored
subscriptions and documents into them, with council ids already recognised in documents and
already expanded (successors, county-wide) in alerts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from alerts.query import Query, Term

__all__ = ["AlertSpec", "Match", "MatchDocument", "SnippetSource", "SnippetSpans"]

# A snippet as (text, is_highlight) segments, so a template can escape text and mark terms.
SnippetSpans = tuple[tuple[str, bool], ...]


class SnippetSource(Protocol):
    """Cuts snippets from one document; shared by all of that document's matches."""

    def spans(self, terms: tuple[Term, ...]) -> SnippetSpans: ...


@dataclass(frozen=True)
class AlertSpec:
    """One alert. Every empty set means "any"; every non-empty filter must be satisfied."""

    id: str | int
    councils: frozenset[str] = frozenset()
    query: Query | None = None
    kinds: frozenset[str] = frozenset()  # "decision", "news"
    outcomes: frozenset[str] = frozenset()
    categories: frozenset[str] = frozenset()
    sources: frozenset[str] = frozenset()

    def accepts(self, doc: MatchDocument) -> bool:
        """True if ``doc`` passes every filter beside the query (councils, kind, fields)."""
        return (
            (not self.kinds or doc.kind in self.kinds)
            and (not self.sources or doc.source in self.sources)
            and (not self.outcomes or doc.outcome in self.outcomes)
            and (not self.categories or doc.category in self.categories)
            and (not self.councils or not self.councils.isdisjoint(doc.councils))
        )


@dataclass(frozen=True)
class MatchDocument:
    """A new document as the matcher sees it; ``councils`` are already recognised ids."""

    id: str | int
    kind: str
    source: str
    title: str
    text: str
    councils: frozenset[str] = frozenset()
    outcome: str | None = None
    category: str | None = None


# Not frozen: a batch builds hundreds of thousands of these, and a frozen dataclass's
# __init__ (object.__setattr__ per field) costs four times a plain one. Treat it as
# immutable; it hashes and compares by its compared fields like the frozen class did.
@dataclass(slots=True, unsafe_hash=True)
class Match:
    """One (alert, document) match with what it takes to explain it (do not mutate)."""

    alert_id: str | int
    document_id: str | int
    councils: tuple[str, ...]  # the alert's councils the document names (empty: any council)
    terms: tuple[str, ...]  # the query's terms found in the document, normalised
    query: str = ""  # the alert's query, normalised ("" for a council or filter alert)
    # The snippet is cut on first use: a batch can hold far more matches than a digest shows.
    # It follows from the document and the terms, so it takes no part in equality.
    found: tuple[Term, ...] = field(default=(), compare=False, repr=False)
    source: SnippetSource | None = field(default=None, compare=False, repr=False)

    @property
    def snippet_spans(self) -> SnippetSpans:
        """The snippet as (text, is_highlight) segments, for safe HTML rendering."""
        return self.source.spans(self.found) if self.source is not None else ()

    @property
    def snippet(self) -> str:
        """The snippet as plain text."""
        return "".join(text for text, _ in self.snippet_spans)

    def highlighted(self, before: str = "[", after: str = "]") -> str:
        """The snippet with each highlighted segment wrapped in ``before``/``after``."""
        return "".join(f"{before}{t}{after}" if hit else t for t, hit in self.snippet_spans)

    def explain(self) -> str:
        """Why this alert matched this document, in a few lines for people."""
        lines = [f"alert {self.alert_id} matched document {self.document_id}"]
        if self.councils:
            lines.append("councils: " + ", ".join(self.councils))
        else:
            lines.append("councils: any")
        if self.query:
            lines.append(f"query: {self.query}")
            found = ", ".join(self.terms) if self.terms else "none (matched by NOT terms alone)"
            lines.append(f"terms found: {found}")
        if self.snippet_spans:
            lines.append("snippet: " + self.highlighted())
        return "\n".join(lines)
