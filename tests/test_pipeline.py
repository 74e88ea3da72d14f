import json
from dataclasses import replace
from datetime import UTC, date, datetime

from sqlalchemy import Engine
from sqlalchemy import text as text_sql

from alerts.councils import Register
from councilwatch.alert_index import AlertIndex
from councilwatch.digests import Explained, explain_matches
from councilwatch.pipeline import encode_snippet, process
from db.ingest import DocumentRecord
from db.matches import document_councils, pending_matches
from db.models import Document
from db.models_delivery import Alert
from db.subscriptions import AlertFields, subscribe
from db.tables import ALERTS, DOCUMENTS

T0 = datetime(2026, 11, 1, 8, tzinfo=UTC)
T1 = datetime(2026, 11, 1, 9, tzinfo=UTC)
T2 = datetime(2026, 11, 1, 10, tzinfo=UTC)
REGISTER = Register.builtin()


def decision(ref: str, organisation: str, body: str) -> DocumentRecord:
    return DocumentRecord(
        kind="decision",
        source="lgsco",
        source_key=ref,
        url=f"https://x/{ref}",
        title=f"{organisation} ({ref})",
        summary="",
        body=body,
        decided_on=date(2026, 10, 1),
        reference=ref,
        organisation=organisation,
        outcome="upheld",
        category="Children's care services",
    )


def add_alert(engine: Engine, email: str, now: datetime, **fields: object) -> int:
    result = subscribe(
        engine,
        email=email,
        new_token=email,
        alert=AlertFields(name="a", **fields),  # type: ignore[arg-type]
        confirmed=True,
        now=now,
    )
    return result.subscriber.id or 0


def explained_match(engine: Engine, alert_id: int, document_id: int) -> Explained:
    with engine.connect() as connection:
        alert = connection.execute(ALERTS.select().where(ALERTS.c.id == alert_id)).one()
        doc = connection.execute(DOCUMENTS.select().where(DOCUMENTS.c.id == document_id)).one()
    found = explain_matches(
        engine,
        REGISTER,
        Alert.model_validate(dict(alert._mapping)),
        [Document.model_validate(dict(doc._mapping))],
    )
    return found[document_id]


def test_tags_councils_and_matches_new_documents_once(engine: Engine) -> None:
    cumbria_fan = add_alert(engine, "c@example.org", T0, councils=["cumbria"])
    keyword_fan = add_alert(engine, "k@example.org", T0, query="respite")
    norfolk_fan = add_alert(
        engine, "n@example.org", T0, councils=["norfolk"], outcomes=["not upheld"]
    )
    records = [
        decision("26 001 001", "Cumberland Council", "The Council delayed respite care for Mr C."),
        decision("26 001 002", "Norfolk County Council", "The Council failed to assess Mrs D."),
    ]
    report = process(engine, records, register=REGISTER, now=T1)
    assert len(report.upsert.inserted) == 2 and report.matches == 2
    ids = report.upsert.ids
    assert document_councils(engine, list(ids.values())) == {
        ids[("lgsco", "26 001 001")]: ["cumberland"],
        ids[("lgsco", "26 001 002")]: ["norfolk"],
    }
    pending = {(m.subscriber_id, m.document_id) for m in pending_matches(engine)}
    assert pending == {
        (cumbria_fan, ids[("lgsco", "26 001 001")]),  # abolished council -> its successor
        (keyword_fan, ids[("lgsco", "26 001 001")]),
    }
    assert norfolk_fan not in {s for s, _ in pending}  # filtered out by outcome
    [keyword_match] = [m for m in pending_matches(engine) if m.subscriber_id == keyword_fan]
    explained = explained_match(engine, keyword_match.alert_id, keyword_match.document_id)
    assert explained.terms == ["respite"]
    assert ["respite", True] in json.loads(explained.snippet)

    again = process(engine, records, register=REGISTER, now=T2)
    assert again.upsert.unchanged == 2 and again.matches == 0


def test_alerts_made_later_do_not_get_older_documents(engine: Engine) -> None:
    process(engine, [decision("26 002 001", "Cumberland Council", "x")], register=REGISTER, now=T1)
    add_alert(engine, "late@example.org", T2, councils=["cumberland"])
    changed = decision("26 002 001", "Cumberland Council", "changed text")
    assert process(engine, [changed], register=REGISTER, now=T2).matches == 0


def test_backfilled_documents_are_flagged_on_their_matches(engine: Engine) -> None:
    add_alert(engine, "b@example.org", T0, councils=["cumberland"])
    record = decision("26 003 001", "Cumberland Council", "y")
    process(engine, [replace(record)], register=REGISTER, now=T1, backfill=True)
    [match] = pending_matches(engine)
    assert match.backfill


def story(key: str, title: str, body: str, summary: str = "") -> DocumentRecord:
    return DocumentRecord(
        kind="news",
        source="edp",
        source_key=key,
        url=f"https://news.example/{key}",
        title=title,
        summary=summary,
        body=body,
        published_at=T1,
    )


def test_one_set_per_document_and_what_matches_show_is_what_the_matcher_found(
    engine: Engine,
) -> None:
    """Matches are stored as one set per document; the councils, terms and snippet a digest
    works out later are exactly those of the matcher's matches (what was stored before)."""
    queries = [
        None, "respite", "respite OR tribunal", '"school transport"', "adopt*",
        "(housing OR damp) -parking", "care assessment", "bins OR recycling",
    ]  # fmt: skip
    councils = [[], ["norfolk"], ["norfolk", "leeds"], ["cumbria"], ["breckland"]]
    n = 0
    for query in queries:
        for chosen in councils:
            if query is None and not chosen:
                continue
            n += 1
            add_alert(engine, f"p{n}@example.org", T0, query=query, councils=chosen)
    add_alert(engine, "county@example.org", T0, counties=["norfolk"], query="damp OR mould")
    records = [
        decision("26 101 001", "Norfolk County Council",
                 "Norfolk County Council delayed respite care. The tribunal found fault.\n\n"
                 "Leeds City Council shared the school transport assessment. " * 3),
        decision("26 101 002", "Cumberland Council",
                 "The Council failed to review adoption support and the care assessment."),
        story("s-1", "Damp homes in Breckland",
              "Breckland Council tenants reported damp and mould; housing officers visited. "
              "Norfolk County Council said parking was not the issue. Bins were late too."),
        story("s-2", "Recycling changes", "Leeds City Council will collect recycling weekly.",
              summary="Bins and recycling."),
    ]  # fmt: skip
    index = AlertIndex()
    seen: list[object] = []
    original = index.match

    def spy(*args: object, **kwargs: object) -> object:
        result = original(*args, **kwargs)  # type: ignore[arg-type]
        seen.extend(result[0])
        return result

    index.match = spy  # type: ignore[method-assign]
    report = process(engine, records, register=REGISTER, now=T1, alert_index=index)
    assert report.matches == len(seen) > 20
    with engine.connect() as connection:
        sets = connection.execute(text_sql("SELECT count(*) FROM match_sets")).scalar_one()
    assert sets == len({m.document_id for m in seen})  # type: ignore[attr-defined]
    for m in seen:
        explained = explained_match(engine, int(m.alert_id), int(m.document_id))  # type: ignore[attr-defined]
        assert explained == Explained(
            tuple(m.councils),  # type: ignore[attr-defined]
            list(m.terms),  # type: ignore[attr-defined]
            encode_snippet(m.snippet_spans),  # type: ignore[attr-defined]
        ), m
