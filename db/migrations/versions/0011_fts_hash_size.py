"""fts hash size: SQLite's key index holds a whole batch in memory before writing a segment

Revision ID: 0011_fts_hash_size
Revises: 0010_fts_fed_in_batches
Create Date: 2026-12-01 22:10:00

FTS5 writes its in-memory terms out as a new segment whenever they pass 'hashsize' (1 MB by
default) and merges segments as they pile up. One batch of keys (500 documents, ~270,000
(key, document) pairs, ~2.5 MB of keys) made three or four small segments, each merged again
later. With 16 MB a batch is one segment: 13% less CPU for the keys on the ingest bench
(10,000 realistic documents, medians of 3 interleaved runs). A setting of the index, kept in
its own config table: nothing is rebuilt, no answer changes. PostgreSQL is untouched.
"""
from collections.abc import Sequence

from alembic import op


revision: str = '0011_fts_hash_size'
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


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _set(HASH_SIZE)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _set(DEFAULT_HASH_SIZE)
