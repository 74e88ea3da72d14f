"""db.sqlite_search (sqlite3 alone, what `councilwatch search` reads a SQLite file with) asks
the same questions as db.search (SQLAlchemy) and gets the same answers, document for document
and field for field, on the same store; and it takes only the plain case, leaving everything
else (a missing or damaged file, a schema to migrate, another URL) to the engine."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine, insert, text

from alerts.query import parse_query
from councilwatch.search import refresh_keys, search, term_filter
from db import engine as db_engine
from db import search as db_search
from db.document_tables import DOCUMENT_COUNCILS
from db.engine import make_engine
from db.ingest import DocumentRecord, upsert_documents
from db.search_types import Scope
from db.sqlite_search import BUSY_TIMEOUT_MS, SqliteReader, sqlite_file
from tests.dbfixtures import fresh_database_url
from tests.test_search_language import NOW, QUERIES, _records

SCOPES = [
    Scope(),
    Scope(kinds=["decision"]),
    Scope(kinds=["news", "decision"]),
    Scope(sources=["lgsco"]),
    Scope(sources=["edp-news"]),  # a feed's name, in extra
    Scope(sources=["eastern daily press", "BBC News"]),  # publishers, any case
    Scope(sources=["edp_news"]),  # "_" is not a LIKE wildcard
    Scope(council_ids=["norfolk"]),
    Scope(outcomes=["upheld"], categories=["Education"]),
    Scope(since=date(2026, 1, 4)),
    Scope(until=date(2026, 2, 5)),
    Scope(kinds=["news"], since=date(2026, 2, 3), until=date(2026, 2, 9)),
    Scope(since=date(2027, 1, 1)),
]


def _varied() -> list[DocumentRecord]:
    """The search-language texts with every kind of column filled somewhere (decision
    fields, flags, nested extra), so each column's reading is compared."""
    out = []
    for i, record in enumerate(_records()):
        if record.kind == "decision":
            record = replace(
                record,
                reference=f"26 000 {i:03d}",
                organisation="Norfolk County Council",
                category="Education" if i % 2 else "Transport",
                subcategory="SEN",
                outcome="upheld" if i % 2 else "not upheld",
                outcome_text="Upheld: fault and injustice",
                extra={"remedies": ["apology", "£300"], "pdf": None, "n": 2.5},
            )
        else:
            record = replace(record, author=f"Reporter {i}", summary="A short summary.")
        out.append(replace(record, partial=i == 4))
    return out


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Engine, SqliteReader]]:
    for url in fresh_database_url("sqlite", tmp_path_factory.mktemp("sqlite-search")):
        engine = make_engine(url)
        upsert_documents(engine, _varied(), now=NOW)
        upsert_documents(  # a revised document (its old content kept as a revision)
            engine, [replace(_varied()[1], body="Governors welcomed the schools budget.")], now=NOW
        )
        with engine.begin() as connection:
            connection.execute(
                insert(DOCUMENT_COUNCILS),
                [{"document_id": i, "council_id": "norfolk"} for i in (1, 2, 4, 7)],
            )
        refresh_keys(engine)
        reader = SqliteReader.open(url, engine=lambda engine=engine: engine)
        assert reader is not None
        yield engine, reader
        reader.close()
        engine.dispose()


@pytest.mark.parametrize("scope", SCOPES, ids=repr)
def test_every_query_finds_and_counts_the_same_documents_both_ways(
    store: tuple[Engine, SqliteReader], scope: Scope
) -> None:
    engine, reader = store
    filters = [term_filter(parse_query(q).root)[0] for q in QUERIES] + [None]
    seen = 0
    for terms in filters:
        expected = db_search.find_documents(engine, terms, scope, limit=50)
        assert reader.find_documents(terms, scope, limit=50, offset=0) == expected
        assert reader.find_documents(terms, scope, limit=2, offset=1) == expected[1:3]
        count = db_search.count_documents(engine, terms, scope)
        assert reader.count_documents(terms, scope) == count
        every = list(db_search.iter_documents(engine, terms, scope, batch=2))
        assert list(reader.iter_documents(terms, scope, batch=2)) == every
        assert len(every) == count
        texts = list(db_search.iter_texts(engine, terms, scope, batch=2))
        assert list(reader.iter_texts(terms, scope, batch=2)) == texts
        assert [(t.id, t.title, t.summary, t.body) for t in texts] == [
            (d.id, d.title, d.summary, d.body) for d in every
        ]
        seen += count
    if scope == Scope():
        assert seen > 0  # the store is not empty to both


