"""The matcher over the stored alerts, kept between batches and brought up to date with them.

Filing 100,000 alerts takes seconds, and a crawl stores its documents a page at a time, so
building a matcher per batch would cost more than matching. The index instead compares the
stored alerts with what it filed last time and files only the differences; the matcher's
per-word cache then stays warm from one batch to the next. One index per process (held by
the Runtime); a lock serialises batches from concurrent jobs.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence

from sqlalchemy import Engine

from alerts.councils import Register
from alerts.documents import AlertSpec, Match, MatchDocument
from alerts.matcher import Matcher
from alerts.validity import valid_alert_query
from cwerrors import CouncilwatchError
from db.models_delivery import Alert
from db.subscriptions import active_alerts

log = logging.getLogger("councilwatch.alerts")


def alert_spec(alert: Alert, register: Register) -> AlertSpec:
    """The matcher's view of a stored alert: councils expanded now, so successors and
    councils added to a county later are followed."""
    councils = set(register.expand(alert.councils, county_wide=False))
    if alert.counties:
        councils |= register.expand(alert.counties, county_wide=True)
    return AlertSpec(
        id=alert.id or 0,
        councils=frozenset(councils),
        query=valid_alert_query(
            alert.query,
            councils=alert.councils,
            counties=alert.counties,
            outcomes=alert.outcomes,
            categories=alert.categories,
        ),
        kinds=frozenset(alert.kinds),
        outcomes=frozenset(alert.outcomes),
        categories=frozenset(alert.categories),
        sources=frozenset(alert.sources),
    )


def _fingerprint(alert: Alert) -> tuple[object, ...]:
    """What an alert's spec is made from: equal fingerprints, equal specs (same register)."""
    return (
        alert.query,
        tuple(alert.councils),
        tuple(alert.counties),
        tuple(alert.kinds),
        tuple(alert.outcomes),
        tuple(alert.categories),
        tuple(alert.sources),
    )


class AlertIndex:
    """Matches documents against the alerts stored now, refiling only what changed."""

    def __init__(self, report: Callable[[Alert, str], None] | None = None) -> None:
        # Told of each alert that cannot be filed, once per version (an operator email).
        self._report = report
        self._lock = threading.Lock()
        self._matcher = Matcher()
        # alert id -> fingerprint last seen (filed, or refused with a warning)
        self._seen: dict[int, tuple[object, ...]] = {}
        self._register: Register | None = None

    def match(
        self, engine: Engine, register: Register, docs: Sequence[MatchDocument]
    ) -> tuple[list[Match], dict[int, Alert]]:
        """The matches of ``docs`` against the active alerts, and those alerts by id."""
        with self._lock:
            alerts = {alert.id or 0: alert for alert in active_alerts(engine)}
            self._sync(alerts, register)
            return self._matcher.match(docs), alerts

    def __len__(self) -> int:
        return len(self._matcher)

    def _sync(self, alerts: dict[int, Alert], register: Register) -> None:
        if register is not self._register:  # councils updated: every expansion may differ
            self._matcher = Matcher()
            self._seen = {}
            self._register = register
        for alert_id in self._seen.keys() - alerts.keys():  # deleted, paused, unsubscribed
            self._matcher.remove(alert_id)
            del self._seen[alert_id]
        for alert_id, alert in alerts.items():
            fingerprint = _fingerprint(alert)
            if self._seen.get(alert_id) == fingerprint:
                continue
            self._seen[alert_id] = fingerprint
            try:
                spec = alert_spec(alert, register)
            except CouncilwatchError as exc:  # a council removed from the register, a bad query
                self._matcher.remove(alert_id)
                log.warning("alert %s (%s) cannot be matched: %s", alert.id, alert.name, exc)
                self._refused(alert, str(exc))
                continue
            try:
                self._matcher.add(spec)  # replaces the alert's earlier spec
            except Exception as exc:  # add changes nothing when it fails: the others go on
                self._matcher.remove(alert_id)
                log.error("alert %s (%s) cannot be filed", alert.id, alert.name, exc_info=True)
                self._refused(alert, f"the matcher cannot file it ({type(exc).__name__})")

    def _refused(self, alert: Alert, reason: str) -> None:
        if self._report is not None:
            try:
                self._report(alert, reason)
            except Exception:  # a failing report must not stop matching for the others
                log.exception("alert %s: reporting it failed", alert.id)
