"""The search index's keys: as few as exactness allows, and every store keyed before still
answers alike.

A document carries ``w:<word>`` for each of its words and ``s:<stem>`` only for a stem that
differs from the word it came from; a word that is its own stem stands for its stem too, and a
stem query looks up both keys. Stores keyed before this (every stem stored) stay correct.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import replace

import pytest
from sqlalchemy import Engine, delete, event, insert, select, text

import councilwatch.search as search_module
from alerts.query import parse_query
from alerts.stem import stem
from councilwatch.search import (
    changed_stems,
    cut_batch,
    document_keys,
    document_tokens,
    index_stored,
    key_text,
    refresh_keys,
    search,
    term_filter,
)
from db import migrate
from db.engine import make_engine
from db.ingest import upsert_documents
from db.search import (
    MAX_KEY_LEN,
    DocumentKeys,
    Stem,
    documents_without_keys,
    store_document_keys,
    to_fts5,
)
from db.tables import DOCUMENT_TERMS, DOCUMENTS
from tests.dbfixtures import fresh_database_url
from tests.test_search_language import NOW, QUERIES, _expected, _records


def test_a_document_carries_its_words_and_word_stems_their_other_stems() -> None:
    tokens = document_tokens("School payments", "", "The school paid 2 payments.")
    keys = document_keys(tokens)
    assert sorted(keys) == sorted(["w:school", "w:payments", "w:the", "w:paid", "w:2"])
    # "paid" stems to "paid", "school" to "school": only "payments" has another stem.
    assert changed_stems([tokens.word_set]) == {"payments": "payment"}
    assert stem("school") == "school" and stem("payments") == "payment"


def test_a_stem_query_asks_the_store_for_the_stems_words() -> None:
    assert term_filter(parse_query("schools").root) == (Stem("school", own=True), True)
    # "payment" is its own stem: "payment" carries w:payment, "payments" is in word_stems.
    assert term_filter(parse_query("payment").root) == (Stem("payment", own=True), True)
    # "agreed" stems to "agre", which stems to "agr": no document word "agre" is its own
    # stem, so only the stem's words (and a store's old s: key) are looked up.
    assert stem("agre") != "agre"
    assert term_filter(parse_query("agreed").root) == (Stem("agre", own=False), True)
    spelled = to_fts5(Stem("agre", own=False), {"agre": ["agreed", "agreeing"]})
    assert spelled == '("s:agre" OR "w:agreed" OR "w:agreeing")'


def _every_stem_keys(title: str, summary: str, body: str) -> list[str]:
    """The keys as they were cut before: every stem, whether or not it is its word."""
    tokens = document_tokens(title, summary, body)
    return ["w:" + w for w in tokens.word_set] + ["s:" + s for s in tokens.stem_set]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def old_keyed(request: pytest.FixtureRequest, tmp_path: object) -> Iterator[Engine]:
    for url in fresh_database_url(request.param, tmp_path):
        engine = make_engine(url)
        upsert_documents(engine, _records(), now=NOW)
        store_document_keys(
            engine,
            [
                DocumentKeys(d.id, d.content_hash, _every_stem_keys(d.title, d.summary, d.body))
                for d in documents_without_keys(engine)
            ],
        )
        yield engine
        engine.dispose()


def test_stores_keyed_with_every_stem_answer_as_the_alert_would(old_keyed: Engine) -> None:
    assert documents_without_keys(old_keyed) == []  # nothing is re-cut
    for query in QUERIES:
        found = {f.document.url for f in search(old_keyed, query, limit=100).found}
        assert found == _expected(query), query


def test_documents_without_keys_after_an_id(old_keyed: Engine) -> None:
    stored = documents_without_keys(old_keyed, limit=100)
    assert stored == []
    # Forget every document's keys: they are all stale, and a walk after an id starts there.
    store_document_keys(
        old_keyed, [DocumentKeys(i, "stale", ["w:x"]) for i in range(1, len(_records()) + 1)]
    )
    everything = [d.id for d in documents_without_keys(old_keyed, limit=100)]
    assert len(everything) == len(_records())
    assert [d.id for d in documents_without_keys(old_keyed, after=everything[4])] == (
        everything[5:]
    )
    assert refresh_keys(old_keyed) == len(_records())
    assert documents_without_keys(old_keyed) == []


# --- the SQLite index is fed one statement per batch, not by a trigger per row ---------------


def _sqlite_store(tmp_path: object, revision: str = "head") -> Engine:
    engine = make_engine(f"sqlite:///{tmp_path}/keys.db")
    migrate.upgrade(engine, revision)
    return engine


def _key_triggers(engine: Engine) -> list[str]:
    with engine.connect() as connection:
        return list(
            connection.execute(
                text(
                    "SELECT name FROM sqlite_master WHERE type = 'trigger' "
                    "AND tbl_name = 'document_terms' ORDER BY name"
                )
            ).scalars()
        )


def _index_is_consistent(engine: Engine) -> None:
    # FTS5 compares its index with the stored keys and raises if any differ.
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO document_terms_fts(document_terms_fts, rank) "
                "VALUES ('integrity-check', 1)"
            )
        )


def _answers(engine: Engine) -> dict[str, set[str]]:
    return {q: {f.document.url for f in search(engine, q, limit=100).found} for q in QUERIES}


def _keyed_as_before_0017(engine: Engine) -> int:
    """What refresh_keys did before word_stems (0017), which this code needs: keys with every
    stem not its word, and no word_stems. For a store kept at an older revision."""
    stale = documents_without_keys(engine, limit=1000)
    keys = [
        DocumentKeys(d.id, d.content_hash, _keys_before_0017(d.title, d.summary, d.body))
        for d in stale
    ]
    return store_document_keys(engine, keys)


def _carrying(engine: Engine, key: str) -> set[str]:
    """The documents whose keys include ``key``, read from the index as every revision's
    search has read it (this code's search needs word_stems)."""
    if engine.dialect.name == "sqlite":
        match = "id IN (SELECT rowid FROM document_terms_fts WHERE document_terms_fts MATCH :q)"
        q = '"' + key + '"'
    else:
        match = "id IN (SELECT document_id FROM document_terms WHERE terms @@ CAST(:q AS tsquery))"
        q = "'" + key + "'"
    with engine.connect() as connection:
        rows = connection.execute(text(f"SELECT url FROM documents WHERE {match}"), {"q": q})
        return set(rows.scalars())


def test_sqlite_index_follows_keys_stored_changed_and_recut(tmp_path: object) -> None:
    engine = _sqlite_store(tmp_path)
    assert _key_triggers(engine) == []  # fed by store_document_keys, one statement a batch
    upsert_documents(engine, _records(), now=NOW)
    assert refresh_keys(engine) == len(_records())
    _index_is_consistent(engine)
    [record] = [r for r in _records() if r.source_key == "doc-6"]
    upsert_documents(engine, [replace(record, body="Now about library opening hours.")], now=NOW)
    assert refresh_keys(engine) == 1
    _index_is_consistent(engine)
    assert {f.document.url for f in search(engine, "library").found} == {record.url}
    assert record.url not in {f.document.url for f in search(engine, "popular").found}
    upsert_documents(engine, [record], now=NOW)
    assert refresh_keys(engine) == 1
    _index_is_consistent(engine)
    assert _answers(engine) == {q: _expected(q) for q in QUERIES}
    engine.dispose()


def _store_keys_as_before_0010(engine: Engine) -> None:
    """What store_document_keys did before 0010: plain writes, the triggers index them."""
    stale = documents_without_keys(engine, limit=1000)
    ids = [d.id for d in stale]
    with engine.begin() as connection:
        connection.execute(delete(DOCUMENT_TERMS).where(DOCUMENT_TERMS.c.document_id.in_(ids)))
        connection.execute(
            insert(DOCUMENT_TERMS),
            [
                {
                    "document_id": d.id,
                    "content_hash": d.content_hash,
                    "keys": " ".join(_keys_before_0017(d.title, d.summary, d.body)),
                }
                for d in stale
            ],
        )


def test_migration_0010_keeps_the_index_and_its_answers(tmp_path: object) -> None:
    engine = _sqlite_store(tmp_path, "0009_document_links")
    assert len(_key_triggers(engine)) == 3  # 0007's triggers
    upsert_documents(engine, _records(), now=NOW)
    _store_keys_as_before_0010(engine)
    _index_is_consistent(engine)
    migrate.upgrade(engine)
    assert _key_triggers(engine) == []
    _index_is_consistent(engine)
    assert documents_without_keys(engine) == []  # nothing to re-cut
    assert _answers(engine) == {q: _expected(q) for q in QUERIES}
    # Down again: the triggers are back and keep the index as they did.
    migrate.downgrade(engine, "0009_document_links")
    assert len(_key_triggers(engine)) == 3
    [record] = [r for r in _records() if r.source_key == "doc-6"]
    upsert_documents(engine, [replace(record, body="Now about library opening hours.")], now=NOW)
    _store_keys_as_before_0010(engine)
    _index_is_consistent(engine)
    engine.dispose()


# --- keys cut as one text, from the records an upsert just stored -----------------------------

# Words that take every path of the key cutter: own stems, stems that differ, digits, two
# letters, apostrophes, non-ASCII, and words too long for a key (cut to MAX_KEY_LEN).
_AWKWARD = [
    "payments", "school", "agreed", "caring", "council's", "don’t", "naïve", "Straße", "ΣΊΣΥΦΟΣ",
    "2fa", "ab", "1234", "x" * 98, "y" * 99, "z" * 120 + "ing", "running" * 20, "o'brien",
]  # fmt: skip


def _keys_before_0017(title: str, summary: str, body: str) -> list[str]:
    """The keys as they were cut before word_stems (0017): each word, each stem not its word,
    every key cut to MAX_KEY_LEN."""
    words = document_tokens(title, summary, body).word_set
    keys = ["w:" + w for w in words] + ["s:" + stem(w) for w in words if stem(w) != w]
    return sorted({k[:MAX_KEY_LEN] for k in keys})


def test_key_text_is_every_key_once_cold_or_warm() -> None:
    rng = random.Random(5)
    for n in range(400):
        if n % 50 == 0:  # words seen for the first time, then again
            search_module._SEEN.clear()
            search_module._CHANGED.clear()
            search_module._LONG_WORDS.clear()
        text = " ".join(
            rng.choice(_AWKWARD) + rng.choice(["", "s", "ing", "ed"])
            for _ in range(rng.randrange(30))
        )
        tokens = document_tokens(text[:12], text[:20], text)
        cut = key_text(tokens)
        keys = cut.split(" ") if cut else []
        assert len(keys) == len(set(keys)), text  # each once
        words = tokens.word_set
        # Every word; a word too long for its key keeps its stem's key (cut as well).
        long = {"s:" + stem(w) for w in words if len(w) > MAX_KEY_LEN - 2 and stem(w) != w}
        assert set(keys) == {k[:MAX_KEY_LEN] for k in {"w:" + w for w in words} | long}, text
        assert all(0 < len(k) <= MAX_KEY_LEN for k in keys)
        # The others' stems go to word_stems.
        assert changed_stems([words]) == {
            w: stem(w) for w in words if stem(w) != w and len(w) <= MAX_KEY_LEN - 2
        }


def test_a_batch_is_cut_as_its_documents_are_one_by_one() -> None:
    rng = random.Random(8)
    for n in range(40):
        if n % 10 == 0:
            search_module._SEEN.clear()
            search_module._CHANGED.clear()
            search_module._LONG_WORDS.clear()
        texts = []
        for _ in range(rng.randrange(1, 12)):
            text = " ".join(
                rng.choice(_AWKWARD) + rng.choice(["", "s", "ing", "ed"])
                for _ in range(rng.randrange(30))
            )
            texts.append((text[:12], text[:20], text))
        keys, stems = cut_batch(texts)
        tokens = [document_tokens(*t) for t in texts]
        assert [set(k.split()) for k in keys] == [set(key_text(t).split()) for t in tokens]
        assert stems == changed_stems(t.word_set for t in tokens)


def _stored_keys(engine: Engine) -> dict[int, set[str]]:
    with engine.connect() as connection:
        rows = connection.execute(select(DOCUMENT_TERMS.c.document_id, DOCUMENT_TERMS.c["keys"]))
        return {row.document_id: set(row.keys.split()) for row in rows}


def test_stored_documents_are_keyed_from_the_records_in_hand(engine: Engine) -> None:
    records = _records()
    # Stored before without keys (a store upgraded, or another writer's): keyed as well.
    upsert_documents(engine, records[:3], now=NOW)
    batch = [*records[3:], replace(records[5], body="First version about libraries.")]
    batch.append(replace(records[5], body="Last version about museums."))  # the last one wins
    reads: list[str] = []

    def seen(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        reads.append(statement)

    stored = upsert_documents(engine, batch, now=NOW)
    event.listen(engine, "before_cursor_execute", seen)
    try:
        assert index_stored(engine, batch, stored) == len(records)
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    with engine.connect() as connection:
        rows = connection.execute(select(DOCUMENTS)).all()
    # Every document carries the keys of what is stored, as a search would cut them.
    assert _stored_keys(engine) == {
        r.id: set(document_keys(document_tokens(r.title, r.summary, r.body))) for r in rows
    }
    assert documents_without_keys(engine) == []
    # Only the three stored before were read back for their text.
    body_reads = [s for s in reads if "documents.body" in s]
    assert len(body_reads) == 1
    assert {f.document.url for f in search(engine, "museums").found} == {records[5].url}
    assert search(engine, "libraries").total == 0
    # Changed later: keyed again from the new version; unchanged: nothing to do.
    again = upsert_documents(engine, [replace(records[5], body="Now about aquariums.")], now=NOW)
    assert index_stored(engine, [replace(records[5], body="Now about aquariums.")], again) == 1
    assert {f.document.url for f in search(engine, "aquariums").found} == {records[5].url}
    assert search(engine, "museums").total == 0
    unchanged = upsert_documents(engine, records[:3], now=NOW)
    assert index_stored(engine, records[:3], unchanged) == 0


def _hash_size(engine: Engine) -> int | None:
    with engine.connect() as connection:
        return connection.execute(
            text("SELECT v FROM document_terms_fts_config WHERE k = 'hashsize'")
        ).scalar()


def test_migration_0011_gives_the_index_a_batch_sized_hash(tmp_path: object) -> None:
    engine = _sqlite_store(tmp_path, "0010_fts_fed_in_batches")
    assert _hash_size(engine) is None  # FTS5's default, 1 MB: a few segments per batch
    upsert_documents(engine, _records(), now=NOW)
    _keyed_as_before_0017(engine)
    migrate.upgrade(engine)
    assert _hash_size(engine) == 16 * 1024 * 1024
    _index_is_consistent(engine)
    assert documents_without_keys(engine) == []  # nothing to re-cut
    assert _answers(engine) == {q: _expected(q) for q in QUERIES}
    # A batch of keys written after it is one segment, and the index stays consistent.
    [record] = [r for r in _records() if r.source_key == "doc-6"]
    upsert_documents(engine, [replace(record, body="Now about library opening hours.")], now=NOW)
    assert refresh_keys(engine) == 1
    _index_is_consistent(engine)
    assert {f.document.url for f in search(engine, "library").found} == {record.url}
    migrate.downgrade(engine, "0010_fts_fed_in_batches")
    assert _hash_size(engine) == 1024 * 1024  # FTS5's default again
    _index_is_consistent(engine)
    assert _keyed_as_before_0017(engine) == len(_records())  # 0017 down: keys cut again
    _index_is_consistent(engine)
    assert _carrying(engine, "w:library") == {record.url}
    engine.dispose()


def _merge_settings(engine: Engine) -> dict[str, int]:
    with engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT k, v FROM document_terms_fts_config WHERE k IN ('automerge', 'crisismerge')"
            )
        )
        return {k: int(v) for k, v in rows}


