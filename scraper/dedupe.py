"""Near-duplicate clustering of news stories (syndicated copies of one report).

Candidates come from MinHash LSH (datasketch) over word 5-shingles; each candidate is confirmed
by containment of the shorter text's shingles in the longer one's. Jaccard alone fails the
common cases: a copy cut to its first half has Jaccard about 0.5 with the original but
containment 1.0, while two different stories on the same council share almost no 5-shingles.

The LSH bands are chosen so that a pair at ``threshold`` Jaccard becomes a candidate with
probability >= 0.99 (datasketch's own optimiser balances false positives against false
negatives, which loses almost half the pairs at the threshold); containment removes the extra
candidates this lets in.

A pair that overlaps in text is joined only if the stories also agree on their facts
(``scraper.facts``): a publisher's template stories share their wording and differ exactly in
numbers, references, names and dates, and they are different stories.

Cluster ids are deterministic: a cluster is named after its earliest member, by publication
time when given and then by order of addition. Only documents within ``window`` of the newest
one are compared.
"""

from __future__ import annotations

import heapq
import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cached_property
from typing import Protocol

import numpy as np
from datasketch import MinHash, MinHashLSH

from scraper.facts import Facts, extract, same_facts

# Shorter texts than this many shingles never cluster: a bare byline or a shared LDRS footer
# would otherwise be "contained" in every story that carries it.
MIN_SHINGLES = 20
CANDIDATE_RECALL = 0.99

_ROLL = np.uint64(0x9E3779B97F4A7C15)  # odd 64-bit multiplier (golden ratio)
_MIX = np.uint64(0xFF51AFD7ED558CCD)
_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")


def words(text: str) -> list[str]:
    """Lower-case words; apostrophes inside words kept, all other punctuation dropped."""
    return _WORD.findall(text.casefold().replace("’", "'"))


def shingles(text: str, size: int = 5) -> set[str]:
    """Word ``size``-shingles of ``text``; a text shorter than ``size`` words is one shingle."""
    tokens = words(text)
    if len(tokens) < size:
        return {" ".join(tokens)} if tokens else set()
    return {" ".join(tokens[i : i + size]) for i in range(len(tokens) - size + 1)}


def _word_hashes(tokens: list[str]) -> np.ndarray:
    """One 64-bit hash per word, computed for all words at once.

    numpy stores the words as fixed-width UCS-4, so their code points can be read as a matrix
    and hashed as polynomials in one product (padding zeros add nothing, so a word hashes the
    same whatever the longest word beside it). Stable across runs, unlike ``hash``.
    """
    codes = np.array(tokens).view(np.uint32).reshape(len(tokens), -1).astype(np.uint64)
    powers = np.cumprod(np.full(codes.shape[1], _ROLL, dtype=np.uint64))  # wraps modulo 2**64
    hashes: np.ndarray = codes @ powers
    return hashes


def _mix(values: np.ndarray) -> np.ndarray:
    # murmur3's 64-bit finaliser: every input bit reaches the top 32 bits kept below
    values = values ^ (values >> np.uint64(33))
    values = values * _MIX
    return values ^ (values >> np.uint64(33))


def shingle_hashes(text: str, size: int = 5) -> np.ndarray:
    """Sorted unique 32-bit hashes of the word ``size``-shingles of ``text``.

    Words are hashed once each and shingles rolled from the word hashes in numpy: several
    times faster than hashing joined strings, which matters at tens of thousands of stories.
    A text shorter than ``size`` words is one shingle.
    """
    tokens = words(text)
    if not tokens:
        return np.zeros(0, dtype=np.uint32)
    ids = _word_hashes(tokens)
    count = max(1, len(tokens) - size + 1)
    rolled = np.zeros(count, dtype=np.uint64)
    for offset in range(min(size, len(tokens))):
        rolled = rolled * _ROLL + ids[offset : offset + count]  # wraps modulo 2**64
    return np.unique((_mix(rolled) >> np.uint64(32)).astype(np.uint32))


def containment(a_tokens: Iterable[object], b_tokens: Iterable[object]) -> float:
    """Share of the smaller set that lies in the larger one (0.0 when either is empty)."""
    a = a_tokens if isinstance(a_tokens, (set, frozenset)) else set(a_tokens)
    b = b_tokens if isinstance(b_tokens, (set, frozenset)) else set(b_tokens)
    if not a or not b:
        return 0.0
    small, large = (a, b) if len(a) <= len(b) else (b, a)
    return len(small & large) / len(small)


def _array_containment(a: np.ndarray, b: np.ndarray) -> float:
    if not len(a) or not len(b):
        return 0.0
    common = np.intersect1d(a, b, assume_unique=True).size
    return common / min(len(a), len(b))


def lsh_bands(threshold: float, num_perm: int, recall: float = CANDIDATE_RECALL) -> tuple[int, int]:
    """(bands, rows): the most rows per band still finding a ``threshold`` pair with ``recall``."""
    for rows in range(num_perm, 0, -1):
        bands = num_perm // rows
        if 1 - (1 - threshold**rows) ** bands >= recall:
            return bands, rows
    return num_perm, 1


