"""What an alert has sent lately: so a quiet digest can be told from a broken one."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, func, select

from db.engine import read_connection
from db.matches import recent_sets_of
from db.tables import OUTBOX as _OUTBOX
from db.tables import SENT_ITEMS as _LEDGER

# How many of the newest match sets are read for an alert's recent matches.
RECENT_SETS = 5_000
# SQLite limits bound parameters per statement.
_CHUNK = 500


@dataclass(frozen=True)
class AlertActivity:
    last_digest_sent_at: datetime | None  # the subscriber's last digest, whatever it held
    last_item_sent_at: dict[int, datetime]  # per alert: the last sent digest carrying its item
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
    matched: dict[int, int] = {}
    last_item: dict[int, datetime] = {}
    for alert_id in alert_ids:
        rows = recent_sets_of(engine, alert_id, limit=RECENT_SETS, scan=RECENT_SETS)
        matched[alert_id] = sum(1 for row in rows if _aware(row.matched_at, since) >= since)
        # The alert's documents that reached this subscriber: the ledger says in which message.
        documents = sorted({row.document_id for row in rows})
        newest: datetime | None = None
        with read_connection(engine) as connection:
            for start in range(0, len(documents), _CHUNK):
                found = connection.execute(
                    select(func.max(_OUTBOX.c.sent_at))
                    .select_from(_LEDGER.join(_OUTBOX, _OUTBOX.c.id == _LEDGER.c.outbox_id))
                    .where(
                        _LEDGER.c.subscriber_id == subscriber_id,
                        _LEDGER.c.document_id.in_(documents[start : start + _CHUNK]),
                        _OUTBOX.c.status == "sent",
                    )
                ).scalar()
                if found is not None and (newest is None or found > newest):
                    newest = found
        if newest is not None:
            last_item[alert_id] = newest
    return AlertActivity(last_sent, last_item, matched)
