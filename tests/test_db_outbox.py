import threading
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, event, text

from db import migrate, outbox
from db.engine import make_engine, write_transaction
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


def test_a_claim_returns_each_rows_own_email(engine: Engine) -> None:
    outbox.enqueue_one(engine, message(2), now=NOW)
    with write_transaction(engine) as connection:
        queued = outbox.enqueue_many(
            connection,
            [message(1), OutgoingMessage(**{**vars(message(2)), "message": "changed"}), message(3)],
            now=NOW,
        )
    assert sorted(queued) == [message(1).idempotency_key, message(3).idempotency_key]
    claimed = outbox.claim(engine, worker="w", now=NOW, lease_seconds=60)
    by_key = {m.idempotency_key: m.message for m in claimed}
    # the key queued first keeps its first email; the others carry their own
    assert by_key == {message(n).idempotency_key: message(n).message for n in (1, 2, 3)}
    assert {m.idempotency_key: m.message for m in outbox.pending(engine)} == by_key


def test_claims_and_sent_marks_do_not_write_the_email_again(sqlite_engine: Engine) -> None:
    """A claim (lease, attempts) and a sent mark write the small row, not the ~57 KB email:
    counted in pages written to SQLite's write-ahead log."""
    email = "Subject: big\r\n\r\n" + "0123456789abcdef\r\n" * 12_000  # 216 KB
    big = OutgoingMessage(**{**vars(message(1)), "message": email})
    outbox.enqueue_one(sqlite_engine, big, now=NOW)
    with sqlite_engine.connect() as connection:
        page = connection.exec_driver_sql("PRAGMA page_size").scalar_one()
        assert connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").one()[0] == 0
    [row] = outbox.claim(sqlite_engine, worker="w", now=NOW, lease_seconds=60)
    assert row.message == email
    assert outbox.mark_sent(sqlite_engine, row.id, worker="w", now=NOW)
    with sqlite_engine.connect() as connection:
        _, written, _ = connection.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)").one()
    assert written < len(email) // page // 4, written  # one copy of the email is 53 pages


def test_a_claim_reads_the_queue_in_its_order_without_sorting_it(sqlite_engine: Engine) -> None:
    """With 100,000 emails queued a claim that sorted every pending row took 53 ms CPU for
    50 of them: the index hands them over in id order instead."""
    for n in range(3):
        outbox.enqueue_one(sqlite_engine, message(n), now=NOW)
    claims: list[tuple[str, Any]] = []

    def seen(conn: Any, cursor: Any, statement: str, parameters: Any, *args: Any) -> None:
        if statement.lstrip().upper().startswith("UPDATE OUTBOX"):
            claims.append((statement, parameters))

    event.listen(sqlite_engine, "before_cursor_execute", seen)
    assert len(outbox.claim(sqlite_engine, worker="w", now=NOW, lease_seconds=60)) == 3
    event.remove(sqlite_engine, "before_cursor_execute", seen)
    [(statement, parameters)] = claims
    with sqlite_engine.connect() as connection:
        plan = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters).all()
    steps = [str(row[-1]) for row in plan]
    assert not any("TEMP B-TREE" in step for step in steps), steps
    assert any("ix_outbox_queue" in step for step in steps), steps


def test_upgrading_moves_each_email_apart_and_downgrading_brings_it_back(
    database_url: str,
) -> None:
    engine = make_engine(database_url)
    migrate.downgrade(engine, "0012_documents_source_first_seen")
    with engine.begin() as connection:
        for n in (1, 2):
            connection.execute(
                text(
                    "INSERT INTO outbox (id, idempotency_key, message_id, kind, to_address, "
                    "subject, message, status, attempts, created_at, next_attempt_at) VALUES "
                    f"({n}, 'k{n}', '<{n}@x>', 'digest', 'a{n}@example.org', 's', :m, "
                    "'pending', 0, '2026-11-01 07:00:00', '2026-11-01 07:00:00')"
                ),
                {"m": f"Subject: {n}\r\n\r\nbody {n}\r\n"},
            )
    migrate.upgrade(engine)
    claimed = outbox.claim(engine, worker="w", now=NOW, lease_seconds=60)
    assert [(m.id, m.message) for m in claimed] == [
        (n, f"Subject: {n}\r\n\r\nbody {n}\r\n") for n in (1, 2)
    ]
    migrate.downgrade(engine, "0012_documents_source_first_seen")
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT id, message FROM outbox ORDER BY id")).all()
    assert [tuple(r) for r in rows] == [(n, f"Subject: {n}\r\n\r\nbody {n}\r\n") for n in (1, 2)]
    migrate.upgrade(engine)
    engine.dispose()


def _stored_with(engine: Engine) -> set[str]:
    with engine.connect() as connection:
        return set(
            connection.execute(
                text("SELECT pg_column_compression(message) FROM outbox_bodies")
            ).scalars()
        )


def test_on_postgres_queued_emails_are_compressed_with_lz4(tmp_path: Any) -> None:
    # pglz (the default, main) spent 1.01 s of server CPU on 2,000 of the pipeline bench's
    # digests, lz4 0.33 s (migration 0015).
    from tests.dbfixtures import fresh_database_url

    email = "Subject: big\r\n\r\n" + "".join(f"line {n} of a digest\r\n" for n in range(2000))
    first, second = (OutgoingMessage(**{**vars(message(n)), "message": email}) for n in (1, 2))
    for url in fresh_database_url("postgres", tmp_path):
        engine = make_engine(url)
        migrate.downgrade(engine, "0014_index_merge_settings")
        outbox.enqueue_one(engine, first, now=NOW)
        assert _stored_with(engine) == {"pglz"}
        migrate.upgrade(engine)
        outbox.enqueue_one(engine, second, now=NOW)
        assert _stored_with(engine) == {"pglz", "lz4"}  # the older one read as it is
        claimed = outbox.claim(engine, worker="w", now=NOW, lease_seconds=60)
        assert [m.message for m in claimed] == [email, email]
        migrate.downgrade(engine, "0014_index_merge_settings")
        assert [m.message for m in outbox.pending(engine)] == [email, email]
        engine.dispose()
