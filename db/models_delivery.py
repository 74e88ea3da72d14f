"""Tables for subscribers, their alerts, pending matches, the sent ledger and the outbox."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, DateTime, LargeBinary, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from db.delivery_tables import OUTBOX, OUTBOX_BODIES, SUBSCRIBERS
from db.document_tables import copy_into


def _when(*, nullable: bool = True, index: bool = False) -> Any:
    return Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=nullable, index=index)
    )


_SUBS = copy_into(SUBSCRIBERS, SQLModel.metadata)
_OUTBOX = copy_into(OUTBOX, SQLModel.metadata)
# No class: only the outbox's Core writers and readers (db/outbox.py) touch the bodies.
copy_into(OUTBOX_BODIES, SQLModel.metadata)


class Subscriber(SQLModel, table=True):
    """An email address. Nothing but the confirmation is sent until confirmed_at is set."""

    # Defined once, in Core (db/delivery_tables.py: `status` and the outbox's writers use it
    # without SQLModel); this class maps onto a copy in SQLModel.metadata.
    __table__ = _SUBS

    id: int | None = Field(default=None, sa_column=_SUBS.c.id)
    email: str = Field(max_length=320, sa_column=_SUBS.c.email)
    # A random secret; link tokens in emails are HMACs over it, so rotating it revokes links.
    token: str = Field(max_length=64, sa_column=_SUBS.c.token)
    status: str = Field(default="pending", max_length=16, sa_column=_SUBS.c.status)
    created_at: datetime = Field(default=None, sa_column=_SUBS.c.created_at)
    confirmed_at: datetime | None = Field(default=None, sa_column=_SUBS.c.confirmed_at)
    unsubscribed_at: datetime | None = Field(default=None, sa_column=_SUBS.c.unsubscribed_at)
    failures: int = Field(default=0, sa_column=_SUBS.c.failures)
    last_failure: str | None = Field(default=None, sa_column=_SUBS.c.last_failure)


class Alert(SQLModel, table=True):
    """What one subscriber wants: councils, an optional query, filters and a frequency."""

    __tablename__ = "alerts"
    __table_args__ = (UniqueConstraint("subscriber_id", "name", name="uq_alerts_subscriber_name"),)

    id: int | None = Field(default=None, primary_key=True)
    subscriber_id: int = Field(foreign_key="subscribers.id", index=True)
    name: str = Field(max_length=200)
    councils: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # "all councils in <county>" selections, expanded at match time so new councils count.
    counties: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    query: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    kinds: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    outcomes: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    categories: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    sources: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    frequency: str = Field(default="daily", max_length=16)  # immediate daily weekly
    paused: bool = False
    created_at: datetime = _when(nullable=False)
    deleted_at: datetime | None = _when()


class MatchSet(SQLModel, table=True):
    """The alerts one new document matched: one row per document, not one per match.

    At 100,000 alerts a document matches hundreds of them; a row per match made recording
    cost more than matching. ``alert_ids`` packs the ids (sorted, unsigned 32-bit little
    endian; see db/matches.py). What each match shows (councils, terms, snippet) follows
    from the document and the alert, and is worked out when a digest or feed needs it.
    """

    __tablename__ = "match_sets"

    id: int | None = Field(default=None, primary_key=True)
    document_id: int = Field(foreign_key="documents.id", unique=True)
    matched_at: datetime = _when(nullable=False)
    backfill: bool = False
    alert_ids: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class AlertProgress(SQLModel, table=True):
    """How far an alert's digests have got: match sets up to ``through`` are settled (sent,
    or dropped as already sent). No row: nothing settled yet."""

    __tablename__ = "alert_progress"

    alert_id: int = Field(foreign_key="alerts.id", primary_key=True)
    through: int = 0


class SentItem(SQLModel, table=True):
    """The ledger: this document went to this subscriber, in this outbox message."""

    __tablename__ = "sent_items"

    subscriber_id: int = Field(foreign_key="subscribers.id", primary_key=True)
    document_id: int = Field(foreign_key="documents.id", primary_key=True)
    outbox_id: int = Field(foreign_key="outbox.id", index=True)
    queued_at: datetime = _when(nullable=False)


class OutboxMessage(SQLModel, table=True):
    """One email to send, claimed by a sender with a lease (its bytes: outbox_bodies)."""

    # Defined once, in Core (db/delivery_tables.py); this class maps onto a copy.
    __table__ = _OUTBOX

    id: int | None = Field(default=None, sa_column=_OUTBOX.c.id)
    idempotency_key: str = Field(max_length=200, sa_column=_OUTBOX.c.idempotency_key)
    message_id: str = Field(max_length=300, sa_column=_OUTBOX.c.message_id)
    kind: str = Field(max_length=16, sa_column=_OUTBOX.c.kind)  # digest confirm operator
    subscriber_id: int | None = Field(default=None, sa_column=_OUTBOX.c.subscriber_id)
    to_address: str = Field(max_length=320, sa_column=_OUTBOX.c.to_address)
    subject: str = Field(max_length=500, sa_column=_OUTBOX.c.subject)
    status: str = Field(default="pending", max_length=16, sa_column=_OUTBOX.c.status)
    attempts: int = Field(default=0, sa_column=_OUTBOX.c.attempts)
    created_at: datetime = Field(default=None, sa_column=_OUTBOX.c.created_at)
    next_attempt_at: datetime = Field(default=None, sa_column=_OUTBOX.c.next_attempt_at)
    lease_until: datetime | None = Field(default=None, sa_column=_OUTBOX.c.lease_until)
    claimed_by: str | None = Field(default=None, max_length=100, sa_column=_OUTBOX.c.claimed_by)
    sent_at: datetime | None = Field(default=None, sa_column=_OUTBOX.c.sent_at)
    last_error: str | None = Field(default=None, sa_column=_OUTBOX.c.last_error)


class AlertChange(SQLModel, table=True):
    """The change log the alert index follows: one row per write to a subscriber's alerts or
    status, added by database triggers (so no writer can forget it; see migration 0005)."""

    __tablename__ = "alert_changes"

    id: int | None = Field(default=None, primary_key=True)
    subscriber_id: int = Field(index=True)
