from datetime import UTC, datetime

from sqlalchemy import Engine

from db import subscriptions as subs
from db.subscriptions import AlertFields

NOW = datetime(2026, 11, 1, 8, tzinfo=UTC)


def test_new_address_is_pending_until_confirmed(engine: Engine) -> None:
    result = subs.subscribe(
        engine,
        email="a@example.org",
        new_token="t1",
        alert=AlertFields(name="Norfolk", councils=["NFK"]),
        confirmed=False,
        now=NOW,
    )
    assert result.new_address and result.needs_confirmation
    assert subs.active_alerts(engine) == []
    assert subs.confirm(engine, result.subscriber.id or 0, now=NOW)
    assert not subs.confirm(engine, result.subscriber.id or 0, now=NOW)  # already confirmed
    [alert] = subs.active_alerts(engine)
    assert alert.councils == ["NFK"] and alert.frequency == "daily"


def test_same_alert_name_replaces_and_second_alert_adds(engine: Engine) -> None:
    for councils in (["NFK"], ["NFK", "CMD"]):
        subs.subscribe(
            engine,
            email="b@example.org",
            new_token="t2",
            alert=AlertFields(name="Mine", councils=councils),
            confirmed=True,
            now=NOW,
        )
    again = subs.subscribe(
        engine,
        email="b@example.org",
        new_token="ignored",
        alert=AlertFields(name="Other", query="adoption"),
        confirmed=False,
        now=NOW,
    )
    assert not again.new_address and not again.needs_confirmation
    assert again.subscriber.token == "t2"
    [view] = subs.subscriptions(engine)
    assert [(a.name, a.councils) for a in view.alerts] == [("Mine", ["NFK", "CMD"]), ("Other", [])]


def test_unsubscribe_one_alert_or_everything_keeps_rows(engine: Engine) -> None:
    result = subs.subscribe(
        engine,
        email="c@example.org",
        new_token="t3",
        alert=AlertFields(name="One"),
        confirmed=True,
        now=NOW,
    )
    subs.subscribe(
        engine,
        email="c@example.org",
        new_token="t3",
        alert=AlertFields(name="Two"),
        confirmed=True,
        now=NOW,
    )
    sid = result.subscriber.id or 0
    assert subs.unsubscribe(engine, sid, now=NOW, alert_name="One") == 1
    assert [a.name for a in subs.active_alerts(engine)] == ["Two"]
    assert subs.unsubscribe(engine, sid, now=NOW) == 1
    assert subs.active_alerts(engine) == []
    found = subs.find_subscriber(engine, email="c@example.org")
    assert found is not None and found.status == "unsubscribed"
    assert len(subs.subscriptions(engine, include_deleted=True)[0].alerts) == 2
    # Coming back needs a new confirmation.
    back = subs.subscribe(
        engine,
        email="c@example.org",
        new_token="t3",
        alert=AlertFields(name="One"),
        confirmed=False,
        now=NOW,
    )
    assert back.needs_confirmation


def test_update_alert_changes_allowed_fields_only(engine: Engine) -> None:
    result = subs.subscribe(
        engine,
        email="d@example.org",
        new_token="t4",
        alert=AlertFields(name="A"),
        confirmed=True,
        now=NOW,
    )
    changed = subs.update_alert(engine, result.alert.id or 0, frequency="weekly", paused=True)
    assert changed is not None and changed.frequency == "weekly" and changed.paused
    assert subs.active_alerts(engine) == []
    try:
        subs.update_alert(engine, result.alert.id or 0, subscriber_id=99)
    except ValueError as exc:
        assert "subscriber_id" in str(exc)
    else:
        raise AssertionError("changing the owner must be refused")
