"""Atom feeds of one alert's matches, for people who prefer a feed reader to email."""

from __future__ import annotations

import re

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from councilwatch.digest_text import parse_snippet
from councilwatch.digests import explain_matches
from councilwatch.web.context import InvalidLink
from councilwatch.web.links import atom_ids, same_secret
from councilwatch.web.queries import alert_feed, get_alert
from councilwatch.web.subscribe_pages import web
from cwerrors import SubscriptionError
from db.subscriptions import find_subscriber

FEED_ENTRIES = 50
# Characters XML 1.0 forbids even escaped: one stored before names were checked (or in a
# scraped title) made the whole feed unreadable to every feed reader.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def plain_snippet(stored: str) -> str:
    """The matched passage as plain text (the pipeline stores it as highlighted spans)."""
    return "".join(segment.text for segment in parse_snippet(stored)) if stored else ""


def alert_atom(request: Request) -> Response:
    context = web(request)
    token = request.path_params["token"]
    try:
        alert_id, subscriber_id, raw = atom_ids(context.settings, token)
    except SubscriptionError:
        raise InvalidLink from None
    subscriber = find_subscriber(context.engine, subscriber_id=subscriber_id)
    alert = get_alert(context.engine, alert_id)
    if (
        subscriber is None
        or not same_secret(subscriber.token, raw)
        or subscriber.status == "unsubscribed"
        or alert is None
        or alert.subscriber_id != subscriber.id
        or alert.deleted_at is not None
    ):
        raise InvalidLink
    entries = alert_feed(context.engine, alert_id, limit=FEED_ENTRIES)
    explained = explain_matches(
        context.engine,
        context.runtime.register,
        alert,
        [e.document for e in entries if not e.document.summary],  # the others show that
    )
    base = context.settings.web.base_url.rstrip("/")
    updated = max((e.matched_at for e in entries), default=alert.created_at)
    body = context.env.get_template("alert.atom.j2").render(
        base=base,
        self_url=f"{base}/alerts/{token}.atom",
        alert=alert,
        entries=[
            (
                e,
                plain_snippet(explained[e.document.id or 0].snippet)
                if e.document.id in explained
                else "",
            )
            for e in entries
        ],
        updated=updated,
    )
    return Response(
        _NOT_XML.sub("", body),
        media_type="application/atom+xml; charset=utf-8",
        headers={"Cache-Control": "private, max-age=300"},
    )


routes = [Route("/alerts/{token}.atom", alert_atom, methods=["GET"])]
