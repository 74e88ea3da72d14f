"""LGSCO end to end through the CLI: `fetch` on the simulated site, storage on SQLite and
PostgreSQL, runs recorded, health, and `parse lgsco` on saved pages."""

from __future__ import annotations

import io
import json
import re
import sys
from collections import Counter
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, select

import councilwatch.source_run
from councilwatch.source_run import _ProgressView
from db.engine import make_engine
from db.tables import DOCUMENTS as DOCS
from db.tables import FETCH_RUNS as RUNS
from scraper.sources import registry
from scraper.sources.base import Progress
from scraper.sources.lgsco.crawl import CrawlReport, Window
from scraper.sources.lgsco.source import estimated_pages
from tests.cli import run_cli
from tests.lgsco_site import SimulatedLgsco, decision_page, listing_page
from tests.testweb import LocalWeb

EXAMPLES = Path(__file__).resolve().parent / "sources" / "lgsco"
WINDOW_DAYS = 60


def london_today() -> date:
    # The run's "today" is the service time zone's date (Europe/London by default).
    return datetime.now(ZoneInfo("Europe/London")).date()


@pytest.fixture
def site(testweb: LocalWeb) -> SimulatedLgsco:
    return SimulatedLgsco(testweb, today=london_today(), count=90, days=150, seed=11).install()


@pytest.fixture
def config(
    tmp_path: Path, database_url: str, testweb: LocalWeb, monkeypatch: pytest.MonkeyPatch
) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(
        f'[database]\nurl = "{database_url}"\n'
        "[http]\nmin_interval_seconds = 0\nmax_attempts = 1\nunhealthy_after_failed_runs = 2\n"
        f'[sources.lgsco]\nbase_url = "{testweb.url()}"\nwindow_days = {WINDOW_DAYS}\n'
    )
    monkeypatch.delenv("COUNCILWATCH_DATABASE_URL", raising=False)
    return path


