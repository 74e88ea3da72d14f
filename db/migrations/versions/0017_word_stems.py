"""word stems: the stored words whose stem is another word, so documents need no stem keys

Revision ID: 0017_word_stems
Revises: 0016_key_index_pending_list
Create Date: 2026-12-03 12:00:00

A document carried a ``w:<word>`` key for each of its words and an ``s:<stem>`` key for each
stem that is not its word (~15% of its keys: 82 of ~536 a document on the ingest bench). A
stem query now looks the stem's words up here (one read of the stem index) and asks for
their ``w:`` keys, so documents keyed from now on carry no ``s:`` keys (a word too long for
a key keeps its own); the full-text index writes that many fewer (key, document) pairs.
The table grows with the vocabulary, not with the documents. Documents keyed before keep
their ``s:`` keys and a stem query still asks for those: nothing is re-keyed on upgrade.

Measured at 100,000 realistic documents (bench/ingest.py --rounds 1 --baseline-rev 02f0c6b,
this tree through the baseline's harness, one idle round each): SQLite 46.3 s wall, 41.3 s
of writer CPU, 63.8 s of CPU in all against 59.2, 50.2 and 82.8 (the key cutter's batches
also got cheaper); PostgreSQL 119.7 s wall and 103.2 s of server CPU against 144.5 and
127.2. Searches on 200,000 documents (bench/cli.py --web, each tree on a store it keyed)
print the same output for every query and page, in the same time within the noise (a
common word's /documents page: 91 ms of CPU against 90).

Downgrade drops the table, and with it what finds documents keyed since by their stems: every
document's keys are dropped too, and cut again (with ``s:`` keys) by the next search or run.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401  (autogenerate writes sqlmodel.sql.sqltypes.AutoString)
from alembic import op


revision: str = "0017_word_stems"
down_revision: str | None = "0016_key_index_pending_list"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "word_stems",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("word", sa.String(length=98), nullable=False),
        sa.Column("stem", sa.String(length=98), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("word"),
    )
    op.create_index(op.f("ix_word_stems_stem"), "word_stems", ["stem"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_word_stems_stem"), table_name="word_stems")
    op.drop_table("word_stems")
    # Keys cut since upgrade have no s: keys, which the schema below needs for its stem
    # queries: drop every document's keys (the index's first), to be cut again.
    if op.get_bind().dialect.name == "sqlite":
        op.execute("INSERT INTO document_terms_fts(document_terms_fts) VALUES ('delete-all')")
    op.execute("DELETE FROM document_terms")
