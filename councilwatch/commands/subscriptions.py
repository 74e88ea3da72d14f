"""Subscribers and mail from the command line: subscribe, list, unsubscribe, send, outbox.

Input is checked here before storage sees it: the address (syntax and header injection), each
council name against the register (unknown names come back with suggestions) and the keyword
query; every problem is a ``CouncilwatchError`` that the CLI prints as one line.
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Annotated, Any

import typer

from councilwatch.commands.common import echo_json, runtime
from cwerrors import CouncilwatchError, SubscriptionError

if TYPE_CHECKING:
    from councilwatch.digests import BuiltDigest
    from councilwatch.runtime import Runtime
    from db.models_delivery import Alert
    from db.outbox import OutboxRow
    from db.subscriptions import AlertFields

FREQUENCIES = ("immediate", "daily", "weekly")
KINDS = ("decision", "news")
OUTCOMES = ("upheld", "not upheld", "closed after initial enquiries")
MAX_NAME = 200

subscriptions_app = typer.Typer(
    help="Subscribers and their alerts.\n\nExample: councilwatch subscriptions list --json",
    no_args_is_help=True,
)
digest_app = typer.Typer(
    help="Digest emails.\n\nExample: councilwatch digest send --frequency daily --dry-run",
    no_args_is_help=True,
)


def _choice(value: str | None, allowed: tuple[str, ...], option: str) -> None:
    if value is not None and value not in allowed:
        raise CouncilwatchError(f"{option} must be one of {', '.join(allowed)}, not {value!r}")


def alert_fields(
    rt: Runtime,
    *,
    councils: list[str],
    counties: list[str],
    keywords: str | None,
    outcome: str | None,
    kind: str | None,
    frequency: str,
    name: str | None,
) -> AlertFields:
    """Check what was typed and turn it into an alert; CouncilwatchError names the problem."""
    from alerts.councils.register import COUNTY
    from alerts.mail.message import check_header_value
    from alerts.validity import check_text, valid_alert_query
    from db.subscriptions import AlertFields

    _choice(frequency, FREQUENCIES, "--frequency")
    _choice(kind, KINDS, "--kind")
    _choice(outcome, OUTCOMES, "--outcome")
    register = rt.register
    council_ids = list(dict.fromkeys(register.lookup(typed).id for typed in councils))
    county_ids: list[str] = []
    for typed in counties:
        county = register.lookup(typed)
        if county.type != COUNTY:
            raise CouncilwatchError(
                f"--county {typed!r}: {county.name} is not a county council; use --council"
            )
        county_ids.append(county.id)
    query = keywords.strip() if keywords and keywords.strip() else None
    # With councils chosen, exclusions alone ("-parking") narrow them down.
    valid_alert_query(
        query, councils=council_ids, counties=county_ids, outcomes=[outcome] if outcome else []
    )
    if not (council_ids or county_ids or query):
        raise CouncilwatchError("give at least one --council, --county or --keywords")
    chosen = (name or "").strip() or default_name(rt, council_ids, county_ids, query)
    check_header_value("--name", chosen)
    check_text("--name", chosen)
    if len(chosen) > MAX_NAME:
        raise SubscriptionError(f"--name is longer than {MAX_NAME} characters")
    return AlertFields(
        name=chosen,
        councils=tuple(council_ids),
        counties=tuple(dict.fromkeys(county_ids)),
        query=query,
        kinds=(kind,) if kind else (),
        outcomes=(outcome,) if outcome else (),
        frequency=frequency,
    )


def default_name(
    rt: Runtime, council_ids: list[str], county_ids: list[str], query: str | None
) -> str:
    """ "Norfolk, Leeds", "all of Kent", "“respite” in Norfolk": what the alert follows."""
    names = [rt.register.get(c).common_name for c in council_ids]
    names += [f"all of {rt.register.get(c).common_name}" for c in county_ids]
    where = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
    if query and where:
        return f"“{query}” in {where}"[:MAX_NAME]
    return (f"“{query}”" if query else where)[:MAX_NAME]


def subscribe(
    ctx: typer.Context,
    email: Annotated[str, typer.Argument(help="The subscriber's email address.")],
    council: Annotated[
        list[str] | None, typer.Option("--council", help="A council to follow (repeatable).")
    ] = None,
    county: Annotated[
        list[str] | None,
        typer.Option("--county", help="Every council in this county (repeatable)."),
    ] = None,
    keywords: Annotated[
        str | None, typer.Option(help='Alert query: words, "phrases", OR, -excluded.')
    ] = None,
    outcome: Annotated[str | None, typer.Option(help="Only decisions with this outcome.")] = None,
    kind: Annotated[str | None, typer.Option(help="Only decision or news.")] = None,
    frequency: Annotated[str, typer.Option(help="immediate, daily or weekly.")] = "daily",
    name: Annotated[str | None, typer.Option(help="Alert name (default: what it follows).")] = None,
    confirmed: Annotated[
        bool, typer.Option("--confirmed", help="Add as confirmed: no confirmation email.")
    ] = False,
    preview: Annotated[
        bool,
        typer.Option(
            "--preview",
            help="Only show what the alert would have caught in the last 90 days; add nothing.",
        ),
    ] = False,
) -> None:
    """Add an alert for an address; a new address is sent one confirmation email first.

    Example: councilwatch subscribe mrs.b@example.org --council "Norfolk County Council"
    --keywords '"special educational needs"' --outcome upheld --frequency weekly

    Example: councilwatch subscribe mrs.b@example.org --council Norfolk --keywords SEND --preview
    """
    from alerts.mail.message import validate_address
    from councilwatch.mailer import queue_confirmation
    from db.subscriptions import subscribe as store

    rt = runtime(ctx)
    address = validate_address(email)
    fields = alert_fields(
        rt,
        councils=council or [],
        counties=county or [],
        keywords=keywords,
        outcome=outcome,
        kind=kind,
        frequency=frequency,
        name=name,
    )
    if preview:
        from councilwatch.commands.alerts import show_preview

        show_preview(rt, fields)
        typer.echo(f"{address}: nothing added (--preview); run again without it to subscribe")
        return
    queued: list[int | None] = []
    # The subscriber, the alert and the confirmation email are stored together or not at all.
    result = store(
        rt.migrated_engine(),
        email=address,
        new_token=secrets.token_urlsafe(32),
        alert=fields,
        confirmed=confirmed,
        now=rt.now(),
        on_pending=lambda connection, subscriber, alert: queued.append(
            queue_confirmation(rt, subscriber, [alert], connection=connection)
        ),
    )
    note = "confirmed"
    if result.needs_confirmation:
        note = _send_confirmation(rt, queued[0] if queued else None)
    typer.echo(f"{address}: alert {fields.name!r} ({fields.frequency}); {note}")


def _send_confirmation(rt: Runtime, outbox_id: int | None) -> str:
    """Send the confirmation just queued before the command exits; say what happened."""
    from councilwatch.mailer import send_outbox

    if outbox_id is None:
        return "waiting for confirmation (its email was queued before)"
    report = send_outbox(rt, only=[outbox_id])
    if report.sent:
        return "confirmation email sent"
    if report.failed:
        return (
            f"confirmation email refused by the mail server ({report.last_error}); "
            "check the address (`councilwatch outbox` lists it)"
        )
    return (
        f"confirmation email queued, not sent yet ({report.last_error or 'not due'}); "
        "`councilwatch run` sends it when the mail server answers"
    )


def _alert_json(alert: Alert) -> dict[str, Any]:
    return {
        "name": alert.name,
        "frequency": alert.frequency,
        "councils": alert.councils,
        "counties": alert.counties,
        "query": alert.query,
        "kinds": alert.kinds,
        "outcomes": alert.outcomes,
        "paused": alert.paused,
        "created_at": alert.created_at,
    }


def _filters(alert: Alert) -> str:
    parts = [", ".join(alert.councils)] if alert.councils else []
    parts += [f"all of {c}" for c in alert.counties]
    parts += [f"keywords {alert.query}"] if alert.query else []
    parts += [f"{'/'.join(alert.kinds)} only"] if alert.kinds else []
    parts += [f"outcome {'/'.join(alert.outcomes)}"] if alert.outcomes else []
    return "; ".join(parts) + (" (paused)" if alert.paused else "")


@subscriptions_app.command("list")
def list_subscriptions(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Every subscriber with their status and live alerts.

    Example: councilwatch subscriptions list --json
    """
    from db.subscriptions import subscriptions

    views = subscriptions(runtime(ctx).migrated_engine())
    if as_json:
        echo_json(
            [
                {
                    "email": v.subscriber.email,
                    "status": v.subscriber.status,
                    "confirmed_at": v.subscriber.confirmed_at,
                    "alerts": [_alert_json(a) for a in v.alerts],
                }
                for v in views
            ]
        )
        return
    if not views:
        typer.echo("No subscribers.")
    for view in views:
        typer.echo(f"{view.subscriber.email} ({view.subscriber.status})")
        for alert in view.alerts:
            typer.echo(f"  {alert.name} [{alert.frequency}]: {_filters(alert)}")


