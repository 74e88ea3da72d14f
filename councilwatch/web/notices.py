"""The one email the web app writes itself: "someone asked to add an alert" to a known address.

A confirmed address never gets an alert added by a stranger typing it into the form: it gets
this email instead, with a signed link that adds the alert when its owner follows it. Queued in
the outbox like every other email, never sent from a request.
"""

from __future__ import annotations

import hashlib

from alerts.digest import AddAlertNotice
from alerts.digest.render import render_add_alert
from councilwatch.mailer import describe_alert, links, queue_to_subscriber
from councilwatch.runtime import Runtime
from councilwatch.web.links import add_alert_token
from db.models_delivery import Subscriber
from db.subscriptions import AlertFields


def queue_add_alert_notice(runtime: Runtime, subscriber: Subscriber, fields: AlertFields) -> bool:
    """Queue the notice; False when the very same request was queued before."""
    settings = runtime.settings
    now = runtime.now()
    found = links(settings, subscriber)
    token = add_alert_token(settings, subscriber, fields)
    add_url = f"{settings.web.base_url.rstrip('/')}/add/{token}"
    digest = hashlib.sha256(repr(sorted(fields.values().items())).encode()).hexdigest()[:24]
    # Once a day at most for the same request: a lost email can be asked for again tomorrow.
    key = f"add-alert:{subscriber.id}:{digest}:{now:%Y-%m-%d}"
    rendered = render_add_alert(
        AddAlertNotice(
            subscriber_email=subscriber.email,
            add_url=add_url,
            manage_url=found.manage,
            alert=describe_alert(runtime, fields),
        )
    )
    queued = queue_to_subscriber(
        runtime,
        subscriber,
        key=key,
        kind="confirm",
        subject=rendered.subject,
        text=rendered.text,
        html=rendered.html,  # an HTML part like every other email we send
    )
    return queued is not None
