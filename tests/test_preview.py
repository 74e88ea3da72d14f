"""Alert previews: the last 90 days as the alert would have read them, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import Engine

from alerts.councils import Register
from alerts.documents import AlertSpec, MatchDocument
from alerts.matcher import brute_force
from councilwatch.pipeline import process
from councilwatch.preview import alert_query, alert_scope, preview
from cwerrors import QueryError
from db.matches import document_councils
from db.runs import finish_run, start_run
from db.search import Scope, find_documents
from db.subscriptions import AlertFields
from tests.digestkit import decision, story

TODAY = date(2026, 11, 30)
NOW = datetime(2026, 11, 30, 12, tzinfo=UTC)


@pytest.fixture
def register() -> Register:
    return Register.builtin()


@pytest.fixture
def stored(engine: Engine, register: Register) -> Engine:
    records = [
        decision(
            "26 000 001",
            body="The council delayed school transport for a pupil with an EHC plan.",
            decided_on=TODAY - timedelta(days=3),
        ),
        decision(
            "26 000 002",
            body="The council excluded the child from school transport after a review.",
            decided_on=TODAY - timedelta(days=40),
        ),
        decision(
            "26 000 003",
            body="An old complaint about school transport, decided long ago.",
            decided_on=TODAY - timedelta(days=120),
        ),
        decision(
            "26 000 004",
            organisation="Cumberland Council",
            body="Cumberland Council failed to arrange school transport.",
            decided_on=TODAY - timedelta(days=10),
        ),
        decision(
            "26 000 005",
            organisation="Leeds City Council",
            body="Leeds City Council delayed a parking appeal.",
            decided_on=TODAY - timedelta(days=12),
        ),
        story(
            "s1",
            "Eastern Daily Press",
            "Norfolk County Council cuts school transport",
            "Norfolk County Council will cut school transport for sixth formers.",
            published=NOW - timedelta(days=1),
        ),
    ]
    process(engine, records, register=register, now=NOW)
    run = start_run(engine, "edp-news", "incremental", now=NOW - timedelta(days=20))
    finish_run(engine, run, now=NOW - timedelta(days=20), ok=False, error="HTTP 503")
    run = start_run(engine, "lgsco", "incremental", now=NOW - timedelta(days=20))
    finish_run(engine, run, now=NOW - timedelta(days=20), ok=True)
    return engine


def _fields(**values: object) -> AlertFields:
    return AlertFields(name="test", **values)  # type: ignore[arg-type]


def test_preview_counts_newest_first_with_highlights(stored: Engine, register: Register) -> None:
    found = preview(
        stored, register, _fields(councils=["norfolk"], query="school transport"), today=TODAY
    )
    assert found.total == 3  # the 120-day-old decision and the Cumberland one are not counted
    titles = [f.document.title for f in found.newest]
    assert titles[0] == "Norfolk County Council cuts school transport"
    assert titles[1:] == [
        "Norfolk County Council (26 000 001)",
        "Norfolk County Council (26 000 002)",
    ]
    assert "delayed [school transport] for" in found.newest[1].highlighted()
    assert found.summary == "In the last 90 days this alert would have caught 3 items."
    assert found.hints == []


def test_preview_agrees_with_the_matcher(stored: Engine, register: Register) -> None:
    # The same documents as the matcher itself picks from every document in the window.
    window = find_documents(stored, None, Scope(since=TODAY - timedelta(days=89)), limit=100)
    tags = document_councils(stored, [d.id or 0 for d in window])
    docs = [
        MatchDocument(
            id=d.id or 0,
            kind=d.kind,
            source=d.source,
            title=d.title,
            text="\n".join(p for p in (d.summary, d.body) if p),
            councils=frozenset(tags[d.id or 0]),
            outcome=d.outcome,
            category=d.category,
        )
        for d in window
    ]
    for fields in (
        _fields(councils=["norfolk"], query="transport NOT excluded"),
        _fields(councils=["norfolk"], query="-review"),
        _fields(query='"school transport" OR parking', kinds=["decision"]),
        _fields(query="transp* -(pupil OR formers)"),
        _fields(counties=["cumbria"]),
    ):
        spec = AlertSpec(
            id=1,
            councils=frozenset(alert_scope(register, fields).council_ids),
            query=alert_query(fields),
            kinds=frozenset(fields.kinds),
        )
        expected = [m.document_id for m in brute_force([spec], docs)]
        found = preview(stored, register, fields, today=TODAY, items=50)
        assert sorted(f.document.id or 0 for f in found.newest) == sorted(expected), fields
        assert found.total == len(expected)


def test_abolished_council_follows_its_successors(stored: Engine, register: Register) -> None:
    found = preview(stored, register, _fields(councils=["cumbria"]), today=TODAY)
    assert [f.document.reference for f in found.newest] == ["26 000 004"]
    empty = preview(stored, register, _fields(councils=["cumbria"], query="parking"), today=TODAY)
    assert empty.total == 0
    assert any(
        h.startswith("Cumbria County Council was abolished on 31 March 2023; alerts on it follow")
        and "Cumberland" in h
        for h in empty.hints
    )


def test_nothing_caught_says_why(stored: Engine, register: Register) -> None:
    found = preview(stored, register, _fields(query="exclusions"), today=TODAY)
    assert found.total == 0
    assert found.hints == [
        "No stored item contains “exclusions”; excl* (words starting “excl”) finds 1 item."
    ]
    named = preview(stored, register, _fields(query="Leeds parking appeal review"), today=TODAY)
    assert any("Your keywords name Leeds" in h for h in named.hints)


def test_sources_that_failed_in_the_period(stored: Engine, register: Register) -> None:
    found = preview(stored, register, _fields(query="transport"), today=TODAY)
    [line] = found.trouble_lines()
    assert line.startswith("edp-news: 1 of 1 runs failed between 10 Nov 2026 and 10 Nov 2026")
    assert "HTTP 503" in line
    later = preview(stored, register, _fields(query="transport"), today=TODAY + timedelta(days=90))
    assert later.trouble_lines() == []


def test_preview_refuses_what_an_alert_refuses(stored: Engine, register: Register) -> None:
    with pytest.raises(QueryError, match="unterminated quote starting at position 0"):
        preview(stored, register, _fields(query='"school'), today=TODAY)
