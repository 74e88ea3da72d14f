"""outbox: each email's bytes in outbox_bodies, apart from the row senders update

Revision ID: 0013_outbox_bodies
Revises: 0012_documents_source_first_seen
Create Date: 2026-12-02 01:00:00

SQLite rewrites a whole record on UPDATE, its overflow pages included: with a digest's ~57 KB
in the outbox row, a sender's claim (lease, attempts) and its sent mark each wrote the message
again, twice per email, 100,000 emails a day. The bodies move to their own table, keyed by
the outbox id, written once when queued; claims and marks touch only the small row.

The senders' index follows the claim's order: (status, id) in place of (status,
next_attempt_at), so a claim of the 50 oldest due rows reads about 50 entries; the old index
made every claim read and sort every pending row (53 ms CPU a claim with 100,000 queued, about
1 ms a message, a day's digests queued before sending starts).

The rows are carried over in both directions. SQLite drops the column with its own
ALTER TABLE ... DROP COLUMN (3.35+): a batch copy of the outbox would have to drop the table
sent_items points at.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0013_outbox_bodies'
down_revision: str | None = '0012_documents_source_first_seen'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'outbox_bodies',
        sa.Column('outbox_id', sa.Integer(), nullable=False),
        sa.Column('message', sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(['outbox_id'], ['outbox.id']),
        sa.PrimaryKeyConstraint('outbox_id'),
    )
    op.execute('INSERT INTO outbox_bodies (outbox_id, message) SELECT id, message FROM outbox')
    if op.get_bind().dialect.name == 'sqlite':
        op.execute('ALTER TABLE outbox DROP COLUMN message')
    else:
        op.drop_column('outbox', 'message')
    op.drop_index('ix_outbox_due', table_name='outbox')
    op.create_index('ix_outbox_queue', 'outbox', ['status', 'id'], unique=False)


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == 'sqlite'
    op.drop_index('ix_outbox_queue', table_name='outbox')
    op.create_index('ix_outbox_due', 'outbox', ['status', 'next_attempt_at'], unique=False)
    # SQLite adds a NOT NULL column only with a default (kept there: it cannot drop one);
    # every row gets its body below.
    op.add_column(
        'outbox',
        sa.Column('message', sa.Text(), nullable=False, server_default=sa.text("''")),
    )
    op.execute(
        'UPDATE outbox SET message = COALESCE('
        '(SELECT b.message FROM outbox_bodies b WHERE b.outbox_id = outbox.id), \'\')'
    )
    if not sqlite:
        op.alter_column('outbox', 'message', server_default=None)
    op.drop_table('outbox_bodies')
