"""Recording a source's run: every fetch run leaves one fetch_runs row and one summary line."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from councilwatch.runtime import Runtime
from cwerrors import CouncilwatchError
from db.runs import finish_run, start_run

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
