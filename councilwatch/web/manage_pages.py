"""Managing alerts from the link in every email, and unsubscribing (RFC 8058 one-click)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from councilwatch.alert_problems import alert_problem
from councilwatch.preview import preview_or_none
from councilwatch.quiet import fields_of, quiet_report
from councilwatch.web.context import InvalidLink
from councilwatch.web.forms import (
    FREQUENCY_LABELS,
    KINDS,
    OUTCOMES,
    AlertForm,
    FormValues,
    read_alert_form,
)
from councilwatch.web.links import atom_token
from councilwatch.web.subscribe_pages import council_choices, csrf_failure, web
from db.models_delivery import Alert, Subscriber
from db.subscriptions import FREQUENCIES, subscriptions, unsubscribe, update_alert

ONE_CLICK = "One-Click"


def _alerts_of(request: Request, subscriber: Subscriber) -> list[Alert]:
    engine = web(request).engine
    for view in subscriptions(engine):
        if view.subscriber.id == subscriber.id:
            return view.alerts
    return []


def _alert_of(request: Request, subscriber: Subscriber) -> Alert:
    wanted = request.path_params["alert_id"]
    for alert in _alerts_of(request, subscriber):
        if alert.id == wanted:
            return alert
    raise InvalidLink  # someone else's alert, or a deleted one: as if it did not exist


def _describe(request: Request, alert: Alert) -> dict[str, object]:
    register = web(request).register

    def name(council_id: str) -> str:
        return register.get(council_id).name if council_id in register else council_id

    return {
        "alert": alert,
        "councils": [name(c) for c in alert.councils],
        "counties": [name(c) for c in alert.counties],
        "kinds": [KINDS.get(k, k) for k in alert.kinds],
        "outcomes": [OUTCOMES.get(o, o) for o in alert.outcomes],
        "frequency": FREQUENCY_LABELS.get(alert.frequency, alert.frequency),
    }


def manage_page(request: Request) -> Response:
    context = web(request)
    token = request.path_params["token"]
    subscriber = context.subscriber_for("manage", token)
    alerts = _alerts_of(request, subscriber)
    quiet, health = quiet_report(context.runtime, subscriber, alerts)
    today = context.runtime.now().date()
    return context.render(
        request,
        "manage.html",
        title="Your alerts",
        token=token,
        subscriber=subscriber,
        alerts=[
            {
                **_describe(request, a),
                "atom": atom_token(context.settings, a, subscriber),
                "problem": alert_problem(a, context.register),
                "quiet": q,
                "preview": preview_or_none(
                    context.engine, context.register, fields_of(a), today=today
                ),
            }
            for a, q in zip(alerts, quiet, strict=True)
        ],
        health=health,
        frequencies=FREQUENCY_LABELS,
        flash=_flash(request),
        private=True,
    )


def _flash(request: Request) -> str:
    messages = {
        "confirmed": "Thank you: your address is confirmed and your alerts are on.",
        "added": "The new alert is on.",
        "saved": "Your changes are saved.",
        "deleted": "The alert is deleted.",
    }
    for key, text in messages.items():
        if request.query_params.get(key):
            return text
    return ""


async def alert_action(request: Request) -> Response:
    context = web(request)
    token = request.path_params["token"]
    subscriber = context.subscriber_for("manage", token)
    alert = _alert_of(request, subscriber)
    data = await request.form()
    if not context.csrf_ok(request, data.get("csrf_token")):
        return csrf_failure(request)
    action = data.get("action")
    flash = "saved"
    if action == "pause":
        update_alert(context.engine, alert.id or 0, paused=True)
    elif action == "resume":
        update_alert(context.engine, alert.id or 0, paused=False)
    elif action == "frequency" and data.get("frequency") in FREQUENCIES:
        update_alert(context.engine, alert.id or 0, frequency=data.get("frequency"))
    elif action == "delete":
        unsubscribe(
            context.engine, subscriber.id or 0, now=context.runtime.now(), alert_name=alert.name
        )
        flash = "deleted"
    else:
        return context.render(
            request,
            "message.html",
            status_code=400,
            title="Nothing changed",
            message="That request did not say what to change. Go back and try again.",
        )
    return RedirectResponse(f"/manage/{token}?{flash}=1", status_code=303)


async def edit_alert(request: Request) -> Response:
    context = web(request)
    token = request.path_params["token"]
    subscriber = context.subscriber_for("manage", token)
    alert = _alert_of(request, subscriber)
    if request.method == "GET":
        register = context.register
        form = AlertForm(
            email=subscriber.email,
            councils=[
                register.get(c).name for c in (*alert.councils, *alert.counties) if c in register
            ],
            county_wide=bool(alert.counties),
            query=alert.query or "",
            kinds=list(alert.kinds),
            outcomes=list(alert.outcomes),
            frequency=alert.frequency,
            name=alert.name,
        )
        return _edit_page(request, token, alert, form)
    data = await request.form()
    if not context.csrf_ok(request, data.get("csrf_token")):
        return csrf_failure(request)
    form, fields = read_alert_form(FormValues(list(data.multi_items())), context.register)  # type: ignore[arg-type]
    taken = {a.name for a in _alerts_of(request, subscriber) if a.id != alert.id}
    if fields is not None and fields.name in taken:
        form.errors["name"] = "You already have an alert with this name: choose another."
    if fields is None or form.errors:
        return _edit_page(request, token, alert, form, status_code=400)
    update_alert(
        context.engine,
        alert.id or 0,
        name=fields.name,
        councils=list(fields.councils),
        counties=list(fields.counties),
        query=fields.query,
        kinds=list(fields.kinds),
        outcomes=list(fields.outcomes),
        frequency=fields.frequency,
    )
    return RedirectResponse(f"/manage/{token}?saved=1", status_code=303)


def _edit_page(
    request: Request, token: str, alert: Alert, form: AlertForm, status_code: int = 200
) -> Response:
    context = web(request)
    return context.render(
        request,
        "edit.html",
        status_code=status_code,
        title="Change your alert",
        token=token,
        alert=alert,
        form=form,
        council_names=council_choices(context),
        kinds=KINDS,
        outcomes=OUTCOMES,
        frequencies=FREQUENCY_LABELS,
        private=True,
    )


async def unsubscribe_all(request: Request) -> Response:
    context = web(request)
    token = request.path_params["token"]
    subscriber = context.subscriber_for("manage", token)
    data = await request.form()
    if not context.csrf_ok(request, data.get("csrf_token")):
        return csrf_failure(request)
    unsubscribe(context.engine, subscriber.id or 0, now=context.runtime.now())
    return _unsubscribed(request, subscriber)


async def unsubscribe_page(request: Request) -> Response:
    context = web(request)
    token = request.path_params["token"]
    subscriber = context.subscriber_for("unsubscribe", token)
    if request.method == "GET":
        return context.render(
            request,
            "unsubscribe.html",
            title="Unsubscribe",
            token=token,
            email=subscriber.email,
            done=subscriber.status == "unsubscribed",
            private=True,
        )
    data = await request.form()
    # RFC 8058: a mail client's one-click POST carries this body and no cookies; the token in
    # the URL is the proof. Our own button carries the CSRF token instead.
    one_click = data.get("List-Unsubscribe") == ONE_CLICK
    if not one_click and not context.csrf_ok(request, data.get("csrf_token")):
        return csrf_failure(request)
    unsubscribe(context.engine, subscriber.id or 0, now=context.runtime.now())
    return _unsubscribed(request, subscriber)


def _unsubscribed(request: Request, subscriber: Subscriber) -> Response:
    return web(request).render(
        request,
        "unsubscribed.html",
        title="You are unsubscribed",
        email=subscriber.email,
        private=True,
    )


routes = [
    Route("/manage/{token}", manage_page, methods=["GET"]),
    Route("/manage/{token}/alerts/{alert_id:int}", alert_action, methods=["POST"]),
    Route("/manage/{token}/alerts/{alert_id:int}/edit", edit_alert, methods=["GET", "POST"]),
    Route("/manage/{token}/unsubscribe", unsubscribe_all, methods=["POST"]),
    Route("/unsubscribe/{token}", unsubscribe_page, methods=["GET", "POST"]),
]
