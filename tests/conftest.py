"""Shared fixtures. Each area's fixtures live in their own module, registered here."""

from pathlib import Path

import pytest

pytest_plugins: list[str] = ["tests.dbfixtures", "tests.testweb", "tests.smtpd"]


@pytest.fixture(autouse=True)
def _quarantine_in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Commands run in tests read os.environ: pages that fail to parse go under tmp, never
    # into the checkout's var/.
    monkeypatch.setenv("COUNCILWATCH_QUARANTINE__DIRECTORY", str(tmp_path / "quarantine"))
