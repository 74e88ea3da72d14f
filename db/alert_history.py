"""What an alert has sent lately: so a quiet digest can be told from a broken one."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, func, select

from db.engine import read_connection
from db.matches import recent_sets_of
from db.tables import OUTBOX as _OUTBOX

# How many of the newest match sets are read for an alert's recent matches.
RECENT_SETS = 5_000


@dataclass(frozen=True)
class AlertActivity:
    last_digest_sent_at: datetime | None  # the subscriber's last digest, whatever it held
    last_item_sent_at: dict[int, datetime]  # per alert: unknown since matches are sets (empty)
    matched_since: dict[int, int]  # per alert: matches recorded since the given time


def _aware(moment: datetime, like: datetime) -> datetime:
    return moment.replace(tzinfo=like.tzinfo) if moment.tzinfo is None else moment


def alert_activity(
    engine: Engine, subscriber_id: int, alert_ids: Sequence[int], *, since: datetime
) -> AlertActivity:
    with read_connection(engine) as connection:
        last_sent = connection.execute(
            select(func.max(_OUTBOX.c.sent_at)).where(
                _OUTBOX.c.subscriber_id == subscriber_id,
                _OUTBOX.c.kind == "digest",
                _OUTBOX.c.status == "sent",
            )
        ).scalar()
    matched = {
        alert_id: sum(
            1
            for row in recent_sets_of(engine, alert_id, limit=RECENT_SETS, scan=RECENT_SETS)
            if _aware(row.matched_at, since) >= since
        )
        for alert_id in alert_ids
    }
    return AlertActivity(last_sent, {}, matched)