def test_documents_read_field_for_field_as_sqlalchemy_reads_them(
    store: tuple[Engine, SqliteReader],
) -> None:
    engine, reader = store
    expected = db_search.find_documents(engine, None, Scope(), limit=100)
    found = reader.find_documents(None, Scope(), limit=100, offset=0)
    assert found == expected
    for ours, theirs in zip(found, expected, strict=True):
        for name in ours.__slots__:
            assert type(getattr(ours, name)) is type(getattr(theirs, name)), name
    assert {d.partial for d in found} == {True, False}
    assert any(d.extra.get("remedies") == ["apology", "£300"] for d in found)


def test_documents_by_id_in_the_order_asked_without_the_missing(
    store: tuple[Engine, SqliteReader],
) -> None:
    engine, reader = store
    every = {d.id: d for d in db_search.find_documents(engine, None, Scope(), limit=100)}
    ids = [7, 3, 999_999, 1, 3]
    expected = [every[i] for i in ids if i in every]
    assert len(expected) == 4
    assert db_search.documents_by_id(engine, ids) == expected
    assert reader.documents(ids) == expected
    assert reader.documents([]) == db_search.documents_by_id(engine, []) == []


def test_a_search_through_either_gives_the_same_results(
    store: tuple[Engine, SqliteReader],
) -> None:
    engine, reader = store
    for query in QUERIES:
        for scope in (Scope(), Scope(kinds=["news"])):
            ours, theirs = search(reader, query, scope, limit=3), search(engine, query, scope)
            assert (ours.total, ours.total_exact) == (theirs.total, theirs.total_exact), query
            assert [(f.document, f.spans) for f in ours.found] == [
                (f.document, f.spans) for f in theirs.found[:3]
            ], query


def test_a_confirmation_cut_short_gives_the_same_at_least_both_ways(
    store: tuple[Engine, SqliteReader], monkeypatch: pytest.MonkeyPatch
) -> None:
    import councilwatch.search

    engine, reader = store
    monkeypatch.setattr(councilwatch.search, "CONFIRM_LIMIT", 2)
    query = 'school NOT "school bus"'  # a superset: every candidate confirmed
    ours, theirs = search(reader, query), search(engine, query)
    assert not ours.total_exact and not theirs.total_exact
    assert ours == theirs
    assert not reader._connection.in_transaction


def test_a_walk_stopped_early_ends_its_read(store: tuple[Engine, SqliteReader]) -> None:
    engine, reader = store
    walk = reader.iter_documents(None, Scope(), batch=2)
    first = [next(walk), next(walk), next(walk)]  # into the second batch
    assert reader._connection.in_transaction
    walk.close()
    assert not reader._connection.in_transaction
    assert first == db_search.find_documents(engine, None, Scope(), limit=3)
    assert reader.count_documents(None, Scope()) > 3  # the connection reads on


def test_stale_keys_are_seen_and_cut_through_the_engine(tmp_path: Path) -> None:
    for url in fresh_database_url("sqlite", tmp_path):
        engine = make_engine(url)
        upsert_documents(engine, _records(), now=NOW)  # stored, never keyed
        made: list[Engine] = []

        def making(engine: Engine = engine, made: list[Engine] = made) -> Engine:
            made.append(engine)
            return engine

        reader = SqliteReader.open(url, engine=making)
        assert reader is not None
        assert reader.keys_may_be_stale() and db_search.keys_may_be_stale(engine)
        found = search(reader, "school")
        assert made == [engine] and found.total > 0
        assert not reader.keys_may_be_stale()
        assert search(reader, "school").total == found.total and made == [engine]
        reader.close()
        engine.dispose()


def _engine_never() -> Engine:
    raise AssertionError("not asked for")


