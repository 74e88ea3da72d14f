"""Several service workers sharing one digest run: each digest built and sent once, a worker's
death mid-run costs nothing, and the service's own job path does the sharing."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import text

from councilwatch import digest_share, digests, service
from councilwatch.digests import run_digests
from councilwatch.schedule import Schedule
from councilwatch.service import JobRunner, digest_job, run_service
from db import outbox
from db.jobs import exclusive
from db.matches import pending_matches
from tests.dbfixtures import fresh_database_url, skip_without_postgres
from tests.digestkit import (
    MAIL_ENV,
    T2,
    Clock,
    Setup,
    add_alert,
    decision,
    ingest,
    make_setup,
    smtp_toml,
)
from tests.runtimes import disable_sources, make_runtime
from tests.smtpd import SmtpTestServer, smtp_certificate, smtp_server

__all__ = ["smtp_certificate", "smtp_server"]

T1 = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)


@pytest.fixture
def setup(
    database_url: str,
    tmp_path: Path,
    smtp_server: SmtpTestServer,
    smtp_certificate: tuple[Path, Path],
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Setup]:
    yield from make_setup(database_url, tmp_path, smtp_server, smtp_certificate, monkeypatch)


def subscribers_with_news(setup: Setup, n: int) -> list[str]:
    emails = [f"s{k}@example.org" for k in range(n)]
    for email in emails:
        add_alert(setup.engine, email, "Norfolk", councils=["norfolk"])
    setup.clock.current = T1
    ingest(setup, [decision("26 306 001"), decision("26 306 002")])
    setup.clock.current = T2
    return emails


def one_run(slot: str) -> Schedule:
    """Fires once, a few seconds from now (both services are up by then); every firing
    belongs to ``slot``."""
    start = datetime.now(UTC) + timedelta(seconds=3)
    return Schedule(IntervalTrigger(hours=1, start_date=start), lambda _: slot, "once")


def batch_workers(setup: Setup, share: str) -> Counter[str]:
    with setup.engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT worker FROM job_runs WHERE job = 'digest:daily:batch' "
                "AND slot LIKE :share AND slot <> :marker AND finished_at IS NOT NULL"
            ),
            {"share": f"{share}:%", "marker": f"{share}:open"},
        ).all()
    return Counter(str(row.worker) for row in rows)


def test_a_worker_dying_mid_batch_loses_no_digest_and_sends_none_twice(
    setup: Setup, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(digests, "SUBSCRIBER_BATCH", 2)
    monkeypatch.setattr(digests, "QUEUE_EVERY", 1)  # each digest its own transaction: a death
    # can fall between two digests of one batch
    monkeypatch.setattr(digest_share, "LEASE", timedelta(seconds=1))
    monkeypatch.setattr(digest_share, "POLL_SECONDS", 0.05)
    emails = subscribers_with_news(setup, 8)  # ids 1-8: batches [1] [2 3] [4 5] [6 7] [8]
    real_queue = digests._queue
    queued_by_the_dead: list[int] = []

    def queue(*args: Any, **kwargs: Any) -> Any:
        if threading.current_thread().name == "dies" and args[1]:
            if len(queued_by_the_dead) == 2:  # the second digest of batch [2 3]
                raise RuntimeError("worker killed")
            queued_by_the_dead.extend(built.subscriber_id for built in args[1])
        return real_queue(*args, **kwargs)

    monkeypatch.setattr(digests, "_queue", queue)
    failures: list[BaseException] = []

    def dying() -> None:
        try:
            run_digests(setup.runtime, "daily", share="d:2026-11-03", worker="dies")
        except RuntimeError as exc:  # as the service's job runner would: logged, gone on
            failures.append(exc)

    thread = threading.Thread(target=dying, name="dies")
    thread.start()
    thread.join(30)
    assert [str(f) for f in failures] == ["worker killed"] and queued_by_the_dead == [1, 2]

    reports: list[digests.DigestRunReport] = []
    survivor = threading.Thread(
        target=lambda: reports.append(
            run_digests(setup.runtime, "daily", share="d:2026-11-03", worker="survives")
        )
    )
    survivor.start()
    survivor.join(60)
    assert not survivor.is_alive(), "the survivor never took the dead worker's batch over"
    # The survivor built the three batches nobody had claimed and the rest of [2 3].
    assert reports[0].queued == 6 and reports[0].already_queued == 0
    queued = Counter(m.to_address for m in outbox.pending(setup.engine, limit=100))
    assert queued == Counter(emails)
    assert pending_matches(setup.engine) == []
    assert batch_workers(setup, "d:2026-11-03") == {"dies": 1, "survives": 4}


def test_a_joiner_builds_nothing_when_the_winner_could_not_take_the_lock(setup: Setup) -> None:
    emails = subscribers_with_news(setup, 3)
    spec = digest_job("daily", one_run("d:2026-11-03"), timedelta(hours=1))
    winner, joiner = JobRunner(setup.runtime, "winner"), JobRunner(setup.runtime, "joiner")
    with exclusive(setup.engine, "digest"):  # `councilwatch digest send` is running
        winner(spec)
        joiner(spec)
    assert outbox.pending(setup.engine, limit=100) == []
    assert len(pending_matches(setup.engine)) == 6  # 3 subscribers x 2 decisions
    spec = digest_job("daily", one_run("d:2026-11-03b"), timedelta(hours=1))
    winner(spec)
    assert sorted(str(m["To"]) for m in setup.server.messages) == sorted(emails)


def test_two_services_on_postgres_share_a_digest_run_each_digest_sent_once(
    tmp_path: Path,
    smtp_server: SmtpTestServer,
    smtp_certificate: tuple[Path, Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    skip_without_postgres()
    monkeypatch.setenv("SSL_CERT_FILE", str(smtp_certificate[0]))
    monkeypatch.setattr(digests, "SUBSCRIBER_BATCH", 2)  # 13 batches from ids 1-24
    real_load = digests._load

    def slow_load(*args: Any, **kwargs: Any) -> Any:
        time.sleep(0.1)  # a batch takes a while, as a real one does: both workers get some
        return real_load(*args, **kwargs)

    monkeypatch.setattr(digests, "_load", slow_load)
    for url in fresh_database_url("postgres", tmp_path):
        clock = Clock(T2)
        toml = (
            smtp_toml(smtp_server) + disable_sources(keep=("lgsco",)) + "[web]\nenabled = false\n"
        )
        runtimes = []
        for n in range(2):
            (tmp_path / f"w{n}").mkdir()
            runtimes.append(
                make_runtime(url, tmp_path / f"w{n}", now=clock, env=MAIL_ENV, toml=toml)
            )
        setup = Setup(runtimes[0], clock, smtp_server)
        emails = subscribers_with_news(setup, 24)
        spec = digest_job("daily", one_run("d:2026-11-03"), timedelta(hours=1))
        stops = [threading.Event(), threading.Event()]
        threads = [
            threading.Thread(
                target=run_service, args=(runtime,), kwargs={"stop": stop, "specs": [spec]}
            )
            for runtime, stop in zip(runtimes, stops, strict=True)
        ]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 90
        while len(smtp_server.messages) < len(emails) and time.monotonic() < deadline:
            time.sleep(0.2)
        for stop in stops:
            stop.set()
        for thread in threads:
            thread.join(30)
        received = Counter(str(m["To"]) for m in smtp_server.messages)
        assert received == Counter(emails)  # every digest, none twice
        workers = batch_workers(setup, "d:2026-11-03")
        assert sum(workers.values()) == 13 and len(workers) == 2, workers
        assert pending_matches(setup.engine) == []
        for runtime in runtimes:
            runtime.close()


def test_a_digest_job_sends_what_it_queued_while_it_goes_on_building(
    setup: Setup, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(digests, "SUBSCRIBER_BATCH", 2)  # ids 1-4: batches [1] [2 3] [4]
    monkeypatch.setattr(service, "SEND_EVERY", 0.05, raising=False)
    emails = subscribers_with_news(setup, 4)
    real_load = digests._load
    sent_before_the_last_batch: list[int] = []

    def load(engine: Any, subscribers: Any, *args: Any, **kwargs: Any) -> Any:
        if any(s.id == 4 for s in subscribers):  # the last batch waits for a first delivery
            deadline = time.monotonic() + 10
            while not setup.server.messages and time.monotonic() < deadline:
                time.sleep(0.02)
            sent_before_the_last_batch.append(len(setup.server.messages))
        return real_load(engine, subscribers, *args, **kwargs)

    monkeypatch.setattr(digests, "_load", load)
    JobRunner(setup.runtime, "w")(digest_job("daily", one_run("d:2026-11-03"), timedelta(hours=1)))
    assert sent_before_the_last_batch and sent_before_the_last_batch[0] >= 1
    received = Counter(str(m["To"]) for m in setup.server.messages)
    assert received == Counter(emails)  # every digest, none twice
    assert outbox.pending(setup.engine, limit=100) == []


def test_a_queued_group_wakes_the_jobs_sender_without_waiting_for_its_next_look(
    setup: Setup, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Polling alone (a look a second), the sender idled while groups piled up, and much of a
    # run was still unsent when its build ended. Here a look would come in an hour.
    monkeypatch.setattr(digests, "SUBSCRIBER_BATCH", 2)  # ids 1-4: batches [1] [2 3] [4]
    monkeypatch.setattr(service, "SEND_EVERY", 3600.0, raising=False)
    emails = subscribers_with_news(setup, 4)
    real_load = digests._load
    sent_before_the_last_batch: list[int] = []

    def load(engine: Any, subscribers: Any, *args: Any, **kwargs: Any) -> Any:
        if any(s.id == 4 for s in subscribers):  # the last batch waits for three deliveries
            deadline = time.monotonic() + 10
            while len(setup.server.messages) < 3 and time.monotonic() < deadline:
                time.sleep(0.02)
            sent_before_the_last_batch.append(len(setup.server.messages))
        return real_load(engine, subscribers, *args, **kwargs)

    monkeypatch.setattr(digests, "_load", load)
    JobRunner(setup.runtime, "w")(digest_job("daily", one_run("d:2026-11-03"), timedelta(hours=1)))
    assert sent_before_the_last_batch == [3]  # what batches [1] and [2 3] queued
    assert Counter(str(m["To"]) for m in setup.server.messages) == Counter(emails)
    assert outbox.pending(setup.engine, limit=100) == []


def test_a_digest_job_makes_one_mail_transport_however_often_it_sends(
    setup: Setup, monkeypatch: pytest.MonkeyPatch
) -> None:
    from councilwatch import mailer

    monkeypatch.setattr(digests, "SUBSCRIBER_BATCH", 2)  # ids 1-4: batches [1] [2 3] [4]
    monkeypatch.setattr(service, "SEND_EVERY", 0.01, raising=False)
    emails = subscribers_with_news(setup, 4)
    made, looks = [], threading.Semaphore(0)
    real_make, real_send, real_load = mailer.make_transport, mailer.send_outbox, digests._load

    def make_transport(*args: Any, **kwargs: Any) -> Any:
        made.append(1)
        return real_make(*args, **kwargs)

    def send_outbox(*args: Any, **kwargs: Any) -> Any:
        looks.release()
        return real_send(*args, **kwargs)

    def load(engine: Any, subscribers: Any, *args: Any, **kwargs: Any) -> Any:
        if any(s.id == 4 for s in subscribers):  # the last batch waits for three looks
            assert all(looks.acquire(timeout=10) for _ in range(3))
        return real_load(engine, subscribers, *args, **kwargs)

    monkeypatch.setattr(mailer, "make_transport", make_transport)
    monkeypatch.setattr(mailer, "send_outbox", send_outbox)
    monkeypatch.setattr(digests, "_load", load)
    JobRunner(setup.runtime, "w")(digest_job("daily", one_run("d:2026-11-03"), timedelta(hours=1)))
    assert Counter(str(m["To"]) for m in setup.server.messages) == Counter(emails)
    assert len(made) == 1  # four looks or more at the outbox, one transport