def test_migration_0014_merges_the_index_sixteen_segments_at_a_time(tmp_path: object) -> None:
    engine = _sqlite_store(tmp_path, "0013_outbox_bodies")
    assert _merge_settings(engine) == {}  # FTS5's defaults: 4, and 16 in a crisis
    upsert_documents(engine, _records(), now=NOW)
    _keyed_as_before_0017(engine)
    before = {q: _carrying(engine, "w:" + q) for q in ("library", "school", "schools")}
    migrate.upgrade(engine)
    assert _merge_settings(engine) == {"automerge": 16, "crisismerge": 64}
    _index_is_consistent(engine)
    assert documents_without_keys(engine) == []  # nothing to re-cut
    assert _answers(engine) == {q: _expected(q) for q in QUERIES}
    assert before == {q: _carrying(engine, "w:" + q) for q in before}
    # Keys written in many batches after it (many segments, merged by the new rule).
    [record] = [r for r in _records() if r.source_key == "doc-6"]
    for n in range(40):
        body = f"Now about library opening hours, version {n}."
        upsert_documents(engine, [replace(record, body=body)], now=NOW)
        assert refresh_keys(engine) == 1
    _index_is_consistent(engine)
    assert {f.document.url for f in search(engine, "library").found} == {record.url}
    migrate.downgrade(engine, "0013_outbox_bodies")
    assert _merge_settings(engine) == {"automerge": 4, "crisismerge": 16}
    _index_is_consistent(engine)
    assert _keyed_as_before_0017(engine) == len(_records())  # 0017 down: keys cut again
    _index_is_consistent(engine)
    assert _carrying(engine, "w:library") == {record.url}
    engine.dispose()


