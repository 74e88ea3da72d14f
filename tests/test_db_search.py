from datetime import UTC, date, datetime

import pytest
from sqlalchemy import Engine

from db.ingest import DocumentRecord, upsert_documents
from db.search import (
    AllOf,
    AnyOf,
    DocumentKeys,
    Key,
    Scope,
    Stem,
    count_documents,
    documents_without_keys,
    find_documents,
    keys_may_be_stale,
    store_document_keys,
    to_fts5,
    to_tsquery,
)
from db.search_types import stems_in

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
    _cut_keys(engine)
    return engine


def _cut_keys(engine: Engine) -> None:
    # Keys cut by hand, as the composition root would: words, and "stems" of a toy stemmer
    # (db/ must give back exactly what it was given, whatever the stemmer).
    store_document_keys(
        engine,
        [
            DocumentKeys(
                d.id,
                d.content_hash,
                [f"w:{w}" for w in (d.title + " " + d.body).lower().replace(".", "").split()]
                + [f"s:{w.rstrip('s')}" for w in (d.title + " " + d.body).lower().split()],
            )
            for d in documents_without_keys(engine)
        ],
    )


def urls(engine: Engine, terms: Key | AllOf | AnyOf | None, scope: Scope = Scope()) -> set[str]:
    found = {d.url for d in find_documents(engine, terms, scope, limit=100)}
    assert count_documents(engine, terms, scope) == len(found)
    return found


def test_keys_prefixes_and_exclusions(stored: Engine) -> None:
    assert urls(stored, Key("s:payment")) == {"https://x/2"}
    assert urls(stored, Key("w:payment")) == set()  # the exact word is "payments"
    assert urls(stored, Key("w:pay", prefix=True)) == {"https://x/2"}
    assert urls(stored, AllOf((Key("w:plan"),), (Key("w:transport"),))) == {"https://x/1"}
    assert urls(stored, AnyOf((Key("w:education"), Key("w:pupil")))) == {
        "https://x/1",
        "https://x/2",
    }
    # No key is an operator, whatever it spells.
    assert urls(stored, Key("w:and")) == {"https://x/1", "https://news/1"}
    assert urls(stored, Key("w:not")) == set()


def test_scope_kind_source_and_dates_newest_first(stored: Engine) -> None:
    assert urls(stored, Key("w:plan"), Scope(kinds=["news"])) == {"https://news/1"}
    assert urls(stored, Key("w:council"), Scope(since=date(2026, 8, 1))) == {
        "https://x/1",
        "https://news/1",
    }
    assert urls(stored, Key("w:council"), Scope(until=date(2026, 5, 1))) == {"https://x/2"}
    assert urls(stored, None, Scope(sources=["lgsco"])) == {"https://x/1", "https://x/2"}
    newest = [d.url for d in find_documents(stored, None)]
    assert newest == ["https://news/1", "https://x/1", "https://x/2"]


def test_changed_documents_need_new_keys(stored: Engine) -> None:
    assert documents_without_keys(stored) == []
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
    assert [d.body for d in documents_without_keys(stored)] == [changed.body]
    _cut_keys(stored)
    assert not urls(stored, Key("s:payment"))
    assert urls(stored, Key("w:charging")) == {"https://x/2"}


def test_stale_keys_are_noticed_by_the_cheap_check(stored: Engine) -> None:
    assert not keys_may_be_stale(stored)
    changed = DocumentRecord(
        kind="decision", source="lgsco", source_key="25 000 002", url="https://x/2",
        body="Now about adult social care charging.",
    )  # fmt: skip
    upsert_documents(stored, [changed], now=NOW)
    assert keys_may_be_stale(stored)  # changed content, same number of documents
    _cut_keys(stored)
    assert not keys_may_be_stale(stored)  # a revision whose keys were cut again
    new = DocumentRecord(kind="news", source="news", source_key="n/9", url="https://n/9")
    upsert_documents(stored, [new], now=NOW)
    assert keys_may_be_stale(stored)
    _cut_keys(stored)
    assert not keys_may_be_stale(stored)


def test_translations_quote_every_key() -> None:
    tree = AllOf(
        (Key("s:care"), AnyOf((Key("w:o'neil"), Key('w:a"b', prefix=True)))), (Key("w:x"),)
    )
    assert to_fts5(tree, {}) == '(("s:care" AND ("w:o\'neil" OR "w:a""b"*)) NOT "w:x")'
    assert to_tsquery(tree, {}) == "('s:care' & ('w:o''neil' | 'w:a\"b':*) & !'w:x')"


def test_a_stem_is_spelled_out_as_its_stored_words() -> None:
    words = {"care": ["cared", "caring"], "o'neil": ["o'neils"]}
    tree = AnyOf((Stem("care", own=True), Stem("o'neil", own=False), Stem("agre", own=False)))
    assert to_fts5(tree, words) == (
        '(("s:care" OR "w:care" OR "w:cared" OR "w:caring") OR ("s:o\'neil" OR "w:o\'neils")'
        ' OR ("s:agre"))'
    )
    assert to_tsquery(tree, words) == (
        "(('s:care' | 'w:care' | 'w:cared' | 'w:caring') | ('s:o''neil' | 'w:o''neils')"
        " | ('s:agre'))"
    )
    # A stem too long for a key is looked up as a prefix of its cut key.
    long = "a" * 120
    assert to_fts5(Stem(long, own=True), {}) == f'("s:{long[:98]}"* OR "w:{long[:98]}"*)'
    assert stems_in(AllOf((Stem("care", own=True), Key("w:x")), (Stem("agre", own=False),))) == {
        "care",
        "agre",
    }
