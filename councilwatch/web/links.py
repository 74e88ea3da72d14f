"""Signed tokens the web pages mint beyond the mailer's confirm/manage/unsubscribe links."""

from __future__ import annotations

import hmac
import json
from dataclasses import dataclass

from alerts.mail.tokens import sign, verify
from councilwatch.config import Settings
from councilwatch.mailer import secret
from cwerrors import SubscriptionError
from cwerrors.numbers import MAX_ID, ascii_int
from db.models_delivery import Alert, Subscriber
from db.subscriptions import AlertFields

ATOM = "atom"
ADD_ALERT = "add-alert"


def atom_token(settings: Settings, alert: Alert, subscriber: Subscriber) -> str:
    # Signed over the subscriber's secret token too, so resubscribing revokes old feed URLs.
    return sign(secret(settings), ATOM, f"{alert.id}.{subscriber.id}.{subscriber.token}")


def atom_ids(settings: Settings, token: str) -> tuple[int, int, str]:
    """(alert id, subscriber id, subscriber token) of a feed token; SubscriptionError if forged."""
    value = verify(secret(settings), ATOM, token)
    alert_id, _, rest = value.partition(".")
    subscriber_id, _, raw = rest.partition(".")
    alert, subscriber = (
        ascii_int(alert_id, maximum=MAX_ID),
        ascii_int(subscriber_id, maximum=MAX_ID),
    )
    if alert is None or subscriber is None or not raw:
        raise SubscriptionError("invalid link token: malformed")
    return alert, subscriber, raw


@dataclass(frozen=True)
class AddAlertRequest:
    """An alert someone asked to add to an address that is already subscribed."""

    subscriber_id: int
    subscriber_token: str
    fields: AlertFields


def add_alert_token(settings: Settings, subscriber: Subscriber, fields: AlertFields) -> str:
    payload = {"s": subscriber.id, "t": subscriber.token, "a": fields.values()}
    return sign(secret(settings), ADD_ALERT, json.dumps(payload, separators=(",", ":")))


def add_alert_request(settings: Settings, token: str) -> AddAlertRequest:
    value = verify(secret(settings), ADD_ALERT, token)
    try:
        payload = json.loads(value)
        values = payload["a"]
        fields = AlertFields(
            name=str(values["name"]),
            councils=tuple(values["councils"]),
            counties=tuple(values["counties"]),
            query=values["query"],
            kinds=tuple(values["kinds"]),
            outcomes=tuple(values["outcomes"]),
            categories=tuple(values["categories"]),
            sources=tuple(values["sources"]),
            frequency=str(values["frequency"]),
        )
        return AddAlertRequest(int(payload["s"]), str(payload["t"]), fields)
    except (ValueError, KeyError, TypeError) as exc:
        raise SubscriptionError("invalid link token: malformed") from exc


def same_secret(stored: str, presented: str) -> bool:
    return hmac.compare_digest(stored.encode(), presented.encode())
