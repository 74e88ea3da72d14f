"""`councilwatch sources check lgsco` against the simulated site: what an operator runs after
deploying, field by field, with requests and timings; non-zero when a digest would lack a field."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from scraper.sources import registry
from tests.cli import Result, run_cli
from tests.lgsco_site import LISTING_PATH, SimulatedLgsco
from tests.testweb import LocalWeb


def london_today() -> date:
    return datetime.now(ZoneInfo("Europe/London")).date()


@pytest.fixture
def site(testweb: LocalWeb) -> SimulatedLgsco:
    return SimulatedLgsco(testweb, today=london_today(), count=40, days=60, seed=5).install()


@pytest.fixture
def config(tmp_path: Path, testweb: LocalWeb) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(
        f'[database]\nurl = "sqlite:///{tmp_path}/never-created.db"\n'
        "[http]\nmin_interval_seconds = 0\nmax_attempts = 1\n"
        f'[sources.lgsco]\nbase_url = "{testweb.url()}"\nwindow_days = 60\n'
    )
    return path


def check(capsys: pytest.CaptureFixture[str], config: Path, source: str = "lgsco") -> Result:
    return run_cli(capsys, "--config", str(config), "sources", "check", source)


def error_line(result: Result) -> str:
    """The one line a user sees (request logs go to stderr too)."""
    [line] = [line for line in result.err.splitlines() if line.startswith("error:")]
    return line


@pytest.mark.parametrize("layout", ["real", "blocks"])
def test_check_prints_every_field_of_a_listing_and_a_decision(
    site: SimulatedLgsco, config: Path, capsys: pytest.CaptureFixture[str], layout: str
) -> None:
    site.layout = layout  # type: ignore[assignment]
    result = check(capsys, config)
    assert result.code == 0, result.err
    first = site.visible()[0]
    out = result.out
    assert f"listing: {len(site.visible())} results in all, page 1, 10 results" in out
    for line in (
        f"  reference:     {first.reference}",
        f"  organisation:  {first.organisation}",
        "  type:          Statement",
        f"  outcome:       {first.outcome}",
        f"  subcategory:   {first.subcategory}",
        f"  decision date: {first.decided.isoformat()}",
        f"  category:      {first.category}",
        f"  summary:       {first.summary}",
    ):
        assert line in out, line
    assert "MISSING" not in out and "missing hint" not in out
    listing_line, decision_line = [line for line in out.splitlines() if " ms  " in line]
    assert listing_line.startswith("listing  ok") and LISTING_PATH in listing_line
    assert decision_line.startswith("decision ok") and decision_line.endswith(first.path)
    assert "requests: 3 (robots.txt included)" in out
    assert out.endswith("ok: every field a digest needs was found\n")
    assert not (config.parent / "never-created.db").exists()  # nothing stored


def test_a_decision_page_that_does_not_parse_fails_the_check(
    site: SimulatedLgsco, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    site.broken = {site.visible()[0].reference}
    result = check(capsys, config)
    assert result.code == 1
    assert "decision FAILED" in result.out
    assert error_line(result).startswith("error: lgsco check failed: decision: ")
    assert error_line(result).endswith("no 'Organisation (YY NNN NNN)' title line")


def test_a_field_a_digest_needs_is_flagged_and_fails_the_check(
    site: SimulatedLgsco, config: Path, testweb: LocalWeb, capsys: pytest.CaptureFixture[str]
) -> None:
    first = site.visible()[0]
    testweb.route(
        first.path,
        body=(
            f"<html><body><h1>{first.organisation} ({first.reference})</h1>"
            f"<p>Category : Housing &gt; Homelessness</p><p>Decision : Upheld</p>"
            f"<p>Decision date : {first.decided:%d %b %Y}</p><h2>The complaint</h2>"
            "<p>1. Mr D complains.</p></body></html>"
        ),
    )
    result = check(capsys, config)
    assert result.code == 1
    assert "  summary:       -  MISSING" in result.out
    assert error_line(result) == "error: lgsco check failed: decision: no summary"


def test_the_page_shell_and_unknown_sources_fail_in_one_line(
    site: SimulatedLgsco, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    site.mode = "shell"
    result = check(capsys, config)
    assert (result.code, error_line(result)) == (
        1,
        "error: lgsco check failed: listing: the page shell without a results area",
    )
    result = check(capsys, config, "bbc-norfolk")
    assert (result.code, result.err) == (
        1,
        f"error: no check for source 'bbc-norfolk' (checks: {', '.join(registry.names())})\n",
    )
