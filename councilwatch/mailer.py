"""Mail wiring: signed links, the confirmation email, and the outbox sender loop."""

from __future__ import annotations

import contextlib
import logging
import random
import socket
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from email.utils import parseaddr
from typing import Protocol

from sqlalchemy import Connection, Engine

from alerts.digest import AlertSummary, Confirmation
from alerts.digest.render import render_confirmation
from alerts.mail.dkim import DkimSigner, SigningTransport
from alerts.mail.message import Mail, build_message, make_message_id
from alerts.mail.tokens import sign, verify
from alerts.mail.transports import FileTransport, SmtpTransport, Transport
from councilwatch.config import Settings
from councilwatch.runtime import Runtime
from councilwatch.secret_key import signing_key
from cwerrors import (
    ConfigError,
    CouncilwatchError,
    PermanentDeliveryError,
    SubscriptionError,
    TransientDeliveryError,
)
from cwerrors.numbers import MAX_ID, ascii_int
from db import outbox
from db.bounces import count_bounce
from db.models_delivery import Subscriber
from db.outbox import OutgoingMessage

log = logging.getLogger("councilwatch.mailer")

# Permanent failures in a row after which an address is paused as bouncing.
BOUNCE_LIMIT = 3
RETRY_BASE = timedelta(minutes=2)
RETRY_MAX = timedelta(hours=6)
MAX_ATTEMPTS = 12


def secret(settings: Settings) -> bytes:
    """The link-signing key (see councilwatch.secret_key: environment, file, or made once)."""
    return signing_key(settings)


class Addressee(Protocol):
    """A subscriber as links are signed for it: the ORM row or a digest's Core row."""

    @property
    def id(self) -> int | None: ...
    @property
    def token(self) -> str: ...


def link_token(settings: Settings, purpose: str, subscriber: Addressee) -> str:
    return sign(secret(settings), purpose, f"{subscriber.id}.{subscriber.token}")


def subscriber_id_from_token(settings: Settings, purpose: str, token: str) -> tuple[int, str]:
    """(subscriber id, subscriber token) from a link token; SubscriptionError when forged."""
    value = verify(secret(settings), purpose, token)
    ident, _, raw = value.partition(".")
    subscriber_id = ascii_int(ident, maximum=MAX_ID)
    if subscriber_id is None or not raw:
        raise SubscriptionError("invalid link token: malformed")
    return subscriber_id, raw


@dataclass(frozen=True)
class Links:
    confirm: str
    manage: str
    unsubscribe: str
    unsubscribe_mailto: str | None


def links(settings: Settings, subscriber: Addressee) -> Links:
    base = settings.web.base_url.rstrip("/")
    footer = footer_links(settings, subscriber)
    return Links(
        confirm=f"{base}/confirm/{link_token(settings, 'confirm', subscriber)}",
        manage=footer.manage,
        unsubscribe=footer.unsubscribe,
        unsubscribe_mailto=footer.unsubscribe_mailto,
    )


@dataclass(frozen=True, slots=True)
class FooterLinks:
    manage: str
    unsubscribe: str
    unsubscribe_mailto: str | None


def footer_links(settings: Settings, subscriber: Addressee) -> FooterLinks:
    """What every email after the confirmation carries: a digest signs these, not the
    confirmation link it never shows (an HMAC each, per digest)."""
    base = settings.web.base_url.rstrip("/")
    return FooterLinks(
        manage=f"{base}/manage/{link_token(settings, 'manage', subscriber)}",
        unsubscribe=f"{base}/unsubscribe/{link_token(settings, 'unsubscribe', subscriber)}",
        unsubscribe_mailto=None,
    )


def mail_domain(settings: Settings) -> str:
    """The right-hand side of our Message-IDs: the sender's domain when it is a real one."""
    domain = parseaddr(settings.mail.from_)[1].rpartition("@")[2].lower()
    labels = domain.split(".")
    if len(labels) > 1 and labels[-1].isalpha():
        return domain
    return "councilwatch.invalid"  # RFC 2606: never a real domain, so never a clash


class AlertLike(Protocol):
    """An alert as stored (db Alert) or as asked for (AlertFields): the same fields."""

    @property
    def name(self) -> str: ...
    @property
    def query(self) -> str | None: ...
    @property
    def frequency(self) -> str: ...
    @property
    def councils(self) -> Sequence[str]: ...
    @property
    def counties(self) -> Sequence[str]: ...
    @property
    def kinds(self) -> Sequence[str]: ...
    @property
    def outcomes(self) -> Sequence[str]: ...
    @property
    def categories(self) -> Sequence[str]: ...
    @property
    def sources(self) -> Sequence[str]: ...


_KIND_LABELS = {"decision": "ombudsman decisions", "news": "news stories"}


