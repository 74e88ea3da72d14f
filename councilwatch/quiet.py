"""Why a digest was quiet: per alert, the last digest sent, what the store holds for it in the
last 30 days, and the sources' health now. Shown on the manage page and by
`councilwatch subscriptions show`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from councilwatch.health import statuses
from councilwatch.preview import Preview, preview_or_none
from councilwatch.runtime import Runtime
from db.alert_history import alert_activity
from db.models_delivery import Alert, Subscriber
from db.subscriptions import AlertFields

QUIET_DAYS = 30


@dataclass(frozen=True)
class AlertQuiet:
    alert: Alert
    last_digest_sent_at: datetime | None
    last_item_sent_at: datetime | None
    matched: int  # matches recorded in the period (what digests drew from)
    caught: Preview | None  # what the store holds for it in the period (None: unreadable)

    def lines(self) -> list[str]:
        def when(moment: datetime | None) -> str:
            return f"{moment:%d %b %Y %H:%M}" if moment is not None else "never"

        return [
            f"last digest sent to you: {when(self.last_digest_sent_at)}",
            f"last digest with an item from this alert: {when(self.last_item_sent_at)}",
            f"items in the last {QUIET_DAYS} days: "
            + (f"{self.caught.total} stored that it matches, " if self.caught else "")
            + f"{self.matched} matched as they arrived",
        ]


def fields_of(alert: Alert) -> AlertFields:
    return AlertFields(
        name=alert.name,
        councils=tuple(alert.councils),
        counties=tuple(alert.counties),
        query=alert.query,
        kinds=tuple(alert.kinds),
        outcomes=tuple(alert.outcomes),
        categories=tuple(alert.categories),
        sources=tuple(alert.sources),
        frequency=alert.frequency,
    )


def quiet_report(
    runtime: Runtime, subscriber: Subscriber, alerts: list[Alert]
) -> tuple[list[AlertQuiet], list[str]]:
    """Each alert's recent activity, and one line per source unhealthy now."""
    engine = runtime.migrated_engine()
    now = runtime.now()
    activity = alert_activity(
        engine,
        subscriber.id or 0,
        [a.id or 0 for a in alerts],
        since=now - timedelta(days=QUIET_DAYS),
    )
    found = [
        AlertQuiet(
            alert=alert,
            last_digest_sent_at=activity.last_digest_sent_at,
            last_item_sent_at=activity.last_item_sent_at.get(alert.id or 0),
            matched=activity.matched_since.get(alert.id or 0, 0),
            caught=preview_or_none(
                engine,
                runtime.register,
                fields_of(alert),
                today=now.date(),
                days=QUIET_DAYS,
                items=0,
            ),
        )
        for alert in alerts
    ]
    health = [f"{s.name}: {s.reason}" for s in statuses(runtime) if not s.healthy and s.reason]
    return found, health
