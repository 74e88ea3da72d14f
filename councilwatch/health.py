"""Source health: failing runs or silence make a source unhealthy, and the operator hears of
each change once (like a "dying sources" report)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from councilwatch.runtime import Runtime
from councilwatch.sources_registry import ConfiguredSource, configured_sources
from db.health_state import known_health, record_health_change
from db.runs import source_health

if TYPE_CHECKING:
    from db.outbox import OutgoingMessage

log = logging.getLogger("councilwatch.health")


@dataclass(frozen=True)
class SourceStatus:
    name: str
    kind: str
    url: str
    healthy: bool
    reason: str | None
    last_run_at: datetime | None
    last_success_at: datetime | None
    newest_document_at: datetime | None
    consecutive_failures: int
    enabled: bool = True
    last_ok: bool | None = None
    last_error: str | None = None
    label: str = ""  # how digests name it ("LGSCO", "Housing Ombudsman", a feed's name)
    noun: str = "story"


def _aware(moment: datetime | None, like: datetime) -> datetime | None:
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=like.tzinfo)
    return moment


def _expectation(source: ConfiguredSource) -> timedelta:
    return timedelta(days=source.expect_new_within_days)


def statuses(runtime: Runtime, *, include_disabled: bool = False) -> list[SourceStatus]:
    """Every enabled source's health: failing runs, or silence longer than expected."""
    engine = runtime.migrated_engine()
    now = runtime.now()
    limit = runtime.settings.http.unhealthy_after_failed_runs
    found = []
    for source in configured_sources(runtime.settings):
        if not source.enabled and not include_disabled:
            continue
        health = source_health(engine, source.name, unhealthy_after=limit)
        reason = None
        if not health.healthy:
            reason = f"{health.consecutive_failures} failed runs in a row: {health.last_error}"
        success = _aware(health.last_success_at, now)
        newest = _aware(health.newest_document_at, now)
        # Silence only counts once the source has worked at least once; a brand-new source
        # that has never succeeded is judged by its failures.
        silent = newest is not None and now - newest > _expectation(source)
        if reason is None and success is not None and silent:
            reason = f"no new document since {newest:%Y-%m-%d}"
        found.append(
            SourceStatus(
                name=source.name,
                kind=source.kind,
                url=source.url,
                healthy=reason is None,
                reason=reason,
                last_run_at=_aware(health.last_started_at, now),
                last_success_at=success,
                newest_document_at=newest,
                consecutive_failures=health.consecutive_failures,
                enabled=source.enabled,
                last_ok=health.last_ok,
                last_error=health.last_error,
                label=source.label,
                noun=source.noun,
            )
        )
    return found


def check_and_notify(runtime: Runtime) -> list[SourceStatus]:
    """Record health changes; queue one operator email per change. Returns what changed."""
    engine = runtime.migrated_engine()
    now = runtime.now()
    known = known_health(engine)
    changed = []
    for status in statuses(runtime):
        before = known.get(status.name, True)
        if status.healthy == before:
            continue
        changed.append(status)
        record_health_change(
            engine,
            status.name,
            healthy=status.healthy,
            reason=status.reason,
            now=now,
            message=_operator_message(runtime, status, now),
        )
        log.warning(
            "%s: source is %s%s",
            status.name,
            "healthy again" if status.healthy else "UNHEALTHY",
            f" ({status.reason})" if status.reason else "",
            extra={"source": status.name},
        )
    return changed


def _operator_message(
    runtime: Runtime, status: SourceStatus, now: datetime
) -> OutgoingMessage | None:
    # mail is built here only: `councilwatch status` reads health without loading it
    from alerts.mail.message import build_message, make_message_id
    from councilwatch.mailer import mail_domain, serialise
    from db.outbox import OutgoingMessage

    settings = runtime.settings
    operator = settings.mail.operator
    if not operator:
        return None
    state = "recovered" if status.healthy else "is failing"
    subject = f"councilwatch: source {status.name} {state}"
    lines = [
        f"Source: {status.name} ({status.kind})",
        f"URL: {status.url}",
        f"State: {'healthy' if status.healthy else 'UNHEALTHY'}",
        f"Reason: {status.reason or '-'}",
        f"Last success: {status.last_success_at or 'never'}",
        f"Newest document: {status.newest_document_at or 'none'}",
        "",
        "Run `councilwatch sources` for details.",
    ]
    if not status.healthy:
        kept = runtime.quarantine().recent(status.name)
        if kept:
            lines += ["", "Pages that failed to parse, kept to reproduce (newest first):"]
            for page in kept:
                lines += [f"- {page.kept_at} {page.url}", f"  {page.error}"]
                lines.append(f"  {page.reproduce()}")
    key = f"health:{status.name}:{state}:{now.isoformat()}"
    message_id = make_message_id(key, mail_domain(settings))
    msg = build_message(
        sender=settings.mail.from_,
        to=operator,
        subject=subject,
        text="\n".join(lines),
        html=None,
        message_id=message_id,
        unsubscribe_url=settings.web.base_url.rstrip("/") + "/",
        unsubscribe_mailto=None,
        date=now,
    )
    return OutgoingMessage(
        idempotency_key=key,
        message_id=message_id,
        kind="operator",
        to_address=operator,
        subject=subject,
        message=serialise(msg),
    )
