from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

import pytest

from alerts.mail.transports import SmtpTransport
from councilwatch import mailer
from councilwatch.runtime import Runtime
from cwerrors import (
    PermanentDeliveryError,
    SubscriptionError,
    TransientDeliveryError,
)
from db import outbox
from db.subscriptions import AlertFields, find_subscriber, subscribe
from tests.runtimes import make_runtime
from tests.smtpd import SmtpTestServer

NOW = datetime(2026, 11, 2, 8, tzinfo=UTC)


@pytest.fixture
def runtime(database_url: str, tmp_path: Path) -> Runtime:
    return make_runtime(database_url, tmp_path, now=lambda: NOW)


def pending_subscriber(runtime: Runtime, email: str = "parent@example.org"):  # type: ignore[no-untyped-def]
    return subscribe(
        runtime.migrated_engine(),
        email=email,
        new_token="tok-" + email,
        alert=AlertFields(name="Norfolk"),
        confirmed=False,
        now=NOW,
    ).subscriber


def test_confirmation_is_queued_once_and_written_by_the_file_transport(runtime: Runtime) -> None:
    subscriber = pending_subscriber(runtime)
    assert mailer.queue_confirmation(runtime, subscriber, [AlertFields(name="Norfolk")])
    assert not mailer.queue_confirmation(runtime, subscriber, [AlertFields(name="Norfolk")])
    report = mailer.send_outbox(runtime)
    assert (report.sent, report.failed) == (1, 0)
    [eml] = list(runtime.settings.mail.outbox_dir.glob("*.eml"))
    text = eml.read_text()
    assert "To: parent@example.org" in text and "List-Unsubscribe-Post" in text
    assert mailer.send_outbox(runtime).sent == 0
    assert outbox.depth(runtime.migrated_engine()) == {"sent": 1}


def test_link_tokens_round_trip_and_are_purpose_bound(runtime: Runtime) -> None:
    subscriber = pending_subscriber(runtime)
    token = mailer.link_token(runtime.settings, "manage", subscriber)
    assert mailer.subscriber_id_from_token(runtime.settings, "manage", token) == (
        subscriber.id,
        subscriber.token,
    )
    with pytest.raises(SubscriptionError):
        mailer.subscriber_id_from_token(runtime.settings, "unsubscribe", token)
    with pytest.raises(SubscriptionError):
        mailer.subscriber_id_from_token(runtime.settings, "manage", token[:-3] + "AAA")
    found = mailer.links(runtime.settings, subscriber)
    assert found.manage.startswith("http://127.0.0.1:8080/manage/")


class Failing:
    def __init__(self, error: Exception) -> None:
        self.error = error
        self.calls = 0

    def send(self, msg: EmailMessage) -> None:
        self.calls += 1
        raise self.error


def test_transient_failures_are_retried_and_permanent_ones_mark_bounces(runtime: Runtime) -> None:
    engine = runtime.migrated_engine()
    subscriber = pending_subscriber(runtime)
    mailer.queue_confirmation(runtime, subscriber, [])
    report = mailer.send_outbox(runtime, Failing(TransientDeliveryError("421 busy")))
    assert report.retrying == 1
    assert outbox.depth(engine) == {"pending": 1}
    later = datetime(2026, 11, 2, 9, tzinfo=UTC)
    runtime.now = lambda: later
    good: list[EmailMessage] = []

    class Good:
        def send(self, msg: EmailMessage) -> None:
            good.append(msg)

    assert mailer.send_outbox(runtime, Good()).sent == 1
    assert good[0]["Subject"] == "Confirm your councilwatch alerts"

    others = [pending_subscriber(runtime, f"gone{n}@example.org") for n in range(1)]
    for n in range(3):
        other = others[0]
        subscribe(
            engine,
            email=other.email,
            new_token="x",
            alert=AlertFields(name=f"a{n}"),
            confirmed=True,
            now=NOW,
        )
        outbox.enqueue_one(
            engine,
            outbox.OutgoingMessage(
                idempotency_key=f"k{n}",
                message_id=f"<k{n}@x>",
                kind="digest",
                to_address=other.email,
                subject="s",
                message=mailer.serialise(good[0]),
                subscriber_id=other.id,
            ),
            now=later,
        )
    report = mailer.send_outbox(runtime, Failing(PermanentDeliveryError("550 no such user")))
    assert report.failed == 3
    found = find_subscriber(engine, email="gone0@example.org")
    assert found is not None and found.status == "bouncing" and found.failures == 3


