"""index merge settings: SQLite's key index merges 16 segments at a time, not 4

Revision ID: 0014_index_merge_settings
Revises: 0013_outbox_bodies
Create Date: 2026-12-02 04:45:00

Every batch of keys (500 documents, ~270,000 (key, document) pairs) is a new FTS5 segment
(0011). FTS5 merges a level's segments into one on the next level once 'automerge' of them
(4 by default) are there, so by 100,000 documents each pair had been rewritten about
log4(200) ~ 4 times, more as the store grows. With 16 it is about twice. Measured at
100,000 documents (sqlite3 alone, the bench's keys, runs side by side at similar load): the
index's CPU 32.4 s, not 39.2 (37.2, not 43.1, in a second pair of runs); with no merging at
all it is ~28 s, so what is left is writing the pairs once. A query reads at most 15
segments a level instead of 3: 7% more CPU on a prefix-heavy set of queries (34.0 ms, not
31.8, each), same answers.
'crisismerge' (16 by default: a whole level merged at once inside one write) goes to 64, so
the incremental automerge does the work, not one batch's writer.

Settings of the index, kept in its own config table: nothing is rebuilt, no answer changes.
"""
from collections.abc import Sequence

from alembic import op

revision: str = '0014_index_merge_settings'
down_revision: str | None = '0013_outbox_bodies'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SETTINGS = {"automerge": 16, "crisismerge": 64}
DEFAULTS = {"automerge": 4, "crisismerge": 16}  # FTS5's own


def _set(settings: dict[str, int]) -> None:
    for name, value in settings.items():
        op.execute(
            "INSERT INTO document_terms_fts(document_terms_fts, rank) "
            f"VALUES ('{name}', {value})"
        )


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _set(SETTINGS)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _set(DEFAULTS)
