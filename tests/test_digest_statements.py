"""The statements a digest run sends: one per group where it was one per row, and on
PostgreSQL one text per statement whatever the number of ids it carries (so psycopg converts
it once and the server can prepare it)."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, insert, select, text
from sqlalchemy.dialects import postgresql

from db import digest_data, outbox
from db.links import links_of
from db.matches import advance, document_councils, progress
from db.outbox import OutgoingMessage
from db.tables import ALERT_PROGRESS, ALERTS, SENT_ITEMS, SUBSCRIBERS
from tests.dbfixtures import fresh_database_url, statements

NOW = datetime(2026, 11, 4, 7, tzinfo=UTC)


def add_subscribers(engine: Engine, n: int, failures: int = 0) -> list[int]:
    with engine.begin() as connection:
        rows = connection.execute(
            insert(SUBSCRIBERS).returning(SUBSCRIBERS.c.id),
            [
                {
                    "email": f"s{k}@example.org",
                    "token": f"t{k}",
                    "status": "active",
                    "created_at": NOW,
                    "confirmed_at": NOW,
                    "failures": failures,
                }
                for k in range(n)
            ],
        )
        return sorted(int(row.id) for row in rows)


def test_marking_a_group_sent_resets_its_failures_in_one_statement(engine: Engine) -> None:
    ids = add_subscribers(engine, 3, failures=2)
    for k, subscriber_id in enumerate(ids):
        outbox.enqueue_one(
            engine,
            OutgoingMessage(
                f"digest:{k}",
                f"<{k}@x>",
                "digest",
                f"s{k}@example.org",
                "S",
                "m",
                subscriber_id=subscriber_id,
            ),
            now=NOW,
        )
    claimed = outbox.claim(engine, worker="w", now=NOW, lease_seconds=60)
    marks = [outbox.SentMark(m.id, m.subscriber_id, NOW) for m in claimed]
    with statements(engine) as seen:
        assert outbox.mark_sent_many(engine, marks, worker="w") == 3
    with engine.connect() as connection:
        failures = connection.execute(select(SUBSCRIBERS.c.failures)).scalars().all()
    assert failures == [0, 0, 0]
    assert len([s for s in seen if s.lstrip().upper().startswith("UPDATE SUBSCRIBERS")]) == 1


def _texts(engine: Engine, read: Callable[[list[int]], object], ids: list[int]) -> list[str]:
    with statements(engine) as seen:
        read(ids)
    return seen


def _reads(engine: Engine) -> dict[str, Callable[[list[int]], object]]:
    return {
        "subscribers": lambda ids: digest_data.subscribers_by_id(engine, ids),
        "alerts": lambda ids: digest_data.live_alerts(engine, ids, "daily"),
        "keyword alerts": lambda ids: digest_data.keyword_alerts(engine, ids, "daily"),
        "stories": lambda ids: digest_data.story_ids(engine, ids),
        "documents": lambda ids: digest_data.documents_by_id(engine, ids),
        "digest documents": lambda ids: digest_data.digest_documents(
            engine, ids, ids, clustered=lambda doc: True
        ),
        "marks": lambda ids: digest_data.alert_marks(engine, ids),
        "councils": lambda ids: document_councils(engine, ids),
        "links": lambda ids: links_of(engine, ids),
    }


def test_on_postgres_a_digest_read_is_one_text_whatever_the_number_of_ids(
    tmp_path: Any,
) -> None:
    from db.engine import make_engine

    for url in fresh_database_url("postgres", tmp_path):
        engine = make_engine(url)
        for name, read in _reads(engine).items():
            one, many = _texts(engine, read, [1]), _texts(engine, read, list(range(1, 400)))
            assert one and one == many, name
        engine.dispose()


def add_documents(engine: Engine, n: int) -> list[int]:
    with engine.begin() as connection:
        rows = connection.execute(
            postgresql.insert(digest_data._DOCS).returning(digest_data._DOCS.c.id),
            [
                {
                    "kind": "news",
                    "source": "echo",
                    "source_key": f"k{k}",
                    "url": f"u{k}",
                    "title": "t",
                    "summary": "",
                    "body": "",
                    "first_seen_at": NOW,
                    "updated_at": NOW,
                    "dated_at": NOW,
                    "content_hash": f"h{k}",
                    "extra": {},
                }
                for k in range(n)
            ],
        )
        return sorted(int(row.id) for row in rows)


def test_on_postgres_queueing_writes_ledger_rows_and_marks_from_arrays(tmp_path: Any) -> None:
    from db.engine import make_engine

    for url in fresh_database_url("postgres", tmp_path):
        engine = make_engine(url)
        subscribers = add_subscribers(engine, 2)
        add_documents(engine, 3)  # documents 1-3 for the ledger rows to name
        digests = [
            digest_data.QueuedDigest(
                OutgoingMessage(
                    f"digest:{n}",
                    f"<{n}@x>",
                    "digest",
                    f"s{n}@example.org",
                    "S",
                    "m",
                    subscriber_id=subscriber,
                ),
                [1, 2, 3][: n + 2],
            )
            for n, subscriber in enumerate(subscribers)
        ]
        with engine.begin() as connection:
            alerts = connection.execute(
                insert(ALERTS).returning(ALERTS.c.id),
                [
                    {
                        "subscriber_id": subscribers[0],
                        "name": f"a{k}",
                        "councils": [],
                        "counties": [],
                        "kinds": [],
                        "outcomes": [],
                        "categories": [],
                        "sources": [],
                        "frequency": "daily",
                        "paused": False,
                        "created_at": NOW,
                    }
                    for k in range(3)
                ],
            )
            a, b, c = sorted(int(row.id) for row in alerts)
        with statements(engine) as seen:
            queued = digest_data.queue_digests(
                engine, digests, alert_ids=[a, b, c], through=5, now=NOW
            )
        assert queued == {"digest:0", "digest:1"}
        ledger = [s for s in seen if "INTO sent_items" in s]
        marks = [s for s in seen if "INTO alert_progress" in s]
        assert len(ledger) == 1 and "unnest" in ledger[0]
        assert len(marks) == 1 and "unnest" in marks[0]
        with engine.connect() as connection:
            rows = connection.execute(
                select(SENT_ITEMS.c.subscriber_id, SENT_ITEMS.c.document_id).order_by(
                    SENT_ITEMS.c.subscriber_id, SENT_ITEMS.c.document_id
                )
            ).all()
            assert [tuple(r) for r in rows] == [
                (subscribers[0], 1),
                (subscribers[0], 2),
                (subscribers[1], 1),
                (subscribers[1], 2),
                (subscribers[1], 3),
            ]
            assert progress(connection, [a, b, c]) == {a: 5, b: 5, c: 5}
            advance(connection, [a, b], 3)  # never moves a mark back ...
            advance(connection, [c], 6)  # ... and moves one on
            connection.commit()
        with engine.connect() as connection:
            assert progress(connection) == {a: 5, b: 5, c: 6}
            assert len(connection.execute(select(ALERT_PROGRESS)).all()) == 3
        engine.dispose()


def test_on_postgres_queueing_writes_outbox_rows_from_arrays_one_text_for_any_batch(
    tmp_path: Any,
) -> None:
    # Main sent a multi-row VALUES ... RETURNING, one text per batch size (~19 KB for 50
    # digests, past psycopg's cache of converted statements).
    from db.engine import make_engine, write_transaction

    def queue(engine: Engine, keys: range) -> tuple[dict[str, int], list[str]]:
        messages = [
            OutgoingMessage(f"digest:{k}", f"<{k}@x>", "digest", f"s{k}@example.org", "S", f"m{k}")
            for k in keys
        ]
        with statements(engine) as seen, write_transaction(engine) as connection:
            queued = outbox.enqueue_many(connection, messages, now=NOW)
        return queued, [s for s in seen if "INTO outbox " in s]

    for url in fresh_database_url("postgres", tmp_path):
        engine = make_engine(url)
        first, one_text = queue(engine, range(1))
        assert list(first) == ["digest:0"]
        many, many_text = queue(engine, range(60))  # digest:0 was queued before
        assert len(one_text) == 1 and "unnest" in one_text[0] and one_text == many_text
        assert sorted(many) == sorted(f"digest:{k}" for k in range(1, 60))
        claimed = outbox.claim(engine, worker="w", now=NOW, lease_seconds=60, limit=100)
        assert {m.idempotency_key: m.message for m in claimed} == {
            f"digest:{k}": f"m{k}" for k in range(60)
        }
        assert {m.attempts for m in claimed} == {1}
        engine.dispose()


def test_on_postgres_a_claim_reads_its_emails_with_one_text_whatever_the_number_claimed(
    tmp_path: Any,
) -> None:
    from db.engine import make_engine

    for url in fresh_database_url("postgres", tmp_path):
        engine = make_engine(url)
        for k in range(40):
            outbox.enqueue_one(
                engine,
                OutgoingMessage(f"d:{k}", f"<{k}@x>", "digest", "s@example.org", "S", f"m{k}"),
                now=NOW,
            )
        texts = []
        for limit in (1, 39):
            with statements(engine) as seen:
                claimed = outbox.claim(engine, worker="w", now=NOW, lease_seconds=60, limit=limit)
            assert len(claimed) == limit
            texts.append([s for s in seen if "FROM outbox_bodies" in s])
        assert len(texts[0]) == 1 and texts[0] == texts[1]
        engine.dispose()


def _table_reads(url: str, schema: str, inserted: dict[str, int]) -> dict[str, tuple[int, int]]:
    """(rows inserted, rows read by sequential scans) of each table, once the server counts
    ``inserted`` rows in each: a backend sends its statistics now and then, and the rest as
    it exits, so what is read before then can be a part."""
    from db.engine import make_engine

    admin = make_engine(url)
    query = text(
        "SELECT relname, n_tup_ins, seq_tup_read FROM pg_stat_user_tables "
        "WHERE schemaname = :schema AND relname = ANY(:tables)"
    )
    found: dict[str, tuple[int, int]] = {}
    try:
        for _ in range(100):
            with admin.connect() as connection:
                rows = connection.execute(query, {"schema": schema, "tables": list(inserted)})
            found = {str(r.relname): (int(r.n_tup_ins), int(r.seq_tup_read)) for r in rows}
            if all(found.get(t, (0, 0))[0] >= n for t, n in inserted.items()):
                break
            time.sleep(0.05)
    finally:
        admin.dispose()
    return found


def test_on_postgres_a_run_from_an_outbox_analyzed_empty_reads_it_by_index(
    tmp_path: Any,
) -> None:
    # A store analyzed while its outbox was empty (VACUUM ANALYZE after `db upgrade`, or a
    # restore): the ledger's foreign key checks were planned as sequential scans in the
    # run's first batches and kept so, each reading the whole outbox as the run grew it
    # (450 million rows read in a 27,000-digest bench run, 52 s wall became 135).
    from db.engine import make_engine

    for url in fresh_database_url("postgres", tmp_path):
        engine = make_engine(url)
        with engine.connect() as connection:
            schema = str(connection.execute(text("SELECT current_schema()")).scalar())
        subscribers = add_subscribers(engine, 1_500)
        documents = add_documents(engine, 8)
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            for table in ("outbox", "outbox_bodies", "sent_items", "alert_progress"):
                connection.execute(text(f"VACUUM ANALYZE {table}"))
        batches = [subscribers[:1], subscribers[1:3]]
        batches += [subscribers[k : k + 50] for k in range(3, len(subscribers), 50)]
        for batch in batches:
            digests = [
                digest_data.QueuedDigest(
                    OutgoingMessage(
                        f"digest:{s}", f"<{s}@x>", "digest", f"s{s}@example.org", "S", "m" * 200,
                        subscriber_id=s,
                    ),
                    documents[s % 3 :],
                )
                for s in batch
            ]  # fmt: skip
            digest_data.queue_digests(engine, digests, alert_ids=[], through=1, now=NOW)
        engine.dispose()  # its backend exits, sending its statistics
        ledger = sum(len(documents[s % 3 :]) for s in subscribers)
        reads = _table_reads(url, schema, {"outbox": len(subscribers), "sent_items": ledger})
        n_outbox, n_ledger = reads["outbox"][0], reads["sent_items"][0]
        assert (n_outbox, n_ledger) == (len(subscribers), ledger)
        # Scanned for each check, the outbox is read about half through per ledger row (9.0
        # million rows here); read by index once its statistics follow it, only while it is
        # a few pages (0.5 million): a quarter of the first is the line between them.
        assert reads["outbox"][1] < n_ledger * n_outbox / 2 / 4, reads
