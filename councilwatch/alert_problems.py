"""Alerts that cannot be matched: told to the operator by email, once per version of the alert.

The index files every valid alert; one it cannot file (a council gone from the register, a
query saved before the limits, a check that will not compile) is skipped so the others go
on, and would otherwise be silent: its subscriber gets nothing and nobody knows why. The
subscriber's manage page says so too (:func:`alert_problem`), from the same rule.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable

from alerts.councils import Register
from alerts.mail.message import Mail, build_message, make_message_id
from councilwatch.alert_index import StoredAlert, alert_spec
from councilwatch.mailer import mail_domain, serialise
from councilwatch.runtime import Runtime
from cwerrors import CouncilwatchError
from db import outbox
from db.models_delivery import Alert
from db.outbox import OutgoingMessage

log = logging.getLogger("councilwatch.alerts")


def alert_problem(alert: Alert, register: Register) -> str | None:
    """Why the index cannot match ``alert`` (None if it can): the index's own rule."""
    try:
        alert_spec(alert, register)
    except CouncilwatchError as exc:
        return str(exc)
    return None


def operator_reporter(runtime: Runtime) -> Callable[[StoredAlert, str], None]:
    """What the index calls for an alert it cannot file: queue one email to the operator."""

    def report(alert: StoredAlert, reason: str) -> None:
        operator = runtime.settings.mail.operator
        if not operator:
            return
        try:
            outbox.enqueue_one(
                runtime.migrated_engine(), _message(runtime, alert, reason), now=runtime.now()
            )
        except CouncilwatchError as exc:  # the report must not stop matching either
            log.warning("alert %s: could not queue the operator email: %s", alert.id, exc)

    return report


def _message(runtime: Runtime, alert: StoredAlert, reason: str) -> OutgoingMessage:
    settings = runtime.settings
    assert settings.mail.operator
    # One email per alert version: the key changes when the subscriber edits the alert.
    version = hashlib.sha256(
        repr((alert.query, list(alert.councils), list(alert.counties))).encode()
    )
    key = f"alert-refused:{alert.id}:{version.hexdigest()[:16]}"
    subject = f"councilwatch: alert {alert.id} cannot be matched"
    lines = [
        f"Alert: {alert.id} (subscriber {alert.subscriber_id})",
        f"Keywords: {alert.query or '-'}",
        f"Councils: {', '.join([*alert.councils, *alert.counties]) or '-'}",
        f"Reason: {reason}",
        "",
        "The other alerts are matched as usual. The subscriber's manage page shows the reason;",
        "the alert is matched again as soon as it is changed into one that can be.",
    ]
    message_id = make_message_id(key, mail_domain(settings))
    msg: Mail = build_message(
        sender=settings.mail.from_,
        to=settings.mail.operator,
        subject=subject,
        text="\n".join(lines),
        html=None,
        message_id=message_id,
        unsubscribe_url=settings.web.base_url.rstrip("/") + "/",
        unsubscribe_mailto=None,
        date=runtime.now(),
    )
    return OutgoingMessage(
        idempotency_key=key,
        message_id=message_id,
        kind="operator",
        to_address=settings.mail.operator,
        subject=subject,
        message=serialise(msg),
    )
