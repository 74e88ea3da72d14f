"""The service's first run as a subscriber meets it: sources seed one after another, and the
subscriber gets one catch-up email whose footer shows what has not been fetched yet."""

from __future__ import annotations

from datetime import timedelta

from councilwatch.runtime import Runtime
from councilwatch.service import JobRunner, job_specs
from tests import rawmail
from tests.digestkit import Clock, part
from tests.lgsco_site import SimulatedLgsco
from tests.news_sites import NewsSites
from tests.smtpd import SmtpTestServer
from tests.test_service_story import NORFOLK, follow_norfolk, mails_to, world

__all__ = ["world"]  # the fixture, used by name


def test_sources_seeding_in_turn_give_one_catch_up_email_and_no_false_tick(
    world: tuple[Runtime, Clock, SimulatedLgsco, NewsSites], smtp_server: SmtpTestServer
) -> None:
    runtime, clock, lgsco, _ = world
    engine = runtime.migrated_engine()
    specs = {spec.name: spec for spec in job_specs(runtime.settings)}
    follow_norfolk(engine, "parent@example.org", clock())
    runner = JobRunner(runtime, "worker-1")
    # LGSCO seeds first; the immediate digest fires before the news feeds have ever run.
    runner(specs["fetch:lgsco"])
    runner(specs["digest:immediate"])
    assert mails_to(smtp_server, "parent@example.org") == []  # held: the first run is not over
    clock.advance(minutes=5)
    runner(specs["fetch:news"])
    runner(specs["digest:immediate"])
    [first] = mails_to(smtp_server, "parent@example.org")
    text = part(first, "plain")
    assert text.count("Catch-up:") == 1
    seeded = [d for d in lgsco.visible() if d.organisation == NORFOLK]
    assert not any(d.reference in text for d in seeded)

    # Later digests bring new decisions as items, never a second catch-up email.
    clock.advance(minutes=5)
    runner(specs["digest:immediate"])
    today = clock().date()
    fresh = lgsco.add(today - timedelta(days=20), published=today, organisation=NORFOLK)
    clock.advance(hours=3, minutes=1)
    runner(specs["fetch:lgsco"])
    runner(specs["digest:immediate"])
    mails = mails_to(smtp_server, "parent@example.org")
    assert len(mails) == 2
    later = part(mails[1], "plain")
    assert fresh.reference in later and "Catch-up" not in later
    for received in smtp_server.received:
        rawmail.check(received.raw)


def test_a_source_that_never_fetched_successfully_has_no_tick(
    world: tuple[Runtime, Clock, SimulatedLgsco, NewsSites], smtp_server: SmtpTestServer
) -> None:
    runtime, clock, _, news = world
    engine = runtime.migrated_engine()
    specs = {spec.name: spec for spec in job_specs(runtime.settings)}
    follow_norfolk(engine, "clerk@example.org", clock())
    for name in ("edp24", "norfolklive"):  # every feed answers 503 on its first run
        news.web.route(news.feeds[name].path, status=503, body="down for maintenance")
    runner = JobRunner(runtime, "worker-1")
    for name in ("fetch:lgsco", "fetch:news", "digest:immediate"):
        runner(specs[name])
    [mail] = mails_to(smtp_server, "clerk@example.org")
    html = part(mail, "html")
    plain = part(mail, "plain")
    never = [line for line in plain.splitlines() if "never fetched successfully" in line]
    assert never and all(line.strip().startswith("[!]") for line in never), never
    for line in html.split('<p class="health')[1:]:
        if "never fetched successfully" in line.split("</p>")[0]:
            assert "✓" not in line.split("</p>")[0] and "✗" in line.split("</p>")[0]
