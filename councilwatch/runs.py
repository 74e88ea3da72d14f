"""Recording a source's run: every fetch run leaves one fetch_runs row and one summary line."""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from councilwatch.config import Settings
from councilwatch.runtime import Runtime
from councilwatch.sources_registry import configured_sources
from cwerrors import CouncilwatchError, ShutdownRequested
from db.jobs import LockBusy, exclusive
from db.runs import close_interrupted, finish_run, record_skipped, start_run

log = logging.getLogger("councilwatch.runs")


@dataclass
class RunCounts:
    """What a run did; the run function fills it in as it goes, so a failure keeps its counts."""

    requests: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    failures: int = 0
    stats: dict[str, Any] = field(default_factory=dict)
    quarantined: list[str] = field(default_factory=list)  # pages kept that failed to parse

    def line(self) -> str:
        kept = ""
        if self.quarantined:
            more = f" and {len(self.quarantined) - 1} more" if len(self.quarantined) > 1 else ""
            kept = f"; failing page kept as {self.quarantined[0]}{more}"
        return (
            f"{self.requests} requests, {self.inserted} new, {self.updated} updated, "
            f"{self.unchanged} unchanged, {self.failures} failed{kept}"
        )


@dataclass
class RunOutcome:
    source: str
    ok: bool
    counts: RunCounts
    error: str | None
    seconds: float

    def line(self) -> str:
        state = "ok" if self.ok else f"FAILED ({self.error})"
        return f"{self.source} {state}: {self.counts.line()}"


def guarded_sources(settings: Settings, lock: str) -> list[str]:
    """The sources whose runs the fetch lock ``lock`` guards ("fetch:lgsco", "fetch:news")."""
    return [source.name for source in configured_sources(settings) if source.lock == lock]


@contextmanager
def run_lock(
    runtime: Runtime, lock: str, *, mode: str = "incremental", attempted: list[str] | None = None
) -> Iterator[None]:
    """Hold ``lock`` for the block, the way every fetch (service or CLI) takes it.

    Taking it first closes, as interrupted, the runs its sources left unfinished (whoever ran
    them is gone: they would hold the lock). When another process holds it, a skipped run is
    recorded for each source ``attempted`` (default: all it guards) and LockBusy raised.
    """
    engine = runtime.migrated_engine()
    sources = guarded_sources(runtime.settings, lock)
    with contextlib.ExitStack() as stack:
        try:
            stack.enter_context(exclusive(engine, lock))
        except LockBusy as exc:
            for source in sources if attempted is None else attempted:
                record_skipped(engine, source, mode, now=runtime.now(), reason=str(exc))
            log.warning("%s: skipped: %s", lock, exc, extra={"lock": lock})
            raise
        closed = close_interrupted(engine, sources, now=runtime.now())
        if closed:
            log.warning(
                "%s: %d unfinished run(s) of a stopped process closed as interrupted", lock, closed
            )
        yield


def record_run(
    runtime: Runtime, source: str, mode: str, work: Callable[[RunCounts], None]
) -> RunOutcome:
    """Run ``work`` as one recorded run of ``source``.

    A project error (source fault, fetch failure) ends the run as failed and is recorded, not
    raised: the caller goes on with the next source. Anything else is a bug and propagates,
    after the run is recorded as failed.
    """
    engine = runtime.migrated_engine()
    run_id = start_run(engine, source, mode, now=runtime.now())
    counts = RunCounts()
    started = time.perf_counter()
    error: str | None = None
    log.info("%s: %s run started", source, mode, extra={"source": source, "mode": mode})
    try:
        work(counts)
    except CouncilwatchError as exc:
        error = str(exc) or type(exc).__name__
        if not isinstance(exc, ShutdownRequested):
            # The step that ended the run failed: the counts say so even when it was the first.
            counts.failures = max(counts.failures, 1)
    except BaseException as exc:
        error = f"{type(exc).__name__}: {exc}"
        _finish(runtime, run_id, counts, error)
        raise
    _finish(runtime, run_id, counts, error)
    seconds = time.perf_counter() - started
    level = logging.INFO if error is None else logging.ERROR
    log.log(
        level,
        "%s: %s run %s in %.1fs: %s%s",
        source,
        mode,
        "ok" if error is None else "FAILED",
        seconds,
        counts.line(),
        f" ({error})" if error else "",
        extra={"source": source, "mode": mode, "ok": error is None, "seconds": round(seconds, 3)},
    )
    return RunOutcome(source, error is None, counts, error, seconds)


def _finish(runtime: Runtime, run_id: int, counts: RunCounts, error: str | None) -> None:
    finish_run(
        runtime.migrated_engine(),
        run_id,
        now=runtime.now(),
        ok=error is None,
        requests=counts.requests,
        inserted=counts.inserted,
        updated=counts.updated,
        unchanged=counts.unchanged,
        failures=counts.failures,
        error=error,
        stats=counts.stats,
    )
