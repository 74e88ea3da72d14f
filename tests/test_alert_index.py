"""The process's alert index: filed once, then brought up to date with the stored alerts."""

import gc
import random
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import Engine
from sqlalchemy import text as text_sql
from sqlmodel import Session, select

from alerts.councils import Council, Register
from alerts.documents import Match, MatchDocument
from councilwatch.alert_index import AlertIndex
from db.alert_log import last_change
from db.models_delivery import Alert
from db.subscriptions import active_alerts, subscriptions, unsubscribe, update_alert
from tests.digestkit import add_alert

NOW = datetime(2026, 11, 1, 9, tzinfo=UTC)
REGISTER = Register.builtin()


def doc(n: int, text: str, councils: frozenset[str] = frozenset()) -> MatchDocument:
    return MatchDocument(n, "decision", "lgsco", f"Decision {n}", text, councils, "upheld", None)


def add(engine: Engine, email: str, **fields: object) -> int:
    subscriber = add_alert(engine, email, "a", now=NOW, **fields)
    return next(a.id or 0 for a in active_alerts(engine) if a.subscriber_id == subscriber)


def db_alerts(engine: Engine) -> list[Alert]:
    """Every stored alert that is not deleted, active or not."""
    return [a for view in subscriptions(engine) for a in view.alerts]


def matched(index: AlertIndex, engine: Engine, *docs: MatchDocument) -> set[tuple[object, ...]]:
    matches, _ = index.match(engine, REGISTER, docs)
    return {(m.alert_id, m.document_id) for m in matches}


def test_alerts_added_changed_paused_and_deleted_between_batches(engine: Engine) -> None:
    index = AlertIndex()
    respite = add(engine, "r@example.org", query="respite")
    text = "The council delayed respite care and the tribunal appeal."
    assert matched(index, engine, doc(1, text)) == {(respite, 1)}
    appeal = add(engine, "a@example.org", query="appeal")
    assert matched(index, engine, doc(2, text)) == {(respite, 2), (appeal, 2)}
    update_alert(engine, respite, query="parking")  # changed: its old query no longer matches
    assert matched(index, engine, doc(3, text)) == {(appeal, 3)}
    update_alert(engine, appeal, paused=True)
    assert matched(index, engine, doc(4, text)) == set()
    update_alert(engine, appeal, paused=False)
    update_alert(engine, respite, deleted_at=NOW)
    assert matched(index, engine, doc(5, text)) == {(appeal, 5)}
    assert len(index) == 1


def test_a_new_register_refiles_every_alert(engine: Engine) -> None:
    index = AlertIndex()
    norfolk = add(engine, "n@example.org", counties=["norfolk"])  # all councils in Norfolk
    new_district = Council.from_dict(
        {**REGISTER.get("breckland").to_dict(), "id": "north-fen", "name": "North Fen Council",
         "common_name": "North Fen", "aliases": [], "gss": "E07999999"}
    )  # fmt: skip
    story = doc(1, "Bins.", frozenset({"north-fen"}))
    assert matched(index, engine, story) == set()
    matches, _ = index.match(engine, REGISTER.merged([new_district]), [story])
    assert [(m.alert_id, m.document_id) for m in matches] == [(norfolk, 1)]


