"""Finding stored documents: by index keys (the alert language's words and stems), by scope
(kind, source, councils, dates, decision fields), newest first, one function per question.

The keys are cut outside this package (db/ knows no stemmer): ``w:<word>`` for every word of a
document, as the alert matcher cuts them, and each word whose stem is another word goes into
word_stems with its stem (documents keyed before it carry ``s:<stem>`` keys instead). A caller
states what a document must carry as a small tree (:class:`Key`, :class:`Stem`,
:class:`AllOf`, :class:`AnyOf`), a stem spelled out here as its stored words; SQLite
looks it up in an FTS5 table, PostgreSQL in a tsvector with a GIN index, and both give the
same documents because neither tokenises or stems anything itself.

Those trees, the scope and the returned document are defined in :mod:`db.search_types` (no
SQLAlchemy there); :mod:`db.sqlite_search` asks a SQLite store the same questions with sqlite3
alone, for `councilwatch search`'s start-up. A change to a query here is made there too
(tests/test_sqlite_search.py compares the two on the same stores).
"""

from __future__ import annotations

import weakref
from collections import defaultdict
from collections.abc import Generator, Mapping, Sequence
from contextlib import closing
from dataclasses import dataclass, field, fields
from datetime import date, timedelta
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    Select,
    String,
    bindparam,
    cast,
    column,
    delete,
    func,
    insert,
    literal,
    literal_column,
    or_,
    select,
    table,
    text,
)
from sqlalchemy.sql.elements import ColumnElement

# Core tables, not db.tables: a search needs neither SQLModel nor the model classes.
from db.document_tables import DOCUMENT_COUNCILS as _TAGS
from db.document_tables import DOCUMENT_TERMS as _TERMS
from db.document_tables import DOCUMENTS as _DOCS
from db.engine import is_sqlite, read_connection, write_transaction
from db.search_types import (
    MAX_KEY_LEN,
    AllOf,
    AnyOf,
    CandidateText,
    Key,
    Scope,
    Stem,
    StemWords,
    StoredDocument,
    TermFilter,
    feed_pattern,
    start_of,
    stems_in,
    to_fts5,
    to_tsquery,
    unscoped,
)

# --- keeping the keys ------------------------------------------------------------------------


@dataclass(frozen=True)
class TermSource:
    """A document whose keys are missing or stale: what the caller cuts them from."""

    id: int
    content_hash: str
    title: str
    summary: str
    body: str


@dataclass(frozen=True)
class DocumentKeys:
    """A document's keys, as a list or (``text``) already joined as the index stores them."""

    id: int
    content_hash: str
    keys: Sequence[str] = ()
    # The keys between single spaces, each once, none empty or longer than MAX_KEY_LEN
    # (councilwatch.search.key_text): stored as it is, instead of ``keys``.
    text: str | None = None


def documents_without_keys(engine: Engine, *, limit: int = 500, after: int = 0) -> list[TermSource]:
    """Documents whose keys were never cut, or were cut from other content (oldest id first),
    with ids above ``after`` (a caller walking the store batch by batch passes the last id)."""
    stale: Any = (
        select(_DOCS.c.id)
        .outerjoin(_TERMS, _TERMS.c.document_id == _DOCS.c.id)
        .where(
            _DOCS.c.id > after,
            or_(_TERMS.c.document_id.is_(None), _TERMS.c.content_hash != _DOCS.c.content_hash),
        )
        .order_by(_DOCS.c.id)
        .limit(limit)
    )
    if is_sqlite(engine):
        # SQLite prefers the rowid, whose rows hold the keys (a page each); the index holds
        # just the hash, and walking it took a fifth of the CPU time.
        stale = text(
            "SELECT documents.id FROM documents LEFT JOIN document_terms "
            "INDEXED BY ix_document_terms_hash ON document_terms.document_id = documents.id "
            "WHERE documents.id > :after AND (document_terms.document_id IS NULL "
            "OR document_terms.content_hash != documents.content_hash) "
            "ORDER BY documents.id LIMIT :limit"
        ).bindparams(limit=limit, after=after)
    with read_connection(engine) as connection:
        ids = [row.id for row in connection.execute(stale)]
        if not ids:
            return []
        rows = connection.execute(
            select(_DOCS.c.id, _DOCS.c.content_hash, _DOCS.c.title, _DOCS.c.summary, _DOCS.c.body)
            .where(_DOCS.c.id.in_(ids))
            .order_by(_DOCS.c.id)
        ).all()
    return [TermSource(r.id, r.content_hash, r.title, r.summary, r.body) for r in rows]


