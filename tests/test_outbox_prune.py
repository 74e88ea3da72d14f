"""Sent mail's retention: bodies of mail sent or failed for good before the cut-off are
deleted, batch by batch; pending mail and newer mail keep theirs; the outbox rows stay.
On SQLite and PostgreSQL (the `engine` fixture)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from councilwatch.outbox_retention import prune_sent_bodies
from db import outbox
from db.delivery_tables import OUTBOX, OUTBOX_BODIES
from db.engine import read_connection
from db.outbox import OutgoingMessage
from db.outbox_prune import prunable, prune_bodies
from tests.cli import Result, run_cli
from tests.dbfixtures import statements
from tests.runtimes import SECRET, make_runtime

NOW = datetime(2026, 11, 1, 7, tzinfo=UTC)
DAY = timedelta(days=1)


def message(n: int) -> OutgoingMessage:
    return OutgoingMessage(
        idempotency_key=f"digest:{n}",
        message_id=f"<{n}@councilwatch>",
        kind="digest",
        to_address=f"s{n}@example.org",
        subject=f"Digest {n}",
        message=f"Subject: Digest {n}\r\n\r\nbody {n}\r\n",
    )


def queue(engine: Engine, n: int, *, at: datetime) -> int:
    found = outbox.enqueue_one(engine, message(n), now=at)
    assert found is not None
    return found


def send(engine: Engine, outbox_id: int, *, at: datetime) -> None:
    [claimed] = outbox.claim(engine, worker="w", now=at, lease_seconds=60, only=[outbox_id])
    assert outbox.mark_sent(engine, claimed.id, worker="w", now=at)


def fail(engine: Engine, outbox_id: int, *, at: datetime) -> None:
    [claimed] = outbox.claim(engine, worker="w", now=at, lease_seconds=60, only=[outbox_id])
    outbox.mark_failed(engine, claimed.id, worker="w", error="550 no such user", retry_at=None)


def bodies(engine: Engine) -> set[int]:
    with read_connection(engine) as connection:
        return set(connection.execute(select(OUTBOX_BODIES.c.outbox_id)).scalars())


def rows(engine: Engine) -> dict[int, str]:
    with read_connection(engine) as connection:
        return {int(i): str(s) for i, s in connection.execute(select(OUTBOX.c.id, OUTBOX.c.status))}


def test_old_sent_and_failed_bodies_go_newer_and_pending_stay(engine: Engine) -> None:
    old = NOW - 40 * DAY
    sent_old = queue(engine, 1, at=old)
    send(engine, sent_old, at=old)
    failed_old = queue(engine, 2, at=old)
    # its last attempt was due 40 days ago (the claim takes rows due by then)
    fail(engine, failed_old, at=old)
    pending_old = queue(engine, 3, at=old)  # never sent (a stuck address): kept
    sent_late = queue(engine, 4, at=old)  # queued long ago, sent within the period
    send(engine, sent_late, at=NOW - 5 * DAY)
    sent_new = queue(engine, 5, at=NOW - DAY)
    send(engine, sent_new, at=NOW - DAY)
    before = rows(engine)

    cutoff = NOW - 30 * DAY
    assert prunable(engine, before=cutoff) == 2
    result = prune_bodies(engine, before=cutoff)

    assert result.deleted == 2
    assert bodies(engine) == {pending_old, sent_late, sent_new}
    assert rows(engine) == before  # every row stays, with its status
    assert outbox.depth(engine) == {"sent": 3, "failed": 1, "pending": 1}
    # what is left still reads and sends
    [still] = outbox.claim(engine, worker="w", now=NOW, lease_seconds=60)
    assert still.id == pending_old and still.message == message(3).message
    assert prune_bodies(engine, before=cutoff).deleted == 0


def test_batches_walk_the_old_bodies_and_stop_at_the_new(engine: Engine) -> None:
    old = NOW - 40 * DAY
    ids = []
    for n in range(23):
        ids.append(queue(engine, n, at=old if n < 17 else NOW))
        send(engine, ids[-1], at=old if n < 17 else NOW)
    with statements(engine) as seen:
        result = prune_bodies(engine, before=NOW - 30 * DAY, batch=5)
    deletes = [s for s in seen if s.lstrip().upper().startswith("DELETE")]
    assert result.deleted == 17
    # four batches delete 5+5+5+2; the fourth holds new rows, so the walk ends there
    assert result.batches == len(deletes) == 4
    assert bodies(engine) == set(ids[17:])


def test_a_failed_message_without_its_body_is_not_queued_again(engine: Engine) -> None:
    old = NOW - 40 * DAY
    gone, kept = queue(engine, 1, at=old), queue(engine, 2, at=NOW)
    fail(engine, gone, at=old)
    fail(engine, kept, at=NOW)
    prune_bodies(engine, before=NOW - 30 * DAY)
    assert outbox.retry_failed(engine, now=NOW) == 1
    assert rows(engine) == {gone: "failed", kept: "pending"}
    assert [m.id for m in outbox.claim(engine, worker="w", now=NOW, lease_seconds=60)] == [kept]
    assert [row.id for row in outbox.pending(engine)] == [kept]


def test_the_service_job_uses_the_configured_retention(database_url: str, tmp_path: Path) -> None:
    runtime = make_runtime(database_url, tmp_path, now=lambda: NOW)
    engine = runtime.migrated_engine()
    for n, days in ((1, 40), (2, 10)):
        outbox_id = queue(engine, n, at=NOW - days * DAY)
        send(engine, outbox_id, at=NOW - days * DAY)
    assert prune_sent_bodies(runtime).deleted == 1  # 30 days by default
    assert prune_sent_bodies(runtime, days=7).deleted == 1
    assert bodies(engine) == set()


def test_outbox_prune_command(
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("COUNCILWATCH_SECRET_KEY", SECRET)
    runtime = make_runtime(database_url, tmp_path)
    engine = runtime.migrated_engine()
    now = datetime.now(UTC)  # the command's clock
    for n, days in ((1, 40), (2, 40), (3, 10)):
        outbox_id = queue(engine, n, at=now - days * DAY)
        send(engine, outbox_id, at=now - days * DAY)
    runtime.close()
    config = str(tmp_path / "runtime-config.toml")

    def cli(*args: str) -> Result:
        return run_cli(capsys, "--config", config, "outbox", *args)

    assert cli("prune", "--dry-run").out == (
        "2 sent or failed messages' bodies are older than 30 days\n"
    )
    assert cli("prune", "--days", "9", "--dry-run").out.startswith("3 sent")
    assert cli("prune").out == "2 sent or failed messages' bodies deleted\n"
    assert cli("prune", "--days", "9").out == "1 sent or failed messages' body deleted\n"
    assert outbox.depth(engine) == {"sent": 3}  # the rows stay
    refused = cli("prune", "--days", "0")
    assert refused.code == 2 and refused.out == ""
    assert refused.err.startswith("error: ") and len(refused.err.splitlines()) == 1
    assert "Example: councilwatch outbox prune" in cli("prune", "--help").out
    assert cli("--json").code == 0  # `outbox` alone still lists
