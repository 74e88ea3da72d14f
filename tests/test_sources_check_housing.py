"""`councilwatch sources check housing-ombudsman` against the simulated site: archive page 1
and its first decision, field by field; non-zero naming what a digest would lack."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.cli import Result, run_cli
from tests.housing_ombudsman_site import SimulatedHousingOmbudsman, _page
from tests.testweb import LocalWeb


def london_today() -> date:
    return datetime.now(ZoneInfo("Europe/London")).date()


@pytest.fixture
def site(testweb: LocalWeb) -> SimulatedHousingOmbudsman:
    return SimulatedHousingOmbudsman(testweb, today=london_today(), count=25, seed=11).install()


@pytest.fixture
def config(tmp_path: Path, testweb: LocalWeb) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(
        f'[database]\nurl = "sqlite:///{tmp_path}/never-created.db"\n'
        "[http]\nmin_interval_seconds = 0\nmax_attempts = 1\n"
        f'[sources.housing_ombudsman]\nbase_url = "{testweb.url("")}"\n'
    )
    return path


def check(capsys: pytest.CaptureFixture[str], config: Path) -> Result:
    return run_cli(capsys, "--config", str(config), "sources", "check", "housing-ombudsman")


def error_line(result: Result) -> str:
    [line] = [line for line in result.err.splitlines() if line.startswith("error:")]
    return line


def test_check_prints_every_field_of_the_archive_and_a_decision(
    site: SimulatedHousingOmbudsman, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    result = check(capsys, config)
    assert result.code == 0, result.err
    first = site.newest_first()[0]
    out = result.out
    assert "archive: page 1 of 3, 10 decisions listed" in out
    worst = min(
        (finding for _, finding in first.findings),
        key=("Severe maladministration", "Maladministration", "Service failure",
             "Reasonable redress", "No maladministration", "Outside jurisdiction").index,
    )
    for line in (
        f"  case id:       {first.case_id}",
        f"  landlord:      {first.landlord}",
        f"  landlord type: {first.landlord_type}",
        f"  occupancy:     {first.occupancy}",
        f"  decision date: {first.decided.isoformat()}",
        f"  layout:        {first.layout}",
        f"  outcome:       {worst.lower()}",
    ):
        assert line in out, line
    [findings] = [line for line in out.splitlines() if line.startswith("  findings:")]
    assert findings.count(": ") == len(first.findings) + 1  # one "complaint: finding" each
    assert "MISSING" not in out
    archive_line, decision_line = [line for line in out.splitlines() if " ms  " in line]
    assert archive_line.startswith("archive  ok") and archive_line.endswith("/decisions/")
    assert decision_line.startswith("decision ok") and decision_line.endswith(first.path)
    assert "requests: 3 (robots.txt included)" in out
    assert out.endswith("ok: every field a digest needs was found\n")
    assert not (config.parent / "never-created.db").exists()  # nothing stored


def test_a_decision_page_that_does_not_parse_fails_naming_the_decision(
    site: SimulatedHousingOmbudsman,
    config: Path,
    testweb: LocalWeb,
    capsys: pytest.CaptureFixture[str],
) -> None:
    first = site.newest_first()[0]
    testweb.route(first.path, body=_page("Decision", "<h1>Decision</h1><p>Page moved.</p>"))
    result = check(capsys, config)
    assert result.code == 1
    assert "decision FAILED" in result.out
    assert error_line(result).startswith("error: housing-ombudsman check failed: decision: ")


def test_an_empty_archive_fails_the_check(
    site: SimulatedHousingOmbudsman,
    config: Path,
    testweb: LocalWeb,
    capsys: pytest.CaptureFixture[str],
) -> None:
    testweb.route("/decisions/", body=_page("Decisions", "<h1>Decisions</h1><p>None.</p>"))
    result = check(capsys, config)
    assert (result.code, error_line(result)) == (
        1,
        "error: housing-ombudsman check failed: archive: no decision listed on page 1",
    )
    assert "requests: 2 (robots.txt included)" in result.out  # no decision page asked for
    assert site.decision_requests() == {}


def test_news_options_are_refused_for_a_registered_source(
    site: SimulatedHousingOmbudsman, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    result = run_cli(
        capsys, "--config", str(config), "sources", "check", "housing-ombudsman", "--catalogue"
    )
    assert (result.code, error_line(result)) == (
        1,
        "error: --catalogue and --council are for `sources check news`",
    )
