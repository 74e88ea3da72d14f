"""The long-running service: APScheduler 3 jobs in every process, each slot worked once.

Every process keeps its own in-memory job store (a shared job store runs slots twice) and
adds the jobs from config at start-up. A job first claims its slot in the database; the
process whose INSERT wins does the work, under a named lock that `councilwatch fetch` and
`councilwatch digest send` take too. A digest slot is shared: the processes that lose the
claim join the winner's run and split its subscriber batches (councilwatch/digest_share.py).
With SQLite (one host) a second service process refuses to start; with PostgreSQL any number
may run.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import FrameType
from typing import TYPE_CHECKING, Any

from councilwatch.config import Settings
from councilwatch.repeating import Repeating
from councilwatch.runtime import Runtime
from councilwatch.schedule import Schedule, daily, interval, parse_schedule, weekly
from councilwatch.sources_registry import FetchJob, fetch_jobs
from cwerrors import StorageError

if TYPE_CHECKING:  # at run time it is imported by the job that uses it (start-up cost)
    from councilwatch.digest_share import Share

log = logging.getLogger("councilwatch.service")


@dataclass(frozen=True)
class JobSpec:
    name: str
    schedule: Schedule
    run: Callable[[Runtime], object]
    lock: str | None
    grace: timedelta  # a firing this late still runs (APScheduler's default is 1 s)
    on_start: bool = False  # also run once as the service starts
    # Work the slot's losers join (each worker passed its Share) rather than leave to the
    # winner; ``run`` is then unused.
    shared: Callable[[Runtime, Share], object] | None = None


def _fetcher(job: FetchJob) -> Callable[[Runtime], object]:
    def run(runtime: Runtime) -> object:
        return job.run(runtime, None, None, False, None)

    return run


# Seconds between a digest run's looks at the outbox while it builds, besides the look each
# queued group asks for (other senders' retries, a look that failed).
SEND_EVERY = 1.0


def _digests(frequency: str) -> Callable[[Runtime, Share], object]:
    def run(runtime: Runtime, share: Share) -> object:
        from councilwatch import mailer
        from councilwatch.digests import run_digests

        # Building is CPU work; sending is mostly waiting (SMTP round trips, commits). Sent
        # after the build, the waits added up to the build's own time: on PostgreSQL with two
        # workers (quick bench store) 20 s of sending after 26 s of building. So a thread sends
        # what the run has queued while it goes on; the outbox's leases keep two senders (this
        # thread, another worker's) from sending a message twice. One transport for the job:
        # making one per look (each SmtpTransport loads the CA bundle for its SSL context)
        # was 8% of a worker's CPU on the quick bench store, a look a second.
        transport = mailer.make_transport(runtime.settings)

        def send() -> object:
            return mailer.send_outbox(runtime, transport, worker=share.worker)

        # Each committed group wakes the sender: polling alone, it idled up to SEND_EVERY
        # while groups piled up, and 20-50% of a run (quick bench store) was still unsent
        # when the build ended, sent after it on the job's wall.
        with Repeating(
            "digest-send",
            SEND_EVERY,
            send,
            failure="sending digests while building failed",  # the send after tries again
            log=log,
            stopping=runtime.stopping,
        ) as sender:
            queued = run_digests(
                runtime,
                frequency,
                share=share.name,
                worker=share.worker,
                joins=not share.opens,
                on_queued=sender.wake,
            )
        mailer.send_outbox(runtime, transport, worker=share.worker)  # what is left
        return queued

    return run


def _unshared(runtime: Runtime) -> object:
    raise AssertionError("a shared job runs through JobSpec.shared")


def digest_job(frequency: str, schedule: Schedule, grace: timedelta) -> JobSpec:
    """The job building and sending ``frequency`` digests; every worker firing a slot shares it."""
    return JobSpec(
        f"digest:{frequency}", schedule, _unshared, "digest", grace, shared=_digests(frequency)
    )


def _send_outbox(runtime: Runtime) -> object:
    from councilwatch.mailer import send_outbox

    return send_outbox(runtime)


def _prune_outbox(runtime: Runtime) -> object:
    from councilwatch.outbox_retention import prune_sent_bodies

    return prune_sent_bodies(runtime)


# Sent mail's bodies are deleted once a day (mail.sent_retention_days), in the night, away
# from the digests' morning; the deletes are batched, so senders wait at most one batch.
PRUNE_OUTBOX_AT = "03:30"


def _health(runtime: Runtime) -> object:
    from councilwatch.health import check_and_notify

    return check_and_notify(runtime)


def _interval_seconds(schedule: Schedule, fallback: float) -> float:
    seconds = getattr(schedule.trigger, "interval", None)
    return seconds.total_seconds() if isinstance(seconds, timedelta) else fallback


def job_specs(settings: Settings) -> list[JobSpec]:
    zone = settings.service.timezone
    digest = settings.digest
    on_start = settings.service.fetch_on_start
    specs = []
    for job in fetch_jobs(settings):
        if not job.enabled:
            continue
        key = f"sources.{job.config_key}.schedule"
        schedule = parse_schedule(job.schedule, zone, key=key)
        specs.append(
            JobSpec(
                f"fetch:{job.name}",
                schedule,
                _fetcher(job),
                job.lock,
                timedelta(seconds=_interval_seconds(schedule, 3600)),
                on_start=on_start,
            )
        )
    every = digest.immediate_every_minutes * 60
    specs += [
        digest_job("immediate", interval(every, zone, jitter=False), timedelta(seconds=every)),
        digest_job("daily", daily(digest.daily_time, zone), timedelta(hours=12)),
        digest_job(
            "weekly", weekly(digest.weekly_day, digest.weekly_time, zone), timedelta(days=3)
        ),
        JobSpec(
            "outbox:send",
            interval(60, zone, jitter=False),
            _send_outbox,
            None,
            timedelta(seconds=60),
        ),
        JobSpec(
            "outbox:prune", daily(PRUNE_OUTBOX_AT, zone), _prune_outbox, None, timedelta(hours=12)
        ),
        JobSpec("health", interval(900, zone), _health, None, timedelta(seconds=900)),
    ]
    return specs


class JobRunner:
    """Runs one firing of a job: claim the slot, take the lock, work, record."""

    def __init__(self, runtime: Runtime, worker: str) -> None:
        self.runtime = runtime
        self.worker = worker
        self.running = 0
        self._idle = threading.Condition()

    def __call__(self, spec: JobSpec) -> None:
        from councilwatch.digest_share import Share
        from councilwatch.runs import run_lock
        from db.jobs import LockBusy, claim_slot, finish_slot

        runtime = self.runtime
        engine = runtime.migrated_engine()
        now = runtime.now()
        slot = spec.schedule.slot(now)
        won = claim_slot(engine, spec.name, slot, worker=self.worker, now=now)
        if not won and spec.shared is None:
            log.debug("%s %s: claimed by another worker", spec.name, slot)
            return
        with self._idle:
            self.running += 1
        started = time.perf_counter()
        verb = "started" if won else "joined (the slot's winner shares it)"
        log.info("job %s (%s) %s", spec.name, slot, verb, extra={"job": spec.name, "slot": slot})
        ok, outcome = False, ""
        try:
            if not won:
                # The winner holds the lock for the whole run; a joiner works under it.
                assert spec.shared is not None
                result = spec.shared(runtime, Share(slot, self.worker, opens=False))
            else:
                lock = run_lock(runtime, spec.lock) if spec.lock else contextlib.nullcontext()
                with lock:
                    if spec.shared is not None:
                        result = spec.shared(runtime, Share(slot, self.worker))
                    else:
                        result = spec.run(runtime)
            ok, outcome = True, _describe(result)
        except LockBusy as exc:
            outcome = f"skipped: {exc}"
        except Exception as exc:  # a job's failure is logged; the service goes on
            log.exception("job %s (%s) failed", spec.name, slot)
            outcome = f"failed: {type(exc).__name__}: {exc}"
        finally:
            if won:  # the slot is the winner's to close
                finish_slot(engine, spec.name, slot, ok=ok, now=runtime.now())
            seconds = time.perf_counter() - started
            log.info(
                "job %s (%s) finished in %.1fs: %s",
                spec.name,
                slot,
                seconds,
                outcome or "ok",
                extra={"job": spec.name, "slot": slot, "ok": ok, "seconds": round(seconds, 3)},
            )
            with self._idle:
                self.running -= 1
                self._idle.notify_all()

    def wait_idle(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        with self._idle:
            while self.running:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._idle.wait(left)
        return True


def _describe(result: object) -> str:
    if result is None:
        return "ok"
    for attribute in ("line", "summary"):
        method = getattr(result, attribute, None)
        if callable(method):
            return str(method())
    if isinstance(result, list):
        return "; ".join(_describe(item) for item in result) or "nothing to do"
    return str(result)[:200]


@contextlib.contextmanager
def single_scheduler_on_sqlite(runtime: Runtime) -> Iterator[None]:
    from db.jobs import LockBusy, exclusive

    engine = runtime.engine
    if engine.dialect.name != "sqlite":
        yield
        return
    try:
        with exclusive(engine, "scheduler"):
            yield
    except LockBusy:
        raise StorageError(
            "another `councilwatch run` already uses this SQLite database; "
            "run several workers on PostgreSQL instead"
        ) from None


def next_runs(settings: Settings, now: datetime) -> dict[str, datetime | None]:
    return {
        spec.name: spec.schedule.trigger.get_next_fire_time(None, now)
        for spec in job_specs(settings)
    }


def run_service(
    runtime: Runtime,
    *,
    stop: threading.Event | None = None,
    ready: threading.Event | None = None,
    specs: list[JobSpec] | None = None,
) -> None:
    from apscheduler.schedulers.background import BackgroundScheduler

    from councilwatch.mailer import worker_name
    from db.schema_version import ensure_current

    ensure_current(runtime.engine)
    stop = stop or threading.Event()
    specs = specs if specs is not None else job_specs(runtime.settings)
    _install_signal_handlers(stop)
    with single_scheduler_on_sqlite(runtime):
        runner = JobRunner(runtime, worker_name())
        scheduler = BackgroundScheduler(
            timezone=runtime.settings.service.timezone,
            job_defaults={"coalesce": True, "max_instances": 1},
            executors={"default": {"type": "threadpool", "max_workers": 4}},
        )
        for spec in specs:
            # A fresh service fetches at once instead of waiting for the first interval.
            first = {"next_run_time": datetime.now(UTC)} if spec.on_start else {}
            scheduler.add_job(
                runner,
                spec.schedule.trigger,
                args=[spec],
                id=spec.name,
                name=spec.name,
                replace_existing=True,
                misfire_grace_time=int(spec.grace.total_seconds()),
                **first,
            )
        from councilwatch.mail_sender import MailSender

        # Mail the web pages queue leaves at once, not at the next outbox:send (leases keep
        # the two senders from sending one message twice).
        sender = MailSender(runtime).start()
        web = _start_web(runtime, sender.wake)
        scheduler.start()
        log.info(
            "service started: %d jobs, database %s%s",
            len(specs),
            runtime.engine.url.render_as_string(hide_password=True),
            f", web on {runtime.settings.web.listen}" if web else "",
        )
        if ready is not None:
            ready.set()
        stop.wait()
        log.info("stopping: no new jobs; running ones finish their current step")
        scheduler.pause()
        runtime.stopping.set()
        grace = runtime.settings.service.shutdown_grace_seconds
        if not runner.wait_idle(grace):
            log.warning(
                "a job was still running after %.0fs; its open transaction is rolled back", grace
            )
        scheduler.shutdown(wait=False)
        if web is not None:
            web.should_exit = True
        sender.stop()
        log.info("service stopped")


def _install_signal_handlers(stop: threading.Event) -> None:
    if threading.current_thread() is not threading.main_thread():
        return

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        log.info("received %s", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)


def _start_web(runtime: Runtime, on_mail_queued: Callable[[], None]) -> Any:
    if not runtime.settings.web.enabled:
        return None
    try:
        from councilwatch.webserver import serve_in_thread
    except ImportError:
        log.warning("web pages are not available in this build")
        return None
    return serve_in_thread(runtime, on_mail_queued=on_mail_queued)