@pytest.fixture
def db(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


def documents(engine: Engine) -> dict[str, Any]:
    with engine.connect() as connection:
        rows = connection.execute(select(DOCS).where(DOCS.c.source == "lgsco")).all()
    return {row.source_key: row for row in rows}


def runs(engine: Engine) -> list[Any]:
    with engine.connect() as connection:
        return list(connection.execute(select(RUNS).order_by(RUNS.c.id)).all())


def fetch(capsys: pytest.CaptureFixture[str], config: Path, *args: str) -> Any:
    return run_cli(capsys, "--config", str(config), "fetch", "--source", "lgsco", *args)


def test_backfill_then_incremental_runs_store_each_decision_once(
    site: SimulatedLgsco, config: Path, db: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    since = site.today - timedelta(days=150)
    result = fetch(capsys, config, "--since", since.isoformat())
    assert result.code == 0, result.err
    visible = site.visible()
    assert result.out.startswith(f"lgsco: ok, {len(visible) + site.listing_requests() + 1} ")
    # progress as log lines when stderr is no terminal
    assert re.search(r"lgsco backfill \S+: \d+/~\d+ pages, \d+ fetched", result.err)
    stored = documents(db)
    assert set(stored) == {d.reference for d in visible}
    assert all(row.backfill for row in stored.values())  # no alert flood from history
    sample = visible[5]
    row = stored[sample.reference]
    assert (row.organisation, row.decided_on, row.category, row.subcategory) == (
        sample.organisation,
        sample.decided,
        sample.category,
        sample.subcategory,
    )
    assert row.url == site.web.url(sample.path) and row.outcome == sample.outcome.lower()
    assert row.title == f"{sample.organisation} ({sample.reference})"
    assert {"remedies", "references", "sections", "listing_fingerprint"} <= set(row.extra)
    assert sample.summary in row.body
    [run] = runs(db)
    assert (run.source, run.mode, run.ok, run.inserted) == ("lgsco", "backfill", True, len(visible))

    site.advance(3)
    added = site.publish_mid_window(3, window_days=WINDOW_DAYS)
    newly = {d.reference for d in site.visible()} - set(stored)
    before = Counter(site.decision_requests())
    result = fetch(capsys, config)
    assert result.code == 0, result.err
    assert Counter(site.decision_requests()) - before == {
        site.by_reference(ref).path: 1 for ref in newly
    }
    stored = documents(db)
    assert {d.reference for d in added} <= newly and set(stored) == {
        d.reference for d in site.visible()
    }
    assert not any(stored[ref].backfill for ref in newly)

    listing_before, decisions_before = site.listing_requests(), site.decision_requests()
    result = fetch(capsys, config)
    assert result.code == 0, result.err
    pages = site.listing_requests() - listing_before
    assert site.decision_requests() == decisions_before  # zero decision pages
    last = runs(db)[-1]
    assert (last.mode, last.ok, last.inserted, last.unchanged) == ("incremental", True, 0, 0)
    assert last.requests == pages + 1  # the listing pages and robots.txt, nothing else
    assert last.stats["not_modified_pages"] == pages


def test_a_page_that_fails_to_parse_is_kept_named_and_reproducible(
    site: SimulatedLgsco, config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = site.visible()[2]
    site.broken = {broken.reference}  # served in a layout the parser cannot read
    result = fetch(capsys, config)
    assert result.code == 0, result.err
    [kept] = sorted((tmp_path / "quarantine" / "lgsco").glob("*.html"))
    meta = json.loads(kept.with_suffix(".json").read_text(encoding="utf-8"))
    assert meta["url"] == site.web.url(broken.path)
    assert b'<div class="case-card">' in kept.read_bytes()  # the bytes as served
    # Named in the run's summary line (log and stdout) ...
    [summary] = [line for line in result.err.splitlines() if "incremental run ok" in line]
    assert f"1 failed; failing page kept as {kept}" in summary
    assert f"failing page kept as {kept}" in result.out
    # ... and the operator's command reproduces the failure from it, to the letter.
    result = run_cli(capsys, "parse", "lgsco", str(kept), "--url", meta["url"])
    assert (result.code, result.err) == (1, f"error: {meta['error']}\n")
    assert "no 'Organisation (YY NNN NNN)' title line" in meta["error"]


def test_failed_runs_are_recorded_and_make_the_source_unhealthy(
    site: SimulatedLgsco, config: Path, db: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    assert fetch(capsys, config).code == 0
    site.mode = "zero"  # the site now says "0 results" for a window that had results
    for _ in range(2):
        result = fetch(capsys, config)
        assert result.code == 1
        [line] = [line for line in result.err.splitlines() if line.startswith("error:")]
        assert line.startswith("error: lgsco run failed: LGSCO listing for ")
        assert "0 results where there were" in line
    assert [run.ok for run in runs(db)] == [True, False, False]
    result = run_cli(capsys, "--config", str(config), "sources")
    assert "UNHEALTHY (2 failed runs)" in result.out and "0 results where there were" in result.out


def test_a_killed_backfill_continues_where_it_stopped(
    site: SimulatedLgsco,
    config: Path,
    db: Engine,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real_process = councilwatch.source_run.process
    batches = 0

    def dies_after_three_pages(*args: Any, **kwargs: Any) -> Any:
        nonlocal batches
        report = real_process(*args, **kwargs)  # stored, then the process dies
        batches += 1
        if batches == 3:
            raise KeyboardInterrupt
        return report

    monkeypatch.setattr(councilwatch.source_run, "process", dies_after_three_pages)
    since = (site.today - timedelta(days=150)).isoformat()
    assert fetch(capsys, config, "--since", since).code == 130
    killed = runs(db)[-1]
    assert killed.ok is False and "KeyboardInterrupt" in killed.error
    assert 20 <= len(documents(db)) <= 30

    monkeypatch.setattr(councilwatch.source_run, "process", real_process)
    result = fetch(capsys, config, "--since", since)
    assert result.code == 0, result.err
    visible = site.visible()
    assert site.decision_requests() == {d.path: 1 for d in visible}  # nothing fetched twice
    assert set(documents(db)) == {d.reference for d in visible}
    assert runs(db)[-1].stats["windows_skipped"] >= 1


def test_fetch_refuses_what_it_cannot_do(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    result = run_cli(capsys, "--config", str(config), "fetch", "--source", "nowhere")
    assert (result.code, result.err) == (
        1,
        f"error: unknown source 'nowhere' (configured: {', '.join(registry.names())})\n",
    )
    result = fetch(capsys, config, "--until", "2025-01-01")
    assert (result.code, result.err) == (
        1,
        "error: --until needs --since: only a backfill takes a date range\n",
    )
    result = fetch(capsys, config, "--since", "2025-13-01")
    assert result.code == 1 and "--since expects a date" in result.err


def test_parse_lgsco_prints_a_decision_and_a_listing(
    site: SimulatedLgsco, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    decision = next(d for d in site.visible() if d.amount)
    page = tmp_path / "decision.html"
    page.write_text(decision_page(decision))
    url = f"https://www.lgo.org.uk{decision.path}?chapter=0"
    result = run_cli(capsys, "parse", "lgsco", str(page), "--url", url, "--json")
    assert result.code == 0, result.err
    parsed = json.loads(result.out)
    assert {
        "reference",
        "organisation",
        "category",
        "subcategory",
        "outcome",
        "outcome_text",
        "decision_date",
        "summary",
        "remedies",
        "url",
    } <= set(parsed)
    assert parsed["reference"] == decision.reference
    assert parsed["decision_date"] == decision.decided.isoformat()
    assert parsed["url"] == f"https://www.lgo.org.uk{decision.path}"
    assert parsed["remedies"]["apology"] is True
    assert parsed["remedies"]["payments"][0]["amount_pence"] == decision.amount * 100

    listing = tmp_path / "listing.html"
    listing.write_text(listing_page(site.visible(), 2))
    result = run_cli(capsys, "parse", "lgsco", str(listing), "--json")
    assert result.code == 0, result.err
    entries = json.loads(result.out)
    assert [e["reference"] for e in entries] == [d.reference for d in site.visible()[10:20]]
    assert {
        "reference",
        "organisation",
        "url",
        "outcome",
        "subcategory",
        "decision_date",
        "summary",
    } <= set(entries[0])


def test_parse_lgsco_reads_the_saved_from_url_and_explains_failures(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    result = run_cli(capsys, "parse", "lgsco", str(EXAMPLES / "decision-not-upheld.html"))
    assert result.code == 0, result.err
    assert "reference:     24 003 618" in result.out
    assert (
        "url:           https://www.lgo.org.uk/decisions/education/special-educational-needs/"
        "24-003-618\n" in result.out
    )
    result = run_cli(capsys, "parse", "lgsco", str(EXAMPLES / "listing-shell.html"))
    assert result.code == 0 and "page shell" in result.out

    other = tmp_path / "other.html"
    other.write_text("<html><body><p>A page about bins.</p></body></html>")
    result = run_cli(capsys, "parse", "lgsco", str(other))
    assert (result.code, result.err) == (
        1,
        f"error: {other}: neither an LGSCO decision nor a search listing page\n",
    )
    result = run_cli(capsys, "parse", "lgsco", str(tmp_path / "missing.html"))
    assert result.code == 1 and "cannot read" in result.err


def test_progress_bar_on_a_terminal_shows_pages_decisions_and_eta(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    # Second month of four: 3 pages known so far, 2 months ahead at the average of 1.5.
    report = CrawlReport(
        mode="backfill",
        windows_total=4,
        windows_done=1,
        pages_expected=3,
        listing_pages=2,
        decisions_fetched=17,
        window=Window(date(2025, 4, 1), date(2025, 4, 30)),
    )
    assert estimated_pages(report) == 6
    view = _ProgressView("lgsco")
    view.start()
    view.update(
        Progress(
            label=f"{report.mode} {report.window}",
            pages=report.listing_pages,
            pages_expected=estimated_pages(report),
            items_fetched=report.decisions_fetched,
        )
    )
    view.stop()
    shown = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", terminal.getvalue())  # colours off
    assert "lgsco backfill 2025-04-01..2025-04-30" in shown
    assert "2/6 pages, 17 fetched" in shown and "ETA" in shown
