from datetime import UTC, date, datetime

import pytest
from sqlalchemy import Engine

from cwerrors import QueryError
from db.ingest import DocumentRecord, upsert_documents
from db.search import search_documents, to_fts5

NOW = datetime(2026, 11, 2, tzinfo=UTC)


@pytest.fixture
def stored(engine: Engine) -> Engine:
    records = [
        DocumentRecord(
            kind="decision",
            source="lgsco",
            source_key="25 000 001",
            url="https://x/1",
            title="Norfolk County Council (25 000 001)",
            body="The Council failed to review the education health and care plan on time.",
            decided_on=date(2026, 9, 1),
            reference="25 000 001",
        ),
        DocumentRecord(
            kind="decision",
            source="lgsco",
            source_key="25 000 002",
            url="https://x/2",
            title="Cumberland Council (25 000 002)",
            body="The Council delayed school transport payments for a disabled pupil.",
            decided_on=date(2026, 5, 1),
            reference="25 000 002",
        ),
        DocumentRecord(
            kind="news",
            source="news",
            source_key="https://news/1",
            url="https://news/1",
            title="Council apologises over care plan delays",
            body="Parents said the care plan reviews were late and transport was cancelled.",
            published_at=datetime(2026, 10, 5, tzinfo=UTC),
        ),
    ]
    upsert_documents(engine, records, now=NOW)
    return engine


def keys(hits: list) -> set[str]:  # type: ignore[type-arg]
    return {hit.url for hit in hits}


def test_stemmed_words_phrases_exclusion_and_filters(stored: Engine) -> None:
    assert keys(search_documents(stored, "payment")) == {"https://x/2"}
    assert keys(search_documents(stored, '"care plan"')) == {"https://x/1", "https://news/1"}
    assert keys(search_documents(stored, "plan -transport")) == {"https://x/1"}
    assert keys(search_documents(stored, "plan", kind="news")) == {"https://news/1"}
    assert keys(search_documents(stored, "council", since=date(2026, 8, 1))) == {
        "https://x/1",
        "https://news/1",
    }
    assert keys(search_documents(stored, "education OR pupil")) == {"https://x/1", "https://x/2"}


def test_snippet_marks_the_matched_words(stored: Engine) -> None:
    [hit] = search_documents(stored, "payments")
    assert "[payments]" in hit.snippet
    assert hit.reference == "25 000 002"


def test_search_follows_updates(stored: Engine) -> None:
    changed = DocumentRecord(
        kind="decision",
        source="lgsco",
        source_key="25 000 002",
        url="https://x/2",
        title="Cumberland Council (25 000 002)",
        body="Now about adult social care charging.",
        decided_on=date(2026, 5, 1),
        reference="25 000 002",
    )
    upsert_documents(stored, [changed], now=NOW)
    assert not search_documents(stored, "payment")
    assert keys(search_documents(stored, "charging")) == {"https://x/2"}


def test_fts5_translation_quotes_every_word() -> None:
    assert to_fts5('care "health plan" -transport') == '("care" AND "health plan") NOT "transport"'
    assert to_fts5("adopt*") == '"adopt"*'
    assert to_fts5("a OR b") == '("a" OR "b")'
    with pytest.raises(QueryError):
        to_fts5("-only")
