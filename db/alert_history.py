"""What an alert has sent lately: so a quiet digest can be told from a broken one."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, func, select

from db.engine import read_connection
from db.tables import ALERT_MATCHES as _MATCHES
from db.tables import OUTBOX as _OUTBOX


@dataclass(frozen=True)
class AlertActivity:
    last_digest_sent_at: datetime | None  # the subscriber's last digest, whatever it held
    last_item_sent_at: dict[int, datetime]  # per alert: the last digest with one of its items
    matched_since: dict[int, int]  # per alert: matches recorded since the given time


def alert_activity(
    engine: Engine, subscriber_id: int, alert_ids: Sequence[int], *, since: datetime
) -> AlertActivity:
    ids = list(alert_ids)
    with read_connection(engine) as connection:
        last_sent = connection.execute(
            select(func.max(_OUTBOX.c.sent_at)).where(
                _OUTBOX.c.subscriber_id == subscriber_id,
                _OUTBOX.c.kind == "digest",
                _OUTBOX.c.status == "sent",
            )
        ).scalar()
        digested = connection.execute(
            select(_MATCHES.c.alert_id, func.max(_MATCHES.c.digested_at))
            .where(_MATCHES.c.alert_id.in_(ids), _MATCHES.c.digested_at.is_not(None))
            .group_by(_MATCHES.c.alert_id)
        ).all()
        matched = connection.execute(
            select(_MATCHES.c.alert_id, func.count())
            .where(_MATCHES.c.alert_id.in_(ids), _MATCHES.c.matched_at >= since)
            .group_by(_MATCHES.c.alert_id)
        ).all()
    return AlertActivity(
        last_sent,
        {int(a): when for a, when in digested if when is not None},
        {int(a): int(n) for a, n in matched},
    )
