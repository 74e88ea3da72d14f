"""Digests after they are queued: crashed senders, concurrent senders, the SMTP server going
away; and news stories that ran on several titles arriving as one item."""

from __future__ import annotations

import re
import threading
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from councilwatch import mailer
from councilwatch.digests import run_digests
from db import outbox
from tests.digestkit import (
    T1,
    T2,
    Setup,
    add_alert,
    decision,
    ingest,
    make_setup,
    part,
    set_cluster,
    story,
)
from tests.smtpd import SmtpTestServer, smtp_certificate, smtp_server

__all__ = ["smtp_certificate", "smtp_server"]  # fixtures used by name below


@pytest.fixture
def setup(
    database_url: str,
    tmp_path: Path,
    smtp_server: SmtpTestServer,
    smtp_certificate: tuple[Path, Path],
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Setup]:
    yield from make_setup(database_url, tmp_path, smtp_server, smtp_certificate, monkeypatch)


def queue_digests(setup: Setup, subscribers: int) -> int:
    for n in range(subscribers):
        add_alert(setup.engine, f"reader{n}@example.org", "Norfolk", councils=["norfolk"])
    setup.clock.current = T1
    ingest(setup, [decision("26 006 001")])
    setup.clock.current = T2
    return run_digests(setup.runtime, "daily").queued


def test_a_worker_killed_between_claim_and_send_is_resent_once_after_the_lease(
    setup: Setup,
) -> None:
    assert queue_digests(setup, 1) == 1
    lease = setup.runtime.settings.digest.lease_seconds
    claimed = outbox.claim(setup.engine, worker="killed", now=T2, lease_seconds=lease)
    assert len(claimed) == 1  # ...and the worker dies here, without sending or marking

    assert mailer.send_outbox(setup.runtime).sent == 0  # still leased
    setup.clock.advance(seconds=lease + 1)
    assert mailer.send_outbox(setup.runtime).sent == 1
    assert mailer.send_outbox(setup.runtime).sent == 0
    [msg] = setup.server.messages
    assert msg["Message-ID"] == claimed[0].message_id
    assert outbox.depth(setup.engine) == {"sent": 1}


def test_two_concurrent_senders_send_each_digest_once(setup: Setup) -> None:
    assert queue_digests(setup, 24) == 24
    barrier = threading.Barrier(2)
    reports: list[mailer.SendReport] = []

    def sender(name: str) -> None:
        barrier.wait()
        reports.append(mailer.send_outbox(setup.runtime, worker=name, batch=3))

    threads = [threading.Thread(target=sender, args=(f"w{n}",)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sum(r.sent for r in reports) == 24
    ids = Counter(str(m["Message-ID"]) for m in setup.server.messages)
    assert len(ids) == 24 and set(ids.values()) == {1}
    assert sorted(r.rcpt_tos[0] for r in setup.server.received) == sorted(
        f"reader{n}@example.org" for n in range(24)
    )


def test_smtp_down_then_up_loses_nothing(setup: Setup) -> None:
    assert queue_digests(setup, 3) == 3
    setup.server.stop()
    down = mailer.send_outbox(setup.runtime)
    assert (down.sent, down.retrying, down.failed) == (0, 3, 0)
    assert outbox.depth(setup.engine) == {"pending": 3}

    setup.server.start()
    assert mailer.send_outbox(setup.runtime).sent == 0  # not due yet: backing off
    setup.clock.advance(seconds=mailer.RETRY_BASE / timedelta(seconds=1) + 1)
    assert mailer.send_outbox(setup.runtime).sent == 3
    assert sorted(r.rcpt_tos[0] for r in setup.server.received) == [
        f"reader{n}@example.org" for n in range(3)
    ]
    assert outbox.depth(setup.engine) == {"sent": 3}


def test_a_syndicated_story_is_one_item_listing_every_title(setup: Setup) -> None:
    add_alert(setup.engine, "mrs.b@example.org", "Respite", query="respite")
    setup.clock.current = T1
    text = (
        "Families waited months for respite care after Norfolk County Council "
        "lost track of assessments, the ombudsman found."
    )
    copies = [
        story("a1", "Eastern Daily Press", "Families left waiting for respite", text),
        story(
            "b1",
            "Norwich Evening News",
            "Respite delays criticised",
            text,
            published=T1 + timedelta(hours=3),
        ),
    ]
    stored = ingest(setup, copies)
    set_cluster(setup.engine, stored, ["a1", "b1"], "norfolk-respite")
    setup.clock.current = T2

    assert run_digests(setup.runtime, "daily").items == 1
    mailer.send_outbox(setup.runtime)
    [msg] = setup.server.messages
    assert msg["Subject"] == "1 story: Norfolk County Council"
    plain, html = part(msg, "plain"), part(msg, "html")
    assert "NEWS - Families left waiting for respite" in plain
    assert "Read on Eastern Daily Press: https://easterndailypress.example/news/a1" in plain
    assert "Read on Norwich Evening News: https://norwicheveningnews.example/news/b1" in plain
    assert "*respite*" in plain and re.search(r"<mark[^>]*>respite</mark>", html)

    # A third title runs the same story later: it was sent, so it is not sent again.
    setup.clock.current = T2 + timedelta(hours=1)
    late = ingest(setup, [story("c1", "Lynn News", "Respite waits", text)])
    set_cluster(setup.engine, late, ["c1"], "norfolk-respite")
    report = run_digests(setup.runtime, "daily")
    assert (report.queued, report.dropped) == (0, 1)
