"""alert changes: a log of writes to alerts and subscriber status, kept by triggers

The alert index reads this log to refile only the subscribers whose alerts changed, instead
of reloading every alert per batch. Triggers rather than application code write it, so a
writer added later (a bounce handler, an operator's SQL) cannot forget to.

Revision ID: 0005_alert_changes
Revises: 0004_browse_and_signatures
Create Date: 2026-12-01 17:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401  (autogenerate writes sqlmodel.sql.sqltypes.AutoString)
from alembic import op


revision: str = '0005_alert_changes'
down_revision: str | None = '0004_browse_and_signatures'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The alert columns a match depends on (not bookkeeping a digest run may write).
MATCHED = "subscriber_id, name, councils, counties, query, kinds, outcomes, categories, " \
    "sources, frequency, paused, created_at, deleted_at"
# PostgreSQL assigns ids when a row is inserted but readers see them when it commits, so two
# concurrent writers could commit ids out of order and a reader that already passed the
# later id would never see the earlier one. A transaction-scoped advisory lock taken before
# the insert makes change ids commit in order (subscription writes are rare and short).
PG_LOCK = 0x616C6572745F6C67  # "alert_lg"


def upgrade() -> None:
    op.create_table('alert_changes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('subscriber_id', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('alert_changes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_alert_changes_subscriber_id'), ['subscriber_id'], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION cw_log_alert_change() RETURNS trigger LANGUAGE plpgsql AS $$\n"
            "BEGIN\n"
            f"  PERFORM pg_advisory_xact_lock({PG_LOCK});\n"
            "  IF TG_TABLE_NAME = 'subscribers' THEN\n"
            "    INSERT INTO alert_changes (subscriber_id) VALUES (COALESCE(NEW.id, OLD.id));\n"
            "  ELSE\n"
            "    INSERT INTO alert_changes (subscriber_id)\n"
            "    VALUES (COALESCE(NEW.subscriber_id, OLD.subscriber_id));\n"
            "  END IF;\n"
            "  RETURN NULL;\n"
            "END $$"
        )
        for name, event in (
            ("cw_alerts_insert", "INSERT"),
            ("cw_alerts_update", f"UPDATE OF {MATCHED}"),
            ("cw_alerts_delete", "DELETE"),
        ):
            op.execute(
                f"CREATE TRIGGER {name} AFTER {event} ON alerts "
                "FOR EACH ROW EXECUTE FUNCTION cw_log_alert_change()"
            )
        for name, event in (
            ("cw_subscribers_update", "UPDATE OF status"),
            ("cw_subscribers_delete", "DELETE"),
        ):
            op.execute(
                f"CREATE TRIGGER {name} AFTER {event} ON subscribers "
                "FOR EACH ROW EXECUTE FUNCTION cw_log_alert_change()"
            )
        return
    # SQLite has one writer at a time, so ids commit in order without a lock.
    for name, event, row in (
        ("cw_alerts_insert", "INSERT", "NEW.subscriber_id"),
        ("cw_alerts_update", f"UPDATE OF {MATCHED}", "NEW.subscriber_id"),
        ("cw_alerts_delete", "DELETE", "OLD.subscriber_id"),
    ):
        op.execute(
            f"CREATE TRIGGER {name} AFTER {event} ON alerts FOR EACH ROW "
            f"BEGIN INSERT INTO alert_changes (subscriber_id) VALUES ({row}); END"
        )
    for name, event, row in (
        ("cw_subscribers_update", "UPDATE OF status", "NEW.id"),
        ("cw_subscribers_delete", "DELETE", "OLD.id"),
    ):
        op.execute(
            f"CREATE TRIGGER {name} AFTER {event} ON subscribers FOR EACH ROW "
            f"BEGIN INSERT INTO alert_changes (subscriber_id) VALUES ({row}); END"
        )


def downgrade() -> None:
    for name, table in (
        ("cw_alerts_insert", "alerts"),
        ("cw_alerts_update", "alerts"),
        ("cw_alerts_delete", "alerts"),
        ("cw_subscribers_update", "subscribers"),
        ("cw_subscribers_delete", "subscribers"),
    ):
        if op.get_bind().dialect.name == "postgresql":
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
        else:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS cw_log_alert_change()")
    with op.batch_alter_table('alert_changes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_alert_changes_subscriber_id'))
    op.drop_table('alert_changes')
