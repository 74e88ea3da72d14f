"""Stream every stored field of documents out, for users and for other checks."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy import Engine, select

from db.tables import DOCUMENTS as _DOCS

EXPORT_COLUMNS: tuple[str, ...] = tuple(column.name for column in _DOCS.columns)


def iter_documents(
    engine: Engine, *, kind: str | None = None, since: date | None = None, chunk: int = 1000
) -> Iterator[dict[str, Any]]:
    stmt = select(_DOCS).order_by(_DOCS.c.id)
    if kind:
        stmt = stmt.where(_DOCS.c.kind == kind)
    if since:
        stmt = stmt.where(_DOCS.c.first_seen_at >= datetime.combine(since, time.min, UTC))
    with engine.connect() as connection:
        result = connection.execution_options(yield_per=chunk).execute(stmt)
        for row in result:
            yield dict(row._mapping)
