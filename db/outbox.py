"""The outbox: rendered emails waiting to be sent, claimed by senders with a lease.

A row is enqueued once per idempotency key (in the same transaction as the ledger rows that
say what it carries). Senders claim due rows with a lease: PostgreSQL skips rows another
sender holds (FOR UPDATE SKIP LOCKED); SQLite serialises claimers with BEGIN IMMEDIATE. A
sender that dies leaves its rows to be claimed again when the lease runs out.

Each row's rendered email is in ``outbox_bodies`` beside it: claims and sent marks update
only the small row (SQLite rewrites a whole record on UPDATE, and a digest is ~57 KB).

The one gap no outbox closes: a sender that dies after the mail server accepted a message but
before its mark committed sends that message again after the lease (same Message-ID, so most
clients show it once). `send_outbox` commits marks a few at a time (`mark_sent_many`), so
that is at most its ``SENT_MARKS_EVERY`` messages.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from importlib import import_module
from types import ModuleType
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, func, insert, literal, select, update

from db.bounces import reset_failures, reset_failures_of
from db.delivery_tables import OUTBOX as _OUTBOX
from db.delivery_tables import OUTBOX_BODIES as _BODIES
from db.engine import read_connection, write_transaction
from db.id_lists import among, array_of


def _dialect(connection: Connection) -> ModuleType:
    """The connection's dialect module, for its INSERT ... ON CONFLICT: imported when a message
    is queued, so that reading the outbox (`status`) loads neither dialect's extras."""
    name = "postgresql" if connection.dialect.name == "postgresql" else "sqlite"
    return import_module(f"sqlalchemy.dialects.{name}")


@dataclass(frozen=True)
class OutgoingMessage:
    idempotency_key: str
    message_id: str
    kind: str
    to_address: str
    subject: str
    message: str
    subscriber_id: int | None = None


def enqueue(connection: Connection, outgoing: OutgoingMessage, *, now: datetime) -> int | None:
    """Add a message inside the caller's transaction; None when the key was queued before."""
    dialect = _dialect(connection)
    stmt = (
        dialect.insert(_OUTBOX)
        .values(
            idempotency_key=outgoing.idempotency_key,
            message_id=outgoing.message_id,
            kind=outgoing.kind,
            subscriber_id=outgoing.subscriber_id,
            to_address=outgoing.to_address,
            subject=outgoing.subject[:500],
            status="pending",
            attempts=0,
            created_at=now,
            next_attempt_at=now,
        )
        .on_conflict_do_nothing(index_elements=["idempotency_key"])
        .returning(_OUTBOX.c.id)
    )
    row = connection.execute(stmt).first()
    if row is None:
        return None
    connection.execute(insert(_BODIES), {"outbox_id": row.id, "message": outgoing.message})
    return int(row.id)


def enqueue_many(
    connection: Connection, messages: Sequence[OutgoingMessage], *, now: datetime
) -> dict[str, int]:
    """Add messages inside the caller's transaction, in a few multi-row statements: the
    outbox id of each key queued now (keys queued before are absent)."""
    if not messages:
        return {}
    rows: list[dict[str, Any]] = [
        {
            "idempotency_key": m.idempotency_key,
            "message_id": m.message_id,
            "kind": m.kind,
            "subscriber_id": m.subscriber_id,
            "to_address": m.to_address,
            "subject": m.subject[:500],
        }
        for m in messages
    ]
    if connection.dialect.name == "postgresql":
        found = connection.execute(_from_arrays(connection, rows, now=now).returning(*_RETURNED))
    else:
        stmt = (
            _dialect(connection)
            .insert(_OUTBOX)
            .on_conflict_do_nothing(index_elements=["idempotency_key"])
        )
        pending = {"status": "pending", "attempts": 0, "created_at": now, "next_attempt_at": now}
        found = connection.execute(stmt.returning(*_RETURNED), [r | pending for r in rows])
    queued = {row.idempotency_key: int(row.id) for row in found}
    bodies = [
        {"outbox_id": queued[m.idempotency_key], "message": m.message}
        for m in messages
        if m.idempotency_key in queued
    ]
    if bodies:
        connection.execute(insert(_BODIES), bodies)
    return queued


_RETURNED = (_OUTBOX.c.id, _OUTBOX.c.idempotency_key)
_GIVEN = ("idempotency_key", "message_id", "kind", "subscriber_id", "to_address", "subject")


