"""The search index's keys: as few as exactness allows, and every store keyed before still
answers alike.

A document carries ``w:<word>`` for each of its words and ``s:<stem>`` only for a stem that
differs from the word it came from; a word that is its own stem stands for its stem too, and a
stem query looks up both keys. Stores keyed before this (every stem stored) stay correct.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from alerts.query import parse_query
from alerts.stem import stem
from councilwatch.search import (
    document_keys,
    document_tokens,
    refresh_keys,
    search,
    term_filter,
)
from db.engine import make_engine
from db.ingest import upsert_documents
from db.search import AnyOf, DocumentKeys, Key, documents_without_keys, store_document_keys
from tests.dbfixtures import fresh_database_url
from tests.test_search_language import NOW, QUERIES, _expected, _records


def test_a_word_that_is_its_own_stem_is_not_keyed_twice() -> None:
    keys = document_keys(document_tokens("School payments", "", "The school paid 2 payments."))
    assert sorted(keys) == sorted(["w:school", "w:payments", "w:the", "w:paid", "w:2", "s:payment"])
    assert stem("school") == "school" and stem("payments") == "payment"


def test_a_stem_query_looks_up_the_stem_and_the_word_that_is_its_own_stem() -> None:
    assert term_filter(parse_query("schools").root) == (
        AnyOf((Key("s:school"), Key("w:school"))),
        True,
    )
    # "payment" is its own stem: "payments" carries s:payment, "payment" w:payment.
    assert term_filter(parse_query("payment").root) == (
        AnyOf((Key("s:payment"), Key("w:payment"))),
        True,
    )
    # "agreed" stems to "agre", which stems to "agr": no document word "agre" is its own
    # stem, so the s: key alone is looked up.
    assert stem("agre") != "agre"
    assert term_filter(parse_query("agreed").root) == (Key("s:agre"), True)


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