def _identity(value: object) -> object:
    # shingles arrive already hashed to 32 bits
    return value


@dataclass(eq=False)
class Shingled:
    """One story as the pair confirmation sees it: its text and its shingle hashes; its facts
    are read from the text the first time a confirmation needs them."""

    text: str
    hashes: np.ndarray

    @cached_property
    def facts(self) -> Facts:
        return extract(self.text)


def confirms(a: Shingled, b: Shingled, *, min_containment: float) -> bool:
    """Whether a candidate pair (a shared LSH band) is the same story.

    The one place a pair is confirmed, for the in-memory clusterer and for the stored
    signatures alike, so that a check added here applies to both.
    """
    return _array_containment(a.hashes, b.hashes) >= min_containment and same_facts(
        a.facts, b.facts
    )


@dataclass(frozen=True)
class Signature:
    """What a story keeps between runs: its LSH band keys (none when too short to cluster)."""

    shingled: Shingled
    bands: tuple[int, ...]


class Signer:
    """MinHash signatures and LSH band keys, the same as :class:`StoryClusterer` computes.

    A band key is a signed 64-bit hash of (band number, the band's MinHash values), so it fits
    a BIGINT on every store; two stories share a key exactly when datasketch's LSH would put
    them in the same bucket of that band (up to a one-in-2**64 collision, which only adds a
    candidate that confirmation then judges).
    """

    def __init__(
        self, *, threshold: float = 0.5, num_perm: int = 128, shingle: int = 5, seed: int = 1
    ) -> None:
        self.shingle = shingle
        self.bands, self.rows = lsh_bands(threshold, num_perm)
        self._template = MinHash(num_perm=num_perm, seed=seed, hashfunc=_identity)

    def minhash(self, hashes: np.ndarray) -> MinHash:
        minhash = self._template.copy()
        minhash.update_batch(hashes.tolist())
        return minhash

    def shingled(self, text: str) -> Shingled:
        return Shingled(text, shingle_hashes(text, self.shingle))

    def sign(self, text: str | Shingled) -> Signature:
        shingled = self.shingled(text) if isinstance(text, str) else text
        if len(shingled.hashes) < MIN_SHINGLES:
            return Signature(shingled, ())
        used = self.bands * self.rows
        values = self.minhash(shingled.hashes).hashvalues[:used].astype(np.uint64)
        # each band's values folded into one 64-bit key, its band number mixed in first
        keys = np.arange(1, self.bands + 1, dtype=np.uint64) * _ROLL
        for row in values.reshape(self.bands, self.rows).T:
            keys = _mix(keys ^ row) * _ROLL
        keys = _mix(keys)
        return Signature(shingled, tuple(int(key) for key in keys.view(np.int64)))


class StoryClusterer:
    """Incremental clustering: ``add`` each story as it arrives, read clusters any time."""

    def __init__(
        self,
        *,
        threshold: float = 0.5,
        containment: float = 0.8,
        num_perm: int = 128,
        shingle: int = 5,
        seed: int = 1,
        window: timedelta | None = None,
    ) -> None:
        if not 0 < threshold <= 1 or not 0 < containment <= 1:
            raise ValueError("threshold and containment must be in (0, 1]")
        self.threshold = threshold
        self.min_containment = containment
        self.num_perm = num_perm
        self.shingle = shingle
        self.seed = seed
        self.window = window
        self._lsh = MinHashLSH(num_perm=num_perm, params=lsh_bands(threshold, num_perm))
        # one MinHash reused for every document: its permutations are fixed by the seed
        self._template = MinHash(num_perm=num_perm, seed=seed, hashfunc=_identity)
        self._shingled: dict[str, Shingled] = {}
        self._published: dict[str, datetime | None] = {}
        self._order: dict[str, int] = {}
        self._parent: dict[str, str] = {}
        # dated ids in the index, oldest first, for expiry: (published, arrival, id)
        self._expiry: list[tuple[datetime, int, str]] = []
        self._newest: datetime | None = None

    def add(self, doc_id: str, text: str, *, published: datetime | None = None) -> str:
        """Add one story; return the id of the cluster it joined or started."""
        if doc_id in self._order:
            raise ValueError(f"document {doc_id!r} was already added")
        self._order[doc_id] = len(self._order)
        self._parent[doc_id] = doc_id
        self._published[doc_id] = published
        if published is not None and (self._newest is None or published > self._newest):
            self._newest = published
            self._expire()

        shingled = Shingled(text, shingle_hashes(text, self.shingle))
        if len(shingled.hashes) < MIN_SHINGLES:
            return doc_id
        minhash = self._template.copy()
        minhash.update_batch(shingled.hashes.tolist())
        for other in self._lsh.query(minhash):
            if self._in_window(other, published) and confirms(
                shingled, self._shingled[other], min_containment=self.min_containment
            ):
                self._union(doc_id, other)
        self._lsh.insert(doc_id, minhash, check_duplication=False)
        self._shingled[doc_id] = shingled
        if published is not None:
            heapq.heappush(self._expiry, (published, self._order[doc_id], doc_id))
        return self.cluster_of(doc_id)

    def cluster_of(self, doc_id: str) -> str:
        """The cluster id (earliest member's id) of an added document."""
        root = doc_id
        while self._parent[root] != root:
            self._parent[root] = self._parent[self._parent[root]]  # path halving
            root = self._parent[root]
        return root

    def clusters(self) -> dict[str, list[str]]:
        """Every cluster, singletons included: id -> members in order of addition."""
        grouped: dict[str, list[str]] = {}
        for doc_id in self._order:
            grouped.setdefault(self.cluster_of(doc_id), []).append(doc_id)
        return grouped

    def _key(self, doc_id: str) -> tuple[bool, datetime, int]:
        published = self._published[doc_id]
        # undated stories sort after dated ones, then by arrival
        return (published is None, published or datetime.min, self._order[doc_id])

    def _union(self, a: str, b: str) -> None:
        root_a, root_b = self.cluster_of(a), self.cluster_of(b)
        if root_a == root_b:
            return
        if self._key(root_b) < self._key(root_a):
            root_a, root_b = root_b, root_a
        self._parent[root_b] = root_a  # the earlier root names the merged cluster

    def _in_window(self, other: str, published: datetime | None) -> bool:
        other_published = self._published[other]
        if self.window is None or published is None or other_published is None:
            return True
        return abs(published - other_published) <= self.window

    def _expire(self) -> None:
        """Drop from the index what is older than the window before the newest story."""
        if self.window is None or self._newest is None:
            return
        horizon = self._newest - self.window
        while self._expiry and self._expiry[0][0] < horizon:
            _, _, doc_id = heapq.heappop(self._expiry)
            self._lsh.remove(doc_id)
            del self._shingled[doc_id]