def _from_arrays(connection: Connection, rows: list[dict[str, Any]], *, now: datetime) -> Any:
    """PostgreSQL: the outbox rows as one INSERT from six arrays (``unnest``), as the ledger's
    are. A multi-row VALUES (what SQLAlchemy sends for an INSERT ... RETURNING of many rows)
    is one text per number of rows, ~19 KB for 50 digests: too long for psycopg's cache of
    converted statements, so converted again every batch, and planned again by the server."""
    arrays = [array_of(connection, [r[c] for r in rows], _OUTBOX.c[c]) for c in _GIVEN]
    given = func.unnest(*arrays).table_valued(*_GIVEN).render_derived()
    fixed = {
        "status": literal("pending", _OUTBOX.c.status.type),
        "attempts": literal(0, _OUTBOX.c.attempts.type),
        "created_at": literal(now, _OUTBOX.c.created_at.type),
        "next_attempt_at": literal(now, _OUTBOX.c.next_attempt_at.type),
    }
    stmt = (
        _dialect(connection)
        .insert(_OUTBOX)
        .from_select([*_GIVEN, *fixed], select(*(given.c[c] for c in _GIVEN), *fixed.values()))
    )
    return stmt.on_conflict_do_nothing(index_elements=["idempotency_key"])


def enqueue_one(engine: Engine, outgoing: OutgoingMessage, *, now: datetime) -> int | None:
    with write_transaction(engine) as connection:
        return enqueue(connection, outgoing, now=now)


@dataclass(frozen=True, slots=True)
class ClaimedMessage:
    """A claimed row as a sender reads it: plain values from a Core row (an ORM object per
    message was a visible share of sending)."""

    id: int
    idempotency_key: str
    message_id: str
    kind: str
    subscriber_id: int | None
    to_address: str
    message: str
    attempts: int
    last_error: str | None


_CLAIMED = tuple(_OUTBOX.c[f.name] for f in fields(ClaimedMessage) if f.name != "message")


def claim(
    engine: Engine,
    *,
    worker: str,
    now: datetime,
    lease_seconds: float,
    limit: int = 50,
    only: Sequence[int] | None = None,
) -> list[ClaimedMessage]:
    """Claim up to ``limit`` due rows (of ``only`` these ids, if given) for ``worker`` until
    the lease runs out."""
    due = (
        select(_OUTBOX.c.id)
        .where(
            _OUTBOX.c.status == "pending",
            _OUTBOX.c.next_attempt_at <= now,
            (_OUTBOX.c.lease_until.is_(None)) | (_OUTBOX.c.lease_until < now),
        )
        .order_by(_OUTBOX.c.id)
        .limit(limit)
    )
    if only is not None:
        due = due.where(_OUTBOX.c.id.in_(list(only)))
    with write_transaction(engine) as connection:
        if connection.dialect.name == "postgresql":
            due = due.with_for_update(skip_locked=True)
        stmt = (
            update(_OUTBOX)
            .where(_OUTBOX.c.id.in_(due.scalar_subquery()))
            .values(
                claimed_by=worker,
                lease_until=now + timedelta(seconds=lease_seconds),
                attempts=_OUTBOX.c.attempts + 1,
            )
            .returning(*_CLAIMED)
        )
        rows = connection.execute(stmt).all()
        bodies = _bodies(connection, [row.id for row in rows])
    return sorted(
        (
            ClaimedMessage(
                row.id,
                row.idempotency_key,
                row.message_id,
                row.kind,
                row.subscriber_id,
                row.to_address,
                bodies[row.id],
                row.attempts,
                row.last_error,
            )
            for row in rows
        ),
        key=lambda m: m.id,
    )


def _bodies(connection: Connection, outbox_ids: Sequence[int]) -> dict[int, str]:
    if not outbox_ids:
        return {}
    # One text whatever the number claimed on PostgreSQL (an IN list was one per count).
    found = connection.execute(
        select(_BODIES.c.outbox_id, _BODIES.c.message).where(
            among(connection, _BODIES.c.outbox_id, outbox_ids)
        )
    )
    return {int(row.outbox_id): row.message for row in found}