def _joined(keys: Sequence[str]) -> str:
    """The keys between spaces, each once, none empty or longer than MAX_KEY_LEN."""
    if all(keys) and max(map(len, keys), default=0) <= MAX_KEY_LEN and len(set(keys)) == len(keys):
        return " ".join(keys)  # the usual case, checked and joined in C
    return " ".join(dict.fromkeys(k[:MAX_KEY_LEN] for k in keys if k))


# A name, not a schema: the revisions' table is db/models.py's (DocumentRevision).
_REVISED = table("document_revisions", column("document_id"))


def keys_may_be_stale(engine: Engine) -> bool:
    """False when every document's keys are current: cheap enough to ask before every search.

    Keys rows reference documents, so equal counts mean every document has one. A stored
    document's content changes only through the upsert, which keeps the old content as a
    revision (db/ingest.py), so only revised documents can hold keys cut from other content:
    their hashes are compared, not every document's (on SQLite that read every document's
    row, 54 ms CPU and 0.6 s wall per search at 100,000 documents on a loaded machine).
    """
    with read_connection(engine) as connection:
        documents = connection.execute(select(func.count()).select_from(_DOCS)).scalar_one()
        keyed = connection.execute(select(func.count()).select_from(_TERMS)).scalar_one()
        if documents != keyed:
            return True
        changed = connection.execute(
            select(_DOCS.c.id)
            .join(_TERMS, _TERMS.c.document_id == _DOCS.c.id)
            .where(
                _DOCS.c.id.in_(select(_REVISED.c.document_id)),
                _TERMS.c.content_hash != _DOCS.c.content_hash,
            )
            .limit(1)
        ).first()
    return changed is not None


@dataclass
class _Vocabulary:
    """The words one store's word_stems holds, as far as this process knows: all of its rows
    up to id ``last`` that this process read or wrote. A word is added once its transaction
    has committed, so every word here is stored; one missing (another writer's, committed
    out of id order) is only offered again, and the insert skips it."""

    words: set[str] = field(default_factory=set)
    last: int = 0


_VOCABULARIES: weakref.WeakKeyDictionary[Engine, _Vocabulary] = weakref.WeakKeyDictionary()
_LAST_WORD = text("SELECT max(id) FROM word_stems")
_WORDS_AFTER = text("SELECT word FROM word_stems WHERE id > :after")
_ADD_WORD = "INSERT INTO word_stems (word, stem) VALUES ({0}, {1}) ON CONFLICT (word) DO NOTHING"


def _new_words(connection: Connection, known: _Vocabulary, stems: Mapping[str, str]) -> list[str]:
    """The words of ``stems`` that word_stems does not hold, sorted (two writers adding the
    same words lock them in one order), once what other writers added since is read."""
    last = connection.execute(_LAST_WORD).scalar() or 0
    if last < known.last:  # the table was made again (a downgrade and upgrade)
        known.words.clear()
        known.last = 0
    if last > known.last:
        rows = connection.execute(_WORDS_AFTER, {"after": known.last}).scalars()
        known.words.update(rows)
        known.last = last
    return sorted(stems.keys() - known.words)


