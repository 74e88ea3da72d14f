"""key index pending list: PostgreSQL's GIN index over the search keys holds a whole run of
new keys (64 MB) before it moves them into the index

Revision ID: 0016_key_index_pending_list
Revises: 0015_outbox_bodies_lz4
Create Date: 2026-12-03 07:00:00

PostgreSQL puts new keys in the GIN index's pending list and moves the list into the index
proper, sorted by key, once it passes gin_pending_list_limit (4 MB by default, ~250 documents
of ~536 keys each: four moves per run of 1,000). Each move reads and writes much the same
posting pages; once they and the table's outgrow shared_buffers (128 MB by default; the index
alone is ~140 MB at 100,000 documents) that is what ingest spends its time on. A writer now moves the list itself once per run
(db.search.flush_key_index, sorting it within 64 MB), and the limit is raised so that a run
(~16 MB of pending list for 1,000 documents) is never moved in pieces before that: 64 MB
leaves room for four runs (a bigger run, a refresh of every document, still moves every 64 MB).

Measured at 100,000 realistic documents (bench/ingest.py's, runs of 1,000, batches of 500):
- the keys alone (a keys-only table, lz4, its GIN index): 80.6 s of server CPU and 86.8 s wall
  against 133.1 and 150.3 as before;
- bench/ingest.py --only postgres --rounds 1 --baseline-rev main: the service 91.2 s of
  server CPU, 121.0 s wall, against 142.2 and 189.8 at main, in the same run (load ~3 on two
  cores shared with another bench); at 10,000 (--quick --rounds 3, medians) 7.5 s of server
  CPU and 10.0 s wall against 9.0 and 12.5.
A query reads the pending list on top of the index, ~3 ms of server CPU more per 1,000
documents waiting there (99,000 flushed plus 1,000 waiting: a word counted in 8.0 ms, not 4.7;
an AND of two in 7.3, not 3.3; 3,500 waiting: 18.0 and 19.3). That is at most a run's worth
while a run is written, and nothing between runs (4 MB, ~250 documents, before). No answer
changes; downgrade gives the index the server's limit again.
"""
from collections.abc import Sequence

from alembic import op


revision: str = '0016_key_index_pending_list'
down_revision: str | None = '0015_outbox_bodies_lz4'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PENDING_LIST_KB = 64 * 1024


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "ALTER INDEX ix_document_terms_terms "
            f"SET (gin_pending_list_limit = {PENDING_LIST_KB})"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        # Back to the server's gin_pending_list_limit (4 MB by default).
        op.execute("ALTER INDEX ix_document_terms_terms RESET (gin_pending_list_limit)")
