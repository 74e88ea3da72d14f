"""The matcher over the stored alerts, kept between batches and brought up to date with them.

Filing 100,000 alerts takes seconds, and a crawl stores its documents a page at a time, so
building a matcher per batch would cost more than matching; so would reading every alert per
batch (6 s of CPU and 800 MB through the ORM at 100,000 alerts). The index loads the alerts
once, then follows the change log that database triggers keep (db/alert_log.py): each batch
asks which subscribers changed since the last change it read, reloads only their alerts and
refiles only those that differ. The matcher's per-word cache then stays warm from one batch
to the next. One index per process (held by the Runtime); a lock serialises batches from
concurrent jobs.
"""

from __future__ import annotations

import gc
import logging
import threading
from collections.abc import Callable, Collection, Iterable, Sequence

from sqlalchemy import Engine

from alerts.councils import Register
from alerts.documents import AlertSpec, MatchDocument
from alerts.matcher import MatchedBatch, Matcher
from alerts.validity import valid_alert_query
from cwerrors import CouncilwatchError
from db.alert_log import ActiveAlert, active_alerts, changed_subscribers, last_change
from db.models_delivery import Alert

# A stored alert as the index reads it (Core rows) or as pages and commands hold it (ORM).
StoredAlert = ActiveAlert | Alert

log = logging.getLogger("councilwatch.alerts")


# Equal sets shared between specs: CPython makes a new 216-byte object for every frozenset,
# even an empty one, and most of an alert's five sets are empty or repeat another alert's
# (about 1 KB an alert, 100 MB of a 100,000-alert index). Bounded by the distinct sets seen.
_SHARED_SETS: dict[frozenset[str], frozenset[str]] = {}


def _shared(values: Iterable[str]) -> frozenset[str]:
    found = frozenset(values)
    return _SHARED_SETS.setdefault(found, found)


def alert_spec(alert: StoredAlert, register: Register) -> AlertSpec:
    """The matcher's view of a stored alert: councils expanded now, so successors and
    councils added to a county later are followed."""
    councils = set(register.expand(alert.councils, county_wide=False))
    if alert.counties:
        councils |= register.expand(alert.counties, county_wide=True)
    return AlertSpec(
        id=alert.id or 0,
        councils=_shared(councils),
        query=valid_alert_query(
            alert.query,
            councils=alert.councils,
            counties=alert.counties,
            outcomes=alert.outcomes,
            categories=alert.categories,
        ),
        kinds=_shared(alert.kinds),
        outcomes=_shared(alert.outcomes),
        categories=_shared(alert.categories),
        sources=_shared(alert.sources),
    )


def _fingerprint(alert: ActiveAlert) -> tuple[object, ...]:
    """What an alert's spec is made from: equal fingerprints, equal specs (same register)."""
    return (
        alert.query,
        alert.councils,
        alert.counties,
        alert.kinds,
        alert.outcomes,
        alert.categories,
        alert.sources,
    )


# A full load of at least this many alerts is frozen out of the cyclic collector.
FREEZE_AT = 5_000


def _freeze() -> None:
    """Move every object alive now out of the cyclic collector's way (``gc.freeze``).

    The index is the process's biggest and longest-lived structure (about two million
    objects at 100,000 alerts), and every full collection walked it again: ~10% of a
    digest run's CPU. It holds no reference cycles, so reference counting still frees what
    a later refresh replaces or a new full load drops. Collected first: garbage frozen now
    would never be collected. Here rather than in the service because only the index
    knows when it has been filed (on the first batch, and again after a new register).
    """
    gc.collect()
    gc.freeze()


class AlertIndex:
    """Matches documents against the alerts stored now, refiling only what changed."""

    def __init__(self, report: Callable[[StoredAlert, str], None] | None = None) -> None:
        # Told of each alert that cannot be filed, once per version (an operator email).
        self._report = report
        self._lock = threading.Lock()
        self._reset(None)

    def _reset(self, register: Register | None) -> None:
        self._matcher = Matcher()
        self._register = register
        self._version: int | None = None  # the last change id applied; None: load everything
        # alert id -> the version last seen, filed or refused (a fingerprint per alert as
        # well was 100 bytes an alert)
        self._alerts: dict[int, ActiveAlert] = {}
        # subscriber id -> ids of their alerts (a tuple: most hold one or two, and a set
        # costs 216 bytes even for one)
        self._by_subscriber: dict[int, tuple[int, ...]] = {}

    def match(
        self, engine: Engine, register: Register, docs: Sequence[MatchDocument]
    ) -> tuple[MatchedBatch, dict[int, ActiveAlert]]:
        """The matches of ``docs`` against the active alerts (each document's alert ids;
        iterated, the Matches, until the next batch changes the index), and the matched
        alerts by id."""
        with self._lock:
            self.refresh(engine, register)
            found = self._matcher.matched(docs)
            alerts = self._alerts
            return found, {int(a): alerts[int(a)] for a in found.alert_ids()}

    def refresh(self, engine: Engine, register: Register) -> int:
        """Bring the index up to date with the stored alerts; returns subscribers reloaded
        (-1 for a full load: the first batch, or a new council register)."""
        if register is not self._register or self._version is None:
            self._reset(register)
            # Read the log's position first: a change made while loading is read again next
            # time, which refiles nothing it does not need to.
            version = last_change(engine)
            # Filing makes millions of objects and no reference cycles: the collector,
            # left on, would walk the growing index again and again while it is filed.
            was_enabled = gc.isenabled()
            gc.disable()
            try:
                self._apply(None, active_alerts(engine), register)
            finally:
                if was_enabled:
                    gc.enable()
            self._version = version
            if len(self._matcher) >= FREEZE_AT:
                _freeze()
            return -1
        changed, version = changed_subscribers(engine, self._version)
        if changed:
            self._apply(changed, active_alerts(engine, changed), register)
        self._version = version
        return len(changed)

    def __len__(self) -> int:
        return len(self._matcher)

    def _apply(
        self, subscribers: Collection[int] | None, rows: list[ActiveAlert], register: Register
    ) -> None:
        fresh = {row.id: row for row in rows}
        if subscribers is not None:  # alerts of these subscribers that no longer deliver
            for subscriber_id in subscribers:
                for alert_id in set(self._by_subscriber.pop(subscriber_id, ())) - fresh.keys():
                    self._matcher.remove(alert_id)
                    self._alerts.pop(alert_id, None)
        for alert_id, alert in fresh.items():
            # The version last seen (filed, or refused with a warning): unchanged, nothing to do.
            before = self._alerts.get(alert_id)
            self._alerts[alert_id] = alert
            held = self._by_subscriber.get(alert.subscriber_id, ())
            if alert_id not in held:
                self._by_subscriber[alert.subscriber_id] = (*held, alert_id)
            if before is not None and _fingerprint(before) == _fingerprint(alert):
                continue
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

    def _refused(self, alert: StoredAlert, reason: str) -> None:
        if self._report is not None:
            try:
                self._report(alert, reason)
            except Exception:  # a failing report must not stop matching for the others
                log.exception("alert %s: reporting it failed", alert.id)
