"""Fetch runs: what each source run did, and the source health derived from them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, func, insert, select, update

from cwerrors import ShutdownRequested
from db.engine import read_connection, write_transaction
from db.tables import DOCUMENTS as _DOCS
from db.tables import FETCH_RUNS as _RUNS


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


def has_succeeded(engine: Engine, source: str) -> bool:
    """Whether any run of ``source`` has ever finished well."""
    with read_connection(engine) as connection:
        found = connection.execute(
            select(_RUNS.c.id).where(_RUNS.c.source == source, _RUNS.c.ok.is_(True)).limit(1)
        ).first()
    return found is not None


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
        if run.error == ShutdownRequested.MESSAGE:
            continue  # cut short by a restart: says nothing about the source
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
