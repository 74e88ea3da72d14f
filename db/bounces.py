"""Delivery failures per subscriber: counted on a permanent failure, reset on a delivery; an
active subscriber whose mail failed ``limit`` times in a row is marked bouncing."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import Connection, Engine, bindparam, update

from db.delivery_tables import SUBSCRIBERS as _SUBS
from db.engine import write_transaction
from db.id_lists import among


def count_bounce(engine: Engine, subscriber_id: int, error: str, *, limit: int) -> None:
    with write_transaction(engine) as connection:
        connection.execute(
            update(_SUBS)
            .where(_SUBS.c.id == subscriber_id)
            .values(failures=_SUBS.c.failures + 1, last_failure=error[:1000])
        )
        connection.execute(
            update(_SUBS)
            .where(
                _SUBS.c.id == subscriber_id,
                _SUBS.c.failures >= limit,
                _SUBS.c.status == "active",
            )
            .values(status="bouncing")
        )


_RESET = (
    update(_SUBS)
    .where(_SUBS.c.id == bindparam("subscriber_id"), _SUBS.c.failures > 0)
    .values(failures=0)
)


def reset_failures(connection: Connection, subscriber_id: int) -> None:
    """A delivery to this subscriber worked: its run of failures is over (in the caller's
    transaction)."""
    connection.execute(_RESET, {"subscriber_id": subscriber_id})


def reset_failures_of(connection: Connection, subscriber_ids: Collection[int]) -> None:
    """``reset_failures`` for several subscribers in one statement (a sender marks its
    deliveries in groups: one UPDATE per message was a round trip each on PostgreSQL)."""
    if subscriber_ids:
        connection.execute(
            update(_SUBS)
            .where(among(connection, _SUBS.c.id, sorted(subscriber_ids)), _SUBS.c.failures > 0)
            .values(failures=0)
        )
