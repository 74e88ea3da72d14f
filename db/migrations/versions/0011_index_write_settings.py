"""index write settings: SQLite's key index writes a batch as one segment; PostgreSQL
compresses the keys and documents' bodies with lz4

Revision ID: 0011_index_write_settings
Revises: 0010_fts_fed_in_batches
Create Date: 2026-12-01 22:10:00

FTS5 writes its in-memory terms out as a new segment whenever they pass 'hashsize' (1 MB by
default) and merges segments as they pile up. One batch of keys (500 documents, ~270,000
(key, document) pairs, ~2.5 MB of keys) made three or four small segments, each merged again
later. With 16 MB a batch is one segment: 13% less CPU for the keys on the ingest bench
(10,000 realistic documents, medians of 3 interleaved runs). A setting of the index, kept in
its own config table: nothing is rebuilt, no answer changes.

PostgreSQL compressed each document's keys twice (the keys text and its generated tsvector,
~5 KB each) and its body with pglz. lz4 does the same work faster: 18% less server CPU for
storing 3,000 documents' keys with the GIN index (medians of 3, 3.42 vs 4.17 s). Only values
written from now on are lz4 (old ones are read as they are); a server built without lz4 (or
before PostgreSQL 14) keeps pglz.
"""
from collections.abc import Sequence

from alembic import op


revision: str = '0011_index_write_settings'
down_revision: str | None = '0010_fts_fed_in_batches'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

HASH_SIZE = 16 * 1024 * 1024
DEFAULT_HASH_SIZE = 1024 * 1024  # FTS5's own


def _set(size: int) -> None:
    op.execute(
        "INSERT INTO document_terms_fts(document_terms_fts, rank) "
        f"VALUES ('hashsize', {size})"
    )


# Written at every ingest, and large enough to be compressed (TOAST).
_COMPRESSED = (("document_terms", "keys"), ("document_terms", "terms"), ("documents", "body"))


def _has_lz4() -> bool:
    found = op.get_bind().exec_driver_sql(
        "SELECT 1 FROM pg_settings WHERE name = 'default_toast_compression' "
        "AND 'lz4' = ANY(enumvals)"
    )
    return found.first() is not None


def _compress(method: str) -> None:
    for table, column in _COMPRESSED:
        op.execute(f"ALTER TABLE {table} ALTER COLUMN {column} SET COMPRESSION {method}")


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _set(HASH_SIZE)
    elif _has_lz4():
        _compress("lz4")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _set(DEFAULT_HASH_SIZE)
    elif _has_lz4():
        _compress("pglz")
