"""Idempotent bulk upsert of documents through SQLAlchemy Core.

Identity is ``(source, source_key)``. A document seen again with the same content hash is
unchanged and costs one indexed read; a changed one keeps its previous content as a revision
and is updated in place; nothing is ever deleted here.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Connection,
    DateTime,
    Engine,
    bindparam,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite

from db.engine import write_transaction
from db.id_lists import array_of
from db.models import dated
from db.table_statistics import refresh_outgrown
from db.tables import DOCUMENT_CATEGORIES as _CATEGORIES
from db.tables import DOCUMENT_REVISIONS as _REVS
from db.tables import DOCUMENTS as _DOCS

BATCH_SIZE = 500

# The fields whose change makes a new revision. url, dates of fetching and the backfill flag
# are bookkeeping, not content.
CONTENT_FIELDS = (
    "kind",
    "title",
    "summary",
    "body",
    "published_at",
    "decided_on",
    "reference",
    "organisation",
    "category",
    "subcategory",
    "outcome",
    "outcome_text",
    "author",
    "site_name",
    "partial",
    "extra",
)


@dataclass(frozen=True)
class DocumentRecord:
    """What a source hands to storage: one decision or article."""

    kind: str
    source: str
    source_key: str
    url: str
    title: str = ""
    summary: str = ""
    body: str = ""
    published_at: datetime | None = None
    decided_on: date | None = None
    reference: str | None = None
    organisation: str | None = None
    category: str | None = None
    subcategory: str | None = None
    outcome: str | None = None
    outcome_text: str | None = None
    author: str | None = None
    site_name: str | None = None
    partial: bool = False
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> tuple[str, str]:
        return (self.source, self.source_key)

    def content_hash(self) -> str:
        parts = []
        for name in CONTENT_FIELDS:
            value = getattr(self, name)
            if name == "extra":
                value = json.dumps(value, sort_keys=True, default=str, ensure_ascii=False)
            # Field separators keep ("ab", "c") and ("a", "bc") apart.
            parts.append(f"\x1e{name}\x1f{value}")
        # One digest of the joined fields (the same bytes the fields fed one at a time gave):
        # half the CPU of 16 encodes and updates, which ingest pays for every document.
        return hashlib.sha256("".join(parts).encode()).hexdigest()

    def row(self) -> dict[str, Any]:
        values = {name: getattr(self, name) for name in CONTENT_FIELDS}
        values["extra"] = dict(self.extra)
        values.update(source=self.source, source_key=self.source_key, url=self.url)
        return values


@dataclass
class UpsertResult:
    inserted: list[int] = field(default_factory=list)
    updated: list[int] = field(default_factory=list)
    unchanged: int = 0
    ids: dict[tuple[str, str], int] = field(default_factory=dict)
    # The content hash now stored for each inserted or updated id (what its search keys are
    # cut from: councilwatch.search.index_stored).
    hashes: dict[int, str] = field(default_factory=dict)

    def merge(self, other: UpsertResult) -> None:
        self.inserted += other.inserted
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.ids.update(other.ids)
        self.hashes.update(other.hashes)

    def summary(self) -> str:
        inserted, updated = len(self.inserted), len(self.updated)
        return f"{inserted} inserted, {updated} updated, {self.unchanged} unchanged"


def upsert_documents(
    engine: Engine,
    records: Iterable[DocumentRecord],
    *,
    now: datetime,
    backfill: bool = False,
    on_chunk: Callable[[UpsertResult], None] | None = None,
    on_writing: Callable[[Sequence[DocumentRecord]], None] | None = None,
) -> UpsertResult:
    """Insert new documents, revise changed ones, count unchanged ones. Idempotent.

    ``on_chunk``: called with each chunk's own result once it is committed.
    ``on_writing``: called with the records a chunk is about to insert or revise, after its
    look-up and before its writes (councilwatch.search.store_searchable starts cutting their
    search keys then, so the cutting overlaps the chunk's own writes). A record another
    writer stores meanwhile is in it but not in the chunk's result."""
    latest: dict[tuple[str, str], DocumentRecord] = {}
    for record in records:
        latest[record.key] = record  # the last version of a key within one batch wins
    result = UpsertResult()
    batch = list(latest.values())
    for start in range(0, len(batch), BATCH_SIZE):
        chunk = batch[start : start + BATCH_SIZE]
        with write_transaction(engine) as connection:
            done = _upsert_chunk(
                connection, chunk, now=now, backfill=backfill, on_writing=on_writing
            )
        result.merge(done)
        if on_chunk is not None:
            on_chunk(done)
        _fresh_statistics(engine)
    return result


def _fresh_statistics(engine: Engine) -> None:
    """ANALYZE the look-up's columns when the table has outgrown its statistics
    (db.table_statistics).

    Before its first ANALYZE (autovacuum's comes a minute or more into a load) PostgreSQL
    plans the (source, source_key) look-up with ix_documents_source_first_seen, whatever the
    statement's shape (IN list, unnest join, LATERAL ... LIMIT 1 alike), and a plan prepared
    then is kept: each chunk reads every row of its source. Checked after each chunk (an
    empty table's ANALYZE records nothing; a 100,000 document backfill is one call): with a
    doubling at most between them, a load runs ~log2(rows) ANALYZEs. Only the look-up's
    columns: all of them read every body (TOAST), 1.3-2.0 s against 0.24-0.32 s on 50,000
    documents (h17pg's measurement).
    """
    refresh_outgrown(engine, {"documents": ("source", "source_key")})


def _insert_ignoring_conflicts(connection: Connection) -> Any:
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    return dialect.insert(_DOCS).on_conflict_do_nothing(index_elements=["source", "source_key"])


def _upsert_chunk(
    connection: Connection,
    chunk: Sequence[DocumentRecord],
    *,
    now: datetime,
    backfill: bool,
    on_writing: Callable[[Sequence[DocumentRecord]], None] | None = None,
) -> UpsertResult:
    result = UpsertResult()
    hashes = {record.key: record.content_hash() for record in chunk}
    existing = _existing(connection, list(hashes))
    new_rows = []
    writing = []
    changed: list[tuple[int, DocumentRecord]] = []
    for record in chunk:
        known = existing.get(record.key)
        if known is None:
            writing.append(record)
            row = record.row()
            row.update(
                content_hash=hashes[record.key],
                first_seen_at=now,
                updated_at=now,
                dated_at=dated(record.decided_on, record.published_at, now),
                backfill=backfill,
            )
            new_rows.append(row)
        elif known[1] == hashes[record.key]:
            result.unchanged += 1
            result.ids[record.key] = known[0]
        else:
            writing.append(record)
            changed.append((known[0], record))
            result.ids[record.key] = known[0]
    if writing and on_writing is not None:
        on_writing(writing)
    if new_rows:
        stored = _insert_new(connection, new_rows)
        for key, doc_id in stored.items():
            result.inserted.append(doc_id)
            result.ids[key] = doc_id
            result.hashes[doc_id] = hashes[key]
        # A key another writer inserted between our read and our insert was skipped by
        # ON CONFLICT; it is that writer's news, so here it counts as unchanged.
        raced = [
            (r["source"], r["source_key"])
            for r in new_rows
            if (r["source"], r["source_key"]) not in stored
        ]
        if raced:
            result.unchanged += len(raced)
            for key, (doc_id, _) in _existing(connection, raced).items():
                result.ids[key] = doc_id
    if changed:
        _revise(connection, changed, hashes, now)
        result.updated.extend(doc_id for doc_id, _ in changed)
        result.hashes.update((doc_id, hashes[record.key]) for doc_id, record in changed)
    categories = {record.category for record in chunk if record.category}
    if categories:
        _remember_categories(connection, categories)
    return result


def _remember_categories(connection: Connection, categories: set[str]) -> None:
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    connection.execute(
        dialect.insert(_CATEGORIES).on_conflict_do_nothing(index_elements=["category"]),
        [{"category": category} for category in sorted(categories)],
    )


def _insert_new(connection: Connection, rows: list[dict[str, Any]]) -> dict[tuple[str, str], int]:
    """Insert ``rows`` (new keys), skipping keys another writer stored meanwhile: the id of
    each key inserted here."""
    if connection.dialect.name != "postgresql":
        stmt = _insert_ignoring_conflicts(connection).returning(
            _DOCS.c.id, _DOCS.c.source, _DOCS.c.source_key
        )
        return {(r.source, r.source_key): r.id for r in connection.execute(stmt, rows)}
    # PostgreSQL: the ids drawn from the sequence first, then a plain executemany. With
    # RETURNING, SQLAlchemy sends one multi-VALUES statement per 500 rows (~360 KB of text
    # and ~12,000 parameters, parsed afresh by psycopg and the server every time): 0.85 s
    # CPU for 3,000 documents against 0.17 s for this executemany of one short statement.
    ids = sorted(connection.execute(_NEXT_IDS, {"n": len(rows)}).scalars())
    for row, doc_id in zip(rows, ids, strict=True):
        row["id"] = doc_id
    # SQLAlchemy reports an INSERT executemany's rowcount (psycopg's sum) only when asked.
    stmt = _insert_ignoring_conflicts(connection).execution_options(preserve_rowcount=True)
    inserted = connection.execute(stmt, rows).rowcount
    drawn = {(r["source"], r["source_key"]): r["id"] for r in rows}
    if inserted == len(rows):
        return drawn
    # Some keys were stored by another writer since our look-up: ours are those whose
    # stored id is the one drawn for them.
    stored = _existing(connection, list(drawn))
    return {key: doc_id for key, doc_id in drawn.items() if stored[key][0] == doc_id}


# Sequence values are never handed out twice, so drawing them before the insert is as safe
# as the column default; a value drawn for a key another writer stored is a gap, as a rolled
# back insert leaves.
_NEXT_IDS = text(
    "SELECT nextval(pg_get_serial_sequence('documents', 'id')) FROM generate_series(1, :n)"
)


def _existing(
    connection: Connection, keys: Sequence[tuple[str, str]]
) -> dict[tuple[str, str], tuple[int, str]]:
    """id and content hash of the keys already stored, one indexed query."""
    if connection.dialect.name == "postgresql":
        # The keys as two arrays joined to the table: one statement text whatever the number
        # of keys and sources (psycopg converts it once and the server prepares it), each key
        # one probe of uq_documents_source_key.
        given = (
            func.unnest(
                array_of(connection, [source for source, _ in keys], _DOCS.c.source),
                array_of(connection, [key for _, key in keys], _DOCS.c.source_key),
            )
            .table_valued("source", "source_key")
            .render_derived()
        )
        stmt = select(_DOCS.c.id, _DOCS.c.source, _DOCS.c.source_key, _DOCS.c.content_hash).join(
            given,
            (_DOCS.c.source == given.c.source) & (_DOCS.c.source_key == given.c.source_key),
        )
        return {
            (row.source, row.source_key): (row.id, row.content_hash)
            for row in connection.execute(stmt)
        }
    by_source: dict[str, list[str]] = {}
    for source, source_key in keys:
        by_source.setdefault(source, []).append(source_key)
    found: dict[tuple[str, str], tuple[int, str]] = {}
    for source, source_keys in by_source.items():
        rows = connection.execute(
            select(_DOCS.c.id, _DOCS.c.source_key, _DOCS.c.content_hash).where(
                _DOCS.c.source == source, _DOCS.c.source_key.in_(source_keys)
            )
        )
        for row in rows:
            found[(source, row.source_key)] = (row.id, row.content_hash)
    return found


def _revise(
    connection: Connection,
    changed: Sequence[tuple[int, DocumentRecord]],
    hashes: Mapping[tuple[str, str], str],
    now: datetime,
) -> None:
    ids = [doc_id for doc_id, _ in changed]
    previous = connection.execute(
        select(
            _DOCS.c.id,
            _DOCS.c.content_hash,
            _DOCS.c.title,
            _DOCS.c.summary,
            _DOCS.c.body,
            _DOCS.c.extra,
            _DOCS.c.updated_at,
        ).where(_DOCS.c.id.in_(ids))
    ).all()
    connection.execute(
        insert(_REVS),
        [
            {
                "document_id": row.id,
                "content_hash": row.content_hash,
                "title": row.title,
                "summary": row.summary,
                "body": row.body,
                "extra": row.extra,
                "valid_from": row.updated_at,
                "replaced_at": now,
            }
            for row in previous
        ],
    )
    params = []
    for doc_id, record in changed:
        values = record.row()
        del values["source"], values["source_key"]
        values.update(b_id=doc_id, content_hash=hashes[record.key], updated_at=now)
        # undated: first seen, which the row keeps (NULL here falls back to it in SQL)
        values["b_dated"] = (
            dated(record.decided_on, record.published_at, now)
            if record.decided_on or record.published_at
            else None
        )
        params.append(values)
    columns: dict[str, Any] = {
        name: bindparam(name) for name in params[0] if name not in ("b_id", "b_dated")
    }
    dated_param = bindparam("b_dated", type_=DateTime(timezone=True))
    columns["dated_at"] = func.coalesce(dated_param, _DOCS.c.first_seen_at)
    connection.execute(update(_DOCS).where(_DOCS.c.id == bindparam("b_id")).values(columns), params)
