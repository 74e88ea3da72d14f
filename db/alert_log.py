"""What the alert index reads: the alerts that deliver, and the log of changes to them.

The log (``alert_changes``) is written by triggers on ``alerts`` and ``subscribers`` (see
migration 0005), one row per changed alert or subscriber status, naming the subscriber. A
reader remembers the last id it has seen and asks only for subscribers changed since.
"""

from __future__ import annotations

import sys
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, func, select

from db.engine import read_connection
from db.tables import ALERT_CHANGES as _CHANGES
from db.tables import ALERTS as _ALERTS
from db.tables import SUBSCRIBERS as _SUBS


@dataclass(frozen=True, slots=True)
class ActiveAlert:
    """An alert that delivers (confirmed subscriber, not paused, not deleted), as matched."""

    id: int
    subscriber_id: int
    name: str
    created_at: datetime
    query: str | None
    councils: tuple[str, ...]
    counties: tuple[str, ...]
    kinds: tuple[str, ...]
    outcomes: tuple[str, ...]
    categories: tuple[str, ...]
    sources: tuple[str, ...]


ALERT_COLUMNS = (
    _ALERTS.c.id,
    _ALERTS.c.subscriber_id,
    _ALERTS.c.name,
    _ALERTS.c.created_at,
    _ALERTS.c.query,
    _ALERTS.c.councils,
    _ALERTS.c.counties,
    _ALERTS.c.kinds,
    _ALERTS.c.outcomes,
    _ALERTS.c.categories,
    _ALERTS.c.sources,
)


def last_change(engine: Engine) -> int:
    """The newest change id (0 when nothing was ever logged)."""
    with read_connection(engine) as connection:
        return int(
            connection.execute(select(func.coalesce(func.max(_CHANGES.c.id), 0))).scalar_one()
        )


def changed_subscribers(engine: Engine, since: int) -> tuple[set[int], int]:
    """Subscribers with a change logged after id ``since``, and the newest id read."""
    with read_connection(engine) as connection:
        rows = connection.execute(
            select(_CHANGES.c.id, _CHANGES.c.subscriber_id).where(_CHANGES.c.id > since)
        ).all()
    return {row.subscriber_id for row in rows}, max((row.id for row in rows), default=since)


def active_alerts(
    engine: Engine, subscriber_ids: Collection[int] | None = None
) -> list[ActiveAlert]:
    """The alerts that deliver, by id; only these subscribers' when ``subscriber_ids`` is given.

    SQLAlchemy Core rows, not ORM objects: 100,000 alerts load in about a second.
    """
    stmt = (
        select(*ALERT_COLUMNS)
        .join(_SUBS, _SUBS.c.id == _ALERTS.c.subscriber_id)
        .where(
            _SUBS.c.status == "active",
            _ALERTS.c.deleted_at.is_(None),
            _ALERTS.c.paused.is_(False),
        )
        .order_by(_ALERTS.c.id)
    )
    found: list[ActiveAlert] = []
    ids = sorted(subscriber_ids) if subscriber_ids is not None else None
    chunks = [None] if ids is None else [ids[k : k + 500] for k in range(0, len(ids), 500)]
    with read_connection(engine) as connection:
        for chunk in chunks:
            query = stmt if chunk is None else stmt.where(_ALERTS.c.subscriber_id.in_(chunk))
            found.extend(active_alert(row) for row in connection.execute(query))
    return found


def _names(values: list[str]) -> tuple[str, ...]:
    # Council ids, kinds, outcomes: a few hundred distinct words repeated across 100,000
    # alerts; each decoded from JSON is a new string unless interned.
    return tuple(map(sys.intern, values)) if values else ()


def active_alert(row: Any) -> ActiveAlert:
    """An alert from a Core row of ``ALERT_COLUMNS``."""
    return ActiveAlert(
        id=row.id,
        subscriber_id=row.subscriber_id,
        name=row.name,
        created_at=row.created_at,
        # Interned: the matcher keeps the query's normal form, interned too, and it is most
        # often this very text; then the index holds one string for both.
        query=sys.intern(row.query) if row.query else row.query,
        councils=_names(row.councils),
        counties=_names(row.counties),
        kinds=_names(row.kinds),
        outcomes=_names(row.outcomes),
        categories=_names(row.categories),
        sources=_names(row.sources),
    )
