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
    shape proves them present, the terms found. Built once per alert, not per match.

    When the terms a match shows depend on the document (``a OR b``), the match carries a
    bit mask over :attr:`positive` and :meth:`subset` turns it into those terms.
    """

    __slots__ = ("alert_id", "councils", "found", "positive", "query", "subsets", "terms", "wanted")

    def __init__(
        self,
        alert_id: str | int,
        query: str = "",
        terms: tuple[str, ...] = (),
        found: tuple[Term, ...] = (),
        councils: tuple[str, ...] | None = (),
        wanted: frozenset[str] = frozenset(),
        positive: tuple[Term, ...] = (),
    ) -> None:
        self.alert_id = alert_id
        self.query = query
        self.terms = terms
        self.found = found
        # The councils every match reports; None: the alert's ``wanted`` the document names.
        self.councils = councils
        self.wanted = wanted
        self.positive = positive
        # Every subset's (names, terms), by mask, when there are few enough to list.
        self.subsets: tuple[tuple[tuple[str, ...], tuple[Term, ...]], ...] | None = None
        if len(positive) <= _MAX_LISTED_TERMS:
            self.subsets = tuple(self._subset(mask) for mask in range(1 << len(positive)))

    def _subset(self, mask: int) -> tuple[tuple[str, ...], tuple[Term, ...]]:
        hit = tuple(t for i, t in enumerate(self.positive) if mask >> i & 1)
        return tuple(str(t) for t in hit), hit

    def subset(self, mask: int) -> tuple[tuple[str, ...], tuple[Term, ...]]:
        """The names and terms of :attr:`positive` whose bits ``mask`` sets."""
        return self.subsets[mask] if self.subsets is not None else self._subset(mask)


# Above this many terms, subsets are worked out when asked for rather than listed.
_MAX_LISTED_TERMS = 6


class Match(tuple):
    """One (alert, document) match with what it takes to explain it (immutable).

    Fields: ``alert_id``, ``document_id``, ``councils`` (the alert's councils the document
    names; empty: any council), ``terms`` (the query's terms found, normalised), ``query``
    (normalised; "" for a council or filter alert), ``found`` (those terms as parsed) and
    ``source`` (cuts the snippet). Equality and hashing use the first five; the snippet
    follows from the document and the terms.

    A batch makes hundreds of thousands of matches, and making them was most of the
    matcher's time. So what is the same for every match of an alert lives in one shared
    :class:`MatchedAlert`, and a match is the tuple ``(shared, document_id, councils,
    source[, mask])`` (``mask``: which of ``shared.positive`` it found, when the query's
    shape does not fix that). Being a plain tuple subclass, ``Match(fields)`` runs no
    Python code, so the matcher makes most matches in C. It is a tuple only for that:
    compare matches as matches, not as tuples. :meth:`create` makes one from its parts.
    """

    __slots__ = ()

    @classmethod
    def create(
        cls,
        alert_id: str | int,
        document_id: str | int,
        councils: tuple[str, ...],
        terms: tuple[str, ...],
        query: str = "",
        found: tuple[Term, ...] = (),
        source: SnippetSource | None = None,
    ) -> Match:
        return cls((MatchedAlert(alert_id, query, terms, found), document_id, councils, source))

    @property
    def alert_id(self) -> str | int:
        return self[0].alert_id

    @property
    def document_id(self) -> str | int:
        return self[1]

    @property
    def councils(self) -> tuple[str, ...]:
        return self[2]

    @property
    def source(self) -> SnippetSource | None:
        return self[3]

    @property
    def query(self) -> str:
        return self[0].query

    @property
    def terms(self) -> tuple[str, ...]:
        if len(self) > 4:
            return self[0].subset(self[4])[0]
        return self[0].terms

    @property
    def found(self) -> tuple[Term, ...]:
        if len(self) > 4:
            return self[0].subset(self[4])[1]
        return self[0].found

    def _key(self) -> tuple[object, ...]:
        return (self.alert_id, self.document_id, self.councils, self.terms, self.query)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Match):
            return NotImplemented
        return self._key() == other._key()

    def __ne__(self, other: object) -> bool:
        if not isinstance(other, Match):
            return NotImplemented
        return self._key() != other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return (
            f"Match(alert_id={self.alert_id!r}, document_id={self.document_id!r}, "
            f"councils={self.councils!r}, terms={self.terms!r}, query={self.query!r})"
        )

    def _ordered(self, other: object) -> bool:
        raise TypeError("matches have no order; sort them by a key such as alert_id")

    __lt__ = __le__ = __gt__ = __ge__ = _ordered

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
