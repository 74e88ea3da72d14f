"""The subscription and mail commands through the real CLI entry point, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from councilwatch.pipeline import process
from councilwatch.runtime import Runtime
from db import outbox
from db.jobs import exclusive
from db.matches import pending_matches
from tests.cli import Result, run_cli
from tests.digestkit import MAIL_ENV, decision, smtp_toml
from tests.runtimes import SECRET, make_runtime
from tests.smtpd import SmtpTestServer, smtp_certificate, smtp_server

__all__ = ["smtp_certificate", "smtp_server"]  # fixtures used by name below

Cli = Callable[..., Result]


@pytest.fixture
def runtime(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Runtime]:
    monkeypatch.setenv("COUNCILWATCH_SECRET_KEY", SECRET)
    rt = make_runtime(database_url, tmp_path)
    yield rt
    rt.close()


@pytest.fixture
def cli(runtime: Runtime, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Iterator[Cli]:
    config = str(tmp_path / "runtime-config.toml")

    def call(*args: str) -> Result:
        return run_cli(capsys, "--config", config, *args)

    yield call


def one_line_error(result: Result) -> str:
    assert result.code == 1, result
    assert result.out == ""
    lines = result.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.err
    return lines[0]


def listing(cli: Cli) -> list[dict[str, Any]]:
    result = cli("subscriptions", "list", "--json")
    assert result.code == 0, result
    found = json.loads(result.out)
    assert isinstance(found, list)
    return found


def test_subscribe_a_new_address_sends_only_the_confirmation_before_it_exits(
    cli: Cli, runtime: Runtime, tmp_path: Path
) -> None:
    result = cli(
        "subscribe",
        "Mrs.B@Example.org",
        "--council",
        "norfolk county council",
        "--keywords",
        'respite OR "short breaks"',
        "--outcome",
        "upheld",
    )
    assert result.code == 0, result
    assert result.out.strip() == (
        "mrs.b@example.org: alert '“respite OR \"short breaks\"” in Norfolk' (daily); "
        "confirmation email sent"
    )
    assert outbox.pending(runtime.migrated_engine()) == []
    assert outbox.depth(runtime.migrated_engine()) == {"sent": 1}
    [eml] = (tmp_path / "outbox").glob("*.eml")
    raw = eml.read_bytes()
    assert b"\nTo: mrs.b@example.org" in raw and b"/confirm/" in raw
    [entry] = listing(cli)
    assert entry["status"] == "pending"
    [alert] = entry["alerts"]
    assert alert["councils"] == ["norfolk"] and alert["outcomes"] == ["upheld"]

    again = cli("subscribe", "mrs.b@example.org", "--county", "Kent", "--name", "Kent")
    assert again.out.strip() == (
        "mrs.b@example.org: alert 'Kent' (daily); "
        "waiting for confirmation (its email was queued before)"
    )
    assert outbox.depth(runtime.migrated_engine()) == {"sent": 1}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("not-an-address", "--council", "Leeds"), "is not an email address"),
        (("a@example.org", "--council", "Norflok County Councl"), "did you mean 'Norfolk"),
        (("a@example.org", "--keywords", '"unclosed phrase'), "error: "),
        (
            ("a@example.org", "--council", "Leeds", "--name", "x\r\nBcc: x@evil.example"),
            "header injection refused",
        ),
        (("a@example.org", "--county", "Leeds"), "is not a county council"),
        (("a@example.org", "--outcome", "upheld"), "give at least one --council"),
        (("a@example.org", "--council", "Leeds", "--frequency", "hourly"), "--frequency must be"),
    ],
)
def test_bad_input_is_one_line_and_stores_nothing(
    cli: Cli, args: tuple[str, ...], message: str
) -> None:
    line = one_line_error(cli("subscribe", *args))
    assert message in line
    assert listing(cli) == []


def test_unsubscribe_one_alert_then_everything(cli: Cli) -> None:
    cli("subscribe", "mr.k@example.org", "--council", "Leeds", "--name", "Leeds", "--confirmed")
    cli("subscribe", "mr.k@example.org", "--council", "York", "--name", "York", "--confirmed")
    [entry] = listing(cli)
    assert entry["status"] == "active"
    assert [a["name"] for a in entry["alerts"]] == ["Leeds", "York"]

    stopped = cli("unsubscribe", "mr.k@example.org", "--alert", "York")
    assert stopped.out.strip() == "mr.k@example.org: alert 'York' stopped"
    assert "no alert named 'York'" in one_line_error(
        cli("unsubscribe", "mr.k@example.org", "--alert", "York")
    )
    gone = cli("unsubscribe", "MR.K@example.org")
    assert gone.out.strip() == "mr.k@example.org: unsubscribed (1 alerts stopped)"
    [entry] = listing(cli)
    assert entry["status"] == "unsubscribed" and entry["alerts"] == []
    assert "no subscriber" in one_line_error(cli("unsubscribe", "nobody@example.org"))


def test_digest_send_dry_run_prints_and_changes_nothing_then_sends(
    cli: Cli, runtime: Runtime
) -> None:
    cli(
        "subscribe", "mrs.b@example.org", "--council", "Norfolk", "--name", "Norfolk", "--confirmed"
    )
    engine = runtime.migrated_engine()
    process(engine, [decision("26 005 001")], register=runtime.register, now=datetime.now(UTC))

    dry = cli("digest", "send", "--frequency", "daily", "--dry-run")
    assert dry.code == 0, dry
    assert "To: mrs.b@example.org" in dry.out
    assert "Subject: 1 decision: Norfolk County Council" in dry.out
    assert "Norfolk County Council (26 005 001)" in dry.out and "\r" not in dry.out
    assert dry.out.strip().endswith("daily: would queue 1 digests (1 items)")
    assert outbox.depth(engine) == {} and len(pending_matches(engine)) == 1

    sent = cli("digest", "send")
    assert sent.code == 0, sent
    assert sent.out.splitlines() == [
        "immediate: queued 0 digests (0 items)",
        "daily: queued 1 digests (1 items)",
        "weekly: queued 0 digests (0 items)",
        "outbox: 1 sent, 0 to retry, 0 failed",
    ]
    [eml] = list(runtime.settings.mail.outbox_dir.glob("*.eml"))
    assert "1 decision: Norfolk County Council" in eml.read_text()


def test_digest_send_refuses_while_the_service_holds_the_lock(cli: Cli, runtime: Runtime) -> None:
    with exclusive(runtime.migrated_engine(), "digest"):
        line = one_line_error(cli("digest", "send", "--frequency", "daily"))
    assert line == "error: digest is already running in another process"


def test_outbox_shows_failed_mail_and_retry_sends_it(
    database_url: str,
    tmp_path: Path,
    smtp_server: SmtpTestServer,
    smtp_certificate: tuple[Path, Path],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(smtp_certificate[0]))
    monkeypatch.setenv("COUNCILWATCH_SECRET_KEY", SECRET)
    for name, value in MAIL_ENV.items():
        monkeypatch.setenv(name, value)
    make_runtime(database_url, tmp_path, toml=smtp_toml(smtp_server)).close()
    config = str(tmp_path / "runtime-config.toml")

    def cli(*args: str) -> Result:
        return run_cli(capsys, "--config", config, *args)

    smtp_server.rcpt_reply = "550 5.1.1 no such mailbox"
    said = cli("subscribe", "typo@example.org", "--council", "Leeds")
    assert said.code == 0
    assert said.out.splitlines()[0].endswith(
        "confirmation email refused by the mail server "
        "(recipient refused: 550 5.1.1 no such mailbox); "
        "check the address (`councilwatch outbox` lists it)"
    )
    shown = json.loads(cli("outbox", "--json").out)
    assert shown["depth"] == {"failed": 1}
    [row] = shown["messages"]
    assert row["status"] == "failed" and "550" in row["last_error"]
    assert row["to"] == "typo@example.org" and row["kind"] == "confirm"

    smtp_server.rcpt_reply = None
    retried = cli("outbox", "--retry")
    assert retried.out.splitlines() == [
        "1 failed messages queued again; 1 sent, 0 to retry, 0 failed",
        "Outbox empty: nothing pending or failed.",
    ]
    [mail] = smtp_server.messages
    assert mail["Subject"] == "Confirm your councilwatch alerts"


def test_alerts_preview_and_subscribe_preview(cli: Cli, runtime: Runtime) -> None:
    from datetime import timedelta

    today = runtime.now().date()
    process(
        runtime.migrated_engine(),
        [
            decision("26 100 001", body="School transport was late.", decided_on=today),
            decision("26 100 002", body="A parking appeal.", decided_on=today),
        ],
        register=runtime.register,
        now=runtime.now(),
    )
    result = cli("alerts", "preview", "school transport", "--council", "Norfolk")
    assert result.code == 0, result
    lines = result.out.splitlines()
    assert lines[0] == "In the last 90 days this alert would have caught 1 item."
    assert "26 100 001" in lines[1] and "[School transport]" in lines[2]

    result = cli("alerts", "preview", "bicycles", "--json")
    found = json.loads(result.out)
    assert found["total"] == 0 and found["hints"]
    assert found["since"] == (today - timedelta(days=89)).isoformat()

    assert one_line_error(cli("alerts", "preview", "school AND")) == (
        "error: expected a term after AND at position 10"
    )

    result = cli(
        "subscribe", "a@example.org", "--council", "Norfolk", "--keywords", "parking", "--preview"
    )
    assert result.code == 0, result
    assert result.out.splitlines()[0] == "In the last 90 days this alert would have caught 1 item."
    assert "nothing added" in result.out
    assert listing(cli) == []


def test_council_record_and_why_a_digest_was_quiet(cli: Cli, runtime: Runtime) -> None:
    from datetime import timedelta

    from db.runs import finish_run, start_run
    from tests.digestkit import remedies

    today = runtime.now().date()
    engine = runtime.migrated_engine()
    process(
        engine,
        [
            decision(
                "26 200 001", decided_on=today, extra=remedies((30000, "Mrs B"), apology=True)
            ),
            decision("26 200 002", decided_on=today - timedelta(days=5), outcome="not upheld"),
        ],
        register=runtime.register,
        now=runtime.now(),
    )
    result = cli("councils", "show", "Norfolk", "--record")
    assert result.code == 0, result
    assert "  decisions:    2 (1 not upheld, 1 upheld)" in result.out
    assert "  upheld rate:  50% of 2 investigated" in result.out
    assert "  remedies:     1 decisions; payments in 1, £300.00 in all" in result.out
    record = json.loads(cli("councils", "show", "Norfolk", "--record", "--json").out)["record"]
    assert record["total_pounds"] == 300.0 and record["upheld_rate"] == 0.5

    assert cli("subscribe", "q@example.org", "--council", "Norfolk", "--confirmed").code == 0
    run = start_run(engine, "lgsco", "incremental", now=runtime.now())
    finish_run(engine, run, now=runtime.now(), ok=False, error="HTTP 500")
    result = cli("subscriptions", "show", "q@example.org")
    assert result.code == 0, result
    lines = result.out.splitlines()
    assert lines[0] == "q@example.org (active)"
    assert "last digest sent to you: never" in lines[2]
    assert "last digest with an item from this alert: never" in lines[3]
    assert (
        "items in the last 30 days: 2 stored that it matches, 0 matched as they arrived"
        in (lines[4])
    )
    assert one_line_error(cli("subscriptions", "show", "nobody@example.org")) == (
        "error: no subscriber with the address nobody@example.org"
    )
