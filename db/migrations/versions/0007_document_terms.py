"""document terms: the alert language's words and stems, indexed for search

Revision ID: 0007_document_terms
Revises: 0006_match_sets
Create Date: 2026-12-01 16:40:00

The old index (documents_fts, search_vector) stemmed with each database's own stemmer
(Porter on SQLite, Snowball with stop words on PostgreSQL), so one query found different
documents on each. Documents are indexed here by the keys the composition root cuts with
the alert language's tokeniser and stemmer; both databases only look the keys up.
Rows fill in as documents are stored or on the first search (no Python stemmer runs here).
The old index is dropped: nothing reads it, and every write paid for it.
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401  (autogenerate writes sqlmodel.sql.sqltypes.AutoString)
from alembic import op


revision: str = '0007_document_terms'
down_revision: str | None = '0006_match_sets'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


_OLD_TRIGGERS = ("documents_fts_ai", "documents_fts_ad", "documents_fts_au")


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for trigger in _OLD_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute("DROP TABLE IF EXISTS documents_fts")
    else:
        op.execute("DROP INDEX IF EXISTS ix_documents_search_vector")
        op.execute("ALTER TABLE documents DROP COLUMN IF EXISTS search_vector")
    op.create_table('document_terms',
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('content_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('keys', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['document_id'], ['documents.id'], ),
    sa.PrimaryKeyConstraint('document_id')
    )
    op.create_index('ix_document_terms_hash', 'document_terms', ['document_id', 'content_hash'])
    if op.get_bind().dialect.name == "sqlite":
        # detail=none: keys are looked up, never as phrases, so no positions are kept.
        # ':' is part of a token so "w:adopt" stays one key and "w:adopt"* is a prefix.
        op.execute(
            "CREATE VIRTUAL TABLE document_terms_fts USING fts5("
            "keys, content='document_terms', content_rowid='document_id', detail=none, "
            "tokenize=\"unicode61 remove_diacritics 0 tokenchars ':'\")"
        )
        op.execute(
            "CREATE TRIGGER document_terms_fts_ai AFTER INSERT ON document_terms BEGIN "
            "INSERT INTO document_terms_fts(rowid, keys) VALUES (new.document_id, new.keys); END"
        )
        op.execute(
            "CREATE TRIGGER document_terms_fts_ad AFTER DELETE ON document_terms BEGIN "
            "INSERT INTO document_terms_fts(document_terms_fts, rowid, keys) "
            "VALUES ('delete', old.document_id, old.keys); END"
        )
        op.execute(
            "CREATE TRIGGER document_terms_fts_au AFTER UPDATE ON document_terms BEGIN "
            "INSERT INTO document_terms_fts(document_terms_fts, rowid, keys) "
            "VALUES ('delete', old.document_id, old.keys); "
            "INSERT INTO document_terms_fts(rowid, keys) VALUES (new.document_id, new.keys); END"
        )
    else:
        # The keys are the lexemes as they are: no parser, no stemmer, no stop words.
        op.execute(
            "ALTER TABLE document_terms ADD COLUMN terms tsvector GENERATED ALWAYS AS ("
            "array_to_tsvector(string_to_array(keys, ' '))) STORED"
        )
        op.execute("CREATE INDEX ix_document_terms_terms ON document_terms USING gin (terms)")
    # Finding documents whose terms are missing or stale reads (id, content_hash) only.
    op.create_index('ix_documents_id_content_hash', 'documents', ['id', 'content_hash'])


def downgrade() -> None:
    op.drop_index('ix_documents_id_content_hash', table_name='documents')
    if op.get_bind().dialect.name == "sqlite":
        for trigger in ("document_terms_fts_ai", "document_terms_fts_ad", "document_terms_fts_au"):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute("DROP TABLE IF EXISTS document_terms_fts")
    op.drop_index('ix_document_terms_hash', table_name='document_terms')
    op.drop_table('document_terms')
    _restore_old_index()


def _restore_old_index() -> None:
    """The index of 0001, as it was (rebuilt from the stored documents)."""
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "CREATE VIRTUAL TABLE documents_fts USING fts5("
            "title, summary, body, content='documents', content_rowid='id', "
            "tokenize='porter unicode61 remove_diacritics 2')"
        )
        op.execute("INSERT INTO documents_fts(documents_fts) VALUES ('rebuild')")
        op.execute(
            "CREATE TRIGGER documents_fts_ai AFTER INSERT ON documents BEGIN "
            "INSERT INTO documents_fts(rowid, title, summary, body) "
            "VALUES (new.id, new.title, new.summary, new.body); END"
        )
        op.execute(
            "CREATE TRIGGER documents_fts_ad AFTER DELETE ON documents BEGIN "
            "INSERT INTO documents_fts(documents_fts, rowid, title, summary, body) "
            "VALUES ('delete', old.id, old.title, old.summary, old.body); END"
        )
        op.execute(
            "CREATE TRIGGER documents_fts_au AFTER UPDATE OF title, summary, body ON documents "
            "BEGIN "
            "INSERT INTO documents_fts(documents_fts, rowid, title, summary, body) "
            "VALUES ('delete', old.id, old.title, old.summary, old.body); "
            "INSERT INTO documents_fts(rowid, title, summary, body) "
            "VALUES (new.id, new.title, new.summary, new.body); END"
        )
    else:
        op.execute(
            "ALTER TABLE documents ADD COLUMN search_vector tsvector GENERATED ALWAYS AS ("
            "setweight(to_tsvector('english', coalesce(title, '')), 'A') || "
            "setweight(to_tsvector('english', coalesce(summary, '')), 'B') || "
            "setweight(to_tsvector('english', coalesce(body, '')), 'C')) STORED"
        )
        op.execute(
            "CREATE INDEX ix_documents_search_vector ON documents USING gin (search_vector)"
        )
