"""Reverse search: which alerts match a batch of new documents.

Percolator design. Each alert is filed under a few *anchor* keys, of which every document it
can match carries at least one:

- its query's anchors: the rarest required term (``s:<stem>``, ``w:<word>``, or
  ``p:<prefix>`` cut to :data:`PREFIX_KEY_LEN` letters; rarest by the key cost: learned
  document frequencies or a guess), and for an OR every branch's. With councils (or else
  a kind) as well, these keys go in that council's (kind's) own index, which only
  documents naming the council (of the kind) look in;
- otherwise ``c:<council>`` for each of its councils;
- otherwise (a NOT-only or filter-only alert) its field filters, every combination of
  their values as one key (``f:category=Education|outcome=upheld``); a document carries
  a key for each subset of its fields;
- otherwise a short "always check" list.

A document looks up its councils, distinct words and stems, the prefixes of its words (only
the lengths the index holds) and its fields; the alerts found are verified exactly. The
work per document thus grows with its length and with the alerts it could match, not with
the number of alerts. :func:`brute_force` checks every alert against every document and must
give the same list; it is the baseline and the tests' oracle.

Verifying and explaining: nearly every candidate matches (hundreds per document), so the
per-candidate work is what costs, and it is bound by cache misses over the large index.
Each alert gets a *plan* when filed: for an alert its keys prove and whose query fixes the
terms it shows, just the part all its matches share (:class:`MatchedAlert`); otherwise a
small record for an emit function generated per query shape (see :func:`_compile_plan`).
"""

from __future__ import annotations

import gc
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from itertools import combinations, product
from math import prod
from typing import Protocol, TypeVar

from alerts.documents import (
    AlertSpec,
    Match,
    MatchDocument,
    MatchedAlert,
    SharedMatch,
    SnippetSpans,
)
from alerts.query import PREFIX_KEY_LEN, And, DocTokens, KeyCost, Node, Not, Or, Query, Term
from alerts.stem import stem

__all__ = [
    "Matcher",
    "brute_force",
    "default_key_cost",
    "document_tokens",
    "key_cost_from_documents",
    "snippet_spans",
]

SNIPPET_WORDS = 30
_T = TypeVar("_T")
# Words too common to be a good anchor: a query needing "council" and "adoption" should be
# found through "adoption". Stems, since most anchors are stems.
_COMMON_WORDS = (
    "the", "of", "and", "to", "a", "in", "is", "that", "for", "it", "as", "was", "with",
    "be", "by", "on", "not", "he", "i", "this", "are", "or", "his", "from", "at", "which",
    "but", "have", "an", "they", "you", "were", "her", "she", "there", "been", "one", "all",
    "we", "their", "has", "would", "when", "if", "so", "no", "will", "more", "can", "who",
    "said", "its", "out", "into", "about", "council", "complaint", "ombudsman", "decision",
    "care", "service", "people", "local", "year",
)  # fmt: skip
_COMMON = frozenset(stem(w) for w in _COMMON_WORDS)


def default_key_cost(key: str) -> float:
    """Guess how common an anchor key is without statistics (lower = rarer = better).

    Longer words are rarer; a short prefix covers many words; a few words are everywhere.
    """
    kind, word = key[0], key[2:]
    if kind == "c":
        return 0.05  # a council is named in few documents: rarer than most words
    cost = 1.0 / (1 + len(word))
    if (stem(word) if kind == "w" else word) in _COMMON:
        cost += 1.0
    if kind == "p":
        cost *= 3
    elif kind == "w":
        cost *= 0.9  # an exact word is a subset of its stem's documents
    return cost


def _document_keys(tokens: DocTokens, prefix_lengths: Iterable[int]) -> set[str]:
    keys = {"s:" + s for s in tokens.stem_set}
    keys.update("w:" + w for w in tokens.word_set)
    for n in prefix_lengths:
        keys.update("p:" + w[:n] for w in tokens.word_set if len(w) >= n)
    return keys