def _compression(engine: Engine) -> dict[str, str]:
    with engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT attrelid::regclass::text || '.' || attname, attcompression "
                "FROM pg_attribute WHERE attrelid IN ('document_terms'::regclass, "
                "'documents'::regclass) AND attname IN ('keys', 'terms', 'body')"
            )
        )
        return {name: str(method) for name, method in rows}


@pytest.mark.postgres
def test_migration_0011_compresses_keys_and_bodies_with_lz4_on_postgres(tmp_path: object) -> None:
    for url in fresh_database_url("postgres", tmp_path):
        engine = make_engine(url)
        migrate.downgrade(engine, "0010_fts_fed_in_batches")
        assert set(_compression(engine).values()) <= {"", "p"}  # the default, or pglz: not lz4
        records = _records()
        upsert_documents(engine, records[:6], now=NOW)
        _keyed_as_before_0017(engine)  # written before: pglz, read as they are
        migrate.upgrade(engine)
        lz4 = _compression(engine)
        assert lz4 == {
            "document_terms.keys": "l",
            "document_terms.terms": "l",
            "documents.body": "l",
        }
        upsert_documents(engine, records[6:], now=NOW)
        refresh_keys(engine)
        assert _answers(engine) == {q: _expected(q) for q in QUERIES}
        migrate.downgrade(engine, "0010_fts_fed_in_batches")
        assert set(_compression(engine).values()) == {"p"}
        assert _keyed_as_before_0017(engine) == len(records)  # 0017 down: keys cut again
        assert _carrying(engine, "w:school") == _expected('"school"') != set()
        engine.dispose()