@subscriptions_app.command("show")
def show_subscription(
    ctx: typer.Context,
    email: Annotated[str, typer.Argument(help="The subscriber's email address.")],
) -> None:
    """One subscriber's alerts and why a digest may have been quiet: per alert the last digest
    sent, the items of the last 30 days, and the sources unhealthy now.

    Example: councilwatch subscriptions show mrs.b@example.org
    """
    from alerts.mail.message import validate_address
    from councilwatch.quiet import quiet_report
    from db.subscriptions import find_subscriber, subscriptions

    rt = runtime(ctx)
    address = validate_address(email)
    subscriber = find_subscriber(rt.migrated_engine(), email=address)
    if subscriber is None:
        raise CouncilwatchError(f"no subscriber with the address {address}")
    alerts = next(
        (v.alerts for v in subscriptions(rt.migrated_engine()) if v.subscriber.id == subscriber.id),
        [],
    )
    report, health = quiet_report(rt, subscriber, alerts)
    typer.echo(f"{subscriber.email} ({subscriber.status})")
    if not alerts:
        typer.echo("  no alerts")
    for item in report:
        typer.echo(f"  {item.alert.name} [{item.alert.frequency}]: {_filters(item.alert)}")
        for line in item.lines():
            typer.echo(f"    {line}")
    for line in health or ["every source is healthy"]:
        typer.echo(f"  source: {line}")


