"""Serving the web app with uvicorn, alone (`councilwatch web`) or inside the service."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import uvicorn

from councilwatch.config import parse_listen
from councilwatch.runtime import Runtime
from cwerrors import ConfigError


def make_server(
    runtime: Runtime, on_mail_queued: Callable[[], None] | None = None
) -> uvicorn.Server:
    from councilwatch.web import create_app

    host, port = parse_listen(runtime.settings.web.listen)  # checked when loaded
    config = uvicorn.Config(
        create_app(runtime, on_mail_queued=on_mail_queued),
        host=host,
        port=port,
        log_level="warning",
        lifespan="off",
        proxy_headers=False,  # the app reads X-Forwarded-For from [web] trusted_proxies
        server_header=False,
    )
    return uvicorn.Server(config)


def serve_in_thread(
    runtime: Runtime,
    *,
    timeout: float = 10.0,
    on_mail_queued: Callable[[], None] | None = None,
) -> uvicorn.Server:
    """Start the web app on a background thread; returns once it accepts connections."""
    server = make_server(runtime, on_mail_queued)
    thread = threading.Thread(target=server.run, name="web", daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise ConfigError(f"web.listen: cannot serve on {runtime.settings.web.listen}")
        time.sleep(0.02)
    return server
