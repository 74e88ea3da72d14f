"""What confirmed subscribers follow, for the service to read the news that covers it."""

from __future__ import annotations

from sqlalchemy import Engine, select

from db.engine import read_connection
from db.tables import ALERTS as _ALERTS
from db.tables import SUBSCRIBERS as _SUBSCRIBERS


def followed_councils(engine: Engine) -> tuple[frozenset[str], frozenset[str]]:
    """(council ids, county ids) named by the live alerts of confirmed subscribers."""
    councils: set[str] = set()
    counties: set[str] = set()
    with read_connection(engine) as connection:
        rows = connection.execute(
            select(_ALERTS.c.councils, _ALERTS.c.counties)
            .join(_SUBSCRIBERS, _SUBSCRIBERS.c.id == _ALERTS.c.subscriber_id)
            .where(
                _SUBSCRIBERS.c.status == "active",
                _ALERTS.c.deleted_at.is_(None),
                _ALERTS.c.paused.is_(False),
            )
        )
        for row in rows:
            councils.update(row.councils or ())
            counties.update(row.counties or ())
    return frozenset(councils), frozenset(counties)
