"""Each source says how old a document is before a digest calls it catch-up: LGSCO its
rolling window, news its clustering window, the Housing Ombudsman its own; changing one
source's window leaves the others alone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from councilwatch.config import load_settings
from councilwatch.sources_registry import catch_up_starts
from scraper.sources import registry

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def test_each_source_has_its_own_catch_up_window(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text(
        "[sources.lgsco]\nwindow_days = 30\n[sources.news]\ncluster_window_days = 5\n"
    )
    starts = catch_up_starts(load_settings(config, env={}), NOW)
    assert set(registry.names()) <= set(starts)
    assert starts["lgsco"] == NOW - timedelta(days=30)
    assert starts["news"] == NOW - timedelta(days=5)
    assert starts["housing-ombudsman"] == NOW - timedelta(days=120)  # not LGSCO's 30
    # a document whose source is not registered (any more) takes its kind's first source's
    assert (starts["decision"], starts["news"]) == (starts["lgsco"], starts["news"])
