"""Why a digest was quiet, per alert: the last digest that carried an item from it, read from
the ledger of what was sent (SQLite and PostgreSQL, real SMTP)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from councilwatch import mailer
from councilwatch.digests import run_digests
from councilwatch.quiet import quiet_report
from db.subscriptions import find_subscriber, subscriptions
from tests.digestkit import T1, Setup, add_alert, decision, ingest, make_setup
from tests.smtpd import SmtpTestServer, smtp_certificate, smtp_server

__all__ = ["smtp_certificate", "smtp_server"]


@pytest.fixture
def setup(
    database_url: str,
    tmp_path: Path,
    smtp_server: SmtpTestServer,
    smtp_certificate: tuple[Path, Path],
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Setup]:
    yield from make_setup(database_url, tmp_path, smtp_server, smtp_certificate, monkeypatch)


def test_each_alert_says_when_a_digest_last_carried_one_of_its_items(setup: Setup) -> None:
    add_alert(setup.engine, "reader@example.org", "Norfolk", councils=["norfolk"])
    add_alert(setup.engine, "reader@example.org", "Suffolk", councils=["suffolk"])
    setup.clock.current = T1
    ingest(setup, [decision("26 005 101")])  # a Norfolk decision
    assert run_digests(setup.runtime, "daily").queued == 1
    setup.clock.advance(minutes=5)
    assert mailer.send_outbox(setup.runtime).sent == 1
    subscriber = find_subscriber(setup.engine, email="reader@example.org")
    assert subscriber is not None
    (view,) = [v for v in subscriptions(setup.engine) if v.subscriber.id == subscriber.id]
    alerts = view.alerts
    report, _unhealthy = quiet_report(setup.runtime, subscriber, alerts)
    by_name = {quiet.alert.name: quiet for quiet in report}
    norfolk, suffolk = by_name["Norfolk"], by_name["Suffolk"]
    assert norfolk.last_digest_sent_at is not None and suffolk.last_digest_sent_at is not None
    assert norfolk.last_item_sent_at is not None
    assert abs(norfolk.last_item_sent_at.replace(tzinfo=None) - setup.clock().replace(
        tzinfo=None)) < timedelta(minutes=1)
    assert suffolk.last_item_sent_at is None  # the digest was sent, but nothing of Suffolk's
    assert "last digest with an item from this alert: never" in suffolk.lines()[1]
