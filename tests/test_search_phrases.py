"""Phrases in search: every candidate is confirmed (the keys index has no positions), mostly
from its raw text (councilwatch.search.verdict_of), with the matcher's answers on every store.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import Engine

import councilwatch.search
from alerts.query import parse_query
from councilwatch.search import document_tokens, refresh_keys, search, term_filter
from db import search as db_search
from db.engine import make_engine
from db.ingest import DocumentRecord, upsert_documents
from db.search_types import CandidateText, Scope
from db.sqlite_search import SqliteReader
from tests.dbfixtures import fresh_database_url, statements

NOW = datetime(2026, 11, 2, tzinfo=UTC)

# (title, summary, body): the tokeniser's rules a raw-text reading has to keep.
TEXTS = [
    ("Care plan delayed", "", "The education, health and care plan was issued late."),
    ("The carer's plan", "", "A carer’s plan review; the CARERS' PLAN was lost."),
    ("Don't care", "", "Staff don't care plan-wise; care''plan appears too."),
    ("Straße care", "", "The STRASSE plan and the straße Plan; café CARE PLAN."),
    ("İstanbul visit", "", "A care plan for İstanbul."),  # folding moves a word end
    ("Care", "", "plan, on the next line: no phrase spans the title and the text."),
    ("Summary ends", "The council's care", "plan starts the body."),  # summary and body join
    ("Underscores", "", "care_plan and care__plan and care-plan."),
    ("Nothing here", "", "A scare plan, careplan and care plans."),
    ("School transport", "", "School transport and the care plan review were both late."),
    ("Transport only", "", "The school transport review."),
    ("Numbers", "", "In 2026 plan 2 care plan 3 was agreed."),
    # Stems two letters off their words' shared start ("dying" is "die"): PhraseScan's lead.
    ("Dying trees", "", "The dying trees died back; a survey of tied tiers."),
]

QUERIES = [
    '"care plan"',
    '"plan care"',
    '"carer plan"',
    '"carers plan"',
    '"dont care"',
    '"strasse plan"',
    '"café care plan"',
    '"care plan review"',
    '"council care plan starts"',
    '"care plan" NOT transport',
    '"care plan" -review',
    'NOT "care plan" care',
    '"care plan" OR "school transport"',
    '"care plan" OR transport',
    '"care plan" AND (review OR late)',
    '("care plan" OR "carer plan") NOT "plan review"',
    'NOT NOT "care plan"',
    '"2026 plan"',
    '"zzz plan"',
    'care-plan "care plan"',
    '"plan starts" plan*',
    "care-plan",  # a word the tokeniser splits: a phrase of stems
    "caring-plans",
    "carer-plan",
    "care-pla*",
    "council-care",
    "care-plan NOT transport",
    "care-plan OR adopt*",
    "die-back",
    "dying-tree",
    "tie-tier",
]


def _records() -> list[DocumentRecord]:
    return [
        DocumentRecord(
            kind="decision" if i % 2 else "news",
            source="lgsco" if i % 2 else "news",
            source_key=f"phrase-{i}",
            url=f"https://example.test/phrase/{i}",
            title=title,
            summary=summary,
            body=body,
            decided_on=date(2026, 3, 1 + i) if i % 2 else None,
            published_at=None if i % 2 else datetime(2026, 3, 1 + i, tzinfo=UTC),
        )
        for i, (title, summary, body) in enumerate(TEXTS)
    ]


def _expected(query: str, kinds: tuple[str, ...] = ()) -> list[str]:
    """The matcher's documents, newest first (each text is dated a day after the last)."""
    parsed = parse_query(query)
    return [
        r.url
        for r in reversed(_records())
        if parsed.matches(document_tokens(r.title, r.summary, r.body))
        and (not kinds or r.kind in kinds)
    ]


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def store(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    yield from _filled(request.param, tmp_path_factory)


@pytest.fixture(scope="module")
def sqlite_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """The reader without SQLAlchemy reads SQLite files only."""
    yield from _filled("sqlite", tmp_path_factory)


def _filled(dialect: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    for url in fresh_database_url(dialect, tmp_path_factory.mktemp("phrases")):
        engine = make_engine(url)
        upsert_documents(engine, _records(), now=NOW)
        # Keyed now, not by whichever test searches first: a test reading candidates
        # straight from db.search found none when it ran alone.
        refresh_keys(engine)
        yield engine
        engine.dispose()


@pytest.mark.parametrize("query", QUERIES)
def test_a_phrase_finds_what_the_matcher_finds(store: Engine, query: str) -> None:
    for kinds in ((), ("decision",)):
        expected = _expected(query, kinds)
        found = search(store, query, Scope(kinds=kinds), limit=100)
        assert [f.document.url for f in found.found] == expected, (query, kinds)
        assert (found.total, found.total_exact) == (len(expected), True)
        page = search(store, query, Scope(kinds=kinds), limit=2, offset=1)
        assert [f.document.url for f in page.found] == expected[1:3]
        assert page.total == len(expected)


def test_the_examples_hit_both_answers() -> None:
    assert len(_expected('"care plan"')) >= 5 and not _expected('"zzz plan"')


def test_sqlite_read_without_sqlalchemy_gives_the_same(sqlite_store: Engine) -> None:
    url = sqlite_store.url.render_as_string(hide_password=False)
    reader = SqliteReader.open(url, lambda: sqlite_store)
    assert reader is not None
    try:
        for query in QUERIES:
            ours = search(reader, query, limit=100)
            theirs = search(sqlite_store, query, limit=100)
            assert ours == theirs, query
    finally:
        reader.close()


def test_a_confirmation_cut_short_counts_the_first_candidates(
    store: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(councilwatch.search, "CONFIRM_LIMIT", 4)
    candidates = db_search.find_documents(
        store, term_filter(parse_query('"care plan"').root)[0], limit=4
    )
    matched = [
        d.url
        for d in candidates
        if parse_query('"care plan"').matches(document_tokens(d.title, d.summary, d.body))
    ]
    found = search(store, '"care plan"', limit=100)
    assert (found.total, found.total_exact) == (len(matched), False)
    assert [f.document.url for f in found.found] == matched


def test_candidates_the_raw_text_decides_are_not_tokenised(
    store: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    tokenised: list[str] = []
    confirmed = councilwatch.search._confirmed

    def counting(doc: CandidateText, query: object) -> object:
        tokenised.append(doc.title)
        return confirmed(doc, query)  # type: ignore[arg-type]

    monkeypatch.setattr(councilwatch.search, "_confirmed", counting)
    assert search(store, '"care plan"', limit=100).total == len(_expected('"care plan"'))
    assert tokenised == ["İstanbul visit"]  # the one text whose folding moves a word end
    tokenised.clear()
    assert search(store, "care-plan OR transport", limit=100).total == len(
        _expected("care-plan OR transport")
    )
    assert tokenised == ["İstanbul visit"]  # stems, prefixes and words are looked for too


def test_a_walk_over_the_candidates_is_one_statement(store: Engine) -> None:
    terms = term_filter(parse_query('"care plan"').root)[0]
    with statements(store) as sent:
        walked = list(db_search.iter_documents(store, terms, Scope(), batch=2))
    assert len(walked) > 4
    assert sum("FROM documents" in s for s in sent) == 1
    assert walked == db_search.find_documents(store, terms, Scope(), limit=100)


def test_a_count_cut_short_past_the_page_still_fills_the_page(store: Engine) -> None:
    # What the web page asks: its page in full, the count "at least" past a few candidates.
    everything = search(store, '"care plan"', limit=100)
    assert everything.total_exact and everything.total >= 3
    urls = [f.document.url for f in everything.found]
    for offset, limit in ((0, 2), (1, 2), (0, everything.total)):
        found = search(store, '"care plan"', limit=limit, offset=offset, count_up_to=1)
        assert [f.document.url for f in found.found] == urls[offset : offset + limit]
        assert found.total >= offset + len(found.found)
        assert found.total_exact == (found.total == everything.total)
    last = search(store, '"care plan"', limit=2, offset=everything.total - 1, count_up_to=1)
    assert [f.document.url for f in last.found] == urls[-1:]