_MARK_SENT = (
    update(_OUTBOX)
    .where(
        _OUTBOX.c.id == bindparam("outbox_id"),
        _OUTBOX.c.claimed_by == bindparam("worker"),
        _OUTBOX.c.status == "pending",
    )
    .values(status="sent", sent_at=bindparam("now"), lease_until=None, last_error=None)
)


def mark_sent(
    engine: Engine,
    outbox_id: int,
    *,
    worker: str,
    now: datetime,
    delivered_to: int | None = None,
) -> bool:
    """Mark a claimed row sent; False when the lease was lost to another sender. With
    ``delivered_to`` (a subscriber id) its failure count is reset in the same transaction:
    a delivery means the address works (one commit per message, not two)."""
    with write_transaction(engine) as connection:
        result = connection.execute(
            _MARK_SENT, {"outbox_id": outbox_id, "worker": worker, "now": now}
        )
        if delivered_to is not None:
            reset_failures(connection, delivered_to)
        return result.rowcount == 1


@dataclass(frozen=True, slots=True)
class SentMark:
    """A claimed row the mail server accepted, at ``sent_at``, to mark sent."""

    outbox_id: int
    subscriber_id: int | None
    sent_at: datetime


def mark_sent_many(engine: Engine, marks: Sequence[SentMark], *, worker: str) -> int:
    """``mark_sent`` for several rows in one transaction (one commit, not one per message):
    how many were still this worker's to mark."""
    if not marks:
        return 0
    with write_transaction(engine) as connection:
        result = connection.execute(
            _MARK_SENT,
            [{"outbox_id": m.outbox_id, "worker": worker, "now": m.sent_at} for m in marks],
        )
        reset_failures_of(connection, {m.subscriber_id for m in marks if m.subscriber_id})
        return int(result.rowcount)


def mark_failed(
    engine: Engine,
    outbox_id: int,
    *,
    worker: str,
    error: str,
    retry_at: datetime | None,
) -> None:
    """Record a failed attempt: retried at ``retry_at``, or failed for good when None."""
    values: dict[str, object] = {"last_error": error[:2000], "lease_until": None}
    if retry_at is None:
        values["status"] = "failed"
    else:
        values["next_attempt_at"] = retry_at
    with write_transaction(engine) as connection:
        connection.execute(
            update(_OUTBOX)
            .where(_OUTBOX.c.id == outbox_id, _OUTBOX.c.claimed_by == worker)
            .values(**values)
        )


def retry_failed(engine: Engine, *, now: datetime) -> int:
    """Put permanently failed rows back in the queue (an operator's decision); rows whose
    body was deleted after the retention period (db/outbox_prune.py) stay failed."""
    with write_transaction(engine) as connection:
        result = connection.execute(
            update(_OUTBOX)
            .where(
                _OUTBOX.c.status == "failed",
                _OUTBOX.c.id.in_(select(_BODIES.c.outbox_id)),
            )
            .values(status="pending", next_attempt_at=now, lease_until=None)
        )
        return int(result.rowcount)


def depth(engine: Engine) -> dict[str, int]:
    """Rows per status (pending, sent, failed)."""
    with read_connection(engine) as connection:
        rows = connection.execute(
            select(_OUTBOX.c.status, func.count()).group_by(_OUTBOX.c.status)
        ).all()
    return {str(status): int(count) for status, count in rows}


@dataclass(frozen=True, slots=True)
class OutboxRow:
    """An outbox row with its email, as `councilwatch outbox` and tests read it."""

    id: int
    idempotency_key: str
    message_id: str
    kind: str
    subscriber_id: int | None
    to_address: str
    subject: str
    status: str
    attempts: int
    created_at: datetime
    next_attempt_at: datetime
    lease_until: datetime | None
    claimed_by: str | None
    sent_at: datetime | None
    last_error: str | None
    message: str  # RFC 5322 text (outbox_bodies)


def pending(engine: Engine, *, limit: int = 100) -> list[OutboxRow]:
    """Rows not sent yet (pending or failed for good), oldest first, with their emails."""
    with read_connection(engine) as connection:
        rows = connection.execute(
            select(_OUTBOX, _BODIES.c.message)
            .join(_BODIES, _BODIES.c.outbox_id == _OUTBOX.c.id)
            .where(_OUTBOX.c.status != "sent")
            .order_by(_OUTBOX.c.id)
            .limit(limit)
        ).all()
    return [OutboxRow(**row._mapping) for row in rows]
