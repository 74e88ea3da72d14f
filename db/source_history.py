"""What the sources' runs looked like over a past period: which failed, and how often."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, case, func, select

from db.engine import read_connection
from db.tables import FETCH_RUNS as _RUNS


@dataclass(frozen=True)
class SourcePeriod:
    source: str
    runs: int
    failed: int
    first_failed_at: datetime | None
    last_failed_at: datetime | None
    last_error: str | None


def failing_sources(engine: Engine, *, since: datetime) -> list[SourcePeriod]:
    """Sources with at least one failed run started at or after ``since``, by name."""
    failed = _RUNS.c.ok.is_(False)
    with read_connection(engine) as connection:
        rows = connection.execute(
            select(
                _RUNS.c.source,
                func.count().label("runs"),
                func.sum(case((failed, 1), else_=0)).label("failed"),
            )
            .where(_RUNS.c.started_at >= since)
            .group_by(_RUNS.c.source)
            .order_by(_RUNS.c.source)
        ).all()
        out = []
        for row in rows:
            if not row.failed:
                continue
            window = (_RUNS.c.source == row.source, _RUNS.c.started_at >= since, failed)
            first, last = connection.execute(
                select(func.min(_RUNS.c.started_at), func.max(_RUNS.c.started_at)).where(*window)
            ).one()
            error = connection.execute(
                select(_RUNS.c.error).where(*window).order_by(_RUNS.c.started_at.desc()).limit(1)
            ).scalar()
            out.append(SourcePeriod(row.source, int(row.runs), int(row.failed), first, last, error))
    return out
