"""`make demo`: the service against a simulated world on this machine.

Starts the local test web with every registered source's simulated site (the same ones the
tests use: source ``<config_key>``'s is ``tests/<config_key>_site.py``, whose ``demo_site(web,
today)`` puts it on the web), writes `var/demo/config.toml` pointing every source at it, adds a
confirmed subscriber with an immediate alert on Norfolk County Council, and runs the service
(web pages on http://127.0.0.1:8080). Every few minutes each simulated site publishes something
new about Norfolk (a decision, a decision on the council as landlord, a story naming the
decisions just published), so digests keep arriving as .eml files in var/demo/outbox/.
Nothing here talks to the real sites. Stop with Ctrl-C.
"""

from __future__ import annotations

import importlib
import logging
import os
import secrets
import threading
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Protocol

from councilwatch import logs
from councilwatch.config import load_settings
from councilwatch.runtime import Runtime
from councilwatch.service import run_service
from db import migrate
from db.subscriptions import AlertFields, subscribe
from scraper.sources import registry
from tests.testweb import LocalWeb

HOME = Path("var/demo")
NORFOLK = "Norfolk County Council"
PUBLISH_EVERY = timedelta(minutes=4)
log = logging.getLogger("demo")


class DemoSite(Protocol):
    """One source's simulated site in the demo."""

    def config(self) -> str:
        """Its ``[sources.<key>]`` section, pointing at the simulated site."""
        ...

    def publish(self, council: str, today: date, mentions: list[str]) -> list[str]:
        """Publish one new thing about ``council`` (naming ``mentions``, what the sites before
        it published this round); returns what it published (references, URLs)."""
        ...


def demo_sites(web: LocalWeb, today: date | None = None) -> list[DemoSite]:
    """Every registered source's simulated site, on ``web``, in registry order."""
    today = today or datetime.now(UTC).date()
    return [
        importlib.import_module(f"tests.{info.config_key}_site").demo_site(web, today)
        for info in registry.infos()
    ]


def write_config(sites: Sequence[DemoSite]) -> Path:
    HOME.mkdir(parents=True, exist_ok=True)
    config = HOME / "config.toml"
    config.write_text(
        f'[database]\nurl = "sqlite:///{HOME}/demo.db"\n'
        "[http]\nmin_interval_seconds = 0.2\n"
        f'[mail]\noutbox_dir = "{HOME}/outbox"\n'
        f'[quarantine]\ndirectory = "{HOME}/quarantine"\n'
        "[digest]\nimmediate_every_minutes = 1\n"
        f'[service]\ndata_dir = "{HOME}"\n' + "".join(site.config() for site in sites)
    )
    return config


def publish_forever(sites: Sequence[DemoSite], stop: threading.Event) -> None:
    while not stop.wait(PUBLISH_EVERY.total_seconds()):
        today = datetime.now(UTC).date()
        published: list[str] = []
        for site in sites:
            published += site.publish(NORFOLK, today, published)
        log.info("published %s", ", ".join(published))


def main() -> None:
    logs.configure("text", 0)
    web = LocalWeb().start()
    sites = demo_sites(web)
    config = write_config(sites)
    # The signing key is var/demo/secret.key (service.data_dir), made once and kept, so links
    # in demo emails keep working after a restart.
    settings = load_settings(config, env=os.environ)
    runtime = Runtime(settings)
    migrate.upgrade(runtime.creating_engine())
    subscribe(
        runtime.engine,
        email="demo@example.org",
        new_token=secrets.token_urlsafe(16),
        alert=AlertFields(name="Norfolk", councils=["norfolk"], frequency="immediate"),
        confirmed=True,
        now=runtime.now(),
    )
    log.info("simulated sites on %s; config %s; digests in %s/outbox", web.url(""), config, HOME)
    stop = threading.Event()
    threading.Thread(target=publish_forever, args=(sites, stop), daemon=True).start()
    try:
        run_service(runtime)
    finally:
        stop.set()
        web.stop()


if __name__ == "__main__":
    main()
