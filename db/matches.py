"""The councils each document names, and the alert matches waiting for a digest."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, delete, insert, select
from sqlalchemy.dialects import postgresql, sqlite

from db.engine import read_connection, write_transaction
from db.models_delivery import AlertMatch
from db.tables import ALERT_MATCHES as _MATCHES
from db.tables import DOCUMENT_COUNCILS as _TAGS


@dataclass(frozen=True)
class CouncilTag:
    council_id: str
    matched_text: str
    confidence: float


@dataclass(frozen=True)
class NewMatch:
    alert_id: int
    subscriber_id: int
    document_id: int
    backfill: bool
    councils: Sequence[str] = ()
    terms: Sequence[str] = ()
    snippet: str = ""


def set_document_councils(engine: Engine, tags: Mapping[int, Sequence[CouncilTag]]) -> int:
    """Replace the council tags of these documents; returns the number of tags written."""
    if not tags:
        return 0
    rows = [
        {
            "document_id": doc_id,
            "council_id": tag.council_id,
            "matched_text": tag.matched_text[:512],
            "confidence": tag.confidence,
        }
        for doc_id, doc_tags in tags.items()
        for tag in {t.council_id: t for t in doc_tags}.values()
    ]
    with write_transaction(engine) as connection:
        connection.execute(delete(_TAGS).where(_TAGS.c.document_id.in_(list(tags))))
        if rows:
            connection.execute(insert(_TAGS), rows)
    return len(rows)


def document_councils(engine: Engine, document_ids: Sequence[int]) -> dict[int, list[str]]:
    found: dict[int, list[str]] = {doc_id: [] for doc_id in document_ids}
    if not document_ids:
        return found
    with read_connection(engine) as connection:
        for row in connection.execute(
            select(_TAGS.c.document_id, _TAGS.c.council_id)
            .where(_TAGS.c.document_id.in_(list(document_ids)))
            .order_by(_TAGS.c.document_id, _TAGS.c.confidence.desc(), _TAGS.c.council_id)
        ):
            found[row.document_id].append(row.council_id)
    return found


def add_matches(engine: Engine, matches: Sequence[NewMatch], *, now: datetime) -> int:
    """Record matches once: a second call with the same (alert, document) adds nothing."""
    if not matches:
        return 0
    rows = [
        {
            "alert_id": m.alert_id,
            "subscriber_id": m.subscriber_id,
            "document_id": m.document_id,
            "matched_at": now,
            "backfill": m.backfill,
            "councils": list(m.councils),
            "terms": list(m.terms),
            "snippet": m.snippet,
        }
        for m in matches
    ]
    with write_transaction(engine) as connection:
        dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
        stmt = (
            dialect.insert(_MATCHES)
            .on_conflict_do_nothing(index_elements=["alert_id", "document_id"])
            .returning(_MATCHES.c.id)
        )
        return len(connection.execute(stmt, rows).all())


def pending_matches(
    engine: Engine, subscriber_ids: Sequence[int] | None = None
) -> list[AlertMatch]:
    """Matches not yet put in a digest, oldest first."""
    stmt = select(_MATCHES).where(_MATCHES.c.digested_at.is_(None)).order_by(_MATCHES.c.id)
    if subscriber_ids is not None:
        stmt = stmt.where(_MATCHES.c.subscriber_id.in_(list(subscriber_ids)))
    with read_connection(engine) as connection:
        return [AlertMatch.model_validate(dict(row._mapping)) for row in connection.execute(stmt)]
