"""Per-feed figures for the operator: the councils each feed's stories named lately."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from sqlalchemy import Engine, select

from db.engine import read_connection
from db.tables import DOCUMENT_COUNCILS as _COUNCILS
from db.tables import DOCUMENTS as _DOCS


def councils_by_feed(engine: Engine, *, since: datetime) -> dict[str, Counter[str]]:
    """Feed name -> how many of its stories first seen since ``since`` named each council.

    A story's feeds live in ``extra["feeds"]``, read here in Python (JSON operators differ
    between SQLite and PostgreSQL); this is an operator's command, not a hot path.
    """
    out: dict[str, Counter[str]] = {}
    with read_connection(engine) as connection:
        stories = connection.execute(
            select(_DOCS.c.id, _DOCS.c.extra).where(
                _DOCS.c.kind == "news", _DOCS.c.first_seen_at >= since
            )
        ).all()
        feeds_of = {row.id: tuple((row.extra or {}).get("feeds") or ()) for row in stories}
        if not feeds_of:
            return out
        rows = connection.execute(
            select(_COUNCILS.c.document_id, _COUNCILS.c.council_id)
            .join(_DOCS, _DOCS.c.id == _COUNCILS.c.document_id)
            .where(_DOCS.c.kind == "news", _DOCS.c.first_seen_at >= since)
        )
        for doc_id, council in rows:
            for feed in feeds_of.get(doc_id, ()):
                out.setdefault(feed, Counter())[council] += 1
    return out
