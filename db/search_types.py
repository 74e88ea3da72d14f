"""What a search asks for and gets back, without SQLAlchemy: the key tree a document must carry
(:class:`Key`, :class:`AllOf`, :class:`AnyOf`), the :class:`Scope` beside it, the
:class:`StoredDocument` it returns, and the full-text expressions each store reads the tree as.

Both readers use these: :mod:`db.search` (SQLAlchemy, every store and the write side) and
:mod:`db.sqlite_search` (the standard library's sqlite3 alone: what `councilwatch search` runs
on a SQLite store, where importing SQLAlchemy was the largest part of its start-up).
"""

from __future__ import annotations

from collections.abc import Generator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from sqlalchemy import Engine

# Keys longer than this are cut to it (a tsvector lexeme must stay under 2 KB); a query key
# as long is then looked up as a prefix and confirmed by the caller.
MAX_KEY_LEN = 100
# The longest word whose ``w:`` key is not cut: a longer one keeps its ``s:`` key, and only
# shorter ones are in word_stems (db/document_tables.py).
MAX_WORD_LEN = MAX_KEY_LEN - 2


@dataclass(frozen=True, slots=True)
class StoredDocument:
    """A stored document as a search returns it: every column of ``documents``, as read (no
    model validation: the row is already typed by the columns)."""

    id: int
    kind: str
    source: str
    source_key: str
    url: str
    title: str
    summary: str
    body: str
    published_at: datetime | None
    decided_on: date | None
    first_seen_at: datetime
    updated_at: datetime
    dated_at: datetime
    content_hash: str
    backfill: bool
    partial: bool
    reference: str | None
    organisation: str | None
    category: str | None
    subcategory: str | None
    outcome: str | None
    outcome_text: str | None
    author: str | None
    site_name: str | None
    cluster_key: str | None
    extra: dict[str, Any]


@dataclass(frozen=True, slots=True)
class CandidateText:
    """What confirming a candidate reads: its id and the fields the matcher tokenises (the
    rest of the row is read for the page's documents alone)."""

    id: int
    title: str
    summary: str
    body: str


# --- what a document must carry --------------------------------------------------------------


@dataclass(frozen=True)
class Key:
    """A document carries this key (``prefix``: a key starting with it)."""

    value: str
    prefix: bool = False


@dataclass(frozen=True)
class AllOf:
    """Every one of ``children``, and none of ``without``."""

    children: tuple[TermFilter, ...]
    without: tuple[TermFilter, ...] = ()


@dataclass(frozen=True)
class AnyOf:
    children: tuple[TermFilter, ...]


@dataclass(frozen=True)
class Stem:
    """A document carries a word with this stem. Its keys: ``w:<word>`` for each stored word
    with this stem (the word_stems table, looked up by :func:`stems_in` and the store), the
    stem's own ``w:`` key when it is its own word's stem (``own``), and ``s:<stem>`` (carried
    by documents keyed before word_stems, and by words too long for a key)."""

    stem: str
    own: bool


TermFilter = Key | AllOf | AnyOf | Stem

# Each stem's stored words (other than the stem itself), as the store answered for a query.
StemWords = Mapping[str, Sequence[str]]


def stems_in(node: TermFilter | None) -> set[str]:
    """The stems whose words the store must look up to read ``node``."""
    if node is None or isinstance(node, Key):
        return set()
    if isinstance(node, Stem):
        return {node.stem}
    children = node.children + node.without if isinstance(node, AllOf) else node.children
    return set().union(*map(stems_in, children))


def cut_key(value: str, prefix: bool = False) -> Key:
    """The key as the index holds it: one longer than MAX_KEY_LEN is cut to it (a prefix)."""
    if len(value) > MAX_KEY_LEN:
        return Key(value[:MAX_KEY_LEN], prefix=True)
    return Key(value, prefix)


def spelled_out(node: Stem, words: StemWords) -> list[Key]:
    """The keys a document with a word of this stem carries one of."""
    keys = [cut_key("s:" + node.stem)]
    if node.own:
        keys.append(cut_key("w:" + node.stem))
    keys.extend(Key("w:" + word) for word in words.get(node.stem, ()))  # no word is cut
    return keys