# --- PostgreSQL: new keys wait in the GIN index's pending list for one run at most -------------


def _pending_list_limit(engine: Engine) -> str | None:
    with engine.connect() as connection:
        options = connection.execute(
            text("SELECT reloptions FROM pg_class WHERE oid = 'ix_document_terms_terms'::regclass")
        ).scalar()
    found = [o for o in options or [] if o.startswith("gin_pending_list_limit=")]
    return found[0].split("=", 1)[1] if found else None


def _pending_pages(engine: Engine) -> int:
    """The pages of keys waiting in the pending list. Moving them is how they are counted
    (gin_clean_pending_list answers the pages it emptied; pgstattuple may not be there)."""
    with engine.begin() as connection:
        return int(
            connection.execute(
                text("SELECT gin_clean_pending_list('ix_document_terms_terms'::regclass)")
            ).scalar_one()
        )


@pytest.mark.postgres
def test_migration_0016_lets_the_key_index_hold_a_run_of_keys(tmp_path: object) -> None:
    for url in fresh_database_url("postgres", tmp_path):
        engine = make_engine(url)
        assert _pending_list_limit(engine) == "65536"  # kB: ~4 runs of 1,000 documents
        migrate.downgrade(engine, "0015_outbox_bodies_lz4")
        assert _pending_list_limit(engine) is None  # the server's (4 MB by default)
        upsert_documents(engine, _records(), now=NOW)
        _keyed_as_before_0017(engine)
        migrate.upgrade(engine)
        assert _pending_list_limit(engine) == "65536"
        assert _answers(engine) == {q: _expected(q) for q in QUERIES}
        engine.dispose()


