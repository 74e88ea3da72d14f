"""browse by date with keyset pages, category menu table, stored news signatures

Revision ID: 0004_browse_and_signatures
Revises: 0003_lgsco_state
Create Date: 2026-12-01 16:50:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401  (autogenerate writes sqlmodel.sql.sqltypes.AutoString)
from alembic import op


revision: str = '0004_browse_and_signatures'
down_revision: str | None = '0003_lgsco_state'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == 'sqlite'
    # decided on (midnight UTC), else published, else first seen; SQLite keeps datetimes as
    # 'YYYY-MM-DD HH:MM:SS.ffffff' text, as SQLAlchemy writes them
    if sqlite:
        # a plain ADD COLUMN: batch mode would rebuild the table and drop the FTS triggers
        op.execute(
            "ALTER TABLE documents ADD COLUMN dated_at DATETIME NOT NULL "
            "DEFAULT '1970-01-01 00:00:00.000000'"
        )
        decided = "decided_on || ' 00:00:00.000000'"
    else:
        op.add_column('documents', sa.Column('dated_at', sa.DateTime(timezone=True), nullable=True))
        decided = "(decided_on::timestamp AT TIME ZONE 'UTC')"
    op.execute(f"UPDATE documents SET dated_at = coalesce({decided}, published_at, first_seen_at)")
    if not sqlite:
        op.alter_column('documents', 'dated_at', nullable=False)
    op.create_index('ix_documents_dated', 'documents', ['dated_at', 'id'], unique=False)
    op.create_index('ix_documents_kind_dated', 'documents', ['kind', 'dated_at', 'id'], unique=False)

    op.create_table('document_categories',
    sa.Column('category', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.PrimaryKeyConstraint('category')
    )
    op.execute(
        "INSERT INTO document_categories (category) "
        "SELECT DISTINCT category FROM documents WHERE category IS NOT NULL"
    )

    op.create_table('news_signatures',
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('stamp', sa.DateTime(timezone=True), nullable=False),
    sa.Column('shingles', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['document_id'], ['documents.id'], ),
    sa.PrimaryKeyConstraint('document_id')
    )
    with op.batch_alter_table('news_signatures', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_news_signatures_stamp'), ['stamp'], unique=False)

    op.create_table('news_bands',
    sa.Column('band_key', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['document_id'], ['documents.id'], ),
    sa.PrimaryKeyConstraint('band_key', 'document_id')
    )
    with op.batch_alter_table('news_bands', schema=None) as batch_op:
        batch_op.create_index('ix_news_bands_document', ['document_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('news_bands', schema=None) as batch_op:
        batch_op.drop_index('ix_news_bands_document')
    op.drop_table('news_bands')
    with op.batch_alter_table('news_signatures', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_news_signatures_stamp'))
    op.drop_table('news_signatures')
    op.drop_table('document_categories')
    op.drop_index('ix_documents_kind_dated', table_name='documents')
    op.drop_index('ix_documents_dated', table_name='documents')
    if op.get_bind().dialect.name == 'sqlite':
        op.execute("ALTER TABLE documents DROP COLUMN dated_at")
    else:
        op.drop_column('documents', 'dated_at')
