"""Subscribers and their alerts: create, confirm, change, unsubscribe, list.

Validation (address syntax, council names, query syntax) happens before these are called;
storage only guarantees identity (one row per address, one alert name per subscriber) and
that nothing is hard-deleted: an unsubscribed address and a deleted alert keep their rows.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Connection, Engine
from sqlmodel import Session, col, select

from db.engine import read_connection, write_transaction
from db.models_delivery import Alert, Subscriber

FREQUENCIES = ("immediate", "daily", "weekly")


@dataclass(frozen=True)
class AlertFields:
    name: str
    councils: Sequence[str] = ()
    counties: Sequence[str] = ()
    query: str | None = None
    kinds: Sequence[str] = ()
    outcomes: Sequence[str] = ()
    categories: Sequence[str] = ()
    sources: Sequence[str] = ()
    frequency: str = "daily"

    def values(self) -> dict[str, object]:
        return {
            "name": self.name,
            "councils": list(self.councils),
            "counties": list(self.counties),
            "query": self.query,
            "kinds": list(self.kinds),
            "outcomes": list(self.outcomes),
            "categories": list(self.categories),
            "sources": list(self.sources),
            "frequency": self.frequency,
        }


@dataclass
class SubscribeResult:
    subscriber: Subscriber
    alert: Alert
    new_address: bool
    needs_confirmation: bool


@dataclass
class SubscriptionView:
    subscriber: Subscriber
    alerts: list[Alert] = field(default_factory=list)


def _session(engine: Engine) -> Session:
    return Session(engine, expire_on_commit=False)


def subscribe(
    engine: Engine,
    *,
    email: str,
    new_token: str,
    alert: AlertFields,
    confirmed: bool,
    now: datetime,
    on_pending: Callable[[Connection, Subscriber, Alert], object] | None = None,
) -> SubscribeResult:
    """Add (or replace, by name) an alert for an address, creating the subscriber if new.

    A new or previously unsubscribed address is pending until it confirms, unless the operator
    adds it as confirmed. ``on_pending`` runs inside the same transaction when the address
    still needs confirming (to queue its confirmation email): if it raises, nothing is stored.
    """
    with (
        write_transaction(engine) as connection,
        Session(bind=connection, expire_on_commit=False) as session,
    ):
        subscriber = session.exec(select(Subscriber).where(Subscriber.email == email)).first()
        new_address = subscriber is None
        if subscriber is None:
            subscriber = Subscriber(email=email, token=new_token, created_at=now)
            session.add(subscriber)
        if confirmed and subscriber.status != "active":
            subscriber.status, subscriber.confirmed_at = "active", now
            subscriber.unsubscribed_at = None
        elif subscriber.status == "unsubscribed":
            # Coming back: a new confirmation, and old links (signed over the token) stop working.
            subscriber.status, subscriber.unsubscribed_at = "pending", None
            subscriber.token = new_token
        session.flush()
        existing = session.exec(
            select(Alert).where(Alert.subscriber_id == subscriber.id, Alert.name == alert.name)
        ).first()
        if existing is None:
            existing = Alert(subscriber_id=subscriber.id, created_at=now, **alert.values())  # type: ignore[arg-type]
            session.add(existing)
        else:
            for key, value in alert.values().items():
                setattr(existing, key, value)
            existing.deleted_at, existing.paused = None, False
        session.flush()
        if on_pending is not None and subscriber.status == "pending":
            on_pending(connection, subscriber, existing)
        session.commit()
        return SubscribeResult(
            subscriber=subscriber,
            alert=existing,
            new_address=new_address,
            needs_confirmation=subscriber.status == "pending",
        )


def confirm(engine: Engine, subscriber_id: int, *, now: datetime) -> bool:
    """Confirm a pending address; True when this call confirmed it."""
    with write_transaction(engine) as connection, Session(bind=connection) as session:
        subscriber = session.get(Subscriber, subscriber_id)
        if subscriber is None or subscriber.status == "active":
            return False
        subscriber.status, subscriber.confirmed_at = "active", now
        subscriber.unsubscribed_at = None
        session.commit()
        return True


def unsubscribe(
    engine: Engine, subscriber_id: int, *, now: datetime, alert_name: str | None = None
) -> int:
    """Unsubscribe from one alert (by name) or from everything; returns alerts affected."""
    with write_transaction(engine) as connection, Session(bind=connection) as session:
        subscriber = session.get(Subscriber, subscriber_id)
        if subscriber is None:
            return 0
        query = select(Alert).where(
            Alert.subscriber_id == subscriber_id, col(Alert.deleted_at).is_(None)
        )
        if alert_name is not None:
            query = query.where(Alert.name == alert_name)
        alerts = list(session.exec(query))
        for alert in alerts:
            alert.deleted_at = now
        if alert_name is None:
            subscriber.status, subscriber.unsubscribed_at = "unsubscribed", now
            # Every link is signed over this secret: a new one retires the old manage and
            # confirm links (POSTing an old confirm link reactivated the address).
            subscriber.token = secrets.token_urlsafe(24)
        session.commit()
        return len(alerts)


def update_alert(engine: Engine, alert_id: int, **changes: object) -> Alert | None:
    allowed = {
        "frequency",
        "paused",
        "query",
        "councils",
        "counties",
        "kinds",
        "outcomes",
        "categories",
        "sources",
        "name",
        "deleted_at",
    }
    unknown = set(changes) - allowed
    if unknown:
        raise ValueError(f"cannot change {sorted(unknown)} on an alert")
    with (
        write_transaction(engine) as connection,
        Session(bind=connection, expire_on_commit=False) as session,
    ):
        alert = session.get(Alert, alert_id)
        if alert is None:
            return None
        for key, value in changes.items():
            setattr(alert, key, value)
        session.commit()
        return alert


def find_subscriber(
    engine: Engine, *, email: str | None = None, subscriber_id: int | None = None
) -> Subscriber | None:
    with read_connection(engine) as connection, Session(bind=connection) as session:
        query = select(Subscriber)
        query = (
            query.where(Subscriber.email == email)
            if email is not None
            else query.where(Subscriber.id == subscriber_id)
        )
        found = session.exec(query).first()
        if found is not None:
            session.expunge(found)
        return found


def subscriptions(engine: Engine, *, include_deleted: bool = False) -> list[SubscriptionView]:
    with read_connection(engine) as connection, Session(bind=connection) as session:
        views = {
            s.id: SubscriptionView(s)
            for s in session.exec(select(Subscriber).order_by(Subscriber.email))
        }
        query = select(Alert).order_by(col(Alert.subscriber_id), col(Alert.name))
        if not include_deleted:
            query = query.where(col(Alert.deleted_at).is_(None))
        for alert in session.exec(query):
            views[alert.subscriber_id].alerts.append(alert)
        session.expunge_all()
        return list(views.values())


def active_alerts(engine: Engine) -> list[Alert]:
    """Alerts that deliver: confirmed subscriber, not paused, not deleted."""
    with read_connection(engine) as connection, Session(bind=connection) as session:
        rows = session.exec(
            select(Alert)
            .join(Subscriber, col(Subscriber.id) == Alert.subscriber_id)
            .where(
                Subscriber.status == "active",
                col(Alert.deleted_at).is_(None),
                col(Alert.paused).is_(False),
            )
            .order_by(col(Alert.id))
        ).all()
        session.expunge_all()
        return list(rows)
