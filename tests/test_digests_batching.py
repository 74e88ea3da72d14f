"""A digest run at scale: emails queued a group per transaction (all of a group or none of it),
story snippets explained once per run, and the same bytes however the work is cached."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from alerts.explain import Explainer
from councilwatch import digests
from councilwatch.digests import run_digests
from councilwatch.mailer import send_outbox
from db import digest_data
from db.bounces import count_bounce
from db.digest_data import QueuedDigest, queue_digests
from db.matches import pending_matches
from db.outbox import OutgoingMessage
from db.tables import OUTBOX, SENT_ITEMS, SUBSCRIBERS
from tests.dbfixtures import statements
from tests.digestkit import T1, T2, Setup, add_alert, count, decision, ingest, make_setup, story
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


def norfolk_fans(setup: Setup, n: int) -> None:
    for k in range(n):
        add_alert(setup.engine, f"fan{k}@example.org", "Norfolk", councils=["norfolk"])
    setup.clock.current = T1
    ingest(setup, [decision("26 310 001"), decision("26 310 002")])
    setup.clock.current = T2


def test_a_run_queues_a_group_of_digests_per_statement(
    setup: Setup, monkeypatch: pytest.MonkeyPatch
) -> None:
    norfolk_fans(setup, 12)
    monkeypatch.setattr(digests, "QUEUE_EVERY", 5)
    with statements(setup.engine) as seen:
        assert run_digests(setup.runtime, "daily").queued == 12
    inserts = [w[2].lower() for w in map(str.split, seen) if w[:2] == ["INSERT", "INTO"]]
    # 5 + 5 + 2, not one statement (and transaction) per digest; the bodies beside them
    assert inserts.count("outbox") == inserts.count("outbox_bodies") == 3
    assert count(setup, OUTBOX) == 12
    assert count(setup, SENT_ITEMS) == 24
    assert pending_matches(setup.engine) == []


def test_a_failed_group_leaves_none_of_itself_and_the_rerun_finishes(
    setup: Setup, monkeypatch: pytest.MonkeyPatch
) -> None:
    norfolk_fans(setup, 12)
    monkeypatch.setattr(digests, "QUEUE_EVERY", 5)
    advance = digest_data.advance
    calls = 0

    def failing_second(*args: Any, **kwargs: Any) -> None:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise RuntimeError("the disk filled up")
        advance(*args, **kwargs)

    monkeypatch.setattr(digest_data, "advance", failing_second)
    with pytest.raises(RuntimeError):
        run_digests(setup.runtime, "daily")
    # The first group is queued whole; of the second nothing: no email, no ledger row, and
    # its matches still wait.
    assert count(setup, OUTBOX) == 5
    assert count(setup, SENT_ITEMS) == 10
    assert len(pending_matches(setup.engine)) == 14
    monkeypatch.setattr(digest_data, "advance", advance)
    assert run_digests(setup.runtime, "daily").queued == 7
    assert count(setup, OUTBOX) == 12
    assert pending_matches(setup.engine) == []


def _outgoing(key: str, subscriber_id: int) -> OutgoingMessage:
    return OutgoingMessage(
        idempotency_key=key,
        message_id=f"<{key}@councilwatch.example>",
        kind="digest",
        to_address=f"fan{subscriber_id}@example.org",
        subject="Digest",
        message="Subject: Digest\r\n\r\nbody\r\n",
        subscriber_id=subscriber_id,
    )


def test_queue_digests_writes_only_what_was_not_queued_before(setup: Setup) -> None:
    norfolk_fans(setup, 3)
    with setup.engine.connect() as connection:
        a, b, c = connection.execute(select(SUBSCRIBERS.c.id).order_by(SUBSCRIBERS.c.id)).scalars()
    with setup.engine.connect() as connection:
        docs = list(connection.execute(select(func.min(SENT_ITEMS.c.document_id))).scalars())
    assert docs == [None]  # nothing sent yet
    first = [QueuedDigest(_outgoing("k-a", a), [1]), QueuedDigest(_outgoing("k-b", b), [1, 2])]
    assert queue_digests(setup.engine, first, alert_ids=[], through=0, now=T2) == {"k-a", "k-b"}
    again = [QueuedDigest(_outgoing("k-b", b), [1, 2]), QueuedDigest(_outgoing("k-c", c), [2])]
    assert queue_digests(setup.engine, again, alert_ids=[], through=0, now=T2) == {"k-c"}
    assert count(setup, OUTBOX) == 3
    with setup.engine.connect() as connection:
        ledger = connection.execute(
            select(SENT_ITEMS.c.subscriber_id, SENT_ITEMS.c.document_id, OUTBOX.c.idempotency_key)
            .join(OUTBOX, OUTBOX.c.id == SENT_ITEMS.c.outbox_id)
            .order_by(SENT_ITEMS.c.subscriber_id, SENT_ITEMS.c.document_id)
        ).all()
    assert [tuple(row) for row in ledger] == [
        (a, 1, "k-a"),
        (b, 1, "k-b"),
        (b, 2, "k-b"),
        (c, 2, "k-c"),
    ]


def _story_fans(setup: Setup, n: int) -> None:
    for k in range(n):
        add_alert(setup.engine, f"reader{k}@example.org", f"Respite {k}", query="respite")
    setup.clock.current = T1
    body = (
        "Families in Norfolk waited months for respite care. The council said it was sorry. "
        "A carer said respite breaks had stopped altogether."
    )
    ingest(
        setup,
        [
            story("s1", "Eastern Daily Press", "Respite care waits grow", body),
            story("s2", "Lynn News", "Carers wait for respite", body + " More follows."),
        ],
    )
    setup.clock.current = T2


def _dry_texts(setup: Setup) -> list[str]:
    report = run_digests(setup.runtime, "daily", dry_run=True)
    return [built.as_text() for built in report.digests]


def test_a_story_is_tokenised_once_per_batch_and_shows_the_same_snippet(
    setup: Setup, monkeypatch: pytest.MonkeyPatch
) -> None:
    _story_fans(setup, 6)
    cached = _dry_texts(setup)
    assert len(cached) == 6 and all("*respite*" in text.replace("=\r\n", "") for text in cached)
    made: list[int] = []

    class Counting(Explainer):
        __slots__ = ()

        def __init__(self, doc: Any) -> None:
            made.append(doc.id)
            super().__init__(doc)

    monkeypatch.setattr(digests, "Explainer", Counting)
    monkeypatch.setattr(digests._Deriver, "TOKENISED", 0)  # nothing kept between batches
    assert _dry_texts(setup) == cached  # the same bytes, cached or not
    # Six digests show each story: each is tokenised once for the batch, not once per digest.
    assert sorted(made) == sorted(set(made)) and len(made) == 2


def test_a_story_is_tokenised_once_per_run_and_its_tokens_are_not_kept(
    setup: Setup, monkeypatch: pytest.MonkeyPatch
) -> None:
    _story_fans(setup, 6)
    expected = _dry_texts(setup)
    made: list[int] = []
    alive: weakref.WeakSet[Explainer] = weakref.WeakSet()

    class Counting(Explainer):
        __slots__ = ("__weakref__",)

        def __init__(self, doc: Any) -> None:
            made.append(doc.id)
            super().__init__(doc)
            alive.add(self)

    kept: list[int] = []
    build = digests._Builder.build

    def counting_build(self: Any, work: Any) -> Any:
        gc.collect()
        kept.append(len(alive))  # explainers (tokens) still held while digests are built
        return build(self, work)

    monkeypatch.setattr(digests, "Explainer", Counting)
    monkeypatch.setattr(digests._Builder, "build", counting_build)
    monkeypatch.setattr(digests, "SUBSCRIBER_BATCH", 2)  # the six readers in three batches
    assert _dry_texts(setup) == expected
    # Each story tokenised once for the whole run, however many batches show it ...
    assert sorted(made) == sorted(set(made)) and len(made) == 2
    # ... and its tokens dropped once its matches are explained, before any digest is built.
    assert kept and set(kept) == {0}


def test_a_delivery_resets_the_failure_count(setup: Setup) -> None:
    norfolk_fans(setup, 1)
    with setup.engine.connect() as connection:
        subscriber = connection.execute(select(SUBSCRIBERS.c.id)).scalar_one()
    count_bounce(setup.engine, subscriber, "550 mailbox full", limit=3)
    assert run_digests(setup.runtime, "daily").queued == 1
    setup.clock.current = T2 + timedelta(minutes=1)
    assert send_outbox(setup.runtime).sent == 1
    with setup.engine.connect() as connection:
        failures = connection.execute(
            select(SUBSCRIBERS.c.failures).where(SUBSCRIBERS.c.id == subscriber)
        ).scalar_one()
    assert failures == 0


def test_a_digest_reads_alerts_as_the_alert_index_does(setup: Setup) -> None:
    from db.alert_log import active_alerts

    first = add_alert(setup.engine, "a@example.org", "Norfolk", councils=["norfolk"])
    add_alert(
        setup.engine,
        "b@example.org",
        "Upheld care",
        query='"care plan" OR respite',
        kinds=["decision"],
        outcomes=["upheld"],
        categories=["Adult care services"],
    )
    add_alert(setup.engine, "c@example.org", "County", counties=["norfolk"], sources=["lgsco"])
    everyone = {a.id: a for a in active_alerts(setup.engine)}
    ids = sorted({a.subscriber_id for a in everyone.values()})
    assert digest_data.live_alerts(setup.engine, ids, "daily") == everyone
    keyword = digest_data.keyword_alerts(setup.engine, sorted(everyone), "daily")
    assert keyword == {i: a for i, a in everyone.items() if a.query}
    assert first in ids


def test_a_queued_group_leaves_the_wal_checkpoint_to_the_next_writer(setup: Setup) -> None:
    # A group of digests is megabytes: copying it into the database file (and the fsync) was
    # the building thread's one wait. It stays in the WAL for the sending thread's commits.
    if setup.engine.dialect.name != "sqlite":
        pytest.skip("SQLite's WAL")
    norfolk_fans(setup, 2)
    with setup.engine.connect() as connection:
        a, b = connection.execute(select(SUBSCRIBERS.c.id).order_by(SUBSCRIBERS.c.id)).scalars()
    database = Path(str(setup.engine.url.database))
    send_outbox(setup.runtime)  # anything queued so far: the database file settles
    size = database.stat().st_size
    head = "From: alerts@councilwatch.example\r\nTo: fan@example.org\r\nSubject: Digest\r\n\r\n"
    body = head + "".join(f"line {k:07d}\r\n" for k in range(200_000))
    big = [
        QueuedDigest(replace(_outgoing(f"k-{k}", a if k % 2 else b), message=body), [1])
        for k in range(3)
    ]  # ~2,000 pages of WAL, past SQLite's 1,000-page autocheckpoint
    queue_digests(setup.engine, big, alert_ids=[], through=0, now=T2)
    assert database.stat().st_size < size + 1_000_000  # still in the WAL
    with setup.engine.connect() as connection:  # the pooled connection is as it was
        pages = connection.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar_one()
    assert pages == 1000
    send_outbox(setup.runtime)  # the sender's commits checkpoint it
    assert database.stat().st_size > size + 6_000_000
    assert count(setup, OUTBOX) >= 3
