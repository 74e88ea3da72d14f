"""A search of a SQLite store with the standard library's sqlite3 alone: what `councilwatch
search` runs on the usual SQLite file, so that its start-up does not import SQLAlchemy.

Importing SQLAlchemy was the largest part of a search's start-up (its SQL compiler, engine and
types: about half of the process's CPU time on 100,000 documents, more than the query). This
module asks the questions of :class:`db.search_types.DocumentReader` in the SQL that
:mod:`db.search` compiles to on SQLite, and reads the rows as SQLAlchemy's SQLite types would
(times and dates from their ISO text, booleans from 0/1, JSON by ``json.loads``), so the same
documents come back equal, field for field; tests/test_sqlite_search.py compares the two.

It only takes the plain case: a ``sqlite:///<file>`` URL (no driver, no query string), a file
that exists, opens and holds the current schema. Anything else is :meth:`SqliteReader.open`
returning None, and the caller goes through the engine as every other command does (with its
messages for a missing file, a damaged one or a schema to migrate). Keys found stale are cut
through the engine too (the write side is SQLAlchemy's).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Generator, Sequence
from dataclasses import fields
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from db.schema_version import scripted_head
from db.search_types import (
    CandidateText,
    Scope,
    StemWords,
    StoredDocument,
    TermFilter,
    feed_pattern,
    start_of,
    stems_in,
    to_fts5,
    unscoped,
)

if TYPE_CHECKING:
    from sqlalchemy import Engine

PREFIX = "sqlite:///"
# As db.engine.SQLITE_BUSY_TIMEOUT_MS (a test keeps them equal; importing it imports SQLAlchemy).
BUSY_TIMEOUT_MS = 30_000
# The connection set up as db.engine._configure_sqlite sets up an engine's.
_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}",
    "PRAGMA foreign_keys=ON",
    "PRAGMA synchronous=NORMAL",
)

# documents' columns in StoredDocument's order, which is the table's (db/document_tables.py).
_COLUMNS = tuple(f.name for f in fields(StoredDocument))
_SELECT = "SELECT " + ", ".join(f"documents.{c}" for c in _COLUMNS) + " FROM documents"
_SELECT_TEXT = (
    "SELECT " + ", ".join(f"documents.{f.name}" for f in fields(CandidateText)) + " FROM documents"
)


def _time(value: Any) -> datetime | None:
    # SQLAlchemy's SQLite DateTime: ISO text, read by datetime.fromisoformat
    return None if value is None else datetime.fromisoformat(value)


def _day(value: Any) -> date | None:
    return None if value is None else date.fromisoformat(value)


def _flag(value: Any) -> bool | None:
    return None if value is None else bool(value)


def _json(value: Any) -> Any:
    return None if value is None else json.loads(value)


_READ: dict[str, Callable[[Any], Any]] = {
    "published_at": _time,
    "decided_on": _day,
    "first_seen_at": _time,
    "updated_at": _time,
    "dated_at": _time,
    "backfill": _flag,
    "partial": _flag,
    "extra": _json,
}
_READERS = tuple((i, _READ[c]) for i, c in enumerate(_COLUMNS) if c in _READ)


def _document(row: tuple[Any, ...]) -> StoredDocument:
    values = list(row)
    for i, read in _READERS:
        values[i] = read(values[i])
    return StoredDocument(*values)


def _stored_time(moment: datetime) -> str:
    """A time as SQLAlchemy's SQLite DateTime binds it (its storage format; the zone dropped)."""
    return (
        f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d} "
        f"{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d}.{moment.microsecond:06d}"
    )


def _marks(values: Any) -> str:
    return ", ".join("?" * len(values))


