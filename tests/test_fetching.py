"""The client's per-URL state kept in the database survives between runs (processes)."""

from datetime import UTC, datetime
from pathlib import Path

import pytest

from scraper.fetch import GoneError
from tests.runtimes import make_runtime
from tests.testweb import FakeClock, LocalWeb

NOW = datetime(2026, 11, 2, 8, tzinfo=UTC)


def test_conditional_get_and_moves_are_remembered_across_runs(
    testweb: LocalWeb, database_url: str, tmp_path: Path
) -> None:
    testweb.robots("User-agent: *\nAllow: /\n")
    testweb.route("/feed.xml", body=b"<rss/>", etag='"v1"')
    testweb.route("/old.xml", redirect="/feed.xml", status=301)
    testweb.route("/gone.xml", status=410)

    def one_run() -> list[object]:
        runtime = make_runtime(database_url, tmp_path, now=lambda: NOW, fetch_clock=FakeClock())
        with runtime.client() as client:
            first = client.get(testweb.url("/feed.xml"))
            moved = client.get(testweb.url("/old.xml"))
            try:
                client.get(testweb.url("/gone.xml"))
            except GoneError as exc:
                gone: object = exc
        runtime.close()
        return [first, moved, gone]

    first, moved, _ = one_run()
    assert first.status == 200 and first.content == b"<rss/>"  # type: ignore[attr-defined]
    assert moved.moved_to == testweb.url("/feed.xml")  # type: ignore[attr-defined]
    counts = (testweb.count("/feed.xml"), testweb.count("/old.xml"), testweb.count("/gone.xml"))
    seen = len(testweb.requests)

    again, moved_again, gone_again = one_run()  # a new process: state comes from the database
    assert again.not_modified  # type: ignore[attr-defined]
    asked = [r for r in testweb.requests[seen:] if r.path == "/feed.xml"]
    assert asked and all(r.headers.get("If-None-Match") == '"v1"' for r in asked)
    # The moved URL is asked at its new address directly, and the gone one not at all.
    assert testweb.count("/old.xml") == counts[1]
    assert testweb.count("/gone.xml") == counts[2]
    assert isinstance(gone_again, GoneError)
    assert moved_again.not_modified  # type: ignore[attr-defined]


@pytest.fixture(autouse=True)
def _no_real_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
