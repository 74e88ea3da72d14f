from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import Engine, func, select

from db import ingest
from db.engine import make_engine
from db.ingest import DocumentRecord, upsert_documents
from db.models import Document, DocumentRevision
from tests.dbfixtures import fresh_database_url, statements

NOW = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)
LATER = datetime(2026, 11, 3, 9, 30, tzinfo=UTC)


def decision(n: int, **changes: object) -> DocumentRecord:
    record = DocumentRecord(
        kind="decision",
        source="lgsco",
        source_key=f"25 {n:03d} 111",
        url=f"https://www.lgo.org.uk/decisions/housing/homelessness/25-{n:03d}-111",
        title=f"Example Borough Council (25 {n:03d} 111)",
        summary="Delay in a review.",
        body="The Council delayed the review of Mrs B's housing application.",
        decided_on=date(2026, 10, 1),
        reference=f"25 {n:03d} 111",
        organisation="Example Borough Council",
        outcome="upheld",
        extra={"remedies": {"apology": True, "payments": [{"amount_pence": 30000}]}},
    )
    return replace(record, **changes)  # type: ignore[arg-type]


def count(engine: Engine, model: type) -> int:
    with engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(model)).scalar_one())


def test_a_documents_content_hash_is_the_one_stored_stores_hold() -> None:
    # Stored with every document: a different digest for the same content would make every
    # stored document look changed at its next fetch (a revision each, keys cut again).
    record = decision(3, body="Caf\u00e9 \u2014 the council's reply")
    assert record.content_hash() == (
        "7fe67db1b1f9d45bcc1e1308098574e03e018341b7b1fff5651776fdda737145"
    )
    assert replace(record, body=record.body + " ").content_hash() != record.content_hash()


def test_second_ingest_of_the_same_documents_changes_nothing(engine: Engine) -> None:
    records = [decision(n) for n in range(30)]
    first = upsert_documents(engine, records, now=NOW)
    assert (len(first.inserted), len(first.updated), first.unchanged) == (30, 0, 0)
    second = upsert_documents(engine, records, now=LATER)
    assert (len(second.inserted), len(second.updated), second.unchanged) == (0, 0, 30)
    assert second.ids == first.ids
    assert count(engine, Document) == 30
    assert count(engine, DocumentRevision) == 0
    with engine.connect() as connection:
        seen = connection.execute(select(func.max(Document.updated_at))).scalar_one()
    assert seen.replace(tzinfo=UTC) == NOW


def test_changed_content_is_updated_and_the_old_version_kept(engine: Engine) -> None:
    upsert_documents(engine, [decision(1), decision(2)], now=NOW)
    changed = decision(1, body="The Council has now completed the review.", outcome="not upheld")
    result = upsert_documents(engine, [changed, decision(2)], now=LATER)
    assert len(result.updated) == 1 and result.unchanged == 1 and not result.inserted
    with engine.connect() as connection:
        row = connection.execute(
            select(Document).where(Document.source_key == "25 001 111")  # type: ignore[arg-type]
        ).one()
        revision = connection.execute(select(DocumentRevision)).one()
    assert row.body == "The Council has now completed the review."
    assert row.outcome == "not upheld"
    assert row.first_seen_at.replace(tzinfo=UTC) == NOW  # first seen never moves
    assert row.updated_at.replace(tzinfo=UTC) == LATER
    assert revision.document_id == row.id
    assert revision.body == "The Council delayed the review of Mrs B's housing application."


def test_url_change_alone_is_not_a_new_revision(engine: Engine) -> None:
    upsert_documents(engine, [decision(1)], now=NOW)
    result = upsert_documents(engine, [decision(1, url="https://lgo.org.uk/x")], now=LATER)
    assert result.unchanged == 1


def test_duplicate_keys_in_one_batch_store_the_last_version(engine: Engine) -> None:
    result = upsert_documents(
        engine, [decision(5, title="first"), decision(5, title="second")], now=NOW
    )
    assert len(result.inserted) == 1
    with engine.connect() as connection:
        assert connection.execute(select(Document.title)).scalar_one() == "second"


def test_backfill_flag_is_stored_for_new_documents_only(engine: Engine) -> None:
    upsert_documents(engine, [decision(1)], now=NOW)
    upsert_documents(engine, [decision(1), decision(2)], now=LATER, backfill=True)
    with engine.connect() as connection:
        flags = dict(connection.execute(select(Document.source_key, Document.backfill)).all())
    assert flags == {"25 001 111": False, "25 002 111": True}


