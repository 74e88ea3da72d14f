"""outbox bodies: PostgreSQL compresses each queued email with lz4

Revision ID: 0015_outbox_bodies_lz4
Revises: 0014_index_merge_settings
Create Date: 2026-12-02 04:40:00

A digest is written once to outbox_bodies (~19 KB on the pipeline bench's quick store, ~57 KB
with the full store) and compressed on the way in (TOAST), with pglz by default. lz4 does the
same work faster: 2,000 of the bench's digests took 0.33 s of server CPU against 1.01 s
(medians of 3 interleaved runs, batches of 35 as queue_digests writes them), 0.34 ms a digest,
and the table ends no larger (22.0 against 22.5 MB). As 0011 did for the keys and bodies of
documents: only values written from now on are lz4 (old ones are read as they are); a server
built without lz4 keeps pglz; SQLite has no such setting.
"""
from collections.abc import Sequence

from alembic import op


revision: str = '0015_outbox_bodies_lz4'
down_revision: str | None = '0014_index_merge_settings'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _has_lz4() -> bool:
    found = op.get_bind().exec_driver_sql(
        "SELECT 1 FROM pg_settings WHERE name = 'default_toast_compression' "
        "AND 'lz4' = ANY(enumvals)"
    )
    return found.first() is not None


def _compress(method: str) -> None:
    if op.get_bind().dialect.name == "postgresql" and _has_lz4():
        op.execute(f"ALTER TABLE outbox_bodies ALTER COLUMN message SET COMPRESSION {method}")


def upgrade() -> None:
    _compress("lz4")


def downgrade() -> None:
    _compress("pglz")
