"""The web process's mail sender: sends when woken, and never twice beside other senders."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from councilwatch import mailer
from councilwatch.mail_sender import MailSender
from councilwatch.runtime import Runtime
from db import outbox
from db.subscriptions import AlertFields, subscribe
from tests.runtimes import make_runtime


@pytest.fixture
def runtime(database_url: str, tmp_path: Path) -> Iterator[Runtime]:
    rt = make_runtime(database_url, tmp_path)
    yield rt
    rt.close()


def queue_confirmations(runtime: Runtime, count: int) -> None:
    for n in range(count):
        result = subscribe(
            runtime.migrated_engine(),
            email=f"parent{n}@example.org",
            new_token=f"token-{n}",
            alert=AlertFields(name="Norfolk", councils=["norfolk"]),
            confirmed=False,
            now=runtime.now(),
        )
        assert mailer.queue_confirmation(runtime, result.subscriber, [result.alert])


def wait_for(condition: object, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "the sender did not send in time"
        time.sleep(0.02)


def test_a_wake_sends_at_once_without_waiting_for_the_poll(runtime: Runtime) -> None:
    sender = MailSender(runtime, every=3600).start()  # the poll alone would wait an hour
    try:
        wait_for(lambda: sender.passes == 1)  # its first pass found nothing; now it sleeps
        queue_confirmations(runtime, 1)
        sender.wake()
        wait_for(lambda: outbox.depth(runtime.migrated_engine()) == {"sent": 1})
        wait_for(lambda: sender.passes == 2)  # one pass, the woken one, sent it
    finally:
        sender.stop()
    [eml] = runtime.settings.mail.outbox_dir.glob("*.eml")
    assert b"To: parent0@example.org" in eml.read_bytes()


def test_senders_side_by_side_send_each_message_once(runtime: Runtime) -> None:
    queue_confirmations(runtime, 40)
    senders = [MailSender(runtime, every=3600) for _ in range(2)]
    service = threading.Thread(target=mailer.send_outbox, args=(runtime,), kwargs={"batch": 5})
    for sender in senders:
        sender.start()
    service.start()  # the service's own outbox:send job, in the same instant
    try:
        wait_for(lambda: outbox.depth(runtime.migrated_engine()) == {"sent": 40}, 30)
    finally:
        service.join()
        for sender in senders:
            sender.stop()
    files = list(runtime.settings.mail.outbox_dir.glob("*.eml"))
    recipients = sorted(
        line for eml in files for line in eml.read_bytes().splitlines() if line.startswith(b"To: ")
    )
    assert len(files) == 40 and len(set(recipients)) == 40