def test_an_alert_that_cannot_be_filed_is_skipped_with_a_warning_once(
    engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    index = AlertIndex()
    good = add(engine, "g@example.org", query="respite")
    bad = add(engine, "b@example.org", councils=["cumbria"])
    update_alert(engine, bad, councils=["no such council anywhere"])
    text = "Respite care."
    assert matched(index, engine, doc(1, text)) == {(good, 1)}
    assert matched(index, engine, doc(2, text)) == {(good, 2)}
    warnings = [r for r in caplog.records if "cannot be matched" in r.getMessage()]
    assert len(warnings) == 1 and str(bad) in warnings[0].getMessage()


def test_a_council_alert_with_only_exclusions_is_matched(engine: Engine) -> None:
    index = AlertIndex()
    norfolk = add(engine, "n@example.org", councils=["norfolk"], query="-parking")
    named = frozenset({"norfolk"})
    assert matched(index, engine, doc(1, "Respite care.", named)) == {(norfolk, 1)}
    assert matched(index, engine, doc(2, "A parking fine.", named)) == set()
    assert matched(index, engine, doc(3, "Respite care.")) == set()  # another council


def test_one_alert_that_breaks_the_matcher_never_stops_the_others(
    engine: Engine, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    import alerts.matcher

    good = add(engine, "g@example.org", query="respite")
    # Saved before the query limits existed: refused by the index with a warning.
    deep = add(engine, "d@example.org", query="respite")
    update_alert(engine, deep, query="-" * 200 + "respite OR care")
    broken = add(engine, "b@example.org", query="care")
    real = alerts.matcher.compile_plan

    def fails_for_broken(alert, proven, intern):  # type: ignore[no-untyped-def]
        if alert.id == broken:
            raise SyntaxError("too many nested parentheses")
        return real(alert, proven, intern)

    monkeypatch.setattr(alerts.matcher, "compile_plan", fails_for_broken)
    index = AlertIndex()
    later = add(engine, "l@example.org", query="cut")
    text = "Respite care was cut."
    assert matched(index, engine, doc(1, text)) == {(good, 1), (later, 1)}
    assert matched(index, engine, doc(2, text)) == {(good, 2), (later, 2)}
    messages = [r.getMessage() for r in caplog.records]
    assert any(str(deep) in m and "too deeply nested" in m for m in messages)
    assert any(str(broken) in m and "cannot be filed" in m for m in messages)


def test_the_operator_hears_once_of_an_alert_that_cannot_be_matched(
    database_url: str, tmp_path: Path
) -> None:
    from councilwatch.alert_problems import operator_reporter
    from db.models_delivery import OutboxMessage
    from tests.runtimes import make_runtime

    runtime = make_runtime(
        database_url, tmp_path, env={"COUNCILWATCH_MAIL__OPERATOR": "ops@example.org"}
    )
    engine = runtime.migrated_engine()
    bad = add(engine, "b@example.org", councils=["cumbria"])
    update_alert(engine, bad, councils=["no such council anywhere"])
    good = add(engine, "g@example.org", query="respite")
    index = AlertIndex(report=operator_reporter(runtime))
    for n in (1, 2):
        assert matched(index, engine, doc(n, "Respite care.")) == {(good, n)}
    AlertIndex(report=operator_reporter(runtime)).match(engine, REGISTER, [doc(3, "x")])  # restart
    with Session(engine) as session:
        mails = [m for m in session.exec(select(OutboxMessage)) if m.kind == "operator"]
    assert [m.to_address for m in mails] == ["ops@example.org"]
    assert f"alert {bad} cannot be matched" in mails[0].subject
    runtime.close()


def test_a_batch_reloads_only_the_subscribers_that_changed(engine: Engine) -> None:
    index = AlertIndex()
    for n in range(5):
        add(engine, f"s{n}@example.org", query="respite")
    assert index.refresh(engine, REGISTER) == -1  # the first batch loads everything
    assert index.refresh(engine, REGISTER) == 0  # nothing changed: nothing is read again
    changed = add(engine, "s1@example.org", query="appeal")  # a second alert, same address
    assert index.refresh(engine, REGISTER) == 1
    assert matched(index, engine, doc(1, "An appeal.")) == {(changed, 1)}
    assert index.refresh(engine, REGISTER) == 0


@pytest.mark.parametrize("collector_on", [True, False])
def test_a_big_first_load_is_frozen_out_of_the_collector_once(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, collector_on: bool
) -> None:
    # Every full collection walked the whole index again (~10% of a digest run): a full
    # load of FREEZE_AT alerts or more is moved out of the collector's way; a batch that
    # refiles a few changed alerts is not. The collector is left on (or off) as it was.
    import councilwatch.alert_index as alert_index

    for n in range(3):
        add(engine, f"f{n}@example.org", query="respite")
    was_enabled = gc.isenabled()
    (gc.enable if collector_on else gc.disable)()
    gc.unfreeze()
    try:
        monkeypatch.setattr(alert_index, "FREEZE_AT", 4)
        small = AlertIndex()
        assert small.refresh(engine, REGISTER) == -1
        assert gc.get_freeze_count() == 0  # 3 alerts: below the line
        monkeypatch.setattr(alert_index, "FREEZE_AT", 3)
        index = AlertIndex()
        assert len(matched(index, engine, doc(1, "Respite care."))) == 3
        frozen = gc.get_freeze_count()
        assert frozen > 0
        assert gc.isenabled() is collector_on
        add(engine, "f9@example.org", query="respite")
        assert len(matched(index, engine, doc(2, "Respite care."))) == 4
        assert gc.get_freeze_count() <= frozen  # a refresh of changes freezes nothing
    finally:
        gc.unfreeze()
        (gc.enable if was_enabled else gc.disable)()


def test_subscriber_status_written_anywhere_is_followed(engine: Engine) -> None:
    """The log is kept by triggers: an unsubscribe, a bounce marked by the mailer's raw SQL
    and an operator's UPDATE are all seen without the writer knowing about the index."""
    index = AlertIndex()
    kept = add(engine, "kept@example.org", query="respite")
    gone = add(engine, "gone@example.org", query="respite")
    bounced = add(engine, "bounced@example.org", query="respite")
    text = "Respite care."
    assert matched(index, engine, doc(1, text)) == {(kept, 1), (gone, 1), (bounced, 1)}
    [gone_sub] = [a.subscriber_id for a in db_alerts(engine) if a.id == gone]
    [bounced_sub] = [a.subscriber_id for a in db_alerts(engine) if a.id == bounced]
    unsubscribe(engine, gone_sub, now=NOW)
    with engine.begin() as connection:
        connection.execute(
            text_sql("UPDATE subscribers SET status = 'bouncing' WHERE id = :id"),
            {"id": bounced_sub},
        )
    assert matched(index, engine, doc(2, text)) == {(kept, 2)}
    with engine.begin() as connection:  # the operator puts the bounced address back
        connection.execute(
            text_sql("UPDATE subscribers SET status = 'active' WHERE id = :id"),
            {"id": bounced_sub},
        )
    assert matched(index, engine, doc(3, text)) == {(kept, 3), (bounced, 3)}


def test_bookkeeping_writes_are_not_logged(engine: Engine) -> None:
    add(engine, "b@example.org", query="respite")
    before = last_change(engine)
    with engine.begin() as connection:  # what the mailer writes on every send
        connection.execute(text_sql("UPDATE subscribers SET failures = failures + 1"))
    assert last_change(engine) == before


def test_following_changes_gives_the_matches_of_a_fresh_index(engine: Engine) -> None:
    """After every random change, the long-lived index matches exactly what an index filed
    from scratch matches (the behaviour before the change log)."""
    rng = random.Random(17)
    words = ["respite", "appeal", "tribunal", "parking", "housing", "school"]
    councils = ["norfolk", "cumberland", "leeds", "breckland"]
    text = "The council delayed respite care, a tribunal appeal and school transport."
    docs = [
        doc(n, text if n % 2 else "Parking fines and housing repairs.", frozenset({c}))
        for n, c in enumerate(councils * 2)
    ]
    index = AlertIndex()
    emails = [f"p{n}@example.org" for n in range(8)]
    for step in range(40):
        action = rng.random()
        alerts = db_alerts(engine)
        if action < 0.4 or not alerts:
            fields: dict[str, object] = {"query": rng.choice(words)}
            if rng.random() < 0.5:
                fields["councils"] = [rng.choice(councils)]
            add_alert(engine, rng.choice(emails), f"alert {step}", now=NOW, **fields)
        elif action < 0.6:
            update_alert(engine, rng.choice(alerts).id or 0, query=rng.choice(words))
        elif action < 0.7:
            update_alert(engine, rng.choice(alerts).id or 0, paused=rng.random() < 0.5)
        elif action < 0.8:
            update_alert(engine, rng.choice(alerts).id or 0, deleted_at=NOW)
        elif action < 0.9:
            unsubscribe(engine, rng.choice(alerts).subscriber_id, now=NOW)
        else:
            update_alert(engine, rng.choice(alerts).id or 0, councils=[rng.choice(councils)])
        assert matched(index, engine, *docs) == matched(AlertIndex(), engine, *docs), step


def test_specs_share_equal_sets_and_alerts_share_names() -> None:
    # 100,000 alerts each holding five frozensets (216 bytes even when empty) and their own
    # copies of council ids were a quarter of the index's memory.
    from councilwatch.alert_index import alert_spec
    from db.alert_log import ActiveAlert, active_alert

    def row(n: int) -> object:
        return SimpleNamespace(
            id=n,
            subscriber_id=n,
            name=f"a{n}",
            created_at=NOW,
            query=None,
            councils=["".join(["nor", "folk"])],  # a string made at run time, as JSON gives
            counties=[],
            kinds=["decision"],
            outcomes=[],
            categories=[],
            sources=[],
        )

    first, second = (active_alert(row(n)) for n in (1, 2))
    assert isinstance(first, ActiveAlert)
    assert first.councils[0] is second.councils[0]
    a, b = alert_spec(first, REGISTER), alert_spec(second, REGISTER)
    for name in ("councils", "kinds", "outcomes", "categories", "sources"):
        assert getattr(a, name) is getattr(b, name), name
    assert a.outcomes is a.categories  # both empty: one object


def test_a_batch_holds_alert_ids_not_matches(engine: Engine) -> None:
    # The pipeline records which alerts each document matched; the digest explains them
    # when it sends. Building ~590 Matches a document at 100,000 alerts was most of the
    # matcher's time, so the index's result builds them only if asked.
    index = AlertIndex()
    respite = add(engine, "r@example.org", query="respite OR tribunal")
    appeal = add(engine, "a@example.org", query='"tribunal appeal"')
    text = "The council delayed respite care and the tribunal appeal."
    gc.collect()
    before = sum(1 for o in gc.get_objects() if isinstance(o, Match))
    batch, alerts = index.match(engine, REGISTER, [doc(1, text), doc(2, "respite")])
    gc.collect()
    assert sum(1 for o in gc.get_objects() if isinstance(o, Match)) == before
    assert [(d, list(ids)) for d, ids in batch.by_document()] == [
        (1, [respite, appeal]),
        (2, [respite]),
    ]
    assert set(alerts) == {respite, appeal}
    assert [(m.alert_id, m.document_id, m.terms) for m in batch] == [
        (respite, 1, ("respite", "tribunal")),
        (appeal, 1, ('"tribunal appeal"',)),
        (respite, 2, ("respite",)),
    ]