def store_document_keys(
    engine: Engine, documents: Sequence[DocumentKeys], stems: Mapping[str, str] | None = None
) -> int:
    """Replace these documents' keys (the full-text index follows: fed here on SQLite, a
    generated column on PostgreSQL), and add to word_stems the words of theirs whose stem is
    another word (``stems``: word -> stem, as councilwatch.search.changed_stems gives), in the
    same transaction: a document found by its keys is found by its stems."""
    if not documents:
        return 0
    values = sorted(  # by id: FTS5 writes out what it holds at a rowid out of order
        (d.id, d.content_hash, d.text if d.text is not None else _joined(d.keys)) for d in documents
    )
    ids = [doc_id for doc_id, _, _ in values]
    known = _VOCABULARIES.setdefault(engine, _Vocabulary())
    with write_transaction(engine) as connection:
        new = _new_words(connection, known, stems) if stems else []
        driver = connection.connection.driver_connection
        assert driver is not None
        if new:
            # The driver's own executemany on both stores: 15,000 words a batch at first.
            sql = _ADD_WORD.format(*(("?", "?") if is_sqlite(connection) else ("%s", "%s")))
            assert stems is not None
            with closing(driver.cursor()) as cursor:  # sqlite3's cursor is no context manager
                cursor.executemany(sql, [(word, stems[word]) for word in new])
            # Ours are the rows up to it (another writer's in between are offered again).
            last = connection.execute(_LAST_WORD).scalar() or 0
        if not is_sqlite(connection):
            # A write that takes the GIN index's pending list past its limit (a run larger
            # than the limit holds, flush_key_index) moves the list into the index within
            # work_mem; 4 MB (the default) sorted it in many small passes. Keying 100,000
            # documents in one run (a keys-only table): 73.5 s of server CPU, not 139.5.
            connection.execute(_KEYS_WORK_MEM)
            connection.execute(delete(_TERMS).where(_TERMS.c.document_id.in_(ids)))
            connection.execute(
                insert(_TERMS),
                [{"document_id": i, "content_hash": h, "keys": k} for i, h, k in values],
            )
        else:
            # Only documents keyed before have keys to take out: the old keys leave the index
            # while they are still stored. A fetch run's new documents (most of an ingest)
            # skip both deletes.
            keyed = list(connection.execute(_KEYED, {"ids": ids}).scalars())
            if keyed:
                connection.execute(_FTS_DELETE, {"ids": keyed})
                connection.execute(delete(_TERMS).where(_TERMS.c.document_id.in_(keyed)))
            # Through the driver, and the index fed the keys in hand (not read back from the
            # rows just written): 2.5 MB a batch, bound once each.
            driver.executemany(_TERMS_INSERT, values)
            driver.executemany(_FTS_INSERT, [(doc_id, keys) for doc_id, _, keys in values])
    if new:  # committed
        known.words.update(new)
        known.last = max(known.last, last)
    return len(values)


# PostgreSQL: memory for moving the GIN index's pending list into the index proper, enough to
# sort all of it in one pass; the list holds at most gin_pending_list_limit (64 MB, migration
# 0016), and one run of 1,000 documents is ~16 MB of it.
_INDEX_MEMORY = "64MB"
_KEYS_WORK_MEM = text(f"SET LOCAL work_mem = '{_INDEX_MEMORY}'")
# The explicit clean-up sorts within maintenance_work_mem, not work_mem (ginInsertCleanup).
_FLUSH_MEMORY = text(f"SET LOCAL maintenance_work_mem = '{_INDEX_MEMORY}'")
# Skipped for a user that may not (gin_clean_pending_list needs the index's owner: autovacuum
# then moves the list, as before), and where the index is not there.
_FLUSH = text(
    "SELECT gin_clean_pending_list(c.oid) FROM pg_class c "
    "WHERE c.oid = to_regclass('ix_document_terms_terms') AND pg_has_role(c.relowner, 'USAGE')"
)


