"""Adding a source is its package and one registry line: a toy source defined under tests/
(``tests/toy_source``) is registered the way a real one is, before anything reads the
registry, and the CLI then fetches it, parses its saved pages, lists it with its health and
sends its decisions in a digest, with no other change anywhere.

The commands run in one child process that registers the toy first, because the registry is
read once, at start-up (the configuration's ``[sources.*]`` sections come from it)."""

from __future__ import annotations

import email
import email.policy
import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest

from tests.runtimes import SECRET, disable_sources
from tests.testweb import LocalWeb
from tests.toy_source.site import ToySite

ROOT = Path(__file__).resolve().parents[1]
# Runs each command (a list of CLI arguments, or a URL to GET) in turn, as `councilwatch`
# would, and prints one JSON line per command: exit code, stdout, stderr.
CHILD = """
import contextlib, io, json, sys, urllib.request
from scraper.sources import registry
registry.extend("tests.toy_source")
from councilwatch.cli import main
for step in json.loads(sys.argv[1]):
    if isinstance(step, str):
        urllib.request.urlopen(step).read()
        continue
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(step)
    print(json.dumps([code, out.getvalue(), err.getvalue()]))
"""


def run(steps: list[list[str] | str]) -> list[tuple[int, str, str]]:
    done = subprocess.run(
        [sys.executable, "-c", CHILD, json.dumps(steps)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={"COUNCILWATCH_SECRET_KEY": SECRET, "PATH": "/usr/bin:/bin"},
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return [tuple(json.loads(line)) for line in done.stdout.splitlines()]


@pytest.fixture
def site(testweb: LocalWeb) -> ToySite:
    return ToySite(testweb).install()


def test_a_toy_source_is_fetched_parsed_listed_and_digested(
    site: ToySite, tmp_path: Path
) -> None:
    today = datetime.now(UTC).date()
    site.publish("T-1", "Norfolk County Council", "A toy decision", decided=today)
    config = tmp_path / "toy.toml"
    config.write_text(
        f'[database]\nurl = "sqlite:///{tmp_path / "toy.db"}"\n'
        f'[mail]\noutbox_dir = "{tmp_path / "outbox"}"\n'
        f'[quarantine]\ndirectory = "{tmp_path / "quarantine"}"\n'
        "[http]\nmin_interval_seconds = 0\nmax_attempts = 1\n"
        # the real sources are off: only the toy, which this process's registry does not know
        + disable_sources()
        + f'[sources.toy]\nbase_url = "{site.base_url}"\n'
    )
    page = tmp_path / "saved.json"
    page.write_text(json.dumps([{**site.entries[0], "case": "T-9"}]))
    cli = ["--config", str(config)]
    since = str(today - timedelta(days=9))
    steps: list[list[str] | str] = [
        [*cli, "db", "upgrade"],
        [*cli, "subscribe", "toy@example.org", "--council", "Norfolk County Council",
         "--frequency", "immediate", "--confirmed"],
        [*cli, "fetch", "--source", "toy"],  # the seeding run: history, not news
        [*cli, "digest", "send", "--frequency", "immediate"],
        site.publish_url("T-2", "Norfolk County Council", "Bricks on the stairs", decided=today),
        [*cli, "fetch", "--source", "toy"],
        [*cli, "digest", "send", "--frequency", "immediate"],
        [*cli, "sources", "--json"],
        [*cli, "parse", "toy", str(page)],
        [*cli, "fetch", "--source", "toy", "--since", since],
    ]  # fmt: skip
    upgrade, subscribed, first, _, second, sent, listed, parsed, refused = run(steps)
    for code, _, err in (upgrade, subscribed, first, second, sent, listed, parsed):
        assert code == 0, err
    assert "toy: ok, 2 requests, 1 new" in first[1]  # robots.txt, then the listing
    assert "toy: ok" in second[1] and "1 new" in second[1]

    messages = [
        email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        for path in sorted((tmp_path / "outbox").glob("*.eml"))
    ]
    digests = [m for m in messages if isinstance(m, EmailMessage) and "T-2" in _plain(m)]
    assert len(digests) == 1 and digests[0]["To"] == "toy@example.org"
    assert "TOY OMBUDSMAN DECISION" in _plain(digests[0])

    [toy] = [row for row in json.loads(listed[1]) if row["name"] == "toy"]
    assert toy["healthy"] is True and toy["url"] == site.base_url
    assert [entry["case"] for entry in json.loads(parsed[1])["result"]] == ["T-9"]
    assert refused[0] == 1
    assert refused[2] == "error: --since and --until are not for --source toy\n"


def _plain(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    return str(part.get_content()) if part is not None else ""
