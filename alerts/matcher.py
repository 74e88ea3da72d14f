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
small record for an emit function generated per query shape (see :func:`alerts.plans.compile_plan`).
"""

from __future__ import annotations

import gc
from collections import Counter
from collections.abc import Iterable, Iterator
from collections.abc import Set as AbstractSet
from contextlib import contextmanager
from itertools import combinations, product
from math import prod
from typing import TypeVar

from alerts.documents import (
    AlertSpec,
    Match,
    MatchDocument,
    MatchedAlert,
    SharedMatch,
)
from alerts.explain import Explainer, document_tokens, snippet_spans
from alerts.plans import Plan, compile_plan
from alerts.query import PREFIX_KEY_LEN, DocTokens, KeyCost, Or, Term
from alerts.stem import stem

__all__ = [
    "Matcher",
    "brute_force",
    "default_key_cost",
    "document_tokens",
    "key_cost_from_documents",
    "snippet_spans",
]

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
        explainer = Explainer(doc)
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


# Slots are numbered in filing order and a removed alert leaves a hole in the plan list;
# past this many holes (and more holes than alerts) the matcher renumbers.
_MIN_HOLES = 1024
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
        self._clear()
        for alert in alerts:
            self.add(alert)

    def _clear(self) -> None:
        self._slots: dict[str | int, int] = {}  # alert id -> slot (insertion order)
        self._alerts: dict[int, AlertSpec] = {}
        self._keys: dict[int, tuple[_Key, ...]] = {}  # () = in the always-check list
        # scope -> namespace ("c", "s", "w", "p", "f") -> value -> slots. Namespaces so a
        # document looks up its words without building a prefixed string for each.
        self._index: dict[str, dict[str, dict[str, set[int]]]] = {}
        self._always: set[int] = set()
        # How to verify and build the Match, indexed by slot (None: removed). A list, not a
        # dict: one memory access fewer for each of the hundreds of candidates per document.
        self._plans: list[Plan | None] = []
        self._interned: dict[tuple[type, object], object] = {}
        self._prefixes: Counter[str] = Counter()  # indexed prefix keys, all scopes
        self._prefix_lengths: Counter[int] = Counter()
        self._heads: tuple[frozenset[str], int] | None = None  # see _prefix_heads
        self._next_slot = 0

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
        assert slot == len(self._plans)
        keys = self._anchor_keys(alert)
        self._slots[alert.id] = slot
        self._alerts[slot] = alert
        self._keys[slot] = keys
        if not keys:
            self._always.add(slot)
        # Proven: any of its keys in a document means it matches; no check needed.
        proven = bool(keys) and self._anchors_suffice(alert, keys)
        self._plans.append(compile_plan(alert, proven, self._intern))
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
        self._plans[slot] = None
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
        if len(self._plans) > 2 * len(self._alerts) + _MIN_HOLES:
            self._compact()

    def _compact(self) -> None:
        """File the alerts afresh, in order, once most slots are holes left by removals."""
        alerts = list(self._alerts.values())
        self._clear()
        for alert in alerts:
            self.add(alert)

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
        values: dict[str, frozenset[str] | set[str]] = {
            "c": doc.councils,
            "s": tokens.stem_set,
            "w": tokens.word_set,
            "p": prefixes,
        }
        scopes = ["", "k:" + doc.kind]
        scopes.extend("c:" + c for c in doc.councils)
        index = self._index
        update = found.update
        for scope in scopes:
            tables = index.get(scope)
            if tables is None:
                continue
            for ns, table in tables.items():
                # keys() & values walks the smaller side in C, and one update() call
                # unions every hit bucket in C too (a Python loop of |= cost a tenth).
                hits: AbstractSet[str]
                if ns == "f":
                    hits = table.keys() & _document_filter_keys(doc)
                else:
                    mine = values[ns]
                    # Walk the smaller side: a council's table is often smaller than the
                    # document's words (dict_keys & frozenset always walks the frozenset).
                    hits = (
                        mine.intersection(table) if len(table) < len(mine) else table.keys() & mine
                    )
                if hits:
                    update(*map(table.__getitem__, hits))
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
                ex = Explainer(doc)
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
                ex = Explainer(doc)
                doc_id = doc.id
                for slot in sorted(self.candidates(doc, ex.tokens)):
                    plan = plans[slot]
                    if plan.__class__ is MatchedAlert:
                        append((plan.alert_id, doc_id))
                    elif plan[0](ex, plan) is not None:  # type: ignore[index, operator]
                        append((self._alerts[slot].id, doc_id))
        return out