def describe_alert(runtime: Runtime, alert: AlertLike) -> AlertSummary:
    """What an email asking to confirm or add ``alert`` spells out, in words people use."""

    def council(council_id: str) -> str:
        try:
            return runtime.register.get(council_id).name
        except CouncilwatchError:
            return council_id

    places = [council(c) for c in alert.councils]
    places += [f"all councils in {county.replace('-', ' ').title()}" for county in alert.counties]
    filters = []
    if alert.kinds:
        filters.append(" and ".join(_KIND_LABELS.get(k, k) for k in alert.kinds))
    if alert.outcomes:
        filters.append("outcome " + " or ".join(o.replace("_", " ") for o in alert.outcomes))
    if alert.categories:
        filters.append("category " + " or ".join(alert.categories))
    if alert.sources:
        filters.append("from " + " or ".join(alert.sources))
    return AlertSummary(
        name=alert.name,
        councils=tuple(places),
        keywords=alert.query or "",
        filters=tuple(filters),
        frequency=alert.frequency,
    )


def queue_confirmation(
    runtime: Runtime,
    subscriber: Subscriber,
    alerts: Sequence[AlertLike],
    *,
    connection: Connection | None = None,
) -> int | None:
    """Queue the one confirmation email of a pending address: its outbox id, None if it was
    queued before. It lists what is being confirmed: each alert's councils, keywords, filters
    and frequency. With ``connection``, inside the caller's transaction."""
    settings = runtime.settings
    now = runtime.now()
    found = links(settings, subscriber)
    rendered = render_confirmation(
        Confirmation(
            subscriber_email=subscriber.email,
            confirm_url=found.confirm,
            alert_names=tuple(alert.name for alert in alerts),
            requested_at=now,
            alerts=tuple(describe_alert(runtime, alert) for alert in alerts),
        )
    )
    key = f"confirm:{subscriber.id}:{subscriber.token}"
    return queue_to_subscriber(
        runtime,
        subscriber,
        key=key,
        kind="confirm",
        subject=rendered.subject,
        text=rendered.text,
        html=rendered.html,
        connection=connection,
    )


def queue_to_subscriber(
    runtime: Runtime,
    subscriber: Subscriber,
    *,
    key: str,
    kind: str,
    subject: str,
    text: str,
    html: str | None,
    connection: Connection | None = None,
) -> int | None:
    """Build one email to a subscriber (with its unsubscribe headers) and queue it once per
    ``key``: its outbox id, None when that key was queued before. With ``connection`` the row
    is added in the caller's transaction, so it is stored with what it is about or not at all."""
    settings = runtime.settings
    now = runtime.now()
    found = links(settings, subscriber)
    message_id = make_message_id(key, mail_domain(settings))
    msg = build_message(
        sender=settings.mail.from_,
        to=subscriber.email,
        subject=subject,
        text=text,
        html=html,
        message_id=message_id,
        unsubscribe_url=found.unsubscribe,
        unsubscribe_mailto=found.unsubscribe_mailto,
        date=now,
    )
    outgoing = OutgoingMessage(
        idempotency_key=key,
        message_id=message_id,
        kind=kind,
        to_address=subscriber.email,
        subject=subject,
        message=serialise(msg),
        subscriber_id=subscriber.id,
    )
    if connection is not None:
        return outbox.enqueue(connection, outgoing, now=now)
    return outbox.enqueue_one(runtime.migrated_engine(), outgoing, now=now)


def serialise(msg: Mail) -> str:
    """The outbox column: the message's own bytes (7-bit ASCII), not a re-serialisation."""
    return msg.as_text()


def deserialise(text: str) -> Mail:
    return Mail.load(text)


def make_transport(settings: Settings) -> Transport:
    """The configured transport, DKIM-signing when ``[mail.dkim]`` is set."""
    inner = _plain_transport(settings)
    dkim = settings.mail.dkim
    if not dkim.enabled:
        return inner
    if not (dkim.domain and dkim.selector and dkim.private_key_file):
        raise ConfigError("mail.dkim needs domain, selector and private_key_file together")
    try:
        key = dkim.private_key_file.read_bytes()
    except OSError as exc:
        raise ConfigError(
            f"mail.dkim.private_key_file: cannot read {dkim.private_key_file}: {exc.strerror}"
        ) from exc
    from_domain = parseaddr(settings.mail.from_)[1].rpartition("@")[2].lower()
    domain = dkim.domain.lower()
    if not (from_domain == domain or from_domain.endswith("." + domain)):
        # DMARC passes on DKIM only when the signing domain aligns with the From domain.
        log.warning(
            "mail.dkim.domain %s does not align with the From domain %s", domain, from_domain
        )
    return SigningTransport(inner, DkimSigner(domain, dkim.selector, key))


