"""crawl checkpoints for every source; LGSCO's listing windows move into them

Revision ID: 0008_crawl_checkpoints
Revises: 0007_document_terms
Create Date: 2026-12-01 17:30:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401  (autogenerate writes sqlmodel.sql.sqltypes.AutoString)
from alembic import op


revision: str = '0008_crawl_checkpoints'
down_revision: str | None = '0007_document_terms'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    checkpoints = op.create_table('crawl_checkpoints',
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('value', sa.JSON(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('source', 'name')
    )
    # Every LGSCO window walked so far keeps its count and pages done (the backfill resume
    # points and the "0 results where there were N" memory).
    windows = sa.table(
        'lgsco_windows',
        sa.column('date_from', sa.Date()), sa.column('date_to', sa.Date()),
        sa.column('total', sa.Integer()), sa.column('pages_done', sa.JSON()),
        sa.column('complete', sa.Boolean()), sa.column('updated_at', sa.DateTime(timezone=True)),
    )
    rows = op.get_bind().execute(sa.select(windows)).all()
    if rows:
        op.bulk_insert(checkpoints, [
            {
                'source': 'lgsco',
                'name': f'window:{row.date_from.isoformat()}..{row.date_to.isoformat()}',
                'value': {
                    'total': row.total,
                    'pages_done': sorted(row.pages_done or []),
                    'complete': bool(row.complete),
                },
                'updated_at': row.updated_at,
            }
            for row in rows
        ])
    op.drop_table('lgsco_windows')


def downgrade() -> None:
    op.create_table('lgsco_windows',
    sa.Column('date_from', sa.Date(), nullable=False),
    sa.Column('date_to', sa.Date(), nullable=False),
    sa.Column('total', sa.Integer(), nullable=True),
    sa.Column('pages_done', sa.JSON(), nullable=False),
    sa.Column('complete', sa.Boolean(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('date_from', 'date_to')
    )
    op.drop_table('crawl_checkpoints')