def unsubscribe(
    ctx: typer.Context,
    email: Annotated[str, typer.Argument(help="The subscriber's email address.")],
    alert: Annotated[
        str | None, typer.Option("--alert", help="Stop only this alert (by name).")
    ] = None,
) -> None:
    """Stop all mail to an address, or only one of its alerts.

    Example: councilwatch unsubscribe mrs.b@example.org --alert "Norfolk SEND"
    """
    from alerts.mail.message import validate_address
    from db.subscriptions import find_subscriber
    from db.subscriptions import unsubscribe as stop

    rt = runtime(ctx)
    engine = rt.migrated_engine()
    address = validate_address(email)
    subscriber = find_subscriber(engine, email=address)
    if subscriber is None or subscriber.id is None:
        raise SubscriptionError(f"no subscriber with address {address}")
    stopped = stop(engine, subscriber.id, now=rt.now(), alert_name=alert)
    if alert is not None:
        if not stopped:
            raise SubscriptionError(f"{address} has no alert named {alert!r}")
        typer.echo(f"{address}: alert {alert!r} stopped")
        return
    typer.echo(f"{address}: unsubscribed ({stopped} alerts stopped)")


def _print_email(built: BuiltDigest) -> None:
    msg = built.message
    typer.echo("=" * 72)
    for header in ("To", "Subject", "Message-ID", "List-Unsubscribe"):
        typer.echo(f"{header}: {msg[header]}")
    body = msg.parse().get_body(preferencelist=("plain",))
    typer.echo("")
    text = body.get_content() if body is not None else ""
    typer.echo(text.replace("\r\n", "\n"))  # the terminal's line ends, not the wire's


