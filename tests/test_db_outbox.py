import threading
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine

from db import outbox
from db.outbox import OutgoingMessage

NOW = datetime(2026, 11, 1, 7, tzinfo=UTC)


def message(n: int) -> OutgoingMessage:
    return OutgoingMessage(
        idempotency_key=f"digest:{n}:2026-11-01",
        message_id=f"<{n}@councilwatch>",
        kind="digest",
        to_address=f"s{n}@example.org",
        subject=f"Digest {n}",
        message=f"Subject: Digest {n}\n\nbody\n",
    )


def test_enqueue_is_idempotent(engine: Engine) -> None:
    assert outbox.enqueue_one(engine, message(1), now=NOW) is not None
    assert outbox.enqueue_one(engine, message(1), now=NOW) is None
    assert outbox.depth(engine) == {"pending": 1}


def test_claims_do_not_overlap_and_expired_leases_are_reclaimed(engine: Engine) -> None:
    for n in range(5):
        outbox.enqueue_one(engine, message(n), now=NOW)
    first = outbox.claim(engine, worker="a", now=NOW, lease_seconds=60, limit=3)
    second = outbox.claim(engine, worker="b", now=NOW, lease_seconds=60, limit=10)
    assert [m.idempotency_key for m in first] == [message(n).idempotency_key for n in range(3)]
    assert len(second) == 2
    assert outbox.mark_sent(engine, first[0].id or 0, worker="a", now=NOW)
    assert all(outbox.mark_sent(engine, m.id or 0, worker="b", now=NOW) for m in second)
    # Worker a dies holding two rows; after the lease they go to c, and a can no longer mark them.
    later = NOW + timedelta(seconds=61)
    third = outbox.claim(engine, worker="c", now=later, lease_seconds=60)
    assert sorted(m.id for m in third) == sorted(m.id for m in first[1:])
    assert all(m.attempts == 2 for m in third)
    assert not outbox.mark_sent(engine, first[1].id or 0, worker="a", now=later)
    assert outbox.mark_sent(engine, first[1].id or 0, worker="c", now=later)


def test_transient_failure_retries_later_and_permanent_fails(engine: Engine) -> None:
    outbox.enqueue_one(engine, message(1), now=NOW)
    outbox.enqueue_one(engine, message(2), now=NOW)
    a, b = outbox.claim(engine, worker="w", now=NOW, lease_seconds=60)
    outbox.mark_failed(
        engine, a.id or 0, worker="w", error="421 try later", retry_at=NOW + timedelta(minutes=5)
    )
    outbox.mark_failed(engine, b.id or 0, worker="w", error="550 no such user", retry_at=None)
    assert outbox.claim(engine, worker="w", now=NOW + timedelta(minutes=1), lease_seconds=60) == []
    [again] = outbox.claim(engine, worker="w", now=NOW + timedelta(minutes=6), lease_seconds=60)
    assert again.id == a.id and again.last_error == "421 try later"
    assert outbox.depth(engine) == {"pending": 1, "failed": 1}
    assert outbox.retry_failed(engine, now=NOW) == 1


def test_concurrent_senders_send_each_row_once(engine: Engine) -> None:
    for n in range(200):
        outbox.enqueue_one(engine, message(n), now=NOW)
    sent: list[int] = []
    lock = threading.Lock()

    def sender(name: str) -> None:
        while batch := outbox.claim(engine, worker=name, now=NOW, lease_seconds=300, limit=7):
            for row in batch:
                assert outbox.mark_sent(engine, row.id or 0, worker=name, now=NOW)
                with lock:
                    sent.append(row.id or 0)

    threads = [threading.Thread(target=sender, args=(f"w{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(sent) == 200 and len(set(sent)) == 200
    assert outbox.depth(engine) == {"sent": 200}
