"""Works as installed: the real entry point, no hand-set environment, errors as one line."""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from councilwatch.cli import main
from tests.cli import Result, run_cli
from tests.smtpd import free_port
from tests.test_web_subscribe import subscribe

CLEAN_ENV = {k: v for k, v in os.environ.items() if not k.startswith("COUNCILWATCH_")}


@pytest.fixture
def bare_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No COUNCILWATCH_* variable at all, as after a fresh `make run`."""
    for name in list(os.environ):
        if name.startswith("COUNCILWATCH_"):
            monkeypatch.delenv(name)


def _config(tmp_path: Path, database_url: str, extra: str = "") -> Path:
    path = tmp_path / "config.toml"
    path.write_text(
        f'[database]\nurl = "{database_url}"\n'
        f'[mail]\noutbox_dir = "{tmp_path / "outbox"}"\n'
        f'[service]\ndata_dir = "{tmp_path / "data"}"\n'
        f'[councils]\nregister_file = "{tmp_path / "councils.json"}"\n' + extra
    )
    return path


def one_line(result: Result, code: int = 1) -> str:
    assert result.code == code, result
    lines = result.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.err
    return lines[0]


def test_subscribe_signs_links_with_no_key_in_the_environment(
    tmp_path: Path, database_url: str, bare_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    config = str(_config(tmp_path, database_url))
    assert run_cli(capsys, "--config", config, "db", "upgrade").code == 0
    made = run_cli(
        capsys, "--config", config, "subscribe", "alice@example.org", "--council", "Norfolk"
    )
    assert made.code == 0, made
    assert made.out.strip().endswith("confirmation email sent")
    key = tmp_path / "data" / "secret.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    [eml] = (tmp_path / "outbox").glob("*.eml")
    assert b"/confirm/" in eml.read_bytes()
    # A second command reuses the key: it is made once.
    before = key.read_bytes()
    run_cli(capsys, "--config", config, "subscribe", "bob@example.org", "--council", "Leeds")
    assert key.read_bytes() == before


def test_a_failed_subscribe_stores_nothing(
    tmp_path: Path, database_url: str, bare_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    config = str(_config(tmp_path, database_url))
    (tmp_path / "data").write_text("a file where the data directory should be")
    assert run_cli(capsys, "--config", config, "db", "upgrade").code == 0
    failed = run_cli(
        capsys, "--config", config, "subscribe", "alice@example.org", "--council", "Norfolk"
    )
    assert "cannot create the signing key" in one_line(failed)
    listed = run_cli(capsys, "--config", config, "subscriptions", "list", "--json")
    assert json.loads(listed.out) == []
    shown = run_cli(capsys, "--config", config, "outbox", "--json")
    assert json.loads(shown.out)["depth"] == {}


def test_web_alone_delivers_a_confirmation_within_seconds(tmp_path: Path) -> None:
    port = free_port()
    config = _config(
        tmp_path,
        f"sqlite:///{tmp_path}/web.db",
        f'[web]\nlisten = "127.0.0.1:{port}"\nbase_url = "http://127.0.0.1:{port}"\n',
    )
    cli = [sys.executable, "-m", "councilwatch.cli", "--config", str(config)]
    subprocess.run([*cli, "db", "upgrade"], check=True, env=CLEAN_ENV, capture_output=True)
    process = subprocess.Popen(
        [*cli, "web"], env=CLEAN_ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}") as client:
            deadline = time.monotonic() + 20
            while True:
                try:
                    client.get("/healthz")
                    break
                except httpx.TransportError:
                    assert process.poll() is None, process.stderr and process.stderr.read()
                    assert time.monotonic() < deadline, "web did not start"
                    time.sleep(0.1)
            response = subscribe(client, "carol@example.org")
            assert response.status_code == 303
            deadline = time.monotonic() + 10
            while not list((tmp_path / "outbox").glob("*.eml")):
                assert time.monotonic() < deadline, "no confirmation email left the web process"
                time.sleep(0.1)
        [eml] = (tmp_path / "outbox").glob("*.eml")
        raw = eml.read_bytes()
        assert b"To: carol@example.org" in raw and f"127.0.0.1:{port}/confirm/".encode() in raw
    finally:
        process.terminate()
        process.wait(10)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            ("subscribe", "--bogus"),
            "error: No such option: --bogus (see: councilwatch subscribe --help)",
        ),
        (("subscribe",), "error: Missing argument 'EMAIL'. (see: councilwatch subscribe --help)"),
        (("-v", "1", "status"), "error: No such command '1'. (see: councilwatch --help)"),
        (
            ("statuss",),
            "error: No such command 'statuss'. Did you mean 'status'? (see: councilwatch --help)",
        ),
    ],
)
def test_usage_errors_are_one_line_not_a_box(
    args: tuple[str, ...], expected: str, capsys: pytest.CaptureFixture[str]
) -> None:
    result = run_cli(capsys, *args)
    assert one_line(result, code=2) == expected
    assert "╭" not in result.err and result.out == ""


def test_help_shows_plain_placeholders(capsys: pytest.CaptureFixture[str]) -> None:
    web = run_cli(capsys, "web", "--help").out
    words = " ".join(re.sub("[│╭╮╰╯─]", " ", web).split())  # the text as read, boxes aside
    assert "(default: the web.listen setting, 127.0.0.1:8080)" in words
    root = run_cli(capsys, "--help").out
    subscribe_help = run_cli(capsys, "subscribe", "--help").out
    for text in (web, root, subscribe_help):
        assert "<bool>" not in text and "<int>" not in text and "<str>" not in text
    assert "Usage: councilwatch subscribe [OPTIONS] EMAIL" in subscribe_help
    assert "{" not in subscribe_help.split("\n\n")[0]
    assert "[default: 0]" not in root


def test_verbose_is_a_count(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], bare_env: None
) -> None:
    config = str(_config(tmp_path, f"sqlite:///{tmp_path}/v.db"))
    for flags in (["-v"], ["-vv"], ["--verbose", "--verbose"]):
        assert main([*flags, "--config", config, "councils", "show", "Norfolk"]) == 0
    capsys.readouterr()


def test_a_web_subscription_whose_email_cannot_be_queued_stores_nothing(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from councilwatch.web import subscribe_pages
    from cwerrors import ConfigError
    from db.subscriptions import find_subscriber
    from tests.test_web_support import make_harness

    harness = make_harness(database_url, tmp_path)

    def broken(*args: object, **kwargs: object) -> None:
        raise ConfigError("mail cannot be rendered")

    monkeypatch.setattr(subscribe_pages, "queue_confirmation", broken)
    client = harness.fresh_client(raise_server_exceptions=False, follow_redirects=False)
    with client:
        assert subscribe(client, "dave@example.org").status_code == 500
    assert find_subscriber(harness.engine, email="dave@example.org") is None


@pytest.mark.parametrize(
    "command",
    [("status",), ("status", "--json"), ("search", "review"), ("export",), ("sources",)],
)
def test_read_only_commands_create_no_database_or_folder(
    tmp_path: Path, command: tuple[str, ...], capsys: pytest.CaptureFixture[str], bare_env: None
) -> None:
    missing = tmp_path / "nonexist" / "dir" / "x.db"
    config = str(_config(tmp_path, f"sqlite:///{missing}"))
    result = run_cli(capsys, "--config", config, *command)
    assert one_line(result) == (
        f"error: no database at {missing}: run `councilwatch db upgrade` to create it"
    )
    assert not (tmp_path / "nonexist").exists()
    assert not (tmp_path / "data").exists()  # nor the signing key's folder


def test_db_upgrade_still_creates_the_database(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], bare_env: None
) -> None:
    target = tmp_path / "new" / "x.db"
    config = str(_config(tmp_path, f"sqlite:///{target}"))
    assert run_cli(capsys, "--config", config, "db", "upgrade").code == 0
    assert target.is_file()
    assert run_cli(capsys, "--config", config, "status").code == 0


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "postgresql://u@h:port/db",
            "error: COUNCILWATCH_DATABASE_URL: database.url: malformed database URL "
            "'postgresql://u@h:port/db' (Port could not be cast to integer value as 'port')",
        ),
        (
            "postgresql+psycopg://u@[::1/db",
            "error: COUNCILWATCH_DATABASE_URL: database.url: malformed database URL",
        ),
    ],
)
def test_a_malformed_postgresql_url_is_one_line(
    url: str, expected: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COUNCILWATCH_DATABASE_URL", url)
    assert one_line(run_cli(capsys, "status")).startswith(expected)


def test_a_file_that_is_not_a_database_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], bare_env: None
) -> None:
    notes = tmp_path / "notes.db"
    notes.write_text("shopping list: milk, bread\n" * 100)
    config = str(_config(tmp_path, f"sqlite:///{notes}"))
    for command in (("status",), ("db", "upgrade")):
        line = one_line(run_cli(capsys, "--config", config, *command))
        assert line == f"error: {notes} is not a SQLite database (file is not a database)"
    assert notes.read_text().startswith("shopping list")


def test_a_write_lock_held_past_the_busy_timeout_is_one_line(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    bare_env: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import sqlite3

    import db.engine

    monkeypatch.setattr(db.engine, "SQLITE_BUSY_TIMEOUT_MS", 300)
    target = tmp_path / "busy.db"
    config = str(
        _config(
            tmp_path, f"sqlite:///{target}", '[sources.lgsco]\nbase_url = "http://127.0.0.1:9"\n'
        )
    )
    assert run_cli(capsys, "--config", config, "db", "upgrade").code == 0
    holder = sqlite3.connect(target, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another process writing, and writing, and writing
    try:
        for command in (
            ("subscribe", "erin@example.org", "--council", "Leeds"),
            ("fetch", "--source", "lgsco"),
        ):
            line = one_line(run_cli(capsys, "--config", config, *command))
            assert "stayed locked by another process" in line, line
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    listed = run_cli(capsys, "--config", config, "subscriptions", "list", "--json")
    assert json.loads(listed.out) == []
