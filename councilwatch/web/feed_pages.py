"""Atom feeds of one alert's matches, for people who prefer a feed reader to email."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from councilwatch.digest_text import parse_snippet
from councilwatch.digests import explain_matches
from councilwatch.preview import preview
from councilwatch.quiet import fields_of
from councilwatch.web.context import InvalidLink
from councilwatch.web.links import atom_ids, same_secret
from councilwatch.web.subscribe_pages import web
from cwerrors import SubscriptionError
from db.models_delivery import Alert
from db.pages import FeedEntry, alert_feed, get_alert
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
    shown = [
        (
            e,
            plain_snippet(explained[e.document.id or 0].snippet)
            if e.document.id in explained
            else "",
        )
        for e in entries
    ]
    if len(shown) < FEED_ENTRIES:
        shown += _preview_entries(request, alert, {e.document.id for e in entries})
    base = context.settings.web.base_url.rstrip("/")
    updated = max((e.matched_at for e, _ in shown), default=alert.created_at)
    body = context.env.get_template("alert.atom.j2").render(
        base=base,
        self_url=f"{base}/alerts/{token}.atom",
        alert=alert,
        entries=shown[:FEED_ENTRIES],
        updated=updated,
    )
    return Response(
        _NOT_XML.sub("", body),
        media_type="application/atom+xml; charset=utf-8",
        headers={"Cache-Control": "private, max-age=300"},
    )


def _preview_entries(
    request: Request, alert: Alert, seen: set[int | None]
) -> list[tuple[FeedEntry, str]]:
    """A new alert's feed starts with what it would have caught before it was made (the
    preview), dated by each item's own date, so a feed reader shows something at once."""
    context = web(request)
    before = alert.created_at.date() if alert.created_at else context.runtime.now().date()
    found = preview(
        context.engine, context.register, fields_of(alert), today=before, items=FEED_ENTRIES
    )
    out = []
    for hit in found.newest:
        doc = hit.document
        if doc.id in seen:
            continue
        moment = doc.published_at or datetime.combine(
            doc.decided_on or before, time(12), tzinfo=UTC
        )
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        out.append((FeedEntry(doc, moment, ""), hit.snippet))
    return out


routes = [Route("/alerts/{token}.atom", alert_atom, methods=["GET"])]
