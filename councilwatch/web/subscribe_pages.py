"""Subscribing: the form, "check your inbox", confirming, and adding an alert by email link."""

from __future__ import annotations

import logging
import secrets

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from alerts.mail.message import validate_address
from councilwatch.mailer import link_token, queue_confirmation
from councilwatch.preview import Preview, preview
from councilwatch.web.context import InvalidLink, WebContext
from councilwatch.web.forms import (
    FREQUENCY_LABELS,
    KINDS,
    OUTCOMES,
    AlertForm,
    FormValues,
    read_alert_form,
)
from councilwatch.web.links import add_alert_request, same_secret
from councilwatch.web.notices import queue_add_alert_notice
from cwerrors import SubscriptionError
from db.subscriptions import AlertFields, confirm, find_subscriber, subscribe

log = logging.getLogger("councilwatch.web")


def web(request: Request) -> WebContext:
    context = request.app.state.web
    assert isinstance(context, WebContext)
    return context


def council_choices(context: WebContext) -> list[str]:
    return sorted({c.name for c in context.register.councils(nation="England", current=True)})


def form_page(
    request: Request,
    form: AlertForm,
    status_code: int = 200,
    preview: Preview | None = None,
    papers: list[dict[str, object]] | None = None,
) -> Response:
    context = web(request)
    return context.render(
        request,
        "subscribe.html",
        status_code=status_code,
        title="Get alerts about your council",
        form=form,
        council_names=council_choices(context),
        kinds=KINDS,
        outcomes=OUTCOMES,
        frequencies=FREQUENCY_LABELS,
        preview=preview,
        papers=papers or [],
    )


def covering_papers(context: WebContext, fields: AlertFields) -> list[dict[str, object]]:
    """The catalogue's papers covering the alert's councils, and whether this service reads
    them (a configured feed, or every followed council's papers when the operator says so)."""
    from councilwatch.news_catalogue import covering, load

    register = context.register
    wanted = {c for c in fields.councils if c in register}
    for county in fields.counties:
        if county in register:
            wanted |= {county} | register.in_county(county)
    if not wanted:
        return []
    news = context.runtime.settings.sources.news
    configured = {feed.url for feed in news.feeds} | {feed.name for feed in news.feeds}
    papers = []
    for publisher in covering(load(context.runtime.settings), register, sorted(wanted)):
        read = news.follow_subscribed_councils or bool(
            {publisher.name, *publisher.feeds} & configured
        )
        papers.append({"name": publisher.publisher, "homepage": publisher.homepage, "read": read})
    return papers


def alert_preview(context: WebContext, fields: AlertFields) -> Preview:
    return preview(context.engine, context.register, fields, today=context.runtime.now().date())


def subscribe_form(request: Request) -> Response:
    """The form; a link with the alert in its query string (?council=..&query=..), as "Get
    alerts for this" makes, fills it in and shows what the alert would have caught."""
    params = request.query_params
    if not any(params.get(key) for key in ("council", "query")):
        return form_page(request, AlertForm())
    values = FormValues(list(params.multi_items()))
    form, fields = read_alert_form(values, web(request).register)
    if fields is None:
        return form_page(request, form, status_code=400)
    context = web(request)
    return form_page(
        request, form, preview=alert_preview(context, fields),
        papers=covering_papers(context, fields),
    )


def client_key(request: Request) -> str:
    return request.client.host if request.client else "unknown"