def _fts5_key(key: Key) -> str:
    return '"' + key.value.replace('"', '""') + '"' + ("*" if key.prefix else "")


def to_fts5(node: TermFilter, words: StemWords) -> str:
    """The FTS5 MATCH expression for ``node`` (every key quoted: no word is an operator),
    its stems spelled out with ``words`` (each stem's stored words)."""
    if isinstance(node, Key):
        return _fts5_key(node)
    if isinstance(node, Stem):
        return "(" + " OR ".join(map(_fts5_key, spelled_out(node, words))) + ")"
    if isinstance(node, AnyOf):
        return "(" + " OR ".join(to_fts5(c, words) for c in node.children) + ")"
    out = "(" + " AND ".join(to_fts5(c, words) for c in node.children) + ")"
    for excluded in node.without:  # FTS5's NOT is binary: "a NOT b"
        out = f"({out} NOT {to_fts5(excluded, words)})"
    return out


def _ts_key(key: Key) -> str:
    quoted = "'" + key.value.replace("\\", "\\\\").replace("'", "''") + "'"
    return quoted + (":*" if key.prefix else "")


def to_tsquery(node: TermFilter, words: StemWords) -> str:
    """The tsquery text for ``node``, read by a plain cast (no parser, no stemmer), its stems
    spelled out with ``words``."""
    if isinstance(node, Key):
        return _ts_key(node)
    if isinstance(node, Stem):
        return "(" + " | ".join(map(_ts_key, spelled_out(node, words))) + ")"
    if isinstance(node, AnyOf):
        return "(" + " | ".join(to_tsquery(c, words) for c in node.children) + ")"
    parts = [to_tsquery(c, words) for c in node.children]
    parts += ["!" + to_tsquery(c, words) for c in node.without]
    return "(" + " & ".join(parts) + ")"


# --- which documents -------------------------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    """Filters beside the keys; every empty one means "any"."""

    kinds: Sequence[str] = ()
    # A source id (lgsco), a news feed's name (edp-news) or a publisher (Eastern Daily Press).
    sources: Sequence[str] = ()
    council_ids: Sequence[str] = ()
    outcomes: Sequence[str] = ()
    categories: Sequence[str] = ()
    since: date | None = None  # the document's own date, inclusive
    until: date | None = None  # inclusive


def start_of(day: date) -> datetime:
    """Midnight UTC at the start of ``day``: where a date window begins on ``dated_at``."""
    return datetime.combine(day, time.min, tzinfo=UTC)


def unscoped(scope: Scope) -> bool:
    lists = (scope.kinds, scope.sources, scope.council_ids, scope.outcomes, scope.categories)
    return not any(lists) and scope.since is None and scope.until is None


def feed_pattern(name: str) -> str:
    """The LIKE pattern (escape ``\\``) that finds a feed's quoted name in ``extra`` as text
    (a quoted exact name cannot match a longer one)."""
    return '%"' + name.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + '"%'


class DocumentReader(Protocol):
    """The questions a search asks a store (db.search answers them through SQLAlchemy for any
    engine, db.sqlite_search with sqlite3 alone)."""

    def keys_may_be_stale(self) -> bool: ...

    def find_documents(
        self, terms: TermFilter | None, scope: Scope, *, limit: int, offset: int
    ) -> list[StoredDocument]: ...

    def count_documents(self, terms: TermFilter | None, scope: Scope) -> int: ...

    def iter_documents(
        self, terms: TermFilter | None, scope: Scope
    ) -> Generator[StoredDocument, None, None]:
        """Every document find_documents would list, in its order, read as they are taken
        (close it when done early: it may hold a read transaction)."""
        ...

    def iter_texts(
        self, terms: TermFilter | None, scope: Scope
    ) -> Generator[CandidateText, None, None]:
        """iter_documents' documents as their texts alone (close it when done early)."""
        ...

    def documents(self, ids: Sequence[int]) -> list[StoredDocument]:
        """The documents with these ids, in this order (an id no longer stored left out)."""
        ...

    def engine(self) -> Engine:
        """The store as an SQLAlchemy engine: for cutting keys found stale (the write side)."""
        ...
