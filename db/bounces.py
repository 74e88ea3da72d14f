"""Delivery failures per subscriber: counted on a permanent failure, reset on a delivery; an
active subscriber whose mail failed ``limit`` times in a row is marked bouncing."""

from __future__ import annotations

from sqlalchemy import Engine, update

from db.engine import write_transaction
from db.tables import SUBSCRIBERS as _SUBS


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


def reset_bounces(engine: Engine, subscriber_id: int) -> None:
    with write_transaction(engine) as connection:
        connection.execute(
            update(_SUBS)
            .where(_SUBS.c.id == subscriber_id, _SUBS.c.failures > 0)
            .values(failures=0)
        )