async def subscribe_submit(request: Request) -> Response:
    context = web(request)
    data = await request.form()
    if not context.csrf_ok(request, data.get("csrf_token")):
        return csrf_failure(request)
    if data.get("action") == "preview":  # see before subscribing: nothing is stored
        values = FormValues(list(data.multi_items()))  # type: ignore[arg-type]
        form, fields = read_alert_form(values, context.register)
        if fields is None:
            return form_page(request, form, status_code=400)
        return form_page(
            request, form, preview=alert_preview(context, fields),
            papers=covering_papers(context, fields),
        )
    client = client_key(request)
    if not context.client_limiter.hit(f"client:{client}"):
        return too_many(request, context.client_limiter.retry_after(f"client:{client}"))
    values = FormValues(list(data.multi_items()))  # type: ignore[arg-type]
    form, fields = read_alert_form(values, context.register)
    email = ""
    try:
        email = validate_address(form.email, field="email")
    except SubscriptionError:
        form.errors.setdefault("email", "Enter an email address like name@example.org.")
    if fields is None or form.errors:
        return form_page(request, form, status_code=400)
    if not context.address_limiter.hit(f"address:{email}"):
        return too_many(request, context.address_limiter.retry_after(f"address:{email}"))
    existing = find_subscriber(context.engine, email=email)
    if existing is not None and existing.status in ("active", "bouncing"):
        # Never change a confirmed address's alerts on a stranger's say-so: ask its owner.
        if existing.status == "active":
            queue_add_alert_notice(context.runtime, existing, fields)
            context.mail_queued()
    else:
        # The address, its alert and its confirmation email are stored together or not at all.
        subscribe(
            context.engine,
            email=email,
            new_token=secrets.token_urlsafe(24),
            alert=fields,
            confirmed=False,
            now=context.runtime.now(),
            on_pending=lambda connection, subscriber, _alert: queue_confirmation(
                context.runtime, subscriber, [fields], connection=connection
            ),
        )
        context.mail_queued()
    # The same page whatever happened above, so the form cannot tell who is subscribed.
    return RedirectResponse("/subscribe/sent", status_code=303)


def subscribe_sent(request: Request) -> Response:
    return web(request).render(request, "sent.html", title="Check your email")


async def confirm_page(request: Request) -> Response:
    context = web(request)
    token = request.path_params["token"]
    subscriber = context.subscriber_for("confirm", token)
    if request.method == "POST":
        data = await request.form()
        if not context.csrf_ok(request, data.get("csrf_token")):
            return csrf_failure(request)
        confirm(context.engine, subscriber.id or 0, now=context.runtime.now())
        manage = link_token(context.settings, "manage", subscriber)
        return RedirectResponse(f"/manage/{manage}?confirmed=1", status_code=303)
    if subscriber.status == "active":
        manage = link_token(context.settings, "manage", subscriber)
        return RedirectResponse(f"/manage/{manage}", status_code=303)
    return context.render(
        request,
        "confirm.html",
        title="Confirm your alerts",
        email=subscriber.email,
        unsubscribed=subscriber.status == "unsubscribed",
        private=True,
    )


async def add_alert_page(request: Request) -> Response:
    context = web(request)
    try:
        wanted = add_alert_request(context.settings, request.path_params["token"])
    except SubscriptionError:
        raise InvalidLink from None
    subscriber = find_subscriber(context.engine, subscriber_id=wanted.subscriber_id)
    if subscriber is None or not same_secret(subscriber.token, wanted.subscriber_token):
        raise InvalidLink
    if request.method == "POST":
        data = await request.form()
        if not context.csrf_ok(request, data.get("csrf_token")):
            return csrf_failure(request)
        subscribe(
            context.engine,
            email=subscriber.email,
            new_token=secrets.token_urlsafe(24),
            alert=wanted.fields,
            confirmed=subscriber.status == "active",
            now=context.runtime.now(),
        )
        manage = link_token(context.settings, "manage", subscriber)
        return RedirectResponse(f"/manage/{manage}?added=1", status_code=303)
    return context.render(
        request,
        "add_alert.html",
        title="Add this alert?",
        email=subscriber.email,
        alert_name=wanted.fields.name,
        frequency=FREQUENCY_LABELS.get(wanted.fields.frequency, wanted.fields.frequency),
        private=True,
    )


def csrf_failure(request: Request) -> Response:
    return web(request).render(
        request,
        "message.html",
        status_code=403,
        title="Please try again",
        message=(
            "This form had expired or came from another site, so we did not act on it. "
            "Go back, reload the page and submit it again."
        ),
    )


def too_many(request: Request, retry_after: int) -> Response:
    response = web(request).render(
        request,
        "message.html",
        status_code=429,
        title="Too many requests",
        message=(
            "We have had several subscription requests from here or for this address recently. "
            f"Please try again in about {max(1, retry_after // 60)} minutes."
        ),
    )
    response.headers["Retry-After"] = str(retry_after)
    return response


routes = [
    Route("/", subscribe_form, methods=["GET"]),
    Route("/subscribe", subscribe_form, methods=["GET"]),
    Route("/subscribe", subscribe_submit, methods=["POST"]),
    Route("/subscribe/sent", subscribe_sent, methods=["GET"]),
    Route("/confirm/{token}", confirm_page, methods=["GET", "POST"]),
    Route("/add/{token}", add_alert_page, methods=["GET", "POST"]),
]