def _plain_transport(settings: Settings) -> Transport:
    mail = settings.mail
    if mail.transport == "file":
        return FileTransport(mail.outbox_dir)
    context = None
    if mail.smtp.ca_file is not None:
        context = ssl.create_default_context(cafile=str(mail.smtp.ca_file))
    return SmtpTransport(
        mail.smtp.host,
        mail.smtp.port,
        security=mail.smtp.security,
        username=mail.smtp.username,
        password=settings.secrets.smtp_password,
        timeout=mail.smtp.timeout_seconds,
        ssl_context=context,
    )


@dataclass
class SendReport:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    last_error: str | None = None

    def line(self) -> str:
        return f"{self.sent} sent, {self.retrying} to retry, {self.failed} failed"


def worker_name() -> str:
    return f"{socket.gethostname()}:{random.getrandbits(32):08x}"


def send_outbox(
    runtime: Runtime,
    transport: Transport | None = None,
    *,
    worker: str | None = None,
    batch: int = 50,
    only: list[int] | None = None,
) -> SendReport:
    """Claim and send due messages (``only`` these outbox ids, if given) until none are left;
    failures are recorded, not raised. Claims take a lease, so any number of senders (the
    service, a web process, a CLI command) may run at once and none sends a message twice.

    Sent marks are committed ``SENT_MARKS_EVERY`` at a time, at the end of each claimed
    batch, and on the way out of an error: one commit per message was half of sending's CPU.
    The price is the gap no outbox closes (see db/outbox.py), widened from one message to at
    most ``SENT_MARKS_EVERY``: a sender killed after the server accepted them but before
    their marks were committed sends them again once the lease runs out (same Message-IDs).
    """
    engine = runtime.migrated_engine()
    transport = transport or make_transport(runtime.settings)
    worker = worker or worker_name()
    lease = runtime.settings.digest.lease_seconds
    report = SendReport()
    accepted: list[outbox.SentMark] = []
    with contextlib.ExitStack() as stack:
        if isinstance(transport, contextlib.AbstractContextManager):
            stack.enter_context(transport)  # one SMTP connection for the whole batch
        # Registered after the transport: marks are written first, even when this fails.
        stack.callback(_mark_sent, engine, accepted, worker)
        while rows := outbox.claim(
            engine, worker=worker, now=runtime.now(), lease_seconds=lease, limit=batch, only=only
        ):
            for row in rows:
                _send_one(runtime, engine, transport, row, worker, report, accepted)
                if len(accepted) >= SENT_MARKS_EVERY:
                    _mark_sent(engine, accepted, worker)
            _mark_sent(engine, accepted, worker)  # before claiming more: nothing waits long
    if report.sent or report.failed or report.retrying:
        log.info("outbox: %s", report.line())
    return report


SENT_MARKS_EVERY = 10  # sent marks per commit: at most this many re-sent after a crash


def _mark_sent(engine: Engine, accepted: list[outbox.SentMark], worker: str) -> None:
    if accepted:
        marks = list(accepted)
        accepted.clear()
        outbox.mark_sent_many(engine, marks, worker=worker)


def _send_one(
    runtime: Runtime,
    engine: Engine,
    transport: Transport,
    row: outbox.ClaimedMessage,
    worker: str,
    report: SendReport,
    accepted: list[outbox.SentMark],
) -> None:
    row_id = row.id
    try:
        transport.send(deserialise(row.message))
    except TransientDeliveryError as exc:
        report.last_error = str(exc)
        if row.attempts >= MAX_ATTEMPTS:
            outbox.mark_failed(engine, row_id, worker=worker, error=str(exc), retry_at=None)
            report.failed += 1
            return
        delay = min(RETRY_BASE * 2 ** (row.attempts - 1), RETRY_MAX)
        outbox.mark_failed(
            engine, row_id, worker=worker, error=str(exc), retry_at=runtime.now() + delay
        )
        report.retrying += 1
        log.warning("outbox: %s to %s will be retried: %s", row.kind, row.to_address, exc)
    except PermanentDeliveryError as exc:
        report.last_error = str(exc)
        outbox.mark_failed(engine, row_id, worker=worker, error=str(exc), retry_at=None)
        report.failed += 1
        log.error("outbox: %s to %s failed: %s", row.kind, row.to_address, exc)
        if row.subscriber_id is not None and exc.bounce:
            count_bounce(engine, row.subscriber_id, str(exc), limit=BOUNCE_LIMIT)
    else:
        # Marked with the next group (a delivery resets the subscriber's failure count then).
        accepted.append(outbox.SentMark(row_id, row.subscriber_id, runtime.now()))
        report.sent += 1