def flush_key_index(engine: Engine) -> None:
    """PostgreSQL: move the keys waiting in the GIN index's pending list into the index proper
    (SQLite: nothing to do). A writer calls it once it has stored a run's keys.

    New keys go to the pending list, and a query reads all of that list on top of the index,
    so it is moved once per run: queries never scan more than one run's keys there. Moving a
    run's ~540,000 (key, document) pairs at once, sorted by key, visits each key's posting
    list once a run; the default limit (4 MB, ~250 documents) moved the list four times a run,
    each time through much the same index pages, which stop fitting in shared_buffers as the
    index grows (numbers in migration 0016).
    """
    if is_sqlite(engine):
        return
    with write_transaction(engine) as connection:
        connection.execute(_FLUSH_MEMORY)
        connection.execute(_FLUSH)


# SQLite's index over document_terms.keys (external content) is fed here, one statement per
# batch: a trigger per row (0007; dropped by 0010) cost 13% more CPU on the ingest bench.
_FTS_DELETE = text(
    "INSERT INTO document_terms_fts(document_terms_fts, rowid, keys) "
    "SELECT 'delete', document_id, keys FROM document_terms WHERE document_id IN :ids"
).bindparams(bindparam("ids", expanding=True))
_KEYED = text("SELECT document_id FROM document_terms WHERE document_id IN :ids").bindparams(
    bindparam("ids", expanding=True)
)
_TERMS_INSERT = "INSERT INTO document_terms (document_id, content_hash, keys) VALUES (?, ?, ?)"
_FTS_INSERT = "INSERT INTO document_terms_fts(rowid, keys) VALUES (?, ?)"


# --- which documents -------------------------------------------------------------------------

# SQLite cannot tell how many documents a key set holds, so it walked every document carrying
# a common word (reading each row, whose dates sit behind its body) to keep the few in a date
# window: 130 ms of CPU for "council" on 100,000 documents. With the id hidden from it
# ("documents.id + 0") it walks the date index (ix_documents_dated) instead and tests each id
# against the key set: at most one index entry per document, newest first without sorting.


def _source_filter(name: str) -> ColumnElement[bool]:
    # A feed's name is kept in extra["feeds"]; JSON is compared as text so one expression
    # serves both dialects.
    feed = feed_pattern(name)
    return or_(
        _DOCS.c.source == name,
        func.lower(_DOCS.c.site_name) == name.lower(),
        cast(_DOCS.c.extra, String).like(feed, escape="\\"),
    )


def _where(
    connection: Connection, terms: TermFilter | None, scope: Scope
) -> list[ColumnElement[bool]]:
    out: list[ColumnElement[bool]] = []
    ident: ColumnElement[Any] = _DOCS.c.id
    if is_sqlite(connection):
        # "+ 0" keeps SQLite from driving the query by the id sets (see above).
        ident = _DOCS.c.id + 0
    if terms is not None:
        if is_sqlite(connection):
            out.append(
                ident.in_(
                    select(literal_column("rowid"))
                    .select_from(text("document_terms_fts"))
                    .where(
                        literal_column("document_terms_fts").op("MATCH")(
                            to_fts5(terms, _stem_words(connection, terms))
                        )
                    )
                )
            )
        else:
            from sqlalchemy.dialects.postgresql import TSQUERY  # not imported for SQLite

            tsquery = cast(literal(to_tsquery(terms, _stem_words(connection, terms))), TSQUERY)
            out.append(
                _DOCS.c.id.in_(
                    select(_TERMS.c.document_id).where(
                        literal_column("document_terms.terms").op("@@")(tsquery)
                    )
                )
            )
    if scope.kinds:
        out.append(_DOCS.c.kind.in_(list(scope.kinds)))
    if scope.sources:
        out.append(or_(*(_source_filter(s) for s in scope.sources)))
    if scope.outcomes:
        out.append(_DOCS.c.outcome.in_(list(scope.outcomes)))
    if scope.categories:
        out.append(_DOCS.c.category.in_(list(scope.categories)))
    if scope.council_ids:
        out.append(
            ident.in_(
                select(_TAGS.c.document_id).where(_TAGS.c.council_id.in_(list(scope.council_ids)))
            )
        )
    # A document's own date (decided on, else published, else first seen), kept by ingest in
    # dated_at and indexed with the id (ix_documents_dated): windows read the index, not rows.
    if scope.since is not None:
        out.append(_DOCS.c.dated_at >= start_of(scope.since))
    if scope.until is not None:
        out.append(_DOCS.c.dated_at < start_of(scope.until + timedelta(days=1)))
    return out