@pytest.mark.postgres
def test_every_writer_leaves_no_keys_pending_and_answers_alike(tmp_path: object) -> None:
    from councilwatch.search import store_searchable

    for url in fresh_database_url("postgres", tmp_path):
        engine = make_engine(url)
        records = _records()
        # Keys stored with no writer's flush: they wait in the pending list, and are found.
        upsert_documents(engine, records, now=NOW)
        tokens = {
            d: document_tokens(d.title, d.summary, d.body) for d in documents_without_keys(engine)
        }
        keys = [DocumentKeys(d.id, d.content_hash, text=key_text(t)) for d, t in tokens.items()]
        store_document_keys(engine, keys, changed_stems(t.word_set for t in tokens.values()))
        pending = _answers(engine)
        assert pending == {q: _expected(q) for q in QUERIES}
        assert _pending_pages(engine) > 0
        assert _answers(engine) == pending  # the same, from the index proper
        # Each writer moves what it stored into the index before it returns.
        with engine.begin() as connection:
            connection.execute(delete(DOCUMENT_TERMS))
        assert refresh_keys(engine) == len(records)
        assert _pending_pages(engine) == 0
        changed = [replace(r, body=r.body + " Later about aquariums.") for r in records[:4]]
        assert index_stored(engine, changed, upsert_documents(engine, changed, now=NOW)) == 4
        assert _pending_pages(engine) == 0
        changed = [replace(r, body=r.body + " Then about museums.") for r in records[4:8]]
        result = store_searchable(engine, changed, now=NOW)
        assert len(result.updated) == 4
        assert _pending_pages(engine) == 0
        assert {f.document.url for f in search(engine, "aquariums").found} == {
            r.url for r in records[:4]
        }
        assert {f.document.url for f in search(engine, "museums").found} == {
            r.url for r in records[4:8]
        }
        engine.dispose()


