"""Read-only queries behind the web pages: document lists, one document, feeds and counters."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, func, select

from db.engine import read_connection
from db.matches import pending_matches, recent_sets_of
from db.models import Document
from db.models_delivery import Alert
from db.search import StoredDocument
from db.tables import ALERTS as _ALERTS
from db.tables import DOCUMENT_COUNCILS as _TAGS
from db.tables import DOCUMENTS as _DOCS
from db.tables import FETCH_RUNS as _RUNS
from db.tables import OUTBOX as _OUTBOX
from db.tables import SUBSCRIBERS as _SUBS


@dataclass(frozen=True)
class DocumentFilters:
    council_id: str | None = None
    kind: str | None = None
    outcome: str | None = None
    category: str | None = None
    q: str | None = None


def _filtered(filters: DocumentFilters) -> Any:
    stmt = select(_DOCS)
    if filters.kind:
        stmt = stmt.where(_DOCS.c.kind == filters.kind)
    if filters.outcome:
        stmt = stmt.where(_DOCS.c.outcome == filters.outcome)
    if filters.category:
        stmt = stmt.where(_DOCS.c.category == filters.category)
    if filters.council_id:
        stmt = stmt.where(
            _DOCS.c.id.in_(
                select(_TAGS.c.document_id).where(_TAGS.c.council_id == filters.council_id)
            )
        )
    return stmt


def list_documents(
    engine: Engine, filters: DocumentFilters, *, page: int, per_page: int
) -> tuple[list[Document], bool]:
    """One page of documents, newest first; and whether more follow (a search, ``q``, is
    answered by councilwatch.search instead)."""
    offset = (page - 1) * per_page
    stmt = (
        _filtered(filters)
        .order_by(_DOCS.c.first_seen_at.desc(), _DOCS.c.id.desc())
        .offset(offset)
        .limit(per_page + 1)
    )
    with read_connection(engine) as connection:
        rows = connection.execute(stmt).all()
    docs = [Document.model_validate(dict(row._mapping)) for row in rows]
    return docs[:per_page], len(docs) > per_page


def get_document(engine: Engine, document_id: int) -> Document | None:
    with read_connection(engine) as connection:
        row = connection.execute(select(_DOCS).where(_DOCS.c.id == document_id)).first()
    return Document.model_validate(dict(row._mapping)) if row is not None else None


def cluster(engine: Engine, document: Document, *, limit: int = 20) -> list[Document]:
    """Other documents telling the same story (same cluster key), earliest first."""
    if not document.cluster_key:
        return []
    with read_connection(engine) as connection:
        rows = connection.execute(
            select(_DOCS)
            .where(_DOCS.c.cluster_key == document.cluster_key, _DOCS.c.id != document.id)
            .order_by(_DOCS.c.published_at, _DOCS.c.id)
            .limit(limit)
        ).all()
    return [Document.model_validate(dict(row._mapping)) for row in rows]


@dataclass(frozen=True)
class FeedEntry:
    document: Document | StoredDocument  # a search hit is a StoredDocument (db.search)
    matched_at: datetime
    snippet: str


def alert_feed(engine: Engine, alert_id: int, *, limit: int = 50) -> list[FeedEntry]:
    """The alert's newest matches (among the recent match sets), newest first; ``snippet``
    is left for the page to work out (only entries without a summary show one)."""
    sets = recent_sets_of(engine, alert_id, limit=limit)
    if not sets:
        return []
    with read_connection(engine) as connection:
        rows = connection.execute(
            select(_DOCS).where(_DOCS.c.id.in_([s.document_id for s in sets]))
        ).all()
    docs = {row.id: Document.model_validate(dict(row._mapping)) for row in rows}
    return [FeedEntry(docs[s.document_id], s.matched_at, "") for s in sets if s.document_id in docs]


def get_alert(engine: Engine, alert_id: int) -> Alert | None:
    with read_connection(engine) as connection:
        row = connection.execute(select(_ALERTS).where(_ALERTS.c.id == alert_id)).first()
    return Alert.model_validate(dict(row._mapping)) if row is not None else None


@dataclass(frozen=True)
class Counters:
    fetch_runs: Sequence[tuple[str, str, int]]  # source, result, count
    documents: Sequence[tuple[str, int]]  # kind, count
    outbox: Sequence[tuple[str, str, int]]  # kind, status, count
    outbox_due: int
    pending_matches: int
    subscribers: Sequence[tuple[str, int]]  # status, count


def counters(engine: Engine, *, now: datetime) -> Counters:
    with read_connection(engine) as connection:
        runs = connection.execute(
            select(_RUNS.c.source, _RUNS.c.ok, func.count()).group_by(_RUNS.c.source, _RUNS.c.ok)
        ).all()
        docs = connection.execute(select(_DOCS.c.kind, func.count()).group_by(_DOCS.c.kind)).all()
        outbox = connection.execute(
            select(_OUTBOX.c.kind, _OUTBOX.c.status, func.count()).group_by(
                _OUTBOX.c.kind, _OUTBOX.c.status
            )
        ).all()
        due = connection.execute(
            select(func.count()).where(
                _OUTBOX.c.status == "pending", _OUTBOX.c.next_attempt_at <= now
            )
        ).scalar_one()
        subs = connection.execute(
            select(_SUBS.c.status, func.count()).group_by(_SUBS.c.status)
        ).all()
    results = {True: "ok", False: "failed", None: "running"}
    return Counters(
        fetch_runs=sorted((str(s), results[ok], int(n)) for s, ok, n in runs),
        documents=sorted((str(k), int(n)) for k, n in docs),
        outbox=sorted((str(k), str(s), int(n)) for k, s, n in outbox),
        outbox_due=int(due),
        pending_matches=len(pending_matches(engine)),
        subscribers=sorted((str(s), int(n)) for s, n in subs),
    )
