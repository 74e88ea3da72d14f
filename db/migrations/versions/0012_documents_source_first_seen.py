"""documents: an index on (source, first_seen_at)

Revision ID: 0012_documents_source_first_seen
Revises: 0011_index_write_settings
Create Date: 2026-12-01 23:20:00

A source's health reads its newest document, max(first_seen_at) WHERE source = ?: without an
index that reads every row of the source (on the 100,000-document bench store 0.8-1.4 s wall
for each `councilwatch status`, `sources` and the service's health check). With it, one probe.
"""
from collections.abc import Sequence

from alembic import op


revision: str = '0012_documents_source_first_seen'
down_revision: str | None = '0011_index_write_settings'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        'ix_documents_source_first_seen', 'documents', ['source', 'first_seen_at'], unique=False
    )


def downgrade() -> None:
    op.drop_index('ix_documents_source_first_seen', table_name='documents')
