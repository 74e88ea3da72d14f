"""Pages that failed to parse are kept, bounded, and reproducible from the CLI."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from scraper.quarantine import Quarantine

T0 = datetime(2026, 8, 9, 10, 15, tzinfo=UTC)


class Ticking:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


def test_a_kept_page_is_its_raw_bytes_beside_url_time_and_error(tmp_path: Path) -> None:
    store = Quarantine(tmp_path, now=Ticking())
    content = b"<html><body>\x92odd bytes kept as they came</body></html>"
    path = store.keep(
        "lgsco", "https://www.lgo.org.uk/decisions/x/y/24-000-001", content, "...: no decision date"
    )
    assert path is not None and path.parent == tmp_path / "lgsco"
    assert path.read_bytes() == content
    meta = json.loads(path.with_suffix(".json").read_text())
    assert meta == {
        "url": "https://www.lgo.org.uk/decisions/x/y/24-000-001",
        "kept_at": "2026-08-09T10:15:01+00:00",
        "error": "...: no decision date",
    }
    # The same failing bytes again are not kept twice.
    assert store.keep("lgsco", "https://other", content, "again") == path
    [page] = store.recent("lgsco")
    assert page.reproduce() == (
        f"councilwatch parse lgsco {path} --url https://www.lgo.org.uk/decisions/x/y/24-000-001"
    )


def test_the_folder_is_bounded_oldest_dropped_first(tmp_path: Path) -> None:
    store = Quarantine(tmp_path, max_bytes=25_000, now=Ticking())
    paths = [store.keep("lgsco", f"https://x/{n}", bytes([n]) * 10_000, "bad") for n in range(5)]
    kept = sorted(p for p in (tmp_path / "lgsco").glob("*.html"))
    assert kept == paths[-2:]  # two pages fit with their sidecars; the newest always stays
    assert [page.url for page in store.recent("lgsco")] == ["https://x/4", "https://x/3"]
    assert len(list((tmp_path / "lgsco").glob("*.json"))) == 2


def test_a_folder_that_cannot_be_written_does_not_raise(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    assert Quarantine(blocker).keep("lgsco", "https://x", b"x", "bad") is None
