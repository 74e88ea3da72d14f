"""The whole product, as the service runs it: scheduled jobs fetch a simulated LGSCO site and two
simulated publishers, recognise councils, match a subscriber's alert and send digests through a
real SMTP server. Each cycle runs the service's own job functions through its JobRunner (slot
claims, locks and all), on a driven clock, so the story is exact and takes no waiting."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta
from email.message import EmailMessage
from pathlib import Path
from time import sleep

import pytest
from sqlalchemy import Engine

from councilwatch.runtime import Runtime
from councilwatch.service import JobRunner, JobSpec, job_specs
from db.subscriptions import AlertFields, subscribe
from tests.digestkit import MAIL_ENV, Clock, part, smtp_toml
from tests.lgsco_site import SimulatedLgsco
from tests.news_sites import NewsSites, SimItem, article_page
from tests.runtimes import disable_sources, make_runtime
from tests.smtpd import SmtpTestServer
from tests.testweb import FakeClock, LocalWeb

# Morning of today, so that three cycles three hours apart stay within the day.
START = datetime.combine(datetime.now(UTC).date(), time(7, 0), UTC)
NORFOLK = "Norfolk County Council"


@pytest.fixture
def world(
    testweb: LocalWeb,
    smtp_server: SmtpTestServer,
    smtp_certificate: tuple[Path, Path],
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[tuple[Runtime, Clock, SimulatedLgsco, NewsSites]]:
    monkeypatch.setenv("SSL_CERT_FILE", str(smtp_certificate[0]))
    lgsco = SimulatedLgsco(testweb, today=START.date(), count=120, days=90).install()
    news = NewsSites(testweb, now=START).install()
    clock = Clock(START)
    toml = (
        smtp_toml(smtp_server, items_per_group=50)
        + "[http]\nmin_interval_seconds = 0\nmax_attempts = 1\n"
        + f'[sources.lgsco]\nbase_url = "{testweb.url("")}"\nwindow_days = 120\n'
        + "[web]\nenabled = false\n"
        + news.config_toml("edp24", "norfolklive")
        + disable_sources(keep=("lgsco",))
    )
    runtime = make_runtime(
        database_url, tmp_path, now=clock, env=MAIL_ENV, toml=toml, fetch_clock=FakeClock()
    )
    yield runtime, clock, lgsco, news
    runtime.close()


def run_cycle(runtime: Runtime, clock: Clock, specs: dict[str, JobSpec]) -> None:
    runner = JobRunner(runtime, "worker-1")
    for name in ("fetch:lgsco", "fetch:news", "digest:immediate"):
        runner(specs[name])
    # The next cycle is the next slot of every job (LGSCO is fetched every three hours).
    clock.advance(hours=3, minutes=1)


def follow_norfolk(engine: Engine, email: str, now: datetime) -> None:
    """A confirmed subscriber of Norfolk County Council, mailed as things happen."""
    subscribe(
        engine,
        email=email,
        new_token=f"t-{email}",
        alert=AlertFields(name="Norfolk", councils=["norfolk"], frequency="immediate"),
        confirmed=True,
        now=now,
    )


def mails_to(server: SmtpTestServer, address: str) -> list[EmailMessage]:
    return [m for m in server.messages if m["To"] == address]


def test_a_subscriber_gets_exactly_the_expected_digests(
    world: tuple[Runtime, Clock, SimulatedLgsco, NewsSites], smtp_server: SmtpTestServer
) -> None:
    runtime, clock, lgsco, news = world
    engine = runtime.migrated_engine()
    specs = {spec.name: spec for spec in job_specs(runtime.settings)}
    follow_norfolk(engine, "parent@example.org", clock())

    # Cycle 1: the first runs seed the store (120 days of decisions, the feeds' current
    # stories). Nothing is sent item by item: one catch-up line for the council instead.
    run_cycle(runtime, clock, specs)
    [first] = mails_to(smtp_server, "parent@example.org")
    text = part(first, "plain")
    seeded = [d for d in lgsco.visible() if d.organisation == NORFOLK]
    assert f"Catch-up: {len(seeded) + 2} earlier documents for Norfolk County Council" in text
    assert not any(decision.reference in text for decision in seeded)
    assert "school transport" not in text.lower()  # the seeded Norfolk stories, not listed

    # Cycle 2: two Norfolk decisions and one elsewhere are published (mid-list, as the real
    # site does), and a new story about Norfolk County Council appears on one title.
    today = clock().date()
    new_norfolk = [
        lgsco.add(today - timedelta(days=20), published=today, organisation=NORFOLK)
        for _ in range(2)
    ]
    lgsco.add(today - timedelta(days=15), published=today, organisation="Leeds City Council")
    path = "/edp24/news/24599999.norfolk-county-council-apologises-over-care-delays/"
    headline = "Norfolk County Council apologises over care assessment delays"
    news.add_item(
        "edp24",
        SimItem(headline, path + "?ref=rss", clock(), "An apology after long waits.", "A Reporter"),
        article_page(
            url=news.base + path,
            title=headline,
            site_name="Eastern Daily Press",
            author="A Reporter",
            published=clock(),
            paragraphs=[
                "Norfolk County Council has apologised to a family who waited eleven months "
                "for a care assessment, after an ombudsman investigation found fault.",
                "The council said it had since recruited more assessors and reviewed its "
                "waiting list, and would pay the family for the distress caused.",
                "A spokesperson for the authority said lessons had been learned and that most "
                "assessments were now completed within the expected time.",
            ],
        ),
    )
    before = len(mails_to(smtp_server, "parent@example.org"))
    run_cycle(runtime, clock, specs)
    [digest] = mails_to(smtp_server, "parent@example.org")[before:]
    text = part(digest, "plain")
    for decision in new_norfolk:
        assert decision.reference in text
    assert "Leeds City Council" not in text
    assert headline in text
    assert text.count(headline) == 1
    assert digest["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

    # Cycle 3: nothing new anywhere, so nothing is sent.
    sent = len(smtp_server.messages)
    run_cycle(runtime, clock, specs)
    assert len(smtp_server.messages) == sent


def test_first_lgsco_run_is_marked_as_a_seeding_backfill(
    world: tuple[Runtime, Clock, SimulatedLgsco, NewsSites],
) -> None:
    from sqlalchemy import select

    from councilwatch.source_run import fetch_source
    from db.models import Document

    runtime, clock, lgsco, _ = world
    assert fetch_source(runtime, "lgsco").ok
    today = clock().date()
    lgsco.add(today - timedelta(days=5), published=today, organisation=NORFOLK)
    clock.advance(minutes=30)
    assert fetch_source(runtime, "lgsco").ok
    with runtime.migrated_engine().connect() as connection:
        flags = connection.execute(
            select(Document.backfill, Document.first_seen_at)  # type: ignore[call-overload]
        ).all()
    assert sum(1 for backfill, _ in flags if not backfill) == 1
    assert all(backfill for backfill, seen in flags if seen.replace(tzinfo=UTC) == START)


def test_sigterm_during_a_fetch_stops_cleanly_and_the_next_run_completes(
    testweb: LocalWeb, tmp_path: Path
) -> None:
    import os
    import signal
    import subprocess
    import sys

    from sqlalchemy import func, select

    from db.engine import make_engine
    from db.models import Document, FetchRun

    site = SimulatedLgsco(testweb, today=datetime.now(UTC).date(), count=60, days=60).install()
    site.delay = 0.1  # a slow site: a listing page of ten decisions takes a second
    config = tmp_path / "c.toml"
    config.write_text(
        f'[database]\nurl = "sqlite:///{tmp_path}/s.db"\n'
        "[http]\nmin_interval_seconds = 0\n"
        f'[sources.lgsco]\nbase_url = "{testweb.url("")}"\nwindow_days = 120\n'
        "[sources.news]\nenabled = false\n[web]\nenabled = false\n"
        + disable_sources(keep=("lgsco",))
        + "[service]\nshutdown_grace_seconds = 10\nfetch_on_start = true\n"
    )
    env = {**os.environ, "COUNCILWATCH_SECRET_KEY": "k" * 32}
    cli = [sys.executable, "-m", "councilwatch.cli", "--config", str(config)]
    subprocess.run([*cli, "db", "upgrade"], check=True, env=env, capture_output=True)
    service = subprocess.Popen(
        [*cli, "run"], env=env, stderr=subprocess.PIPE, text=True, cwd=tmp_path
    )
    assert service.stderr is not None
    for line in service.stderr:
        if "lgsco: incremental run started" in line:
            break
    while site.web.count("/Decisions/SearchResults") < 2 and service.poll() is None:
        sleep(0.05)  # the first listing page is stored; the second is being fetched
    service.send_signal(signal.SIGTERM)
    assert service.wait(30) == 0
    log = service.stderr.read()
    assert "stopped early" in log and "service stopped" in log

    engine = make_engine(f"sqlite:///{tmp_path}/s.db")
    with engine.connect() as connection:
        stored = connection.execute(select(func.count()).select_from(Document)).scalar_one()
        [run] = connection.execute(select(FetchRun)).all()
    assert run.ok is False and "stopped early" in run.error and run.finished_at is not None
    expected = len(site.visible(datetime.now(UTC).date() - timedelta(days=120)))
    assert 0 < stored < expected  # whole pages only, nothing half-written

    site.delay = 0.0
    done = subprocess.run([*cli, "fetch", "--source", "lgsco"], env=env, capture_output=True)
    assert done.returncode == 0, done.stderr
    with engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(Document)).scalar_one() == (
            expected
        )
    engine.dispose()


def test_two_workers_firing_the_same_jobs_send_each_digest_once(
    world: tuple[Runtime, Clock, SimulatedLgsco, NewsSites], smtp_server: SmtpTestServer
) -> None:
    import threading

    runtime, clock, lgsco, _ = world
    engine = runtime.migrated_engine()
    specs = {spec.name: spec for spec in job_specs(runtime.settings)}
    follow_norfolk(engine, "clerk@example.org", clock())
    run_cycle(runtime, clock, specs)  # seeding, one catch-up mail
    today = clock().date()
    lgsco.add(today - timedelta(days=3), published=today, organisation=NORFOLK)
    before = len(mails_to(smtp_server, "clerk@example.org"))
    for _ in range(3):  # three cycles, each fired by two workers at once
        workers = [JobRunner(runtime, f"worker-{n}") for n in (1, 2)]
        for name in ("fetch:lgsco", "fetch:news", "digest:immediate"):
            threads = [threading.Thread(target=w, args=(specs[name],)) for w in workers]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(60)
        clock.advance(hours=3, minutes=1)
    assert len(mails_to(smtp_server, "clerk@example.org")) - before == 1