def _where(terms: TermFilter | None, scope: Scope, words: StemWords) -> tuple[str, list[Any]]:
    """db.search._where as SQLite reads it: the clause (with WHERE, or empty) and its values."""
    parts: list[str] = []
    values: list[Any] = []
    # "documents.id + ?" (bound to 0) as db.search writes it: SQLite walks the date index and
    # tests each id against the key set instead of driving the query by the id sets.
    if terms is not None:
        parts.append(
            "documents.id + ? IN (SELECT rowid FROM document_terms_fts "
            "WHERE document_terms_fts MATCH ?)"
        )
        values += [0, to_fts5(terms, words)]
    if scope.kinds:
        parts.append(f"documents.kind IN ({_marks(scope.kinds)})")
        values += scope.kinds
    if scope.sources:
        ors = []
        for name in scope.sources:
            ors.append(
                "documents.source = ? OR lower(documents.site_name) = ? "
                "OR CAST(documents.extra AS VARCHAR) LIKE ? ESCAPE '\\'"
            )
            values += [name, name.lower(), feed_pattern(name)]
        parts.append("(" + " OR ".join(ors) + ")")
    if scope.outcomes:
        parts.append(f"documents.outcome IN ({_marks(scope.outcomes)})")
        values += scope.outcomes
    if scope.categories:
        parts.append(f"documents.category IN ({_marks(scope.categories)})")
        values += scope.categories
    if scope.council_ids:
        parts.append(
            "documents.id + ? IN (SELECT document_councils.document_id FROM document_councils "
            f"WHERE document_councils.council_id IN ({_marks(scope.council_ids)}))"
        )
        values += [0, *scope.council_ids]
    if scope.since is not None:
        parts.append("documents.dated_at >= ?")
        values.append(_stored_time(start_of(scope.since)))
    if scope.until is not None:
        parts.append("documents.dated_at < ?")
        values.append(_stored_time(start_of(scope.until + timedelta(days=1))))
    return (" WHERE " + " AND ".join(parts) if parts else ""), values


def sqlite_file(url: str) -> str | None:
    """The file a plain ``sqlite:///<file>`` URL names; None for any other URL (a driver, a
    query string, memory, a URI filename, quoted characters: the engine's to read)."""
    if not url.startswith(PREFIX):
        return None
    path = url[len(PREFIX) :]
    if not path or path == ":memory:" or path.startswith("file:") or any(c in path for c in "?#%"):
        return None
    return path