def test_only_a_plain_sqlite_file_url_is_taken() -> None:
    assert sqlite_file("sqlite:///var/councilwatch.db") == "var/councilwatch.db"
    assert sqlite_file("sqlite:////srv/cw/store.db") == "/srv/cw/store.db"
    for url in (
        "sqlite://",
        "sqlite:///:memory:",
        "sqlite+pysqlite:///x.db",
        "sqlite:///x.db?timeout=5",
        "sqlite:///file:x.db?uri=true",
        "sqlite:///a%20b.db",
        "postgresql+psycopg://u@h/db",
    ):
        assert sqlite_file(url) is None, url
        assert SqliteReader.open(url, engine=_engine_never) is None, url


def test_a_missing_damaged_or_unmigrated_file_is_left_to_the_engine(tmp_path: Path) -> None:
    missing = tmp_path / "none" / "x.db"
    assert SqliteReader.open(f"sqlite:///{missing}", engine=_engine_never) is None
    assert not missing.exists() and not missing.parent.exists()  # nothing made
    damaged = tmp_path / "damaged.db"
    damaged.write_bytes(b"not a database at all" * 100)
    assert SqliteReader.open(f"sqlite:///{damaged}", engine=_engine_never) is None
    (tmp_path / "folder.db").mkdir()
    assert SqliteReader.open(f"sqlite:///{tmp_path / 'folder.db'}", engine=_engine_never) is None
    for url in fresh_database_url("sqlite", tmp_path):
        assert SqliteReader.open(url, engine=_engine_never) is not None
        engine = make_engine(url)
        with engine.begin() as connection:  # a schema behind the code
            connection.execute(text("UPDATE alembic_version SET version_num = '0001_initial'"))
        engine.dispose()
        assert SqliteReader.open(url, engine=_engine_never) is None
    empty = tmp_path / "empty.db"
    sqlite3.connect(empty).close()  # no tables at all
    assert SqliteReader.open(f"sqlite:///{empty}", engine=_engine_never) is None


def test_the_connection_is_set_up_as_an_engines_is(store: tuple[Engine, SqliteReader]) -> None:
    engine, reader = store
    assert BUSY_TIMEOUT_MS == db_engine.SQLITE_BUSY_TIMEOUT_MS
    pragmas = ("journal_mode", "busy_timeout", "foreign_keys", "synchronous")
    with engine.connect() as connection:
        theirs = [connection.exec_driver_sql(f"PRAGMA {p}").scalar() for p in pragmas]
    ours = [reader._connection.execute(f"PRAGMA {p}").fetchone()[0] for p in pragmas]
    assert ours == theirs == ["wal", BUSY_TIMEOUT_MS, 1, 1]


@pytest.mark.parametrize(
    ("raised", "line"),
    [
        (
            "database is locked",
            "error: the SQLite database stayed locked by another process past the busy timeout; "
            "try again when it has finished (or use PostgreSQL for several writers)",
        ),
        ("disk I/O error", "error: database error: disk I/O error"),
    ],
)
def test_a_driver_error_in_a_search_is_the_one_line_the_engine_path_prints(
    store: tuple[Engine, SqliteReader],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    raised: str,
    line: str,
) -> None:
    from councilwatch.cli import main

    engine, _ = store
    config = tmp_path / "config.toml"
    config.write_text(f'[database]\nurl = "{engine.url.render_as_string()}"\n')
    monkeypatch.setenv("COUNCILWATCH_SECRET_KEY", "test-secret-key-0123456789-abcdefghij")

    def failing(*args: object, **kwargs: object) -> None:
        raise sqlite3.OperationalError(raised)

    monkeypatch.setattr(SqliteReader, "find_documents", failing)
    assert main(["-c", str(config), "search", "school"]) == 1
    assert capsys.readouterr().err.splitlines() == [line]
    # the same error through SQLAlchemy (another store's path) prints the same line
    monkeypatch.setattr(SqliteReader, "open", classmethod(lambda cls, url, engine: None))
    monkeypatch.setattr(db_search, "find_documents", failing_through_engine(raised))
    assert main(["-c", str(config), "search", "school"]) == 1
    assert capsys.readouterr().err.splitlines() == [line]


def failing_through_engine(raised: str) -> object:
    from sqlalchemy.exc import OperationalError

    def failing(*args: object, **kwargs: object) -> None:
        raise OperationalError("SELECT", {}, sqlite3.OperationalError(raised))

    return failing