def test_batches_larger_than_one_chunk(engine: Engine) -> None:
    records = [decision(n % 1000, source_key=f"k{n}") for n in range(1234)]
    assert len(upsert_documents(engine, records, now=NOW).inserted) == 1234
    assert upsert_documents(engine, records, now=NOW).unchanged == 1234


def analyzed(seen: list[str]) -> list[str]:
    return [s for s in seen if s.upper().startswith("ANALYZE")]


def test_a_load_refreshes_the_look_up_columns_statistics_when_the_table_outgrows_them(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    # PostgreSQL plans the (source, source_key) look-up with the wrong index before the
    # table's first ANALYZE, and keeps a prepared plan: every chunk then read every row. Main
    # analysed every 10,000 documents of one call, so never in a fetch run's 1,000. Only the
    # look-up's columns: all of them read every 5 KB body (TOAST), 1.3-2.0 s against
    # 0.24-0.32 s on 50,000 documents.
    monkeypatch.setattr(ingest, "BATCH_SIZE", 200)
    with statements(engine) as seen:  # a never-analysed table: analysed first
        upsert_documents(engine, [decision(n) for n in range(200)], now=NOW)
    with statements(engine) as again:  # statistics as fresh as the table: none
        upsert_documents(engine, [decision(n) for n in range(200)], now=NOW)
    with statements(engine) as grown:  # 200 then 1,000 more: the table outgrew them
        upsert_documents(engine, [decision(n, source_key=f"k{n}") for n in range(1000)], now=NOW)
    if engine.dialect.name == "postgresql":
        assert analyzed(seen) == ["ANALYZE documents (source, source_key)"]
        assert analyzed(again) == []
        assert analyzed(grown) and set(analyzed(grown)) == {
            "ANALYZE documents (source, source_key)"
        }
    else:
        assert analyzed(seen) == analyzed(again) == analyzed(grown) == []


def test_on_postgres_the_look_up_and_insert_are_one_text_whatever_the_number_of_rows(
    tmp_path: object,
) -> None:
    # psycopg converts a statement's text once and the server prepares it after a few runs,
    # when the text repeats. Main's look-up was an IN list (one text per number of keys, one
    # statement per source) and its insert ... RETURNING one multi-VALUES text per number of
    # rows (~360 KB for 500 documents).
    for url in fresh_database_url("postgres", tmp_path):
        engine = make_engine(url)

        def texts(records: list[DocumentRecord], engine: Engine = engine) -> list[str]:
            with statements(engine) as seen:
                upsert_documents(engine, records, now=NOW)
            return [s for s in seen if "documents" in s and not s.startswith("SELECT c.rel")]

        one = texts([decision(1)])
        many = texts([decision(n, source=f"s{n % 3}", source_key=f"k{n}") for n in range(2, 300)])
        assert one == many, (one, many)
        assert not [s for s in one if "RETURNING" in s]
        engine.dispose()


def test_new_documents_cost_one_look_up_per_chunk(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The keys are read again only when some were skipped by ON CONFLICT (another writer's).
    monkeypatch.setattr(ingest, "BATCH_SIZE", 50)
    real, looked_up = ingest._existing, []

    def counted(connection: object, keys: list[tuple[str, str]]) -> object:
        looked_up.append(len(keys))
        return real(connection, keys)  # type: ignore[arg-type]

    monkeypatch.setattr(ingest, "_existing", counted)
    result = upsert_documents(engine, [decision(n, source_key=f"k{n}") for n in range(70)], now=NOW)
    assert len(result.inserted) == 70 and looked_up == [50, 20]


def test_a_key_another_writer_stored_meanwhile_is_its_news_not_ours(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    theirs = upsert_documents(engine, [decision(1)], now=NOW).ids[decision(1).key]
    real = ingest._existing
    reads: list[int] = []

    def before_they_wrote(connection: object, keys: object) -> object:
        reads.append(1)  # our first look-up ran before the other writer's insert
        return {} if len(reads) == 1 else real(connection, keys)  # type: ignore[arg-type]

    monkeypatch.setattr(ingest, "_existing", before_they_wrote)
    result = upsert_documents(engine, [decision(1), decision(2)], now=NOW)
    assert result.unchanged == 1 and len(result.inserted) == 1
    assert result.ids[decision(1).key] == theirs
    assert result.ids[decision(2).key] == result.inserted[0] != theirs
    assert set(result.hashes) == set(result.inserted)
    assert count(engine, Document) == 2


def test_the_hash_stored_is_reported_for_inserted_and_updated_documents(engine: Engine) -> None:
    def stored() -> dict[int, str]:
        with engine.connect() as connection:
            return dict(connection.execute(select(Document.id, Document.content_hash)).all())

    first = upsert_documents(engine, [decision(1), decision(2)], now=NOW)
    assert first.hashes == stored() != {}
    changed = decision(1, body="The Council has now completed the review.")
    second = upsert_documents(engine, [changed, decision(2), decision(3)], now=LATER)
    # What the search keys are cut from: the new content's hash, none for the unchanged one.
    assert set(second.hashes) == set(second.inserted) | set(second.updated)
    assert second.hashes == {i: h for i, h in stored().items() if i in second.hashes}
    assert second.hashes[first.ids[changed.key]] == changed.content_hash()


def test_what_a_chunk_will_write_is_handed_on_before_it_is_written(
    engine: Engine, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # What lets the search keys of a chunk be cut while that chunk itself is written.
    monkeypatch.setattr(ingest, "BATCH_SIZE", 2)
    upsert_documents(engine, [decision(0), decision(1)], now=NOW)
    old_title = decision(1).title
    records = [decision(0), decision(1, title="Changed"), *(decision(n) for n in range(2, 5))]
    reader = make_engine(database_url)
    events: list[tuple[str, list[str], dict[str, str]]] = []

    def writing(chunk: Sequence[DocumentRecord]) -> None:
        keys = [r.source_key for r in chunk]
        with reader.connect() as connection:  # what another connection sees meanwhile
            titles = dict(
                connection.execute(
                    select(Document.source_key, Document.title).where(Document.source_key.in_(keys))
                ).all()
            )
        events.append(("writing", keys, titles))

    def stored(chunk: ingest.UpsertResult) -> None:
        events.append(("stored", [], {}))

    result = upsert_documents(engine, records, now=NOW, on_writing=writing, on_chunk=stored)
    reader.dispose()
    key = [decision(n).source_key for n in range(5)]
    assert events == [
        # decision 0 is unchanged: not handed on; decision 1 not yet revised
        ("writing", [key[1]], {key[1]: old_title}),
        ("stored", [], {}),
        ("writing", [key[2], key[3]], {}),  # not yet inserted
        ("stored", [], {}),
        ("writing", [key[4]], {}),
        ("stored", [], {}),
    ]
    assert (len(result.inserted), len(result.updated), result.unchanged) == (3, 1, 1)


def test_each_chunk_is_handed_on_once_committed(
    engine: Engine, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # What lets the search keys of a chunk be cut while the next chunk is written.
    monkeypatch.setattr(ingest, "BATCH_SIZE", 2)
    upsert_documents(engine, [decision(0)], now=NOW)
    records = [decision(0, title="Changed"), *(decision(n) for n in range(1, 5))]
    reader = make_engine(database_url)
    seen: list[tuple[list[int], list[int], int, int]] = []

    def chunk_stored(chunk: ingest.UpsertResult) -> None:
        # Committed: another connection sees the chunk's documents.
        stored = set(chunk.ids.values())
        with reader.connect() as connection:
            visible = connection.execute(
                select(func.count()).select_from(Document).where(Document.id.in_(stored))
            ).scalar_one()
        seen.append((chunk.inserted, chunk.updated, len(chunk.hashes), visible - len(stored)))

    result = upsert_documents(engine, records, now=NOW, on_chunk=chunk_stored)
    reader.dispose()
    assert [len(inserted) + len(updated) for inserted, updated, _, _ in seen] == [2, 2, 1]
    assert [inserted for inserted, _, _, _ in seen] == [
        result.inserted[:1],
        result.inserted[1:3],
        result.inserted[3:],
    ]
    assert [updated for _, updated, _, _ in seen] == [result.updated, [], []]
    assert [hashed for _, _, hashed, _ in seen] == [2, 2, 1]
    assert all(missing == 0 for _, _, _, missing in seen)
