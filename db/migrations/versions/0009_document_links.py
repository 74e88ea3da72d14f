"""document links: news stories and the decisions they report

Revision ID: 0009_document_links
Revises: 0008_crawl_checkpoints
Create Date: 2026-12-01 16:50:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401  (autogenerate writes sqlmodel.sql.sqltypes.AutoString)
from alembic import op


revision: str = '0009_document_links'
down_revision: str | None = '0008_crawl_checkpoints'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('document_links',
    sa.Column('story_id', sa.Integer(), nullable=False),
    sa.Column('decision_id', sa.Integer(), nullable=False),
    sa.Column('score', sa.Float(), nullable=False),
    sa.Column('reasons', sa.JSON(), nullable=False),
    sa.Column('linked_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['decision_id'], ['documents.id'], ),
    sa.ForeignKeyConstraint(['story_id'], ['documents.id'], ),
    sa.PrimaryKeyConstraint('story_id', 'decision_id')
    )
    with op.batch_alter_table('document_links', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_document_links_decision_id'), ['decision_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('document_links', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_document_links_decision_id'))
    op.drop_table('document_links')
