"""The subscribers' and the outbox's tables, written once in SQLAlchemy Core: what `councilwatch
status` reads (the outbox's depth) and what the outbox's writers and the bounce counter write,
defined without SQLModel or pydantic.

As in db/document_tables.py, these definitions are the schema: ``Subscriber`` and
``OutboxMessage`` (db/models_delivery.py) map onto copies of these tables in SQLModel's
metadata, so the ORM, the migrations and `db check` see the same columns
(tests/test_document_tables.py compares their DDL on SQLite and PostgreSQL).
"""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Index, Integer, String, Table, Text

from db.document_tables import METADATA
from db.document_tables import utc_column as _when

# An email address. Nothing but the confirmation is sent until confirmed_at is set.
SUBSCRIBERS = Table(
    "subscribers",
    METADATA,
    Column("id", Integer, primary_key=True),
    Column("email", String(320), nullable=False, unique=True),
    # A random secret; link tokens in emails are HMACs over it, so rotating it revokes links.
    Column("token", String(64), nullable=False, unique=True),
    # pending active unsubscribed bouncing
    Column("status", String(16), nullable=False, default="pending"),
    _when("created_at", nullable=False),
    _when("confirmed_at"),
    _when("unsubscribed_at"),
    Column("failures", Integer, nullable=False, default=0),
    Column("last_failure", Text, nullable=True),
)

# One email to send, claimed by a sender with a lease; its bytes are in OUTBOX_BODIES.
OUTBOX = Table(
    "outbox",
    METADATA,
    Column("id", Integer, primary_key=True),
    Column("idempotency_key", String(200), nullable=False, unique=True),
    Column("message_id", String(300), nullable=False),
    Column("kind", String(16), nullable=False),  # digest confirm operator
    Column("subscriber_id", Integer, ForeignKey("subscribers.id"), nullable=True, index=True),
    Column("to_address", String(320), nullable=False),
    Column("subject", String(500), nullable=False),
    Column("status", String(16), nullable=False, default="pending"),  # pending sent failed
    Column("attempts", Integer, nullable=False, default=0),
    _when("created_at", nullable=False),
    _when("next_attempt_at", nullable=False),
    _when("lease_until"),
    Column("claimed_by", String(100), nullable=True),
    _when("sent_at"),
    Column("last_error", Text, nullable=True),
    # A claim takes the oldest due rows: this index hands them over in id order, so a claim
    # reads about as many rows as it takes. Over (status, next_attempt_at) every claim read
    # and sorted every pending row: 53 ms CPU a claim of 50 with 100,000 queued (migration
    # 0013; the few rows waiting to be retried are passed over, read from the table).
    Index("ix_outbox_queue", "status", "id"),
)

# The rendered email of an outbox row, apart from it: a claim and a sent mark update the
# small row only. On SQLite an UPDATE rewrites the whole record, overflow pages and all, so
# with a digest's ~57 KB in the row each claim and each mark wrote the message again
# (migration 0013).
OUTBOX_BODIES = Table(
    "outbox_bodies",
    METADATA,
    Column("outbox_id", Integer, ForeignKey("outbox.id"), primary_key=True),
    Column("message", Text, nullable=False),  # RFC 5322 text, 7-bit ASCII, CRLF line ends
)