class SqliteReader:
    """One SQLite store, read through one sqlite3 connection (each question its own read
    transaction, as db.search's are)."""

    def __init__(
        self, url: str, connection: sqlite3.Connection, engine: Callable[[], Engine]
    ) -> None:
        self.url = url
        self._connection = connection
        self._engine = engine

    @classmethod
    def open(cls, url: str, engine: Callable[[], Engine]) -> SqliteReader | None:
        """The store at ``url`` when it is a plain SQLite file with the current schema, else
        None (the caller then goes through ``engine()``, which says what is wrong).

        ``engine`` makes the store's SQLAlchemy engine: called only when keys must be cut.
        """
        path = sqlite_file(url)
        head = scripted_head()
        if path is None or head is None:
            return None
        try:
            # mode=rw: a file that is not there is not created (the engine reports it)
            connection = sqlite3.connect(
                f"file:{quote(path)}?mode=rw",
                uri=True,
                timeout=BUSY_TIMEOUT_MS / 1000,
                isolation_level=None,
            )
        except sqlite3.Error:
            return None
        try:
            for pragma in _PRAGMAS:
                connection.execute(pragma)
            rows = connection.execute("SELECT version_num FROM alembic_version").fetchall()
        except sqlite3.Error:
            connection.close()
            return None
        if len(rows) != 1 or rows[0][0] != head:
            connection.close()
            return None
        return cls(url, connection, engine)

    def _read(self, sql: str, values: list[Any] | tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        connection = self._connection
        connection.execute("BEGIN")
        try:
            return connection.execute(sql, values).fetchall()
        finally:
            if connection.in_transaction:
                connection.execute("COMMIT")

    def _stem_words(self, terms: TermFilter | None) -> StemWords:
        """db.search._stem_words: each stem's stored words, from word_stems."""
        stems = sorted(stems_in(terms))
        if not stems:
            return {}
        words: dict[str, list[str]] = {}
        sql = f"SELECT stem, word FROM word_stems WHERE stem IN ({_marks(stems)}) ORDER BY 1, 2"
        for stem, word in self._read(sql, stems):
            words.setdefault(stem, []).append(word)
        return words

    def keys_may_be_stale(self) -> bool:
        """db.search.keys_may_be_stale: counts, then only revised documents' hashes."""
        connection = self._connection
        connection.execute("BEGIN")
        try:
            documents = connection.execute("SELECT count(*) FROM documents").fetchone()[0]
            keyed = connection.execute("SELECT count(*) FROM document_terms").fetchone()[0]
            if documents != keyed:
                return True
            changed = connection.execute(
                "SELECT documents.id FROM documents JOIN document_terms "
                "ON document_terms.document_id = documents.id "
                "WHERE documents.id IN (SELECT document_revisions.document_id "
                "FROM document_revisions) "
                "AND document_terms.content_hash != documents.content_hash LIMIT ? OFFSET ?",
                (1, 0),
            ).fetchone()
        finally:
            if connection.in_transaction:
                connection.execute("COMMIT")
        return changed is not None

    def find_documents(
        self, terms: TermFilter | None, scope: Scope = Scope(), *, limit: int = 20, offset: int = 0
    ) -> list[StoredDocument]:
        """db.search.find_documents: newest first (by their own date, then id)."""
        where, values = _where(terms, scope, self._stem_words(terms))
        rows = self._read(
            _SELECT + where + " ORDER BY documents.dated_at DESC, documents.id DESC "
            "LIMIT ? OFFSET ?",
            [*values, limit, offset],
        )
        return [_document(row) for row in rows]

    def iter_documents(
        self, terms: TermFilter | None, scope: Scope = Scope(), *, batch: int = 200
    ) -> Generator[StoredDocument, None, None]:
        """db.search.iter_documents' documents in its order, from one statement read as the
        caller takes them (its pages by OFFSET walked the index again for each page: a phrase
        search confirming 5,000 candidates on 100,000 documents spent 1.3 s of CPU there).
        The read transaction ends when the caller stops (the generator is closed)."""
        for row in self._walk(_SELECT, terms, scope, batch):
            yield _document(row)

    def iter_texts(
        self, terms: TermFilter | None, scope: Scope = Scope(), *, batch: int = 200
    ) -> Generator[CandidateText, None, None]:
        """db.search.iter_texts: iter_documents' documents, their texts alone."""
        for row in self._walk(_SELECT_TEXT, terms, scope, batch):
            yield CandidateText(*row)

    def _walk(
        self, select: str, terms: TermFilter | None, scope: Scope, batch: int
    ) -> Generator[tuple[Any, ...], None, None]:
        where, values = _where(terms, scope, self._stem_words(terms))
        connection = self._connection
        connection.execute("BEGIN")
        try:
            cursor = connection.execute(
                select + where + " ORDER BY documents.dated_at DESC, documents.id DESC", values
            )
            while rows := cursor.fetchmany(batch):
                yield from rows
        finally:
            if connection.in_transaction:
                connection.execute("COMMIT")

    def documents(self, ids: Sequence[int]) -> list[StoredDocument]:
        """db.search.documents_by_id: these documents, in this order."""
        if not ids:
            return []
        rows = self._read(_SELECT + f" WHERE documents.id IN ({_marks(ids)})", list(ids))
        found = {row[0]: row for row in rows}
        return [_document(found[i]) for i in ids if i in found]

    def count_documents(self, terms: TermFilter | None, scope: Scope = Scope()) -> int:
        """db.search.count_documents: unscoped keys counted in the index alone."""
        if terms is not None and unscoped(scope):
            sql = "SELECT count(*) FROM document_terms_fts WHERE document_terms_fts MATCH ?"
            return int(self._read(sql, (to_fts5(terms, self._stem_words(terms)),))[0][0])
        where, values = _where(terms, scope, self._stem_words(terms))
        return int(self._read("SELECT count(*) FROM documents" + where, values)[0][0])

    def engine(self) -> Engine:
        return self._engine()

    def close(self) -> None:
        self._connection.close()
