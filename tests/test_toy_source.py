"""Adding a source is its package and one registry line: a toy source defined under tests/
(``tests/toy_source``) is registered the way a real one is, before anything reads the
registry, and the CLI then fetches it, parses its saved pages, lists it with its health and
sends its decisions in a digest, with no other change anywhere.

Each command runs in a child process that registers the toy first, because the registry is
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
STARTUP = (
    "import sys\n"
    "from scraper.sources import registry\n"
    "registry.extend('tests.toy_source')\n"
    "from councilwatch.cli import main\n"
    "sys.exit(main(sys.argv[1:]))\n"
)


def cli(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", STARTUP, "--config", str(config), *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={"COUNCILWATCH_SECRET_KEY": SECRET, "PATH": "/usr/bin:/bin"},
        timeout=120,
    )


@pytest.fixture
def site(testweb: LocalWeb) -> ToySite:
    return ToySite(testweb).install()


def test_a_toy_source_is_fetched_parsed_listed_and_digested(site: ToySite, tmp_path: Path) -> None:
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
    assert cli(config, "db", "upgrade").returncode == 0
    subscribed = cli(
        config,
        "subscribe",
        "toy@example.org",
        "--council",
        "Norfolk County Council",
        "--frequency",
        "immediate",
        "--confirmed",
    )
    assert subscribed.returncode == 0, subscribed.stderr

    first = cli(config, "fetch", "--source", "toy")  # the seeding run: history, not news
    assert first.returncode == 0, first.stderr
    assert "toy: ok, 2 requests, 1 new" in first.stdout  # robots.txt, then the listing
    assert cli(config, "digest", "send", "--frequency", "immediate").returncode == 0

    site.publish("T-2", "Norfolk County Council", "Toy bricks left on the stairs", decided=today)
    second = cli(config, "fetch", "--source", "toy")
    assert second.returncode == 0, second.stderr
    assert "1 new" in second.stdout
    sent = cli(config, "digest", "send", "--frequency", "immediate")
    assert sent.returncode == 0, sent.stderr
    messages = [
        email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        for path in sorted((tmp_path / "outbox").glob("*.eml"))
    ]
    digests = [m for m in messages if isinstance(m, EmailMessage) and "T-2" in _plain(m)]
    assert len(digests) == 1 and digests[0]["To"] == "toy@example.org"
    assert "TOY OMBUDSMAN DECISION" in _plain(digests[0])

    listed = cli(config, "sources", "--json")
    assert listed.returncode == 0, listed.stderr
    [toy] = [row for row in json.loads(listed.stdout) if row["name"] == "toy"]
    assert toy["healthy"] is True and toy["url"] == site.base_url

    page = tmp_path / "saved.json"
    page.write_text(json.dumps(site.entries))
    parsed = cli(config, "parse", "toy", str(page))
    assert parsed.returncode == 0, parsed.stderr
    assert [entry["case"] for entry in json.loads(parsed.stdout)["result"]] == ["T-2", "T-1"]

    old = cli(config, "fetch", "--source", "toy", "--since", str(today - timedelta(days=9)))
    assert (old.returncode, old.stderr.strip()) == (
        1,
        "error: --since and --until are not for --source toy",
    )


def _plain(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    return str(part.get_content()) if part is not None else ""
