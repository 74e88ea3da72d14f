"""run_digests end to end: pipeline matches -> one digest per subscriber -> outbox -> real SMTP.

Every test runs on SQLite and PostgreSQL (the ``database_url`` fixture) against an aiosmtpd
server that requires STARTTLS and AUTH.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from alerts.mail.message import make_message_id
from councilwatch import mailer
from councilwatch.digests import digest_key, run_digests
from cwerrors import CouncilwatchError
from db import outbox
from db.matches import pending_matches
from db.models_delivery import SentItem, Subscriber
from db.subscriptions import AlertFields, find_subscriber, unsubscribe
from tests import rawmail
from tests.digestkit import (
    T1,
    T2,
    Setup,
    add_alert,
    decision,
    ingest,
    make_setup,
    part,
    remedies,
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


def ledger_count(setup: Setup) -> int:
    table = SentItem.__table__  # type: ignore[attr-defined]
    with setup.engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(table)).scalar_one())


def deliver(setup: Setup) -> mailer.SendReport:
    return mailer.send_outbox(setup.runtime)


def test_one_email_per_subscriber_lists_each_document_once_with_every_alert(
    setup: Setup,
) -> None:
    engine = setup.engine
    mrs_b = add_alert(engine, "mrs.b@example.org", "Norfolk", councils=["norfolk"])
    add_alert(engine, "mrs.b@example.org", "Respite", query="respite")
    add_alert(engine, "mrs.b@example.org", "Upheld care", outcomes=["upheld"])
    add_alert(engine, "mr.k@example.org", "Respite too", query="respite")
    setup.clock.current = T1
    records = [
        decision("26 004 101", extra=remedies((70000, "Mrs B"), apology=True)),
        decision("26 004 102", body="Mr D's respite placement ended without notice."),
    ]
    stored = ingest(setup, records)
    assert stored.matches == 8  # 2 documents x 3 alerts + 2 for Mr K
    setup.clock.current = T2

    report = run_digests(setup.runtime, "daily")
    assert (report.queued, report.items) == (2, 4)
    assert deliver(setup).sent == 2

    received = {r.rcpt_tos[0]: r for r in setup.server.received}
    assert set(received) == {"mrs.b@example.org", "mr.k@example.org"}
    mail = received["mrs.b@example.org"]
    assert mail.tls and mail.authenticated
    msg = mail.message
    assert msg.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in msg.iter_parts()] == ["text/plain", "text/html"]
    assert msg["Subject"] == "2 decisions: Norfolk County Council"
    assert msg["Auto-Submitted"] == "auto-generated"
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    rawmail.check(mail.raw)  # the header as a mailbox provider reads it: plain, unencoded
    assert re.fullmatch(
        r"<http://127\.0\.0\.1:8080/unsubscribe/[\w.-]+>",
        rawmail.header(mail.raw, "List-Unsubscribe"),
    )
    assert parsedate_to_datetime(msg["Date"]) == T2
    assert pending_matches(engine) == []  # every match was settled
    key = digest_key(mrs_b, stored.upsert.ids.values())
    assert msg["Message-ID"] == make_message_id(key, "councilwatch.example")

    text = part(msg, "plain")
    for ref in ("26 004 101", "26 004 102"):
        assert text.count(f"Norfolk County Council ({ref})") == 1  # the title names both
    assert text.count("Matched your alerts: Norfolk, Respite and Upheld care") == 2
    assert "£700 to Mrs B" in text and "Apology" in text
    assert "Upheld: fault and injustice".upper() in text
    html = part(msg, "html")
    assert html.count("Read the decision") == 2
    assert "Manage your alerts" in html and "/manage/" in html
    other = part(received["mr.k@example.org"].message, "plain")
    assert "Matched your alert: Respite too" in other
    assert ledger_count(setup) == 4


def test_the_same_documents_are_never_sent_twice(setup: Setup) -> None:
    engine = setup.engine
    add_alert(
        engine, "mrs.b@example.org", "Norfolk now", councils=["norfolk"], frequency="immediate"
    )
    add_alert(engine, "mrs.b@example.org", "Norfolk daily", councils=["norfolk"])
    setup.clock.current = T1
    ingest(setup, [decision("26 004 201")])

    assert run_digests(setup.runtime, "immediate").queued == 1
    assert deliver(setup).sent == 1
    again = run_digests(setup.runtime, "immediate")
    assert (again.queued, again.items) == (0, 0)
    # The daily alert matched the same decision: it was sent already, so nothing goes out.
    daily = run_digests(setup.runtime, "daily")
    assert (daily.queued, daily.dropped) == (0, 1)
    assert pending_matches(engine) == []
    assert deliver(setup).sent == 0

    setup.clock.current = T2
    ingest(setup, [decision("26 004 202"), decision("26 004 201", body="edited text")])
    assert run_digests(setup.runtime, "immediate").queued == 1
    deliver(setup)
    first, second = [part(m, "plain") for m in setup.server.messages]
    assert "26 004 201" in first and "26 004 202" not in first
    assert "26 004 202" in second and "26 004 201" not in second


def test_backfill_becomes_one_catch_up_section(setup: Setup) -> None:
    add_alert(setup.engine, "mrs.b@example.org", "Norfolk", councils=["norfolk"])
    setup.clock.current = T1
    backfill = [decision(f"25 000 {n:03d}", body="An earlier complaint.") for n in range(100)]
    assert ingest(setup, backfill, backfill=True).matches == 100
    ingest(setup, [decision("26 004 301")])
    setup.clock.current = T2

    report = run_digests(setup.runtime, "daily")
    assert (report.queued, report.items, report.catch_up) == (1, 1, 100)
    deliver(setup)
    [msg] = setup.server.messages
    text = part(msg, "plain")
    assert "== Catch-up ==" in text
    assert "Norfolk County Council: 100 earlier decisions" in text
    assert "documents?council=norfolk" in text
    assert text.count("DECISION - ") == 1 and "25 000 0" not in text
    assert ledger_count(setup) == 101
    assert run_digests(setup.runtime, "daily").queued == 0


def test_catch_up_is_decided_by_age_not_by_how_a_document_was_stored(setup: Setup) -> None:
    add_alert(setup.engine, "mrs.b@example.org", "Norfolk", councils=["norfolk"])  # at T0
    setup.clock.current = T1
    after_confirming = T1.date()
    ingest(
        setup,
        [
            # seen by a run that stores everything at once, but decided after she confirmed
            decision("26 008 001", decided_on=after_confirming),
            # seen at once and decided before she confirmed: history
            decision("26 008 002", decided_on=after_confirming - timedelta(days=30)),
        ],
        backfill=True,
    )
    ingest(
        setup,
        [
            # found by an incremental run: new, however long ago it was decided
            decision("26 008 003", decided_on=after_confirming - timedelta(days=40)),
            # but older than the source's whole window is catch-up whatever found it
            decision("26 008 004", decided_on=after_confirming - timedelta(days=400)),
        ],
    )
    setup.clock.current = T2
    report = run_digests(setup.runtime, "daily")
    assert (report.items, report.catch_up) == (2, 2)
    deliver(setup)
    text = part(setup.server.messages[0], "plain")
    assert "(26 008 001)" in text and "(26 008 003)" in text
    assert "26 008 002" not in text and "26 008 004" not in text
    assert "Norfolk County Council: 2 earlier decisions" in text


def test_unconfirmed_and_paused_addresses_get_nothing_but_the_confirmation(
    setup: Setup,
) -> None:
    engine = setup.engine
    add_alert(engine, "new@example.org", "Norfolk", councils=["norfolk"], confirmed=False)
    pending = add_alert(engine, "new@example.org", "Norfolk", councils=["norfolk"], confirmed=False)
    bouncing = add_alert(engine, "gone@example.org", "Norfolk", councils=["norfolk"])
    leaving = add_alert(engine, "leaving@example.org", "Norfolk", councils=["norfolk"])
    subscriber = find_subscriber(engine, subscriber_id=pending)
    assert subscriber is not None
    assert mailer.queue_confirmation(setup.runtime, subscriber, [AlertFields(name="Norfolk")])
    setup.clock.current = T1
    ingest(setup, [decision("26 004 401")])
    table = Subscriber.__table__  # type: ignore[attr-defined]
    with engine.begin() as connection:
        connection.execute(update(table).where(table.c.id == bouncing).values(status="bouncing"))
    unsubscribe(engine, leaving, now=T1)
    setup.clock.current = T2

    assert run_digests(setup.runtime, "daily").queued == 0
    assert deliver(setup).sent == 1
    [msg] = setup.server.messages
    assert msg["To"] == "new@example.org"
    assert msg["Subject"] == "Confirm your councilwatch alerts"


def test_dry_run_builds_the_email_and_changes_nothing(setup: Setup) -> None:
    add_alert(setup.engine, "mrs.b@example.org", "Norfolk", councils=["norfolk"])
    setup.clock.current = T1
    ingest(setup, [decision("26 004 501")])
    setup.clock.current = T2

    report = run_digests(setup.runtime, "daily", dry_run=True)
    [built] = report.digests
    assert built.subject == "1 decision: Norfolk County Council"
    assert "26 004 501" in part(built.message, "plain")
    assert "dry" not in report.line() and report.line().startswith("daily: would queue 1")
    assert outbox.depth(setup.engine) == {}
    assert len(pending_matches(setup.engine)) == 1 and ledger_count(setup) == 0
    assert run_digests(setup.runtime, "daily").queued == 1


def test_unknown_frequency_is_refused(setup: Setup) -> None:
    with pytest.raises(CouncilwatchError, match="unknown digest frequency 'hourly'"):
        run_digests(setup.runtime, "hourly")
