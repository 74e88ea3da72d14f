"""Matches kept as one set per document: what a digest settles, what waits, and the upgrade
from one row per match. The behaviour is the one rows per match had (test_digests.py)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from councilwatch import digests
from councilwatch.digests import run_digests
from db import migrate, outbox
from db.engine import make_engine
from db.ingest import upsert_documents
from db.matches import pending_matches
from db.subscriptions import update_alert
from db.tables import ALERT_PROGRESS, MATCH_SETS
from tests.digestkit import T1, T2, Setup, add_alert, count, decision, ingest, make_setup
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


def alert_of(setup: Setup, subscriber: int) -> int:
    with setup.engine.connect() as connection:
        return int(
            connection.execute(
                text("SELECT id FROM alerts WHERE subscriber_id = :s"), {"s": subscriber}
            ).scalar_one()
        )


def test_writes_grow_with_documents_and_digests_not_with_matches(setup: Setup) -> None:
    for n in range(12):
        add_alert(setup.engine, f"fan{n}@example.org", "Norfolk", councils=["norfolk"])
    setup.clock.current = T1
    report = ingest(setup, [decision(f"26 300 {n:03d}") for n in range(3)])
    assert report.matches == 36
    assert count(setup, MATCH_SETS) == 3  # one row per document, not 36
    setup.clock.current = T2
    assert run_digests(setup.runtime, "daily").queued == 12
    assert count(setup, ALERT_PROGRESS) == 12  # one mark per alert settled
    assert pending_matches(setup.engine) == []
    assert run_digests(setup.runtime, "daily").queued == 0


def test_a_paused_alerts_matches_wait_for_it(setup: Setup) -> None:
    subscriber = add_alert(setup.engine, "p@example.org", "Norfolk", councils=["norfolk"])
    alert = alert_of(setup, subscriber)
    setup.clock.current = T1
    ingest(setup, [decision("26 301 001")])
    update_alert(setup.engine, alert, paused=True)
    setup.clock.current = T2
    assert run_digests(setup.runtime, "daily").queued == 0
    assert len(pending_matches(setup.engine)) == 1  # not settled while paused
    update_alert(setup.engine, alert, paused=False)
    assert run_digests(setup.runtime, "daily").queued == 1
    assert pending_matches(setup.engine) == []


def test_matches_follow_an_alert_to_its_new_frequency(setup: Setup) -> None:
    subscriber = add_alert(setup.engine, "f@example.org", "Norfolk", councils=["norfolk"])
    setup.clock.current = T1
    ingest(setup, [decision("26 302 001")])
    assert run_digests(setup.runtime, "weekly").queued == 0  # a daily alert's match
    update_alert(setup.engine, alert_of(setup, subscriber), frequency="weekly")
    setup.clock.current = T2
    assert run_digests(setup.runtime, "daily").queued == 0
    assert run_digests(setup.runtime, "weekly").queued == 1


def test_a_dry_run_settles_nothing(setup: Setup) -> None:
    add_alert(setup.engine, "d@example.org", "Norfolk", councils=["norfolk"])
    setup.clock.current = T1
    ingest(setup, [decision("26 303 001")])
    setup.clock.current = T2
    assert len(run_digests(setup.runtime, "daily", dry_run=True).digests) == 1
    assert count(setup, ALERT_PROGRESS) == 0 and len(pending_matches(setup.engine)) == 1


def test_upgrading_carries_rows_per_match_over_as_sets(database_url: str) -> None:
    engine = make_engine(database_url)
    migrate.downgrade(engine, "0005_alert_changes")
    stored = upsert_documents(engine, [decision(f"26 304 00{n}") for n in (1, 2, 3)], now=T1)
    assert sorted(stored.ids.values()) == [1, 2, 3]
    with engine.begin() as connection:
        run = connection.execute
        run(text(
            "INSERT INTO subscribers (id, email, token, status, created_at, failures) "
            "VALUES (1, 'a@example.org', 't1', 'active', '2026-11-01 00:00:00', 0)"
        ))  # fmt: skip
        for alert in (1, 2):
            run(text(
                "INSERT INTO alerts (id, subscriber_id, name, councils, counties, kinds, "
                "outcomes, categories, sources, frequency, paused, created_at) VALUES "
                f"({alert}, 1, 'a{alert}', '[]', '[]', '[]', '[]', '[]', '[]', 'daily', "
                "false, '2026-11-01 00:00:00')"
            ))  # fmt: skip
        # Alert 1: document 1 sent, 2 and 3 pending. Alert 2: all three sent.
        for n, (alert, doc, digested) in enumerate(
            [(1, 1, True), (2, 1, True), (1, 2, False), (2, 2, True), (1, 3, False), (2, 3, True)]
        ):
            run(text(
                "INSERT INTO alert_matches (id, alert_id, subscriber_id, document_id, "
                "matched_at, backfill, councils, terms, snippet, digested_at) VALUES "
                f"({n + 1}, {alert}, 1, {doc}, '2026-11-01 00:00:00', false, '[]', '[]', '', "
                + ("'2026-11-02 00:00:00')" if digested else "NULL)")
            ))  # fmt: skip
    migrate.upgrade(engine)
    pending = {(m.alert_id, m.document_id) for m in pending_matches(engine)}
    assert pending == {(1, 2), (1, 3)}
    engine.dispose()


def test_two_workers_sharing_a_run_build_each_digest_once(
    setup: Setup, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(digests, "SUBSCRIBER_BATCH", 2)  # several batches from few people
    for n in range(7):
        add_alert(setup.engine, f"w{n}@example.org", "Norfolk", councils=["norfolk"])
    setup.clock.current = T1
    ingest(setup, [decision("26 305 001"), decision("26 305 002")])
    setup.clock.current = T2
    reports: list[digests.DigestRunReport] = []

    def work(name: str) -> None:
        reports.append(run_digests(setup.runtime, "daily", share="2026-11-03", worker=name))

    threads = [threading.Thread(target=work, args=(f"worker-{k}",)) for k in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(r.queued for r in reports) == 7 and sum(r.already_queued for r in reports) == 0
    queued = outbox.pending(setup.engine, limit=100)
    assert sorted(m.to_address for m in queued) == sorted(f"w{n}@example.org" for n in range(7))
    assert pending_matches(setup.engine) == []
    # A later worker joining the same run finds every batch taken.
    assert run_digests(setup.runtime, "daily", share="2026-11-03", worker="late").queued == 0