def key_cost_from_documents(
    docs: Iterable[MatchDocument], prefix_len: int = PREFIX_KEY_LEN
) -> KeyCost:
    """Anchor costs from document frequencies in a sample of (recent) documents.

    Keys never seen in the sample count as rarer than any seen key.
    """
    counts: Counter[str] = Counter()
    total = 0
    for doc in docs:
        counts.update(_document_keys(document_tokens(doc), range(2, prefix_len + 1)))
        counts.update("c:" + c for c in doc.councils)
        total += 1

    def cost(key: str) -> float:
        return (counts.get(key, 0) + 0.5) / (total + 1) + default_key_cost(key) * 1e-6

    return cost


def document_tokens(doc: MatchDocument) -> DocTokens:
    """The tokens a query is evaluated on: the title, then the text."""
    return DocTokens(doc.title, doc.text)


def _merge(ranges: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for start, end in sorted(ranges):
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


def _squash(text: str) -> str:
    """Collapse runs of whitespace (line breaks included) to one space, keeping the ends."""
    core = " ".join(text.split())
    if not core:
        return " " if text else ""
    return (" " if text[0].isspace() else "") + core + (" " if text[-1].isspace() else "")


def snippet_spans(
    tokens: DocTokens, terms: Sequence[Term], words: int = SNIPPET_WORDS
) -> SnippetSpans:
    """A window of about ``words`` words where the terms are densest, as segments.

    Without terms (a council or filter alert) the window is the start of the text after the
    title. Segments are (text, is_highlight); whitespace is collapsed.
    """
    toks = tokens.tokens
    if not toks:
        return ()
    hits = _merge([r for t in terms for r in t.occurrences(tokens)])
    if hits:
        # Slide a window over hit starts; keep the first with the most hits in it.
        best, best_count, j = hits[0][0], 0, 0
        for i, (start, _) in enumerate(hits):
            while j < len(hits) and hits[j][0] < start + words:
                j += 1
            if j - i > best_count:
                best, best_count = start, j - i
        first = max(0, best - words // 5)
    else:
        first = next((i + 1 for i, t in enumerate(toks) if t.text == ""), 0)
        if first >= len(toks):
            first = 0
    last = min(len(toks), first + words)
    # Do not cut a highlighted phrase in two.
    last = max([last] + [end for start, end in hits if first <= start < last])
    while first < last and toks[first].text == "":
        first += 1
    while last > first and toks[last - 1].text == "":
        last -= 1
    if first >= last:
        return ()
    text = tokens.text
    spans: list[tuple[str, bool]] = []
    if first > 0 and toks[first - 1].text != "":  # no ellipsis right after the title
        spans.append(("… ", False))
    cursor = toks[first].start
    for start, end in hits:
        if start < first or end > last:
            continue
        lo, hi = toks[start].start, toks[end - 1].end
        if lo > cursor:
            spans.append((_squash(text[cursor:lo]), False))
        spans.append((_squash(text[lo:hi]), True))
        cursor = hi
    tail = toks[last - 1].end
    if tail > cursor:
        spans.append((_squash(text[cursor:tail]), False))
    if last < len(toks):
        spans.append((" …", False))
    return tuple(spans)


class _Explainer:
    """Builds Match objects for one document, sharing snippets between alerts."""

    __slots__ = ("_councils", "_only_council", "_snippets", "doc", "tokens")

    def __init__(self, doc: MatchDocument) -> None:
        self.doc = doc
        self.tokens = document_tokens(doc)
        self._snippets: dict[tuple[Term, ...], SnippetSpans] = {}
        self._councils: dict[frozenset[str], tuple[str, ...]] = {}
        # With one council named, every council alert that matched shares exactly that one.
        self._only_council = tuple(doc.councils) if len(doc.councils) == 1 else None

    def councils(self, wanted: frozenset[str]) -> tuple[str, ...]:
        """The alert's councils this document names, sorted (the alert matched).

        Remembered per set: the matcher interns equal council sets across alerts.
        """
        if self._only_council is not None:
            return self._only_council
        found = self._councils.get(wanted)
        if found is None:
            found = self._councils[wanted] = tuple(sorted(wanted & self.doc.councils))
        return found

    def spans(self, terms: tuple[Term, ...]) -> SnippetSpans:
        found = self._snippets.get(terms)
        if found is None:
            found = self._snippets[terms] = snippet_spans(self.tokens, terms)
        return found

    def match(self, alert: AlertSpec) -> Match:
        doc = self.doc
        if not alert.councils:
            councils: tuple[str, ...] = ()
        else:
            councils = self._only_council or tuple(sorted(alert.councils & doc.councils))
        query = alert.query
        if query is None:
            terms: tuple[Term, ...] = ()
        elif isinstance(query.root, Term):  # it matched, so its one term is present
            terms = (query.root,)
        else:
            terms = query.matched_terms(self.tokens)
        return Match(
            alert.id,
            doc.id,
            councils,
            tuple([str(t) for t in terms]),
            str(query) if query is not None else "",
            terms,
            self,
        )


# A candidate's plan: the shared part of its matches when its keys prove it matches and
# the query's shape fixes its terms (nothing to do but build the Match), else a record
# (emit, constants...) on which ``emit(explainer, record)`` verifies and builds the Match.
# The function is shared by every alert of that shape; the record is one small tuple, so
# a candidate touches little memory (the matcher is bound by cache misses, not by work).
_EmitFunction = Callable[[_Explainer, tuple[object, ...]], "Match | None"]
_Plan = MatchedAlert | tuple[object, ...]


class _Intern(Protocol):
    def __call__(self, value: _T, /) -> _T: ...


# Above this many positive terms, the terms a match found are collected in a loop rather
# than looked up in a table of every subset.
_MAX_TABLE_TERMS = 6


class _EmitSource:
    """Python source for one alert's emit function, with its constants kept apart.

    The source depends only on the alert's *shape* (which filters, which kinds of term,
    how they nest), never on its words or ids: those are read from the alert's record
    (``r[1]``, ``r[2]``...). So 100,000 alerts share a few dozen compiled functions, and
    no alert text reaches exec.
    Constants are interned: equal sets and words across alerts are one object, which keeps
    the memory a batch touches small (the matcher is bound by cache misses, not by work).
    """

    def __init__(self, intern: _Intern) -> None:
        self.intern = intern
        self.values: list[object] = []
        self.lines: list[str] = []

    def const(self, value: object) -> str:
        self.values.append(self.intern(value))
        return f"r[{len(self.values)}]"  # r[0] is the function itself

    def term(self, term: Term) -> str:
        """An expression that is true if ``term`` occurs: a set lookup for a single word."""
        if len(term.atoms) == 1 and term.atoms[0].mode == "stem":
            return f"({self.const(term.atoms[0].norm)} in t.stem_set)"
        if len(term.atoms) == 1 and term.atoms[0].mode == "exact":
            return f"({self.const(term.atoms[0].text)} in t.word_set)"
        if len(term.atoms) == 1:  # a prefix longer than its key: one bisect
            return f"t.has_prefix({self.const(term.atoms[0].text)})"
        if all(a.mode == "exact" for a in term.atoms):
            # A quoted phrase, as Term.matches: its words present, then a text search.
            needle = term._needle  # the same substring of DocTokens.joined
            present = " and ".join(f"{self.const(a.text)} in t.word_set" for a in term.atoms)
            return f"({present} and {self.const(needle)} in t.joined)"
        return f"{self.const(term.matches)}(t)"

    def node(self, node: Node, known: dict[Term, str]) -> str:
        if isinstance(node, Term):
            return known.get(node) or self.term(node)
        if isinstance(node, Not):
            return f"(not {self.node(node.child, known)})"
        if isinstance(node, And | Or):
            op = " and " if isinstance(node, And) else " or "
            return "(" + op.join(self.node(c, known) for c in node.children) + ")"
        return f"{self.const(node.matches)}(t)"  # a node kind this compiler does not know


_EMITTERS: dict[str, _EmitFunction] = {}


def _fixed_terms(query: Query | None) -> tuple[Term, ...] | None:
    """The terms every match of ``query`` shows, if its shape fixes them (else None)."""
    if query is None:
        return ()
    root = query.root
    if isinstance(root, Term) or (
        isinstance(root, And) and all(isinstance(c, Term) for c in root.children)
    ):
        return query.terms()  # a word or a plain conjunction that matched: all present
    return None


def _compile_plan(alert: AlertSpec, proven: bool, intern: _Intern) -> _Plan:
    """The whole per-candidate work for ``alert``: verify (unless proven), build the Match.

    A batch builds hundreds of matches per document, so everything that depends only on the
    alert (its id, normalised query, the terms a match must have found, its councils when
    it names one) is worked out here once, and the checks become inline set lookups. The
    result equals ``_Explainer.match`` after ``_verify`` (:func:`brute_force` keeps those
    as the independent oracle; the property tests compare the two).
    """
    query = alert.query
    fixed = _fixed_terms(query)
    shared = MatchedAlert(
        alert.id,
        str(query) if query is not None else "",
        tuple(str(t) for t in fixed or ()),
        fixed or (),
        # With one council, a match names that one; with more, whichever the document names.
        () if not alert.councils else tuple(alert.councils) if len(alert.councils) == 1 else None,
        intern(alert.councils),
    )
    if proven and fixed is not None:
        return shared
    src = _EmitSource(intern)
    body = src.lines
    body.append("doc = ex.doc")
    if not proven:
        for attr, values in (
            ("kind", alert.kinds),
            ("source", alert.sources),
            ("outcome", alert.outcomes),
            ("category", alert.categories),
        ):
            if values:
                body.append(f"if doc.{attr} not in {src.const(values)}: return None")
        if alert.councils:
            body.append(f"if {src.const(alert.councils)}.isdisjoint(doc.councils): return None")
    if query is not None:
        body.append("t = ex.tokens")
    if shared.councils is None:
        councils = f"ex.councils({src.const(alert.councils)})"
    else:
        councils = f"{src.const(shared)}.councils"
    if fixed is not None:
        if query is not None:
            body.append(f"if not {src.node(query.root, {})}: return None")
        body.append(f"return SharedMatch({src.const(shared)}, doc.id, {councils}, ex)")
    else:
        assert query is not None
        terms = query.terms()
        # Positive terms are evaluated once, up front: nearly every candidate matches, and
        # a match needs them all for its explanation.
        known = {}
        for i, term in enumerate(terms):
            body.append(f"p{i} = {src.term(term)}")
            known[term] = f"p{i}"
        if not proven:
            body.append(f"if not {src.node(query.root, known)}: return None")
        if len(terms) <= _MAX_TABLE_TERMS:
            table = []
            for mask in range(1 << len(terms)):
                hit = tuple(t for i, t in enumerate(terms) if mask >> i & 1)
                table.append((tuple(str(t) for t in hit), hit))
            bits = " | ".join(f"({1 << i} if p{i} else 0)" for i in range(len(terms))) or "0"
            body.append(f"names, found = {src.const(tuple(table))}[{bits}]")
        else:
            pairs = src.const(tuple((str(t), t) for t in terms))
            flags = ", ".join(f"p{i}" for i in range(len(terms)))
            body.append(f"hits = [nt for nt, p_ in zip({pairs}, ({flags},)) if p_]")
            body.append("names = tuple([h[0] for h in hits])")
            body.append("found = tuple([h[1] for h in hits])")
        body.append(
            f"return SharedMatch({src.const(shared)}, doc.id, {councils}, ex, names, found)"
        )
    return (_emitter("\n".join(body)), *src.values)


def _emitter(body: str) -> _EmitFunction:
    emit = _EMITTERS.get(body)
    if emit is None:
        source = "def emit(ex, r):\n" + "".join(f"    {line}\n" for line in body.splitlines())
        namespace: dict[str, object] = {"SharedMatch": SharedMatch}
        exec(compile(source, "<alerts.matcher emit>", "exec"), namespace)
        made: _EmitFunction = namespace["emit"]  # type: ignore[assignment]
        emit = _EMITTERS[body] = made
    return emit


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Hold off the cyclic garbage collector while a batch allocates its matches.

    A batch allocates hundreds of thousands of small objects and creates no reference
    cycles; left on, the collector repeatedly rescans every long-lived object (the whole
    alert index) and took a quarter of the matching time in bench/match.py. Reference
    counting still frees everything as usual.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _verify(alert: AlertSpec, doc: MatchDocument, tokens: DocTokens) -> bool:
    query = alert.query
    return alert.accepts(doc) and (query is None or query.root.matches(tokens))


def brute_force(alerts: Iterable[AlertSpec], docs: Iterable[MatchDocument]) -> list[Match]:
    """Every alert checked against every document: the baseline and the test oracle.

    Matches are listed document by document (input order), alerts in their given order.
    """
    alert_list = list(alerts)
    out: list[Match] = []
    for doc in docs:
        explainer = _Explainer(doc)
        out.extend(explainer.match(a) for a in alert_list if _verify(a, doc, explainer.tokens))
    return out


_FILTER_ORDER = ("category", "outcome", "source", "kind")
# Filter keys join "name<_NAME_SEP>value" parts with _FIELD_SEP; values are escaped so
# that no field value can forge a key.
_NAME_SEP, _FIELD_SEP = "\x1e", "\x1f"
MAX_FILTER_KEYS = 16
_ESCAPES = str.maketrans({"\x1b": "\x1b0", _NAME_SEP: "\x1b1", _FIELD_SEP: "\x1b2"})


def _part(name: str, value: str) -> str:
    return name + _NAME_SEP + value.translate(_ESCAPES)


def _alert_filters(alert: AlertSpec) -> list[tuple[str, frozenset[str]]]:
    by_name = {
        "category": alert.categories,
        "outcome": alert.outcomes,
        "source": alert.sources,
        "kind": alert.kinds,
    }
    return [(name, by_name[name]) for name in _FILTER_ORDER if by_name[name]]


def _filter_keys(alert: AlertSpec) -> list[str]:
    """Keys for an alert that only has field filters: every combination of its values.

    A document carries the key of every subset of its fields, so an alert whose key it
    carries passes all its filters. Too many combinations: the narrowest field alone.
    """
    dims = _alert_filters(alert)
    if not dims:
        return []
    parts = [[_part(name, v) for v in sorted(values)] for name, values in dims]
    if prod(len(p) for p in parts) <= MAX_FILTER_KEYS:
        return [_FIELD_SEP.join(combo) for combo in product(*parts)]
    return min(parts, key=len)


def _document_filter_keys(doc: MatchDocument) -> list[str]:
    fields = (
        ("category", doc.category),
        ("outcome", doc.outcome),
        ("source", doc.source),
        ("kind", doc.kind),
    )
    parts = [_part(name, value) for name, value in fields if value is not None]
    return [
        _FIELD_SEP.join(combo) for n in range(1, len(parts) + 1) for combo in combinations(parts, n)
    ]


# An anchor key: (scope, key). Scope "" is the global index; "c:<council>" or "k:<kind>"
# an index only documents naming that council (of that kind) look in.
_Key = tuple[str, str]


class Matcher:
    """An index of alerts for matching batches of new documents (see module docstring)."""

    def __init__(
        self,
        alerts: Iterable[AlertSpec] = (),
        *,
        key_cost: KeyCost = default_key_cost,
        prefix_len: int = PREFIX_KEY_LEN,
    ) -> None:
        self._cost = key_cost
        self._prefix_len = prefix_len
        self._slots: dict[str | int, int] = {}  # alert id -> slot (insertion order)
        self._alerts: dict[int, AlertSpec] = {}
        self._keys: dict[int, tuple[_Key, ...]] = {}  # () = in the always-check list
        # scope -> namespace ("c", "s", "w", "p", "f") -> value -> slots. Namespaces so a
        # document looks up its words without building a prefixed string for each.
        self._index: dict[str, dict[str, dict[str, set[int]]]] = {}
        self._always: set[int] = set()
        self._plans: dict[int, _Plan] = {}  # how to verify and build the Match, per slot
        self._interned: dict[tuple[type, object], object] = {}
        self._prefixes: Counter[str] = Counter()  # indexed prefix keys, all scopes
        self._prefix_lengths: Counter[int] = Counter()
        self._heads: tuple[frozenset[str], int] | None = None  # see _prefix_heads
        self._next_slot = 0
        for alert in alerts:
            self.add(alert)

    def __len__(self) -> int:
        return len(self._alerts)

    @property
    def alerts(self) -> list[AlertSpec]:
        """The alerts in the order matches are reported."""
        return list(self._alerts.values())

    def _intern(self, value: _T) -> _T:
        """One object for equal constants across alerts (see :class:`_EmitSource`)."""
        if not isinstance(value, str | int | frozenset | tuple):
            return value
        try:
            # Keyed with the type: 1 == True, but an id must stay what it was.
            return self._interned.setdefault((type(value), value), value)  # type: ignore[return-value]
        except TypeError:  # a tuple holding something unhashable: keep it as it is
            return value

    def _anchor_keys(self, alert: AlertSpec) -> tuple[_Key, ...]:
        anchors = None
        if alert.query is not None:
            anchors = alert.query.anchors(self._cost, self._prefix_len)
        if anchors is not None and (alert.councils or alert.kinds):
            # Councils (or a kind) and terms: filed under the terms within the council's
            # own index, which only documents naming that council look in. More selective
            # than either alone: without it most such candidates failed their check.
            scopes = (
                ["c:" + c for c in alert.councils]
                if alert.councils
                else ["k:" + k for k in alert.kinds]
            )
            return tuple((scope, key) for scope in sorted(scopes) for key in sorted(anchors))
        if alert.councils:
            return tuple(("", "c:" + c) for c in sorted(alert.councils))
        if anchors is not None:
            return tuple(("", key) for key in sorted(anchors))
        return tuple(("", "f:" + k) for k in sorted(_filter_keys(alert)))

    def _anchors_suffice(self, alert: AlertSpec, keys: tuple[_Key, ...]) -> bool:
        """True if a document carrying any of ``keys`` surely matches ``alert``.

        So for a council-only alert, a one-filter alert, and a query that is a word (or an
        OR of words) with no other filter than its scope (councils or kinds): its keys are
        exactly its terms.
        """
        filters = [alert.outcomes, alert.categories, alert.sources]
        scope = keys[0][0][:1]
        if scope == "c":
            filters.append(alert.kinds)
        elif scope != "k":
            if alert.councils:
                return alert.query is None and not any(filters) and not alert.kinds
            filters.append(alert.kinds)
            if alert.query is None:  # filter keys name every filter unless too many
                dims = sum(1 for f in filters if f)
                return all(k.count(_FIELD_SEP) + 1 == dims for _, k in keys)
        if any(filters) or alert.query is None:
            return False
        root = alert.query.root
        terms = root.children if isinstance(root, Or) else (root,)
        if not all(isinstance(t, Term) and len(t.atoms) == 1 for t in terms):
            return False
        term_keys = {t.atoms[0].key(self._prefix_len) for t in terms if isinstance(t, Term)}
        exact = all(
            t.atoms[0].mode != "prefix" or len(t.atoms[0].text) <= self._prefix_len
            for t in terms
            if isinstance(t, Term)
        )
        return exact and {k for _, k in keys} <= term_keys

    def add(self, alert: AlertSpec) -> None:
        """File ``alert``; an alert with the same id is replaced (and moves to the end)."""
        if alert.id in self._slots:
            self.remove(alert.id)
        slot = self._next_slot
        self._next_slot += 1
        keys = self._anchor_keys(alert)
        self._slots[alert.id] = slot
        self._alerts[slot] = alert
        self._keys[slot] = keys
        if not keys:
            self._always.add(slot)
        # Proven: any of its keys in a document means it matches; no check needed.
        proven = bool(keys) and self._anchors_suffice(alert, keys)
        self._plans[slot] = _compile_plan(alert, proven, self._intern)
        for scope, key in keys:
            tables = self._index.setdefault(scope, {})
            tables.setdefault(key[0], {}).setdefault(key[2:], set()).add(slot)
            if key[0] == "p":
                self._prefixes[key[2:]] += 1
                self._prefix_lengths[len(key) - 2] += 1
                self._heads = None

    def remove(self, alert_id: str | int) -> None:
        """Forget an alert; unknown ids are ignored (removing twice is harmless)."""
        slot = self._slots.pop(alert_id, None)
        if slot is None:
            return
        del self._alerts[slot]
        self._always.discard(slot)
        del self._plans[slot]
        for scope, key in self._keys.pop(slot):
            tables = self._index[scope]
            table = tables[key[0]]
            bucket = table[key[2:]]
            bucket.discard(slot)
            if not bucket:
                del table[key[2:]]
                if not table:
                    del tables[key[0]]
                    if not tables:
                        del self._index[scope]
            if key[0] == "p":
                self._heads = None
                self._prefixes[key[2:]] -= 1
                if not self._prefixes[key[2:]]:
                    del self._prefixes[key[2:]]
                n = len(key) - 2
                self._prefix_lengths[n] -= 1
                if not self._prefix_lengths[n]:
                    del self._prefix_lengths[n]

    def candidates(self, doc: MatchDocument, tokens: DocTokens) -> set[int]:
        """Slots of the alerts that might match ``doc``: a superset of the true matches."""
        found = set(self._always)
        prefixes: set[str] = set()
        if self._prefix_lengths:
            # Only words that start like some indexed prefix can carry one: cut those few.
            heads, shortest = self._prefix_heads()
            words = [w for w in tokens.word_set if w[:shortest] in heads]
            for n in self._prefix_lengths:
                prefixes.update(w[:n] for w in words if len(w) >= n)
        values: dict[str, Iterable[str]] = {
            "c": doc.councils,
            "s": tokens.stem_set,
            "w": tokens.word_set,
            "p": prefixes,
        }
        scopes = ["", "k:" + doc.kind]
        scopes.extend("c:" + c for c in doc.councils)
        index = self._index
        for scope in scopes:
            tables = index.get(scope)
            if tables is None:
                continue
            for ns, table in tables.items():
                # keys() & values walks the smaller side in C.
                mine = values[ns] if ns != "f" else _document_filter_keys(doc)
                for value in table.keys() & mine:
                    found |= table[value]
        return found

    def _prefix_heads(self) -> tuple[frozenset[str], int]:
        """The indexed prefixes cut to the shortest indexed length, and that length."""
        if self._heads is None:
            shortest = min(self._prefix_lengths)
            self._heads = frozenset(k[:shortest] for k in self._prefixes), shortest
        return self._heads

    def match(self, docs: Iterable[MatchDocument]) -> list[Match]:
        """Every (alert, document) match, in the order :func:`brute_force` lists them."""
        out: list[Match] = []
        append, plans = out.append, self._plans
        with _gc_paused():
            for doc in docs:
                ex = _Explainer(doc)
                doc_id = doc.id
                # One tight loop: a proven match costs one SharedMatch and nothing else.
                for slot in sorted(self.candidates(doc, ex.tokens)):
                    plan = plans[slot]
                    if plan.__class__ is MatchedAlert:
                        councils = plan.councils
                        if councils is None:
                            councils = ex.councils(plan.wanted)
                        append(SharedMatch(plan, doc_id, councils, ex))
                    else:
                        m = plan[0](ex, plan)  # type: ignore[index, operator]
                        if m is not None:
                            append(m)
        return out

    def match_pairs(self, docs: Iterable[MatchDocument]) -> list[tuple[str | int, str | int]]:
        """Just the (alert id, document id) pairs of :meth:`match`, in the same order.

        For callers that first drop pairs already sent (the ledger) and explain the rest.
        """
        out: list[tuple[str | int, str | int]] = []
        append, plans = out.append, self._plans
        with _gc_paused():
            for doc in docs:
                ex = _Explainer(doc)
                doc_id = doc.id
                for slot in sorted(self.candidates(doc, ex.tokens)):
                    plan = plans[slot]
                    if plan.__class__ is MatchedAlert:
                        append((plan.alert_id, doc_id))
                    elif plan[0](ex, plan) is not None:  # type: ignore[index, operator]
                        append((self._alerts[slot].id, doc_id))
        return out
