"""Catch-up is a matter of age, read from the emails a subscriber receives: the first run gives
one catch-up email, and a decision published today is listed as a decision whichever command
(`fetch` or `fetch --since`) stored it."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from alerts.mail.message import Mail
from db.engine import make_engine
from db.subscriptions import AlertFields, subscribe
from tests import rawmail
from tests.cli import run_cli
from tests.digestkit import part
from tests.lgsco_site import SimulatedLgsco
from tests.runtimes import disable_sources
from tests.test_lgsco_run import WINDOW_DAYS, london_today
from tests.testweb import LocalWeb

NORFOLK = "Norfolk County Council"


@pytest.fixture
def site(testweb: LocalWeb) -> SimulatedLgsco:
    return SimulatedLgsco(
        testweb, today=london_today(), count=60, days=WINDOW_DAYS, seed=5
    ).install()


@pytest.fixture
def config(
    tmp_path: Path, database_url: str, testweb: LocalWeb, monkeypatch: pytest.MonkeyPatch
) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(
        f'[database]\nurl = "{database_url}"\n'
        "[http]\nmin_interval_seconds = 0\nmax_attempts = 1\n"
        f'[sources.lgsco]\nbase_url = "{testweb.url()}"\nwindow_days = {WINDOW_DAYS}\n'
        "[sources.news]\nenabled = false\n"
        + disable_sources(keep=("lgsco",))
        + f'[mail]\noutbox_dir = "{tmp_path / "outbox"}"\n'
        'from = "Councilwatch <alerts@councilwatch.example>"\n'
    )
    monkeypatch.delenv("COUNCILWATCH_DATABASE_URL", raising=False)
    monkeypatch.setenv("COUNCILWATCH_SECRET_KEY", "catch-up-test-secret-catch-up-test")
    return path


def emails(outbox: Path) -> list[Mail]:
    return [Mail.load(p.read_bytes()) for p in sorted(outbox.glob("*.eml"))]


def test_a_decision_published_today_is_an_item_even_when_a_backfill_stores_it(
    site: SimulatedLgsco,
    config: Path,
    database_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from datetime import UTC, datetime

    engine = make_engine(database_url)
    run_cli(capsys, "--config", str(config), "db", "upgrade")
    subscribe(
        engine,
        email="parent@example.org",
        new_token="t-parent",
        alert=AlertFields(name="Norfolk decisions", query=f'"{NORFOLK}"', frequency="daily"),
        confirmed=True,
        now=datetime.now(UTC),
    )
    engine.dispose()
    cli = ("--config", str(config))
    assert run_cli(capsys, *cli, "fetch", "--source", "lgsco").code == 0  # seeds the store
    assert run_cli(capsys, *cli, "digest", "send", "--frequency", "daily").code == 0
    [first] = emails(tmp_path / "outbox")
    text = part(first, "plain")
    seeded = [d for d in site.visible() if d.organisation == NORFOLK]
    assert seeded and "Catch-up:" in text
    assert not any(d.reference in text for d in seeded)

    fresh = site.add(site.today - timedelta(days=20), published=site.today, organisation=NORFOLK)
    since = (site.today - timedelta(days=30)).isoformat()
    result = run_cli(capsys, *cli, "fetch", "--source", "lgsco", "--since", since)
    assert result.code == 0, result.err
    assert run_cli(capsys, *cli, "digest", "send", "--frequency", "daily").code == 0
    [second] = [m for m in emails(tmp_path / "outbox") if m.data != first.data]
    rawmail.check(second.data)
    text = part(second, "plain")
    assert fresh.reference in text and "Catch-up" not in text
    assert rawmail.header(second.data, "Subject").startswith("1 decision")
