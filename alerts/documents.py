"""The match-side types: what an alert asks for, what a document offers, and a match.

These carry no storage ids beyond an opaque ``id``: the composition root turns stored
subscriptions and documents into them, with council ids already recognised in documents and
already expanded (successors, county-wide) in alerts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from alerts.query import Query, Term

__all__ = [
    "AlertSpec",
    "Match",
    "MatchDocument",
    "MatchedAlert",
    "SharedMatch",
    "SnippetSource",
    "SnippetSpans",
]

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


class MatchedAlert:
    """What every match of one alert shares: its id, normalised query and, when the query's
    shape proves them present, the terms found. Built once per alert, not per match."""

    __slots__ = ("alert_id", "councils", "found", "query", "terms", "wanted")

    def __init__(
        self,
        alert_id: str | int,
        query: str = "",
        terms: tuple[str, ...] = (),
        found: tuple[Term, ...] = (),
        councils: tuple[str, ...] | None = (),
        wanted: frozenset[str] = frozenset(),
    ) -> None:
        self.alert_id = alert_id
        self.query = query
        self.terms = terms
        self.found = found
        # The councils every match reports; None: the alert's ``wanted`` the document names.
        self.councils = councils
        self.wanted = wanted


class Match:
    """One (alert, document) match with what it takes to explain it (treat as immutable).

    Fields: ``alert_id``, ``document_id``, ``councils`` (the alert's councils the document
    names; empty: any council), ``terms`` (the query's terms found, normalised), ``query``
    (normalised; "" for a council or filter alert), ``found`` (those terms as parsed) and
    ``source`` (cuts the snippet). Equality and hashing use the first five; the snippet
    follows from the document and the terms.

    A batch builds hundreds of thousands of matches, and building one was most of the
    matcher's time: what is the same for every match of an alert lives in one shared
    :class:`MatchedAlert`, so a match stores a reference to it and its own few fields.
    """

    __slots__ = ("_alert", "_found", "_terms", "councils", "document_id", "source")

    def __init__(
        self,
        alert_id: str | int,
        document_id: str | int,
        councils: tuple[str, ...],
        terms: tuple[str, ...],
        query: str = "",
        found: tuple[Term, ...] = (),
        source: SnippetSource | None = None,
    ) -> None:
        self._alert = MatchedAlert(alert_id, query, terms, found)
        self.document_id = document_id
        self.councils = councils
        self._terms: tuple[str, ...] | None = None  # None: the alert's
        self._found: tuple[Term, ...] | None = None
        self.source = source

    @property
    def alert_id(self) -> str | int:
        return self._alert.alert_id

    @property
    def query(self) -> str:
        return self._alert.query

    @property
    def terms(self) -> tuple[str, ...]:
        terms = self._terms
        return self._alert.terms if terms is None else terms

    @property
    def found(self) -> tuple[Term, ...]:
        found = self._found
        return self._alert.found if found is None else found

    def _key(self) -> tuple[object, ...]:
        return (self.alert_id, self.document_id, self.councils, self.terms, self.query)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Match):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return (
            f"Match(alert_id={self.alert_id!r}, document_id={self.document_id!r}, "
            f"councils={self.councils!r}, terms={self.terms!r}, query={self.query!r})"
        )

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


class SharedMatch(Match):
    """A match built from its alert's shared part: one allocation, four stores.

    ``terms``/``found`` given: the terms this document shows (the query's shape does not
    fix them); else the alert's.
    """

    __slots__ = ()

    def __init__(
        self,
        alert: MatchedAlert,
        document_id: str | int,
        councils: tuple[str, ...],
        source: SnippetSource | None,
        terms: tuple[str, ...] | None = None,
        found: tuple[Term, ...] | None = None,
    ) -> None:
        self._alert = alert
        self.document_id = document_id
        self.councils = councils
        self.source = source
        self._terms = terms
        self._found = found