@digest_app.command("send")
def send(
    ctx: typer.Context,
    frequency: Annotated[
        str | None, typer.Option(help="immediate, daily or weekly (default: all three).")
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the emails; queue and send nothing.")
    ] = False,
) -> None:
    """Build the due digests now, queue them and send the outbox.

    Takes the same "digest" lock as the service, so a scheduled run and this never overlap.

    Example: councilwatch digest send --frequency daily --dry-run
    """
    from councilwatch.digests import run_digests
    from councilwatch.mailer import send_outbox
    from db.jobs import exclusive

    _choice(frequency, FREQUENCIES, "--frequency")
    rt = runtime(ctx)
    chosen = (frequency,) if frequency else FREQUENCIES
    if dry_run:
        for name in chosen:
            report = run_digests(rt, name, dry_run=True)
            for built in report.digests:
                _print_email(built)
            typer.echo(report.line())
        return
    with exclusive(rt.migrated_engine(), "digest"):
        for name in chosen:
            typer.echo(run_digests(rt, name).line())
        typer.echo(f"outbox: {send_outbox(rt).line()}")


def _row_json(row: OutboxRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "kind": row.kind,
        "to": row.to_address,
        "subject": row.subject,
        "status": row.status,
        "attempts": row.attempts,
        "next_attempt_at": row.next_attempt_at,
        "last_error": row.last_error,
    }


outbox_app = typer.Typer(
    help="Mail waiting to be sent or failed for good.",
    invoke_without_command=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)


@outbox_app.callback()
def outbox(
    ctx: typer.Context,
    retry: Annotated[
        bool, typer.Option("--retry", help="Re-queue failed mail and send everything due.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Mail waiting to be sent or failed for good; --retry queues failures again and sends.

    Example: councilwatch outbox --retry
    """
    if ctx.invoked_subcommand is not None:
        return
    from councilwatch.mailer import send_outbox
    from db import outbox as queue

    rt = runtime(ctx)
    engine = rt.migrated_engine()
    requeued, sent = 0, None
    if retry:
        requeued = queue.retry_failed(engine, now=rt.now())
        sent = send_outbox(rt)
    rows = queue.pending(engine)
    if as_json:
        echo_json(
            {
                "depth": queue.depth(engine),
                "requeued": requeued,
                "sent": sent.sent if sent else 0,
                "messages": [_row_json(row) for row in rows],
            }
        )
        return
    if retry and sent is not None:
        typer.echo(f"{requeued} failed messages queued again; {sent.line()}")
    if not rows:
        typer.echo("Outbox empty: nothing pending or failed.")
    for row in rows:
        error = f" - {row.last_error}" if row.last_error else ""
        typer.echo(
            f"{row.id:>6} {row.status:8} {row.kind:8} {row.to_address} "
            f"(attempts {row.attempts}, next {row.next_attempt_at:%Y-%m-%d %H:%M}){error}"
        )


@outbox_app.command("prune")
def prune(
    ctx: typer.Context,
    days: Annotated[
        int | None,
        typer.Option(
            min=1, help="Keep this many days (default: mail.sent_retention_days in the config)."
        ),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Count what would be deleted; delete nothing.")
    ] = False,
) -> None:
    """Delete the bodies of mail sent or failed for good more than DAYS days ago.

    The outbox rows stay (status, recipient, times); only the message text goes. The service
    does this every night (job outbox:prune); this runs it now.

    Example: councilwatch outbox prune --days 7 --dry-run
    """
    from councilwatch.outbox_retention import prunable_bodies, prune_sent_bodies

    rt = runtime(ctx)
    if dry_run:
        count, keep = prunable_bodies(rt, days=days)
        noun = "body is" if count == 1 else "bodies are"
        typer.echo(f"{count} sent or failed messages' {noun} older than {keep} days")
        return
    typer.echo(prune_sent_bodies(rt, days=days).line())


def register(app: typer.Typer) -> None:
    app.command("subscribe")(subscribe)
    app.command("unsubscribe")(unsubscribe)
    app.add_typer(outbox_app, name="outbox")
    app.add_typer(subscriptions_app, name="subscriptions")
    app.add_typer(digest_app, name="digest")
