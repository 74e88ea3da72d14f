"""The last known health of each source (``source_state``), so a change is reported once."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine, select

from db import outbox
from db.engine import read_connection, write_transaction
from db.outbox import OutgoingMessage
from db.run_tables import SOURCE_STATE as _STATE


def known_health(engine: Engine) -> dict[str, bool]:
    """Source name -> healthy, for every source whose health was ever recorded."""
    with read_connection(engine) as connection:
        return {row.source: row.healthy for row in connection.execute(select(_STATE))}


def unhealthy_since(engine: Engine) -> dict[str, datetime]:
    """Source name -> when it became unhealthy, for the sources unhealthy now."""
    with read_connection(engine) as connection:
        rows = connection.execute(select(_STATE).where(_STATE.c.healthy.is_(False)))
        return {row.source: row.changed_at for row in rows}


def record_health_change(
    engine: Engine,
    source: str,
    *,
    healthy: bool,
    reason: str | None,
    now: datetime,
    message: OutgoingMessage | None,
) -> None:
    """Store the new state and queue the operator's email about it in one transaction."""
    values = {"healthy": healthy, "changed_at": now, "reason": reason}
    with write_transaction(engine) as connection:
        updated = connection.execute(
            _STATE.update().where(_STATE.c.source == source).values(**values)
        )
        if not updated.rowcount:
            connection.execute(_STATE.insert().values(source=source, **values))
        if message is not None:
            outbox.enqueue(connection, message, now=now)
