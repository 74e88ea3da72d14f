"""match sets: one row per matched document (the alerts packed) and per-alert digest progress

Replaces alert_matches (one row per alert x document: ~588 rows per document at 100,000
alerts). Existing rows are carried over: each document's matches become one set, and each
alert's progress is the last set before its first match not yet put in a digest.

Revision ID: 0006_match_sets
Revises: 0005_alert_changes
Create Date: 2026-12-01 17:00:00
"""
from array import array
from collections import defaultdict
from collections.abc import Sequence
import sys

import sqlalchemy as sa
import sqlmodel  # noqa: F401  (autogenerate writes sqlmodel.sql.sqltypes.AutoString)
from alembic import op


revision: str = '0006_match_sets'
down_revision: str | None = '0005_alert_changes'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _pack(ids: list[int]) -> bytes:
    packed = array("I", sorted(set(ids)))
    if sys.byteorder != "little":
        packed.byteswap()
    return packed.tobytes()


def upgrade() -> None:
    sets = op.create_table('match_sets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('matched_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('backfill', sa.Boolean(), nullable=False),
    sa.Column('alert_ids', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['document_id'], ['documents.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('document_id')
    )
    progress = op.create_table('alert_progress',
    sa.Column('alert_id', sa.Integer(), nullable=False),
    sa.Column('through', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['alert_id'], ['alerts.id'], ),
    sa.PrimaryKeyConstraint('alert_id')
    )
    bind = op.get_bind()
    old = sa.table(
        'alert_matches',
        sa.column('id', sa.Integer()), sa.column('alert_id', sa.Integer()),
        sa.column('document_id', sa.Integer()),
        sa.column('matched_at', sa.DateTime(timezone=True)),
        sa.column('backfill', sa.Boolean()),
        sa.column('digested_at', sa.DateTime(timezone=True)),
    )
    by_document: dict[int, list[tuple[int, bool]]] = defaultdict(list)
    first: dict[int, tuple[object, bool]] = {}
    for row in bind.execute(sa.select(old).order_by(old.c.id)):
        by_document[row.document_id].append((row.alert_id, row.digested_at is None))
        first.setdefault(row.document_id, (row.matched_at, bool(row.backfill)))
    # Sets in the order their documents were first matched; an alert's progress stops just
    # before its oldest pending match.
    through: dict[int, int] = {}
    pending_seen: set[int] = set()
    for set_id, document_id in enumerate(by_document, start=1):
        matched_at, backfill = first[document_id]
        entries = by_document[document_id]
        bind.execute(
            sets.insert().values(
                id=set_id, document_id=document_id, matched_at=matched_at, backfill=backfill,
                alert_ids=_pack([alert_id for alert_id, _ in entries]),
            )
        )
        for alert_id, pending in entries:
            if pending:
                pending_seen.add(alert_id)
            elif alert_id not in pending_seen:
                through[alert_id] = set_id
    if through:
        bind.execute(
            progress.insert(), [{"alert_id": a, "through": t} for a, t in through.items()]
        )
    if bind.dialect.name == "postgresql" and by_document:
        bind.execute(sa.text(
            "SELECT setval(pg_get_serial_sequence('match_sets', 'id'), "
            "(SELECT max(id) FROM match_sets))"
        ))
    with op.batch_alter_table('alert_matches', schema=None) as batch_op:
        batch_op.drop_index('ix_alert_matches_pending')
        batch_op.drop_index(batch_op.f('ix_alert_matches_document_id'))
    op.drop_table('alert_matches')


def downgrade() -> None:
    # Matches as rows again, without the councils, terms and snippets worked out since.
    old = op.create_table('alert_matches',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('alert_id', sa.Integer(), nullable=False),
    sa.Column('subscriber_id', sa.Integer(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('matched_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('backfill', sa.Boolean(), nullable=False),
    sa.Column('councils', sa.JSON(), nullable=False),
    sa.Column('terms', sa.JSON(), nullable=False),
    sa.Column('snippet', sa.Text(), nullable=False),
    sa.Column('digested_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['alert_id'], ['alerts.id'], ),
    sa.ForeignKeyConstraint(['document_id'], ['documents.id'], ),
    sa.ForeignKeyConstraint(['subscriber_id'], ['subscribers.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('alert_id', 'document_id', name='uq_alert_matches_alert_document')
    )
    with op.batch_alter_table('alert_matches', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_alert_matches_document_id'), ['document_id'], unique=False)
        batch_op.create_index('ix_alert_matches_pending', ['subscriber_id', 'digested_at'], unique=False)
    bind = op.get_bind()
    owners = dict(bind.execute(sa.text("SELECT id, subscriber_id FROM alerts")).all())
    marks = dict(bind.execute(sa.text("SELECT alert_id, through FROM alert_progress")).all())
    for row in bind.execute(sa.text("SELECT * FROM match_sets ORDER BY id")).all():
        ids = array("I")
        ids.frombytes(row.alert_ids)
        if sys.byteorder != "little":
            ids.byteswap()
        bind.execute(old.insert(), [
            {
                "alert_id": a, "subscriber_id": owners[a], "document_id": row.document_id,
                "matched_at": row.matched_at, "backfill": row.backfill, "councils": [],
                "terms": [], "snippet": "",
                "digested_at": row.matched_at if marks.get(a, 0) >= row.id else None,
            }
            for a in ids if a in owners
        ])
    op.drop_table('alert_progress')
    op.drop_table('match_sets')