# --- word_stems: a stem query finds a document by the words of that stem ---------------------


def _word_stems(engine: Engine) -> dict[str, str]:
    with engine.connect() as connection:
        return {w: s for w, s in connection.execute(text("SELECT word, stem FROM word_stems"))}


def test_documents_stored_now_carry_no_stem_keys_and_their_words_stems_are_stored(
    engine: Engine,
) -> None:
    from councilwatch.search import store_searchable

    records = _records()
    store_searchable(engine, records, now=NOW)
    keys = set().union(*_stored_keys(engine).values())
    assert keys and not [k for k in keys if k.startswith("s:")]
    words = set().union(*(document_tokens(r.title, r.summary, r.body).word_set for r in records))
    assert _word_stems(engine) == {w: stem(w) for w in words if stem(w) != w}
    assert _answers(engine) == {q: _expected(q) for q in QUERIES}


def test_a_store_keyed_partly_before_word_stems_answers_alike(engine: Engine) -> None:
    records = _records()
    half = len(records) // 2
    upsert_documents(engine, records[:half], now=NOW)
    assert _keyed_as_before_0017(engine) == half  # s: keys, nothing in word_stems
    assert _word_stems(engine) == {}
    upsert_documents(engine, records[half:], now=NOW)
    assert refresh_keys(engine) == len(records) - half
    assert _answers(engine) == {q: _expected(q) for q in QUERIES}


def test_two_writers_add_the_same_words_and_each_finds_the_others(database_url: str) -> None:
    first, second = make_engine(database_url), make_engine(database_url)
    records = _records()
    try:
        upsert_documents(first, records[::2], now=NOW)
        refresh_keys(first)
        upsert_documents(second, records[1::2], now=NOW)
        refresh_keys(second)  # words first stored, and words the first writer stored
        for writer in (first, second):
            assert _answers(writer) == {q: _expected(q) for q in QUERIES}
        # The first writer has not seen the second's words: it offers them, and adds its own.
        changed = [replace(r, body=r.body + " About the carers.") for r in records[1:5]]
        upsert_documents(first, changed, now=NOW)
        assert refresh_keys(first) == 4
        assert _word_stems(first)["carers"] == "carer"
        found = {f.document.url for f in search(second, "carer").found}
        assert found == {r.url for r in records[1:5]}
    finally:
        first.dispose()
        second.dispose()


def test_word_stems_made_again_under_a_live_engine_are_filled_again(database_url: str) -> None:
    engine = make_engine(database_url)
    records = _records()
    try:
        upsert_documents(engine, records, now=NOW)
        refresh_keys(engine)
        before = _word_stems(engine)
        # Down: the table is gone and every document's keys with it, to be cut again.
        migrate.downgrade(engine, "0016_key_index_pending_list")
        assert len(documents_without_keys(engine, limit=1000)) == len(records)
        migrate.upgrade(engine)
        assert _word_stems(engine) == {}
        # This process knew those words stored: it writes them again all the same.
        assert refresh_keys(engine) == len(records)
        assert _word_stems(engine) == before
        assert _answers(engine) == {q: _expected(q) for q in QUERIES}
    finally:
        engine.dispose()
