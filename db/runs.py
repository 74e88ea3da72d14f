"""Fetch runs: what each source run did, and the source health derived from them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, func, insert, select, update

from cwerrors import ShutdownRequested
from db.document_tables import DOCUMENTS as _DOCS
from db.engine import read_connection, write_transaction
from db.run_tables import FETCH_RUNS as _RUNS


def start_run(engine: Engine, source: str, mode: str, *, now: datetime) -> int:
    with write_transaction(engine) as connection:
        row = connection.execute(
            insert(_RUNS)
            .values(source=source, mode=mode, started_at=now, stats={})
            .returning(_RUNS.c.id)
        ).one()
        return int(row.id)


def finish_run(
    engine: Engine,
    run_id: int,
    *,
    now: datetime,
    ok: bool,
    requests: int = 0,
    inserted: int = 0,
    updated: int = 0,
    unchanged: int = 0,
    failures: int = 0,
    error: str | None = None,
    stats: Mapping[str, Any] | None = None,
) -> None:
    with write_transaction(engine) as connection:
        connection.execute(
            update(_RUNS)
            .where(_RUNS.c.id == run_id)
            .values(
                finished_at=now,
                ok=ok,
                requests=requests,
                inserted=inserted,
                updated=updated,
                unchanged=unchanged,
                failures=failures,
                error=error,
                stats=dict(stats or {}),
            )
        )


# Runs that end like this say nothing about the source itself, so health does not count them.
INTERRUPTED = "interrupted: the process running it stopped before the run finished"
SKIPPED = "skipped: "


def close_interrupted(engine: Engine, sources: Sequence[str], *, now: datetime) -> int:
    """Close the unfinished runs of ``sources`` as interrupted; returns how many.

    Only called by a process holding the lock that guards every run of these sources, so an
    unfinished run it sees belongs to a process that is gone (killed, or its machine died).
    """
    if not sources:
        return 0
    with write_transaction(engine) as connection:
        result = connection.execute(
            update(_RUNS)
            .where(_RUNS.c.source.in_(list(sources)), _RUNS.c.finished_at.is_(None))
            .values(finished_at=now, ok=False, error=INTERRUPTED)
        )
        return int(result.rowcount)


def record_skipped(engine: Engine, source: str, mode: str, *, now: datetime, reason: str) -> None:
    """A run that did not start because another process holds the source's lock."""
    with write_transaction(engine) as connection:
        connection.execute(
            insert(_RUNS).values(
                source=source,
                mode=mode,
                started_at=now,
                finished_at=now,
                ok=False,
                error=f"{SKIPPED}{reason}",
                stats={},
            )
        )


def says_nothing_about_the_source(error: str | None) -> bool:
    """Runs cut short by a restart, a kill, or a busy lock are not the source failing."""
    return error is not None and (
        error in (ShutdownRequested.MESSAGE, INTERRUPTED) or error.startswith(SKIPPED)
    )


def has_succeeded(engine: Engine, source: str) -> bool:
    """Whether any run of ``source`` has ever finished well."""
    with read_connection(engine) as connection:
        found = connection.execute(
            select(_RUNS.c.id).where(_RUNS.c.source == source, _RUNS.c.ok.is_(True)).limit(1)
        ).first()
    return found is not None


def last_success_stats(engine: Engine, source: str) -> dict[str, Any]:
    """The stats of ``source``'s newest successful run ({} when it never succeeded)."""
    with read_connection(engine) as connection:
        found = connection.execute(
            select(_RUNS.c.stats)
            .where(_RUNS.c.source == source, _RUNS.c.ok.is_(True))
            .order_by(_RUNS.c.id.desc())
            .limit(1)
        ).first()
    return dict(found.stats or {}) if found is not None else {}


@dataclass(frozen=True)
class SourceHealth:
    source: str
    last_started_at: datetime | None
    last_ok: bool | None
    last_error: str | None
    last_success_at: datetime | None
    consecutive_failures: int
    newest_document_at: datetime | None
    healthy: bool


def source_health(
    engine: Engine, source: str, *, unhealthy_after: int, history: int = 20
) -> SourceHealth:
    """Health from the most recent finished runs: N failures in a row make a source unhealthy."""
    with read_connection(engine) as connection:
        runs = connection.execute(
            select(_RUNS.c.started_at, _RUNS.c.finished_at, _RUNS.c.ok, _RUNS.c.error)
            .where(_RUNS.c.source == source, _RUNS.c.ok.is_not(None))
            .order_by(_RUNS.c.started_at.desc(), _RUNS.c.id.desc())
            .limit(history)
        ).all()
        last_success = connection.execute(
            select(func.max(_RUNS.c.finished_at)).where(
                _RUNS.c.source == source, _RUNS.c.ok.is_(True)
            )
        ).scalar()
        newest = connection.execute(
            select(func.max(_DOCS.c.first_seen_at)).where(_DOCS.c.source == source)
        ).scalar()
        if newest is None:
            # Sources that share a document source (news feeds store "news") are judged by
            # the last run that brought something new.
            newest = connection.execute(
                select(func.max(_RUNS.c.finished_at)).where(
                    _RUNS.c.source == source, _RUNS.c.inserted > 0
                )
            ).scalar()
    failures = 0
    for run in runs:
        if run.ok:
            break
        if says_nothing_about_the_source(run.error):
            continue  # cut short by a restart or a kill, or skipped: not the source failing
        failures += 1
    last = runs[0] if runs else None
    return SourceHealth(
        source=source,
        last_started_at=last.started_at if last else None,
        last_ok=last.ok if last else None,
        last_error=last.error if last else None,
        last_success_at=last_success,
        consecutive_failures=failures,
        newest_document_at=newest,
        healthy=failures < unhealthy_after,
    )
