"""Stream every stored field of documents out, for users and for other checks."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy import Engine, select

from db.document_tables import DOCUMENTS as _DOCS
from db.links import StoredLink, links_of

# "links": the decision a story reports, or the stories reporting a decision (db/links.py),
# as [{"url", "reference", "score", "reasons"}]; CSV carries it as JSON like "extra".
EXPORT_COLUMNS: tuple[str, ...] = (*(column.name for column in _DOCS.columns), "links")


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
        for rows in result.partitions(chunk):
            docs = [dict(row._mapping) for row in rows]
            links = links_of(engine, [doc["id"] for doc in docs])
            for doc in docs:
                doc["links"] = [_link(doc["id"], link) for link in links.get(doc["id"], ())]
                yield doc


def _link(owner: int, link: StoredLink) -> dict[str, Any]:
    return {
        "role": "reports" if owner == link.story_id else "reported by",
        "url": link.other_url,
        "reference": link.other_reference,
        "score": link.score,
        "reasons": list(link.reasons),
    }