@dataclass(frozen=True)
class WindowStory:
    """A stored story in the clustering window: ``key`` names a cluster it is the earliest of."""

    id: int
    key: str
    stamp: datetime
    text: str
    hashes: np.ndarray | None = None  # its stored shingle hashes, if it has them


class StoredWindow(Protocol):
    """The stored side of incremental clustering (db.news_signatures implements it)."""

    def sharing(self, bands: Collection[int]) -> Mapping[int, Collection[int]]:
        """Band key -> ids of the window's stories with that band key."""
        ...

    def stories(self, ids: Collection[int]) -> Mapping[int, WindowStory]:
        """The window's stories among ``ids``, by id."""
        ...


def clusters_around(
    start: Iterable[WindowStory],
    window: StoredWindow,
    *,
    span: timedelta,
    signer: Signer,
    min_containment: float = 0.8,
) -> list[list[WindowStory]]:
    """The clusters of the window that hold any of ``start``: members earliest first.

    The same clusters as :class:`StoryClusterer` over the whole window finds (pairs sharing an
    LSH band, published within ``span`` of each other, confirmed by :func:`confirms`), found
    by walking out from ``start`` through stored band keys: the cost grows with the new
    stories and their clusters, not with the window.
    """
    known: dict[int, tuple[WindowStory, Shingled]] = {}
    bands: dict[int, tuple[int, ...]] = {}  # of members only: a candidate needs no MinHash
    parent: dict[int, int] = {}

    def root(node: int) -> int:
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    def load(stories: Iterable[WindowStory]) -> None:
        for story in stories:
            if story.id not in known:
                hashes = story.hashes
                shingled = (
                    signer.shingled(story.text) if hashes is None else Shingled(story.text, hashes)
                )
                known[story.id] = (story, shingled)

    def join(node: int) -> None:
        parent[node] = node
        bands[node] = signer.sign(known[node][1]).bands

    starts = list(start)
    load(starts)
    frontier = list(dict.fromkeys(story.id for story in starts))
    for node in frontier:
        join(node)
    while frontier:
        wanted = {band for node in frontier for band in bands[node]}
        sharing = window.sharing(wanted) if wanted else {}
        candidates = {
            node: {other for band in bands[node] for other in sharing.get(band, ())} - {node}
            for node in frontier
        }
        unknown = set().union(*candidates.values()) - known.keys()
        if unknown:
            load(window.stories(unknown).values())
        joined: list[int] = []
        for node in frontier:
            story, shingled = known[node]
            for other in sorted(candidates[node]):
                if other not in known or (other in parent and root(other) == root(node)):
                    continue
                other_story, other_shingled = known[other]
                if abs(other_story.stamp - story.stamp) <= span and confirms(
                    shingled, other_shingled, min_containment=min_containment
                ):
                    if other not in parent:
                        join(other)
                        joined.append(other)
                    parent[root(other)] = root(node)
        frontier = joined
    groups: dict[int, list[WindowStory]] = {}
    for node in parent:
        groups.setdefault(root(node), []).append(known[node][0])
    return [sorted(group, key=lambda s: (s.stamp, s.id)) for group in groups.values()]
