"""Tables for subscribers, their alerts, pending matches, the sent ledger and the outbox."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, DateTime, Index, LargeBinary, Text, UniqueConstraint
from sqlmodel import Field, SQLModel


def _when(*, nullable: bool = True, index: bool = False) -> Any:
    return Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=nullable, index=index)
    )


class Subscriber(SQLModel, table=True):
    """An email address. Nothing but the confirmation is sent until confirmed_at is set."""

    __tablename__ = "subscribers"

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=320, unique=True)
    # A random secret; link tokens in emails are HMACs over it, so rotating it revokes links.
    token: str = Field(max_length=64, unique=True)
    status: str = Field(default="pending", max_length=16)  # pending active unsubscribed bouncing
    created_at: datetime = _when(nullable=False)
    confirmed_at: datetime | None = _when()
    unsubscribed_at: datetime | None = _when()
    failures: int = 0
    last_failure: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


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
    """One email to send, rendered in full, claimed by a sender with a lease."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_due", "status", "next_attempt_at"),)

    id: int | None = Field(default=None, primary_key=True)
    idempotency_key: str = Field(max_length=200, unique=True)
    message_id: str = Field(max_length=300)
    kind: str = Field(max_length=16)  # digest confirm operator
    subscriber_id: int | None = Field(default=None, foreign_key="subscribers.id", index=True)
    to_address: str = Field(max_length=320)
    subject: str = Field(max_length=500)
    message: str = Field(sa_column=Column(Text, nullable=False))  # RFC 5322 text
    status: str = Field(default="pending", max_length=16)  # pending sent failed
    attempts: int = 0
    created_at: datetime = _when(nullable=False)
    next_attempt_at: datetime = _when(nullable=False)
    lease_until: datetime | None = _when()
    claimed_by: str | None = Field(default=None, max_length=100)
    sent_at: datetime | None = _when()
    last_error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class AlertChange(SQLModel, table=True):
    """The change log the alert index follows: one row per write to a subscriber's alerts or
    status, added by database triggers (so no writer can forget it; see migration 0005)."""

    __tablename__ = "alert_changes"

    id: int | None = Field(default=None, primary_key=True)
    subscriber_id: int = Field(index=True)
