"""Who the client is: [web] trusted_proxies for X-Forwarded-For (both servers), and who may
read /metrics ([web] metrics_clients)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from councilwatch.config import load_settings
from councilwatch.web.security import RateLimit
from councilwatch.webserver import serve_in_thread
from cwerrors import ConfigError
from tests.runtimes import make_runtime
from tests.smtpd import free_port
from tests.test_web_support import TestClient, csrf, make_harness, subscribe

LOOPBACK = ("127.0.0.1", 50000)


def test_run_serves_with_no_trusted_proxy_so_a_forged_header_changes_no_client(
    database_url: str, tmp_path: Path
) -> None:
    """`councilwatch run` trusted X-Forwarded-For from 127.0.0.1 always: 25 of 25 forged
    headers got round the per-client limit. Through the real server it must not."""
    port = free_port()
    runtime = make_runtime(database_url, tmp_path, toml=f'[web]\nlisten = "127.0.0.1:{port}"\n')
    server = serve_in_thread(runtime)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}") as client:
            statuses = []
            for i in range(25):
                token = csrf(client.get("/subscribe").text)
                response = client.post(
                    "/subscribe",
                    data={"csrf_token": token, "email": f"p{i}@example.org", "council": "Norfolk"},
                    headers={"X-Forwarded-For": f"203.0.113.{i}"},
                )
                statuses.append(response.status_code)
        assert statuses.count(429) == 5  # 20 per client per hour, then refused
    finally:
        server.should_exit = True
        runtime.close()


def test_a_trusted_proxy_names_the_client(database_url: str, tmp_path: Path) -> None:
    limit = RateLimit(limit=2, window_seconds=600)
    for trusted, expected in (("", [303, 303, 429, 429]), ('"127.0.0.0/8"', [303] * 4)):
        harness = make_harness(
            database_url,
            tmp_path,
            toml=f"[web]\ntrusted_proxies = [{trusted}]\n",
            per_client=limit,
        )
        statuses = []
        for i in range(4):
            client = TestClient(
                harness.client.app,
                client=LOOPBACK,
                follow_redirects=False,
                headers={"X-Forwarded-For": f"198.51.100.{i}"},
            )
            statuses.append(subscribe(client, f"{trusted and 't'}{i}@example.org").status_code)
        assert statuses == expected, trusted
        harness.runtime.close()


@pytest.mark.parametrize(
    ("toml", "client", "headers", "status"),
    [
        ("", LOOPBACK, {}, 200),
        ("", ("::1", 5), {}, 200),
        ("", ("203.0.113.9", 5), {}, 404),
        ("", ("testclient", 5), {}, 404),
        # Through a proxy on this machine that is not trusted: for someone else.
        ("", LOOPBACK, {"X-Forwarded-For": "127.0.0.1"}, 404),
        ('metrics_clients = ["10.0.0.0/8"]', ("10.2.3.4", 5), {}, 200),
        ('metrics_clients = ["10.0.0.0/8"]', LOOPBACK, {}, 404),
        # A trusted proxy forwarding a public visitor: the visitor is the client.
        ('trusted_proxies = ["127.0.0.1"]', LOOPBACK, {"X-Forwarded-For": "203.0.113.9"}, 404),
        ('trusted_proxies = ["127.0.0.1"]', LOOPBACK, {"X-Forwarded-For": "127.0.0.1"}, 200),
    ],
)
def test_metrics_only_for_configured_clients(
    database_url: str,
    tmp_path: Path,
    toml: str,
    client: tuple[str, int],
    headers: dict[str, str],
    status: int,
) -> None:
    harness = make_harness(database_url, tmp_path, toml=f"[web]\n{toml}\n")
    response = TestClient(harness.client.app, client=client, headers=headers).get("/metrics")
    assert response.status_code == status
    assert ("councilwatch_subscribers" in response.text) == (status == 200)
    assert TestClient(harness.client.app, client=client).get("/healthz").status_code == 200
    harness.runtime.close()


@pytest.mark.parametrize("value", ['["*"]', '["localhost"]', '["10.0.0.0/33"]'])
def test_proxy_and_metrics_settings_must_be_addresses(tmp_path: Path, value: str) -> None:
    for key in ("trusted_proxies", "metrics_clients"):
        config = tmp_path / "c.toml"
        config.write_text(f"[web]\n{key} = {value}\n")
        with pytest.raises(ConfigError, match=key):
            load_settings(config, env={})
