"""`make demo`: the service against a simulated world on this machine.

Starts the local test web with simulated LGSCO and Housing Ombudsman sites and simulated local
publishers (the same ones the tests use), writes `var/demo/config.toml` pointing every source
at it, adds a confirmed subscriber with an immediate alert on Norfolk County Council, and runs
the service (web pages on http://127.0.0.1:8080). Every few minutes the simulated sites
publish a new Norfolk decision (LGSCO, and the Housing Ombudsman's on the council as landlord)
and story, so digests keep arriving as .eml files in var/demo/outbox/.
Nothing here talks to the real sites. Stop with Ctrl-C.
"""

from __future__ import annotations

import logging
import os
import secrets
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

from councilwatch import logs
from councilwatch.config import load_settings
from councilwatch.runtime import Runtime
from councilwatch.service import run_service
from db import migrate
from db.subscriptions import AlertFields, subscribe
from tests.housing_ombudsman_site import SimulatedHousingOmbudsman
from tests.lgsco_site import SimulatedLgsco
from tests.news_sites import NewsSites, SimItem, article_page
from tests.testweb import LocalWeb

HOME = Path("var/demo")
NORFOLK = "Norfolk County Council"
PUBLISH_EVERY = timedelta(minutes=4)
log = logging.getLogger("demo")


HOUSING_PREFIX = "/housing-ombudsman"  # the simulated Housing Ombudsman, beside the LGSCO


def write_config(web: LocalWeb, news: NewsSites) -> Path:
    HOME.mkdir(parents=True, exist_ok=True)
    config = HOME / "config.toml"
    config.write_text(
        f'[database]\nurl = "sqlite:///{HOME}/demo.db"\n'
        "[http]\nmin_interval_seconds = 0.2\n"
        f'[sources.lgsco]\nbase_url = "{web.url("")}"\nschedule = "interval:5m"\n'
        f'[sources.housing_ombudsman]\nbase_url = "{web.url(HOUSING_PREFIX)}"\n'
        'schedule = "interval:5m"\n'
        '[sources.news]\nschedule = "interval:5m"\n'
        f'[mail]\noutbox_dir = "{HOME}/outbox"\n'
        f'[quarantine]\ndirectory = "{HOME}/quarantine"\n'
        "[digest]\nimmediate_every_minutes = 1\n"
        f'[service]\ndata_dir = "{HOME}"\n'
        + news.config_toml("edp24", "norfolklive", "bbc-norfolk")
    )
    return config


def publish_forever(
    lgsco: SimulatedLgsco,
    housing: SimulatedHousingOmbudsman,
    news: NewsSites,
    stop: threading.Event,
) -> None:
    n = 0
    while not stop.wait(PUBLISH_EVERY.total_seconds()):
        n += 1
        today = datetime.now(UTC).date()
        decision = lgsco.add(today - timedelta(days=21), published=today, organisation=NORFOLK)
        housing.today = today
        housing.publish(1, landlord=NORFOLK)
        path = f"/edp24/news/2461{n:04d}.norfolk-update-{n}/"
        headline = f"Norfolk County Council criticised in ombudsman ruling number {n}"
        now = datetime.now(UTC)
        news.add_item(
            "edp24",
            SimItem(headline, path, now, "The council has apologised.", "Demo Reporter"),
            article_page(
                url=news.base + path,
                title=headline,
                site_name="Eastern Daily Press",
                author="Demo Reporter",
                published=now,
                paragraphs=[
                    f"Norfolk County Council has been told to apologise (decision "
                    f"{decision.reference}) after a family waited months for help.",
                    "The council said it accepted the findings and had changed how it "
                    "tracks requests, and would pay the family for the time and trouble.",
                    "Councillors are expected to discuss the report at the next meeting "
                    "of the scrutiny committee later this month.",
                ],
            ),
        )
        log.info("published %s and a story about it", decision.reference)


def main() -> None:
    logs.configure("text", 0)
    web = LocalWeb().start()
    lgsco = SimulatedLgsco(web, today=datetime.now(UTC).date(), count=150, days=120).install()
    news = NewsSites(web, now=datetime.now(UTC)).install()
    housing = SimulatedHousingOmbudsman(
        web, today=datetime.now(UTC).date(), count=60, prefix=HOUSING_PREFIX
    ).install()
    config = write_config(web, news)
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
    threading.Thread(target=publish_forever, args=(lgsco, housing, news, stop), daemon=True).start()
    try:
        run_service(runtime)
    finally:
        stop.set()
        web.stop()


if __name__ == "__main__":
    main()
