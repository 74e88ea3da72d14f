"""What the CLI tells the operator about runs: the last result, connection failures, runs
killed mid-way, runs skipped for a busy lock, backfill bounds, and what a parser was given."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from councilwatch.runtime import Runtime
from db.jobs import exclusive
from db.runs import INTERRUPTED, finish_run, source_health, start_run
from db.tables import FETCH_RUNS
from tests.cli import Result, run_cli
from tests.runtimes import make_runtime
from tests.smtpd import free_port

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def offline(database_url: str, tmp_path: Path) -> Runtime:
    """A runtime whose LGSCO site is a closed port on this machine: nothing answers."""
    rt = make_runtime(
        database_url,
        tmp_path,
        toml=(
            f'[sources.lgsco]\nbase_url = "http://127.0.0.1:{free_port()}"\n'
            "[http]\nmax_attempts = 1\nmin_interval_seconds = 0\n"
            "[sources.news]\nenabled = false\n"
        ),
    )
    yield rt
    rt.close()


def cli(capsys: pytest.CaptureFixture[str], tmp_path: Path, *args: str) -> Result:
    return run_cli(capsys, "--config", str(tmp_path / "runtime-config.toml"), *args)


def runs(rt: Runtime) -> list[dict[str, object]]:
    with rt.migrated_engine().connect() as connection:
        rows = connection.execute(select(FETCH_RUNS).order_by(FETCH_RUNS.c.id)).all()
    return [dict(row._mapping) for row in rows]


def test_text_status_shows_the_last_result_and_its_error(
    offline: Runtime, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    engine = offline.migrated_engine()
    run = start_run(engine, "lgsco", "incremental", now=datetime(2026, 9, 1, tzinfo=UTC))
    finish_run(engine, run, now=datetime(2026, 9, 1, tzinfo=UTC), ok=False, error="listing moved")
    result = cli(capsys, tmp_path, "status")
    [line] = [line for line in result.out.splitlines() if line.strip().startswith("lgsco ")]
    assert line.split(None, 1)[1] == "healthy, last run failed: listing moved"


def test_offline_fetch_reports_a_connection_failure_and_counts_it(
    offline: Runtime, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    result = cli(capsys, tmp_path, "fetch", "--source", "lgsco")
    assert result.code == 1
    [error] = [line for line in result.err.splitlines() if line.startswith("error: ")]
    assert re.match(
        r"error: lgsco run failed: cannot connect to 127\.0\.0\.1: \[Errno 111\]", error
    )
    assert "robots.txt" not in error and "assuming disallow" not in result.err
    [run] = runs(offline)
    assert run["ok"] is False and run["failures"] == 1
    assert str(run["error"]).startswith("cannot connect to 127.0.0.1")
    assert "1 failed" in result.err  # the run's summary line


def test_a_run_killed_mid_way_is_closed_as_interrupted_by_the_next_fetch(
    offline: Runtime, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    engine = offline.migrated_engine()
    for _ in range(5):  # five killed runs: started, never finished
        start_run(engine, "lgsco", "incremental", now=datetime(2026, 9, 1, tzinfo=UTC))
    cli(capsys, tmp_path, "fetch", "--source", "lgsco")
    found = runs(offline)
    assert [run["error"] for run in found[:5]] == [INTERRUPTED] * 5
    assert all(run["finished_at"] is not None and run["ok"] is False for run in found[:5])
    assert len(found) == 6 and found[5]["finished_at"] is not None
    # A kill says nothing about the site: only the real failure counts towards health.
    health = source_health(engine, "lgsco", unhealthy_after=3)
    assert health.consecutive_failures == 1


def test_a_fetch_that_cannot_take_the_lock_is_recorded_as_skipped(
    offline: Runtime, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    engine = offline.migrated_engine()
    unfinished = start_run(engine, "lgsco", "incremental", now=datetime(2026, 9, 1, tzinfo=UTC))
    with exclusive(engine, "fetch:lgsco"):  # another process is fetching
        result = cli(capsys, tmp_path, "fetch", "--source", "lgsco")
    assert result.code == 1
    assert result.err.strip().splitlines()[-1] == (
        "error: fetch:lgsco is already running in another process"
    )
    first, skipped = runs(offline)
    assert first["id"] == unfinished and first["finished_at"] is None  # still running there
    assert skipped["ok"] is False and skipped["error"] == (
        "skipped: fetch:lgsco is already running in another process"
    )
    shown = cli(capsys, tmp_path, "sources")
    assert "healthy, last run skipped: fetch:lgsco is already running" in shown.out


def test_a_backfill_from_year_one_is_clamped_to_the_first_decisions(
    offline: Runtime, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    result = cli(capsys, tmp_path, "fetch", "--source", "lgsco", "--since", "0001-01-01")
    assert result.out.splitlines()[0] == (
        "--since 0001-01-01 is before the first LGSCO decisions (2006): backfilling from 2006-01-01"
    )
    [run] = runs(offline)
    assert run["mode"] == "backfill"


def test_parse_lgsco_without_url_resolves_links_against_the_site(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    saved = (ROOT / "tests/sources/lgsco/listing-first.html").read_bytes()
    page = tmp_path / "listing.html"
    page.write_bytes(re.sub(rb"<!--\s*saved from url=[^>]*-->", b"", saved))
    result = run_cli(capsys, "parse", "lgsco", str(page), "--json")
    assert result.code == 0, result
    urls = [entry["url"] for entry in json.loads(result.out)]
    assert urls and all(url.startswith("https://www.lgo.org.uk/decisions/") for url in urls)
    assert "file://" not in result.out


def test_parse_article_on_a_binary_says_it_is_not_an_article(
    capsys: pytest.CaptureFixture[str],
) -> None:
    result = run_cli(capsys, "parse", "article", "/bin/ls")
    assert result.code == 1
    assert result.err.strip().splitlines()[-1] == (
        "error: /bin/ls: not an article page (no title and no text found)"
    )


def test_the_service_records_a_skipped_run_when_a_fetch_lock_is_busy(offline: Runtime) -> None:
    from councilwatch.service import JobRunner, job_specs

    [spec] = [spec for spec in job_specs(offline.settings) if spec.name == "fetch:lgsco"]
    engine = offline.migrated_engine()
    with exclusive(engine, "fetch:lgsco"):  # a CLI backfill holds it
        JobRunner(offline, "worker-1")(spec)
    [run] = runs(offline)
    assert run["source"] == "lgsco" and run["mode"] == "incremental"
    assert run["error"] == "skipped: fetch:lgsco is already running in another process"
    assert source_health(engine, "lgsco", unhealthy_after=1).healthy