def _queue_many(runtime: Runtime, n: int) -> None:
    engine = runtime.migrated_engine()
    template = mailer.deserialise(
        "From: a@councilwatch.example\r\nTo: b@example.org\r\nSubject: s\r\n\r\nbody\r\n"
    )
    for k in range(n):
        outbox.enqueue_one(
            engine,
            outbox.OutgoingMessage(
                idempotency_key=f"many{k}",
                message_id=f"<many{k}@x>",
                kind="digest",
                to_address=f"reader{k}@example.org",
                subject="s",
                message=mailer.serialise(template),
            ),
            now=NOW,
        )


def test_sent_marks_are_committed_in_groups_not_one_per_message(
    runtime: Runtime,
) -> None:
    from sqlalchemy import event

    engine = runtime.migrated_engine()
    _queue_many(runtime, 25)
    marks: list[int] = []

    def seen(conn: object, cursor: object, statement: str, params: object, *args: object) -> None:
        if statement.lstrip().upper().startswith("UPDATE OUTBOX SET STATUS"):
            marks.append(len(params) if isinstance(params, list) else 1)

    event.listen(engine, "before_cursor_execute", seen)
    sent: list[object] = []

    class Good:
        def send(self, msg: object) -> None:
            sent.append(msg)

    assert mailer.send_outbox(runtime, Good(), batch=20).sent == 25
    event.remove(engine, "before_cursor_execute", seen)
    # 20 claimed: marked 10 + 10; then 5 claimed: marked together. Not 25 commits.
    assert marks == [10, 10, 5]
    assert outbox.depth(engine) == {"sent": 25} and len(sent) == 25


def test_a_sender_dying_mid_batch_keeps_what_the_server_accepted_marked(
    runtime: Runtime,
) -> None:
    engine = runtime.migrated_engine()
    _queue_many(runtime, 8)
    sent: list[object] = []

    class DiesOnTheFifth:
        def send(self, msg: object) -> None:
            if len(sent) == 4:
                raise RuntimeError("killed")
            sent.append(msg)

    with pytest.raises(RuntimeError):
        mailer.send_outbox(runtime, DiesOnTheFifth())
    # The four accepted are marked sent (not re-sent later); the rest wait for their lease.
    assert outbox.depth(engine) == {"sent": 4, "pending": 4}
    lease = runtime.settings.digest.lease_seconds
    later = datetime.fromtimestamp(NOW.timestamp() + lease + 1, UTC)
    runtime.now = lambda: later
    again: list[object] = []

    class Good:
        def send(self, msg: object) -> None:
            again.append(msg)

    assert mailer.send_outbox(runtime, Good()).sent == 4
    assert len(again) == 4 and outbox.depth(engine) == {"sent": 8}


def test_a_message_that_names_no_recipient_fails_without_counting_as_a_bounce(
    runtime: Runtime, smtp_plain_server: SmtpTestServer
) -> None:
    # The address did not bounce: the stored message lost its To header. Three such rows must
    # not mark the subscriber bouncing (PermanentDeliveryError from a 5xx would). The real
    # transport, not a fake raising the error we expect: the rows are read back and sent.
    engine = runtime.migrated_engine()
    subscriber = subscribe(
        engine,
        email="kept@example.org",
        new_token="t",
        alert=AlertFields(name="Norfolk"),
        confirmed=True,
        now=NOW,
    ).subscriber
    for n in range(3):
        outbox.enqueue_one(
            engine,
            outbox.OutgoingMessage(
                idempotency_key=f"u{n}",
                message_id=f"<u{n}@x>",
                kind="digest",
                to_address=subscriber.email,
                subject="s",
                message="Subject: s\r\nMessage-ID: <u@x>\r\n\r\nbody\r\n",
                subscriber_id=subscriber.id,
            ),
            now=NOW,
        )
    smtp = SmtpTransport(
        smtp_plain_server.host, smtp_plain_server.port, security="none", timeout=5.0
    )
    report = mailer.send_outbox(runtime, smtp)
    assert (report.sent, report.failed) == (0, 3)
    assert outbox.depth(engine) == {"failed": 3}
    found = find_subscriber(engine, email="kept@example.org")
    assert found is not None and found.status == "active" and found.failures == 0