_WORDS_OF = text(
    "SELECT stem, word FROM word_stems WHERE stem IN :stems ORDER BY stem, word"
).bindparams(bindparam("stems", expanding=True))


def _stem_words(connection: Connection, terms: TermFilter) -> StemWords:
    """The stored words of each stem ``terms`` asks for (one look-up of word_stems' stem
    index), for to_fts5 and to_tsquery to spell the stems out."""
    stems = stems_in(terms)
    if not stems:
        return {}
    words: defaultdict[str, list[str]] = defaultdict(list)
    for stem, word in connection.execute(_WORDS_OF, {"stems": sorted(stems)}):
        words[stem].append(word)
    return words


def _prefer_key_index(connection: Connection, terms: TermFilter | None) -> None:
    """PostgreSQL: look keys up in the GIN index, never by reading every document's keys.

    The planner does not count the cost of detoasting each tsvector, so it took a scan of
    document_terms (by table or by primary key, filtering every row) for cheap: 170-700 ms
    on 10,000 documents where a bitmap scan of the GIN index takes 20 ms. Both plain scans
    are ruled out for this read transaction (SET LOCAL), which leaves bitmap scans.
    """
    if terms is not None and not is_sqlite(connection):
        connection.execute(text("SET LOCAL enable_seqscan = off"))
        connection.execute(text("SET LOCAL enable_indexscan = off"))


def _count_keys(connection: Connection, terms: TermFilter) -> Any:
    if is_sqlite(connection):
        return text(
            "SELECT count(*) FROM document_terms_fts WHERE document_terms_fts MATCH :match"
        ).bindparams(match=to_fts5(terms, _stem_words(connection, terms)))
    from sqlalchemy.dialects.postgresql import TSQUERY

    tsquery = cast(literal(to_tsquery(terms, _stem_words(connection, terms))), TSQUERY)
    return (
        select(func.count())
        .select_from(_TERMS)
        .where(literal_column("document_terms.terms").op("@@")(tsquery))
    )


# The columns in StoredDocument's order, so a row is its fields by position (a mapping per
# row cost 36 us of the 120 a candidate took to read).
_SELECT = select(*(_DOCS.c[f.name] for f in fields(StoredDocument)))
_SELECT_TEXT = select(*(_DOCS.c[f.name] for f in fields(CandidateText)))


def find_documents(
    engine: Engine,
    terms: TermFilter | None,
    scope: Scope = Scope(),
    *,
    limit: int = 20,
    offset: int = 0,
) -> list[StoredDocument]:
    """Documents carrying ``terms`` within ``scope``, newest first (by their own date, then id)."""
    with read_connection(engine) as connection:
        _prefer_key_index(connection, terms)
        rows = connection.execute(
            _SELECT.where(*_where(connection, terms, scope))
            .order_by(_DOCS.c.dated_at.desc(), _DOCS.c.id.desc())
            .offset(offset)
            .limit(limit)
        ).all()
    return [StoredDocument(*row) for row in rows]


def iter_documents(
    engine: Engine, terms: TermFilter | None, scope: Scope = Scope(), *, batch: int = 200
) -> Generator[StoredDocument, None, None]:
    """Every document :func:`find_documents` would list, in its order, from one statement
    read ``batch`` rows at a time as the caller takes them (a server-side cursor on
    PostgreSQL). Its pages by OFFSET walked the index again for each page, and SQLite
    looked the keys up again for each: 1.5 s of the 2.2 s a phrase search took through the
    engine on 200,000 documents. The read transaction ends when the caller stops (close
    the generator)."""
    for row in _walk(engine, _SELECT, terms, scope, batch):
        yield StoredDocument(*row)


