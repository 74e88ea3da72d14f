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

A document looks up its councils, its fields, and each distinct word once in a per-matcher
word cache (the word's stem, its indexed prefixes, and the union of the global and kind
index buckets it hits by stem, word or prefix); in the indexes of the councils it names it
looks up its words, stems and prefixes. The alerts found are verified exactly. The work per
document thus grows with its length and with the alerts it could match, not with the
number of alerts. :func:`brute_force` checks every alert against every document and must
give the same list; it is the baseline and the tests' oracle.

Verifying: nearly every candidate matches (hundreds per document at 100,000 alerts), so
the per-candidate work is what costs, and it is bound by cache misses over the large index.
Each alert gets a *plan* when filed: for an alert its keys prove and whose query fixes the
terms it shows, just the part all its matches share (:class:`MatchedAlert`); otherwise a
small record for check and emit functions generated per query shape (see
:func:`alerts.plans.compile_plan`). A candidate whose keys prove it costs nothing; the
others run their check.

The result: :meth:`Matcher.matched` gives each document's matched alerts as a sorted list
of slots and their ids (:class:`MatchedBatch`), which is all the service records (what a
match shows is worked out when a digest is sent). Building a :class:`Match` for each
(~590 a document at 100,000 alerts) was most of the matcher's time; the batch builds them
only when iterated (:meth:`Matcher.match`, the CLI, the tests' comparisons).
"""

from __future__ import annotations

import gc
import sys
from collections import Counter
from collections.abc import Collection, Iterable, Iterator
from collections.abc import Set as AbstractSet
from contextlib import contextmanager
from itertools import chain, combinations, compress, filterfalse, product, repeat
from math import prod
from operator import itemgetter
from typing import TypeVar

from alerts.documents import (
    AlertSpec,
    Match,
    MatchDocument,
    MatchedAlert,
)
from alerts.explain import Explainer, document_tokens, snippet_spans
from alerts.plans import CHECK, EMIT, Plan, SharedPart, compile_plan
from alerts.query import PREFIX_KEY_LEN, DocTokens, KeyCost, Or, Term, stem_all
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


def _triples(flat: tuple[str, ...]) -> Iterator[tuple[str, str, str]]:
    """An alert's stored keys as (scope, namespace, value)."""
    return zip(flat[0::3], flat[1::3], flat[2::3], strict=True)


# Slots are numbered in filing order and a removed alert leaves a hole in the plan list;
# past this many holes (and more holes than alerts) the matcher renumbers.
_MIN_HOLES = 1024
# An anchor key: (scope, key). Scope "" is the global index; "c:<council>" or "k:<kind>"
# an index only documents naming that council (of that kind) look in.
_Key = tuple[str, str]
# The slots filed under one key. Most keys hold one alert or a few (a rare word; a word in
# one council's index): those are a tuple, 48 bytes for one slot, where a set costs 216 up
# to 4 and 728 up to 18 (the sets were half of a 100,000-alert index's memory). Past
# _SMALL_BUCKET slots a set, so that filing and removing stay O(1) in a common word's key.
# Readers only iterate a bucket (set.update, frozenset.union), which tuples do as fast.
_Bucket = tuple[int, ...] | set[int]
_SMALL_BUCKET = 16
# A word's cache entry: its stem, its prefixes some index holds, and the slots it hits.
_WordEntry = tuple[str, tuple[str, ...], Collection[int] | None]
_STEM, _PREFIXES, _BUCKETS = itemgetter(0), itemgetter(1), itemgetter(2)
# Entries across kinds before the cache starts afresh (a few hundred bytes each).
_WORD_CACHE_SIZE = 1 << 18
# Alert keys filed or removed between batches before the word cache starts afresh. The
# stale entries are found in one pass over the cache per batch, whatever the number of keys
# (see Matcher._drop_stale), so this only bounds the pending sets; it was 64 when each key
# scanned the cache, which made a batch after a few dozen changed alerts a cold one.
_MAX_FORGET_KEYS = 1 << 14


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
        # The keys each slot is filed under, flat: (scope, namespace, value) * n, the strings
        # interned (the index's own dict keys). None: removed; () = in the always-check list.
        # No spec is kept: matching reads the plans, removing reads these keys (the specs,
        # their parsed queries and sets, were a fifth of the index's memory).
        self._keys: list[tuple[str, ...] | None] = []
        # scope -> namespace ("c", "s", "w", "p", "f") -> value -> slots. Namespaces so a
        # document looks up its words without building a prefixed string for each.
        self._index: dict[str, dict[str, dict[str, _Bucket]]] = {}
        self._always: set[int] = set()
        # How to verify and build the Match, indexed by slot (None: removed). A list, not a
        # dict: one memory access fewer for each of the hundreds of candidates per document.
        self._plans: list[Plan | None] = []
        # The alert id of each slot (None: removed), for the matches a batch reports.
        self._ids: list[str | int | None] = []
        # Slots whose keys do not prove a match: a candidate among them runs its check.
        self._checked: set[int] = set()
        # Bumped by every change: a batch builds its Matches only from the plans it saw.
        self.version = 0
        # type -> constant -> the one object for it (strings go to sys.intern).
        self._interned: dict[type, dict[object, object]] = {}
        self._prefixes: Counter[str] = Counter()  # indexed prefix keys, all scopes
        self._prefix_lengths: Counter[int] = Counter()
        # document kind -> word -> (stem, indexed prefixes, buckets): see _fill_words.
        self._words: dict[str, dict[str, _WordEntry]] = {}
        self._forgotten = 0  # keys forgotten since the last batch (see _forget_words)
        # Entries made stale by alerts filed or removed, dropped when the next batch starts:
        # stems by document kind ("" for every kind), and prefixes (every kind).
        self._stale_stems: dict[str, set[str]] = {}
        self._stale_prefixes: set[str] = set()

    def __len__(self) -> int:
        return len(self._slots)

    @property
    def alert_ids(self) -> list[str | int]:
        """The ids of the alerts filed, in the order matches are reported."""
        return list(self._slots)

    def _intern(self, value: _T) -> _T:
        """One object for equal constants across alerts (see :class:`_EmitSource`)."""
        kind = type(value)
        if isinstance(value, str) and kind is str:
            return sys.intern(value)  # type: ignore[return-value]
        if kind is not int and kind is not frozenset and kind is not tuple and kind is not Term:
            return value  # bool too: True == 1, but an id must stay what it was
        table = self._interned.get(kind)
        if table is None:
            table = self._interned[kind] = {}
        try:
            return table.setdefault(value, value)  # type: ignore[return-value]
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
        """File ``alert``; an alert with the same id is replaced (and moves to the end).

        Everything that can fail (its keys, its plan, compiling its check) is worked out
        before any state changes: an alert that cannot be filed raises and leaves the
        matcher as it was, its earlier version (if any) still filed.
        """
        keys = self._anchor_keys(alert)
        # Proven: any of its keys in a document means it matches; no check needed.
        proven = bool(keys) and self._anchors_suffice(alert, keys)
        plan = compile_plan(alert, proven, self._intern)
        flat = tuple(
            chain.from_iterable(
                (sys.intern(scope), key[0], sys.intern(key[2:])) for scope, key in keys
            )
        )
        if alert.id in self._slots:
            self.remove(alert.id)
        self.version += 1
        slot = len(self._plans)
        self._forget_words(flat)
        self._slots[alert.id] = slot
        self._keys.append(flat)
        if not flat:
            self._always.add(slot)
        self._plans.append(plan)
        self._ids.append(alert.id)
        if not isinstance(plan, MatchedAlert) and plan[CHECK] is not None:
            self._checked.add(slot)
        for scope, ns, value in _triples(flat):
            table = self._index.setdefault(scope, {}).setdefault(ns, {})
            bucket = table.get(value)
            if bucket is None:
                table[value] = (slot,)
            elif isinstance(bucket, tuple):
                table[value] = (*bucket, slot) if len(bucket) < _SMALL_BUCKET else {*bucket, slot}
            else:
                bucket.add(slot)
            if ns == "p":
                self._prefixes[value] += 1
                self._prefix_lengths[len(value)] += 1

    def remove(self, alert_id: str | int) -> None:
        """Forget an alert; unknown ids are ignored (removing twice is harmless)."""
        slot = self._slots.pop(alert_id, None)
        if slot is None:
            return
        flat = self._keys[slot]
        assert flat is not None
        self.version += 1
        self._forget_words(flat)
        self._always.discard(slot)
        self._checked.discard(slot)
        self._plans[slot] = None
        self._ids[slot] = None
        self._keys[slot] = None
        for scope, ns, value in _triples(flat):
            tables = self._index[scope]
            table = tables[ns]
            bucket = table[value]
            if isinstance(bucket, tuple):
                bucket = tuple(filter(slot.__ne__, bucket))
                if bucket:
                    table[value] = bucket
            else:
                bucket.discard(slot)
            if not bucket:
                del table[value]
                if not table:
                    del tables[ns]
                    if not tables:
                        del self._index[scope]
            if ns == "p":
                self._prefixes[value] -= 1
                if not self._prefixes[value]:
                    del self._prefixes[value]
                n = len(value)
                self._prefix_lengths[n] -= 1
                if not self._prefix_lengths[n]:
                    del self._prefix_lengths[n]
        if len(self._plans) > 2 * len(self._slots) + _MIN_HOLES:
            self._compact()

    def _forget_words(self, flat: tuple[str, ...]) -> None:
        """Drop the cached word entries that filing or removing an alert under ``flat`` changes.

        Only the global and kind indexes are cached, by stem, word and prefix; a prefix
        also changes which prefixes an entry lists. So a subscriber's new alert leaves the
        rest of the cache warm. A word's entry goes now; the entries of a stem's words and
        of a prefix's are found when the next batch starts, all in one pass over the cache
        (:meth:`_drop_stale`): scanning it for each key cost ~10 ms a key at 100,000 alerts.
        """
        if not self._words:
            return
        self._forgotten += len(flat) // 3
        if self._forgotten > _MAX_FORGET_KEYS:
            self._drop_words()
            return
        for scope, ns, value in _triples(flat):
            if ns not in "swp" or (ns != "p" and scope.startswith("c:")):
                continue
            if ns == "p":
                self._stale_prefixes.add(value)
            elif ns == "s":
                self._stale_stems.setdefault(scope[2:], set()).add(value)  # "" or the kind
            else:
                for kind, cache in self._words.items():
                    if not scope or scope == "k:" + kind:
                        cache.pop(value, None)

    def _drop_stale(self) -> None:
        """Drop the entries of the stems and prefixes forgotten since the last batch: one
        pass over each kind's cache, in C."""
        prefixes = tuple(self._stale_prefixes)
        everywhere = self._stale_stems.get("", set())
        for kind, cache in self._words.items():
            stems = everywhere | self._stale_stems.get(kind, set())
            words = list(cache)
            stale: set[str] = set()
            if stems:
                stale.update(compress(words, map(stems.__contains__, map(_STEM, cache.values()))))
            if prefixes:
                stale.update(compress(words, map(str.startswith, words, repeat(prefixes))))
            for word in stale:
                del cache[word]
        self._stale_stems.clear()
        self._stale_prefixes.clear()

    def _drop_words(self) -> None:
        """Forget every word entry, and so the stale ones pending."""
        self._words.clear()
        self._stale_stems.clear()
        self._stale_prefixes.clear()

    def clear_caches(self) -> None:
        """Forget the word cache (for measuring a cold start); it refills as documents come."""
        self._drop_words()

    def _compact(self) -> None:
        """Renumber the slots in order once most are holes left by removals.

        The plans and keys are kept (no spec is, to file afresh); every slot number is
        mapped to its new one, so the reporting order stays.
        """
        live = list(self._slots.values())  # in slot order: a replaced alert moves to the end
        new = dict(zip(live, range(len(live)), strict=True))
        self.version += 1
        self._slots = {alert_id: new[slot] for alert_id, slot in self._slots.items()}
        self._plans = [self._plans[slot] for slot in live]
        self._ids = [self._ids[slot] for slot in live]
        self._keys = [self._keys[slot] for slot in live]
        self._always = set(map(new.__getitem__, self._always))
        self._checked = set(map(new.__getitem__, self._checked))
        for tables in self._index.values():
            for table in tables.values():
                for value, bucket in table.items():
                    moved = tuple(map(new.__getitem__, bucket))
                    table[value] = moved if isinstance(bucket, tuple) else set(moved)
        self._drop_words()

    def candidates(self, doc: MatchDocument, tokens: DocTokens) -> set[int]:
        """Slots of the alerts that might match ``doc``: a superset of the true matches.

        Sets ``tokens.stem_set`` from the word cache as a side effect (the same set
        :class:`DocTokens` would compute).
        """
        if self._stale_stems or self._stale_prefixes:
            self._drop_stale()
        found = set(self._always)
        word_set = tokens.word_set
        cache = self._words.get(doc.kind)
        if cache is None:
            cache = self._words[doc.kind] = {}
        try:  # every word seen before (most of them): one dict lookup each, in C
            entries = list(map(cache.__getitem__, word_set))
        except KeyError:
            entries = self._fill_words(cache, word_set, doc.kind)
        tokens.use_stem_set(frozenset(map(_STEM, entries)))
        found.update(*filter(None, map(_BUCKETS, entries)))
        index = self._index
        tables = index.get("")
        if tables is not None:
            table = tables.get("c")
            if table is not None:
                hits: AbstractSet[str] = doc.councils & table.keys()
                if hits:
                    found.update(*map(table.__getitem__, hits))
            table = tables.get("f")
            if table is not None:
                hits = table.keys() & _document_filter_keys(doc)
                if hits:
                    found.update(*map(table.__getitem__, hits))
        prefixes: set[str] | None = None
        for council in doc.councils:
            tables = index.get("c:" + council)
            if tables is None:
                continue
            for ns, table in tables.items():
                mine: AbstractSet[str]
                if ns == "s":
                    mine = tokens.stem_set
                elif ns == "w":
                    mine = word_set
                else:
                    if prefixes is None:
                        prefixes = set(chain.from_iterable(map(_PREFIXES, entries)))
                    mine = prefixes
                # keys() & values walks the smaller side in C, and one update() call
                # unions every hit bucket in C too (a Python loop of |= cost a tenth).
                # A council's table is often smaller than the document's words
                # (dict_keys & frozenset always walks the frozenset).
                hits = mine.intersection(table) if len(table) < len(mine) else table.keys() & mine
                if hits:
                    found.update(*map(table.__getitem__, hits))
        return found

    def _fill_words(
        self, cache: dict[str, _WordEntry], words: AbstractSet[str], kind: str
    ) -> list[_WordEntry]:
        """Cache entries for ``words`` in documents of ``kind``, making the missing ones.

        An entry is the word's stem, its prefixes that some index holds, and the union of
        the buckets of the global and ``kind`` indexes it hits (by stem, word or prefix),
        or None: so a document looks each word up once, not once per namespace and
        scope, and reads one set per word that hits anything. Adding or removing an
        alert drops the entries it changes (:meth:`_forget_words`).
        A first batch makes an entry for about one word in five, so the missing words are
        done column by column, each column one pass in C; and since most words hit nothing
        and start like no indexed prefix, their entries are made in C too, only the rest
        one by one (a Python loop over every new word was most of a cold batch's time).
        """
        missing = list(filterfalse(cache.__contains__, words))
        if sum(map(len, self._words.values())) + len(missing) > _WORD_CACHE_SIZE:
            self._words.clear()
            self._words[kind] = cache
            cache.clear()
            missing = list(words)
        stems = stem_all(missing)
        indexed = self._prefixes.__contains__
        places = range(len(missing))
        prefixed: set[int] = set()  # the words with an indexed prefix, by place
        # Column n: each word's first n letters, and whether some index holds that prefix.
        cuts: list[tuple[list[str], list[bool]]] = []
        for n in sorted(self._prefix_lengths):
            cut = list(map(itemgetter(slice(0, n)), missing))
            held = list(map(indexed, cut))
            prefixed.update(compress(places, held))
            cuts.append((cut, held))
        columns: list[list[_Bucket | None]] = []
        index = self._index
        for tables in (index.get(""), index.get("k:" + kind)):
            if not tables:
                continue
            if "s" in tables:
                columns.append(list(map(tables["s"].get, stems)))
            if "w" in tables:
                columns.append(list(map(tables["w"].get, missing)))
        # A word hit in one column and holding no indexed prefix (most words that hit
        # anything: 97% of a cold batch's) takes that column's bucket as its entry's, made
        # in C like the words that hit nothing; a word hit in several columns, or with a
        # prefix, has its buckets unioned one by one below.
        single: dict[int, _Bucket | None] = {}
        several: set[int] = set()
        for column in columns:
            hit = list(compress(places, column))  # a bucket is never empty
            several.update(single.keys() & hit)
            single.update(zip(hit, map(column.__getitem__, hit), strict=True))
        busy = several | prefixed
        plain = list(single.keys() - busy)
        cache.update(zip(missing, zip(stems, repeat(()), repeat(None), strict=False), strict=True))
        cache.update(
            zip(
                map(missing.__getitem__, plain),
                zip(
                    map(stems.__getitem__, plain),
                    repeat(()),
                    map(single.__getitem__, plain),
                    strict=False,
                ),
                strict=True,
            )
        )
        prefix_tables = [
            tables["p"]
            for tables in (index.get(""), index.get("k:" + kind))
            if tables and "p" in tables
        ]
        for i in busy:
            # A short word repeats itself (its first 5 and 6 letters): listed once.
            prefixes = tuple(dict.fromkeys(cut[i] for cut, held in cuts if held[i]))
            hits = [column[i] for column in columns]
            for table in prefix_tables:
                hits.extend(map(table.get, prefixes))
            buckets = list(filter(None, hits))
            cache[missing[i]] = (
                stems[i],
                prefixes,
                frozenset().union(*buckets)
                if len(buckets) > 1
                else buckets[0]
                if buckets
                else None,
            )
        return list(map(cache.__getitem__, words))

    def _matched_slots(self, doc: MatchDocument, ex: Explainer) -> list[int]:
        """The slots of the alerts ``doc`` matches, in reporting order."""
        found = self.candidates(doc, ex.tokens)
        todo = found & self._checked
        if todo:  # the rest are proven by their keys: nothing to do for them
            plans = self._plans
            failed = []
            for slot in todo:
                plan = plans[slot]
                if not plan[CHECK](ex, plan):  # type: ignore[index, operator]
                    failed.append(slot)
            found.difference_update(failed)
        return sorted(found)

    def matched(self, docs: Iterable[MatchDocument]) -> MatchedBatch:
        """Which alerts each document matches, in the order :func:`brute_force` lists them:
        the ids, and the Matches when the batch is iterated (see :class:`MatchedBatch`)."""
        # Each document is kept, not its tokens: the words of a batch's documents were most
        # of what it held, and work for the collector; a Match wanted later tokenises again.
        found: list[tuple[MatchDocument, list[int], list[str | int]]] = []
        ids = self._ids
        self._forgotten = 0
        with _gc_paused():
            for doc in docs:
                slots = self._matched_slots(doc, Explainer(doc))
                found.append((doc, slots, list(map(ids.__getitem__, slots))))  # type: ignore[arg-type]
        return MatchedBatch(self, found)

    def match(self, docs: Iterable[MatchDocument]) -> list[Match]:
        """Every (alert, document) match, in the order :func:`brute_force` lists them."""
        return list(self.matched(docs))

    def _expand(self, ex: Explainer, slots: list[int]) -> list[Match]:
        """The Matches of the (matching) ``slots`` in ``ex``'s document."""
        plans, doc_id = self._plans, ex.doc.id
        out: list[Match] = []
        for slot in slots:
            plan = plans[slot]
            if plan.__class__ is SharedPart:  # proven: a Match from the shared part
                assert isinstance(plan, SharedPart)
                councils = plan.councils
                if councils is None:  # several councils: those the document names
                    councils = ex.councils(plan.wanted)
                out.append(Match((plan, doc_id, councils, ex)))
            else:
                made = plan[EMIT](ex, plan)  # type: ignore[index, operator]
                if made is None:
                    raise AssertionError(f"alert {self._ids[slot]!r}: check and emit disagree")
                out.append(made)
        return out


class MatchedBatch:
    """A batch's matches: for each document, the ids of the alerts it matched.

    What the service records (:meth:`by_document`) costs a list per document. Iterating
    gives every :class:`Match`, as :meth:`Matcher.match` lists them, built then from the
    plans the batch was matched with: so only before the matcher changes (an alert filed
    or removed since raises, rather than explain a match by another alert's plan).
    """

    __slots__ = ("_found", "_matcher", "_version")

    def __init__(
        self, matcher: Matcher, found: list[tuple[MatchDocument, list[int], list[str | int]]]
    ) -> None:
        self._matcher = matcher
        self._version = matcher.version
        self._found = found

    def by_document(self) -> list[tuple[str | int, list[str | int]]]:
        """(document id, ids of the alerts it matched) for each document, in batch order."""
        return [(doc.id, ids) for doc, _, ids in self._found]

    def alert_ids(self) -> set[str | int]:
        """The ids of every alert some document matched."""
        return set().union(*(ids for _, _, ids in self._found))

    def __len__(self) -> int:
        return sum(len(ids) for _, _, ids in self._found)

    def __iter__(self) -> Iterator[Match]:
        matcher = self._matcher
        for doc, slots, _ in self._found:
            if matcher.version != self._version:
                raise RuntimeError("the matcher changed since this batch: its Matches are gone")
            ex = Explainer(doc)
            with _gc_paused():
                made = matcher._expand(ex, slots)
            ex.tokens.drop_lookups()
            yield from made
