import json
from dataclasses import replace
from datetime import UTC, date, datetime

from sqlalchemy import Engine

from alerts.councils import Register
from councilwatch.pipeline import process
from db.ingest import DocumentRecord
from db.matches import document_councils, pending_matches
from db.subscriptions import AlertFields, subscribe

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
    assert keyword_match.terms == ["respite"]
    assert ["respite", True] in json.loads(keyword_match.snippet)

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