def iter_texts(
    engine: Engine, terms: TermFilter | None, scope: Scope = Scope(), *, batch: int = 200
) -> Generator[CandidateText, None, None]:
    """:func:`iter_documents`' documents, their texts alone: what confirming a candidate
    reads (building every column of 5,000 rows was a third of reading them)."""
    for row in _walk(engine, _SELECT_TEXT, terms, scope, batch):
        yield CandidateText(*row)


def _walk(
    engine: Engine, columns: Select[Any], terms: TermFilter | None, scope: Scope, batch: int
) -> Generator[Any, None, None]:  # rows, each a sequence of the columns
    with read_connection(engine) as connection:
        _prefer_key_index(connection, terms)
        yield from connection.execution_options(yield_per=batch).execute(
            columns.where(*_where(connection, terms, scope)).order_by(
                _DOCS.c.dated_at.desc(), _DOCS.c.id.desc()
            )
        )


def documents_by_id(engine: Engine, ids: Sequence[int]) -> list[StoredDocument]:
    """The documents with these ids, in this order (an id no longer stored left out)."""
    if not ids:
        return []
    with read_connection(engine) as connection:
        rows = connection.execute(_SELECT.where(_DOCS.c.id.in_(list(ids)))).all()
    found = {row[0]: row for row in rows}
    return [StoredDocument(*found[i]) for i in ids if i in found]


def count_documents(engine: Engine, terms: TermFilter | None, scope: Scope = Scope()) -> int:
    with read_connection(engine) as connection:
        _prefer_key_index(connection, terms)
        if terms is not None and unscoped(scope):
            # Every keys row is one document's: count the index's matches alone, not each
            # document against them (SQLite, "council" at 100,000: 4 ms CPU, not 48).
            return int(connection.execute(_count_keys(connection, terms)).scalar_one())
        return int(
            connection.execute(
                select(func.count()).select_from(_DOCS).where(*_where(connection, terms, scope))
            ).scalar_one()
        )


class EngineReader:
    """A search's questions (:class:`db.search_types.DocumentReader`) asked through an engine:
    any store, SQLite or PostgreSQL."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def keys_may_be_stale(self) -> bool:
        return keys_may_be_stale(self._engine)

    def find_documents(
        self, terms: TermFilter | None, scope: Scope, *, limit: int, offset: int
    ) -> list[StoredDocument]:
        return find_documents(self._engine, terms, scope, limit=limit, offset=offset)

    def count_documents(self, terms: TermFilter | None, scope: Scope) -> int:
        return count_documents(self._engine, terms, scope)

    def iter_documents(
        self, terms: TermFilter | None, scope: Scope
    ) -> Generator[StoredDocument, None, None]:
        yield from iter_documents(self._engine, terms, scope)

    def iter_texts(
        self, terms: TermFilter | None, scope: Scope
    ) -> Generator[CandidateText, None, None]:
        yield from iter_texts(self._engine, terms, scope)

    def documents(self, ids: Sequence[int]) -> list[StoredDocument]:
        return documents_by_id(self._engine, ids)

    def engine(self) -> Engine:
        return self._engine


def since_days(today: date, days: int) -> date:
    """The first day of a window of ``days`` days ending ``today``."""
    return today - timedelta(days=days - 1)


__all__ = [
    "MAX_KEY_LEN",
    "AllOf",
    "AnyOf",
    "CandidateText",
    "DocumentKeys",
    "EngineReader",
    "Key",
    "Scope",
    "Stem",
    "StoredDocument",
    "TermFilter",
    "TermSource",
    "count_documents",
    "documents_by_id",
    "documents_without_keys",
    "find_documents",
    "flush_key_index",
    "iter_documents",
    "iter_texts",
    "keys_may_be_stale",
    "since_days",
    "store_document_keys",
    "to_fts5",
    "to_tsquery",
]
