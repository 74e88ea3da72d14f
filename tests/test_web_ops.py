"""/healthz, /metrics, error pages without traces, and the `web` command's edges."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from councilwatch.commands.web import parse_listen
from councilwatch.web import document_pages
from cwerrors import ConfigError
from db.runs import finish_run, start_run
from tests.cli import run_cli
from tests.runtimes import make_runtime
from tests.test_web_support import (
    TestClient,
    WebHarness,
    decision,
    serve,
    store,
    story,
    subscribe,
)


@pytest.fixture
def web(database_url: str, tmp_path: Path) -> Iterator[WebHarness]:
    yield from serve(database_url, tmp_path)


def record_runs(web: WebHarness, source: str, *results: bool) -> None:
    for ok in results:
        run = start_run(web.engine, source, "incremental", now=web.clock())
        web.clock.advance(minutes=5)
        finish_run(web.engine, run, now=web.clock(), ok=ok, error=None if ok else "HTTP 503")


def test_healthz_reports_database_and_sources(web: WebHarness) -> None:
    store(web, decision("24 002 001"))
    record_runs(web, "lgsco", True)
    body = web.client.get("/healthz").json()
    assert body["status"] == "ok" and body["database"] == {"ok": True}
    [lgsco] = [s for s in body["sources"] if s["name"] == "lgsco"]
    assert lgsco["healthy"] is True and lgsco["last_success_at"] is not None
    assert lgsco["newest_document_at"] is not None
    record_runs(web, "lgsco", False, False, False)
    response = web.client.get("/healthz")
    assert response.status_code == 200  # the web app itself is fine; a source is not
    assert response.json()["status"] == "degraded"
    assert response.json()["unhealthy_sources"] == ["lgsco"]


def test_healthz_is_503_when_the_database_is_down(tmp_path: Path) -> None:
    unreachable = "postgresql+psycopg://nobody:secret-pw@127.0.0.1:9/nowhere?connect_timeout=2"
    from councilwatch.web import create_app

    app = create_app(make_runtime(unreachable, tmp_path))
    with TestClient(app) as client:
        response = client.get("/healthz")
        assert response.status_code == 503
        assert response.json()["database"] == {"ok": False}
        assert "secret-pw" not in response.text
        page = client.get("/documents")
        assert page.status_code == 503
        assert "Temporarily unavailable" in page.text and "secret-pw" not in page.text


def test_metrics_in_prometheus_text(web: WebHarness) -> None:
    store(web, decision("24 002 001"), decision("24 002 002"), story("s-1"))
    record_runs(web, "lgsco", True, True, False)
    subscribe(web.client, "mrs.b@example.org")
    scraper = web.fresh_client(client=("127.0.0.1", 9090))  # /metrics is for this machine
    response = scraper.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    lines = set(response.text.splitlines())
    assert 'councilwatch_fetch_runs_total{source="lgsco",result="ok"} 2' in lines
    assert 'councilwatch_fetch_runs_total{source="lgsco",result="failed"} 1' in lines
    assert 'councilwatch_documents{kind="decision"} 2' in lines
    assert 'councilwatch_documents{kind="news"} 1' in lines
    assert 'councilwatch_outbox_messages{kind="confirm",status="pending"} 1' in lines
    assert "councilwatch_outbox_due 1" in lines
    assert 'councilwatch_subscribers{status="pending"} 1' in lines
    assert "# TYPE councilwatch_fetch_runs_total counter" in lines
    # A message whose retry is in the future is queued but not due.
    web.clock.now -= timedelta(hours=1)
    assert "councilwatch_outbox_due 0" in scraper.get("/metrics").text


def test_errors_show_a_plain_page_without_a_trace(
    web: WebHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("internal detail /srv/secret/path")

    monkeypatch.setattr(document_pages, "get_document", broken)
    client = web.fresh_client(raise_server_exceptions=False)
    response = client.get("/documents/1")
    assert response.status_code == 500
    assert "Something went wrong" in response.text
    assert "Traceback" not in response.text and "/srv/secret/path" not in response.text
    assert response.headers["x-frame-options"] == "DENY"
    assert "default-src 'none'" in response.headers["content-security-policy"]
    missing = client.get("/no/such/page")
    assert missing.status_code == 404 and "Page not found" in missing.text
    assert client.put("/subscribe").status_code == 405


def test_static_css_is_served(web: WebHarness) -> None:
    response = web.client.get("/static/style.css")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/css")
    assert web.client.get("/static/../app.py").status_code == 404


def test_listen_setting() -> None:
    assert parse_listen("127.0.0.1:8080") == ("127.0.0.1", 8080)
    assert parse_listen("[::1]:9000") == ("::1", 9000)
    for bad in ("8080", "localhost:", "host:99999", ":80"):
        with pytest.raises(ConfigError, match="--listen must be host:port"):
            parse_listen(bad)


def test_web_command_help_and_bad_listen(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = run_cli(capsys, "web", "--help")
    assert result.code == 0 and "Example: councilwatch web" in result.out
    monkeypatch.setenv("COUNCILWATCH_DATABASE_URL", f"sqlite:///{tmp_path}/x.db")
    result = run_cli(capsys, "web", "--listen", "nonsense")
    assert result.code == 1
    assert result.err.strip() == (
        "error: --listen must be host:port, like 127.0.0.1:8080, not 'nonsense'"
    )
