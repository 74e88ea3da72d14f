"""Search speaks the alert language, and gives the same answers on SQLite and PostgreSQL.

Every query is checked three ways: against the matcher's own verdict on each stored document
(the oracle: ``parse_query(q).matches``), on each store, and between the stores.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import Engine

from alerts.query import parse_query
from councilwatch.search import document_tokens, search
from cwerrors import QueryError
from db.engine import make_engine
from db.ingest import DocumentRecord, upsert_documents
from db.search import Scope
from tests.dbfixtures import fresh_database_url, skip_without_postgres

NOW = datetime(2026, 11, 2, tzinfo=UTC)

# Invented texts, with the traps each store's own stemmer and stop words fell into.
TEXTS = [
    ("School transport withdrawn for disabled pupils", "The council stopped transport to school."),
    ("Schools budget agreed", "Governors of three schools welcomed the budget."),
    ("Transparency review of council payments", "Payments to suppliers were not published."),
    ("Care plan delayed", "The education, health and care plan was issued late. Not good."),
    ("Council tax reminder letters", "Residents paid council-tax twice after the error."),
    ("Adoption panel changes", "Adopters and adopted children met the adoption panel."),
    ("Parking charges", "Charging for parking rises; the charge is not popular."),
    ("Unclosed consultations", "Two consultations remain open and unclosed."),
    ("AND OR NOT in a headline", "Some papers print and, or and not in capitals: AND OR."),
    ("Home to school travel", "A taxi replaced the school bus: transportation by car."),
    ("Transport for London", "Nothing about schools here; only the transport network."),
    (
        "Children's services inspection",
        "The children’s services were rated good; the child was safe.",
    ),
]

QUERIES = [
    "school",
    "schools",
    "school NOT transport",
    "school -transport",
    "-transport school",
    "transp*",
    "transport*",
    "adopt*",
    '"care plan"',
    '"plan care"',
    '"school transport" OR adoption',
    "payment",
    "paid",
    "council-tax",
    '"council tax"',
    "not",
    "school AND (transport OR budget)",
    "(schools OR parking) NOT (charge OR governors)",
    'school NOT "school bus"',
    "children",
    "child",
    "NOT NOT school",
    "charging",
    "“care plan”",
]

ERRORS = [
    ('"unclosed', "unterminated quote starting at position 0"),
    ("AND OR", "expected a term before AND at position 0"),
    ("-transport", "expected a term without NOT at position 0"),
    ("school NOT", "expected a term after NOT at position 10"),
    ("(school", "expected ')' at position 7"),
    ("t*", "expected at least 2 letters before '*' at position 1"),
    ("sch*ol", "'*' is allowed only at the end of a word at position 3"),
    ("   ", "empty query"),
]


def _records() -> list[DocumentRecord]:
    return [
        DocumentRecord(
            kind="decision" if i % 3 == 0 else "news",
            source="lgsco" if i % 3 == 0 else "news",
            source_key=f"doc-{i}",
            url=f"https://example.test/{i}",
            title=title,
            body=body,
            decided_on=date(2026, 1, 1 + i) if i % 3 == 0 else None,
            published_at=None if i % 3 == 0 else datetime(2026, 2, 1 + i, tzinfo=UTC),
            site_name=None if i % 3 == 0 else ("Eastern Daily Press" if i % 2 else "BBC News"),
            extra={} if i % 3 == 0 else {"feeds": ["edp-news" if i % 2 else "bbc-norfolk"]},
        )
        for i, (title, body) in enumerate(TEXTS)
    ]


def _expected(query: str) -> set[str]:
    parsed = parse_query(query)
    return {
        r.url for r in _records() if parsed.matches(document_tokens(r.title, r.summary, r.body))
    }


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def store(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    for url in fresh_database_url(request.param, tmp_path_factory.mktemp("search")):
        engine = make_engine(url)
        upsert_documents(engine, _records(), now=NOW)
        yield engine
        engine.dispose()


@pytest.mark.parametrize("query", QUERIES)
def test_search_finds_what_the_alert_would(store: Engine, query: str) -> None:
    found = search(store, query, limit=100)
    urls = [f.document.url for f in found.found]
    assert set(urls) == _expected(query)
    assert found.total == len(urls)


@pytest.mark.parametrize(("query", "message"), ERRORS)
def test_search_refuses_what_an_alert_refuses(store: Engine, query: str, message: str) -> None:
    with pytest.raises(QueryError) as searched:
        search(store, query)
    with pytest.raises(QueryError) as alert:
        parse_query(query)
    assert str(searched.value) == str(alert.value)
    assert str(searched.value).startswith(message)


def test_traps_from_the_issue(store: Engine) -> None:
    # NOT excludes (and is not a word); prefixes expand on every store.
    titles = {f.document.title for f in search(store, "school NOT transport").found}
    assert "School transport withdrawn for disabled pupils" not in titles
    assert "Schools budget agreed" in titles
    assert {f.document.title for f in search(store, "transp*").found} >= {
        "Transparency review of council payments",
        "Transport for London",
    }


def test_highlights_show_the_terms_found_not_the_operators(store: Engine) -> None:
    [hit] = [
        f for f in search(store, "payment NOT bus").found if f.document.title.startswith("Transp")
    ]
    assert "[Payments]" in hit.highlighted()
    assert "[not]" not in hit.highlighted()


def test_newest_first_with_scope_and_count(store: Engine) -> None:
    found = search(store, "school OR schools OR transport", Scope(kinds=["news"]), limit=2)
    assert found.total == len(
        _expected("school OR schools OR transport")
        & {r.url for r in _records() if r.kind == "news"}
    )
    days = [f.document.published_at for f in found.found]
    assert days == sorted(days, reverse=True)
    assert len(found.found) == 2


def test_source_by_feed_or_publisher(store: Engine) -> None:
    by_feed = search(store, "school OR schools", Scope(sources=["edp-news"]))
    by_publisher = search(store, "school OR schools", Scope(sources=["eastern daily press"]))
    assert [f.document.url for f in by_feed.found] == [f.document.url for f in by_publisher.found]
    assert by_feed.found and {f.source_label for f in by_feed.found} == {"Eastern Daily Press"}
    assert search(store, "school", Scope(sources=["lgsco"])).total == 2


def test_a_changed_document_is_found_by_its_new_words(store: Engine) -> None:
    [record] = [r for r in _records() if r.source_key == "doc-6"]
    changed = replace(record, body="Now about library opening hours.")
    upsert_documents(store, [changed], now=NOW)
    try:
        assert search(store, "library").total == 1
        assert "https://example.test/6" not in {
            f.document.url for f in search(store, "popular").found
        }
    finally:
        upsert_documents(store, [record], now=NOW)


@pytest.mark.postgres
def test_sqlite_and_postgres_answer_alike(tmp_path: object) -> None:
    skip_without_postgres()
    answers = []
    for dialect in ("sqlite", "postgres"):
        for url in fresh_database_url(dialect, tmp_path):
            engine = make_engine(url)
            upsert_documents(engine, _records(), now=NOW)
            answers.append(
                {q: [f.document.url for f in search(engine, q, limit=100).found] for q in QUERIES}
            )
            engine.dispose()
    assert answers[0] == answers[1]


def test_queries_at_the_language_limits_run_on_every_store(store: Engine) -> None:
    # The largest queries the parser admits (terms, nesting) reach each store's own parser.
    from alerts.query import MAX_DEPTH, MAX_TERMS

    many_not = "school " + " ".join(f"-w{i}" for i in range(MAX_TERMS - 1))
    many_or = " OR ".join(["school"] + [f"w{i}*" for i in range(MAX_TERMS - 1)])
    deep = "(" * (MAX_DEPTH - 1) + "school OR budget" + ")" * (MAX_DEPTH - 1)
    for query in (many_not, many_or, deep):
        found = search(store, query, limit=100)
        assert {f.document.url for f in found.found} == _expected(query), query
    with pytest.raises(QueryError, match="too"):
        search(store, many_not + " -w999")
