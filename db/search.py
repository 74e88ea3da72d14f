"""Full-text search over documents, one function for both dialects.

The query is what a person types: words (stemmed), "exact phrases", OR, and -word to exclude.
SQLite gets it translated to FTS5 syntax (bm25 ranking); PostgreSQL reads it natively with
websearch_to_tsquery (ts_rank_cd ranking).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy import Engine, and_, bindparam, func, literal_column, or_, select, text
from sqlalchemy.sql.elements import ColumnElement

from cwerrors import QueryError
from db.engine import is_sqlite, read_connection
from db.tables import DOCUMENTS as _DOCS

_TOKEN = re.compile(r'-?"[^"]*"?|\S+')
_WORD = re.compile(r"\w+", re.UNICODE)


@dataclass(frozen=True)
class SearchHit:
    id: int
    kind: str
    source: str
    title: str
    url: str
    date: date | None
    reference: str | None
    organisation: str | None
    outcome: str | None
    snippet: str
    rank: float


def to_fts5(query: str) -> str:
    """Translate a web-style query into an FTS5 MATCH expression (stemming by the porter table)."""
    positive: list[str] = []
    negative: list[str] = []
    pending_or = False
    for raw in _TOKEN.findall(query):
        negate = raw.startswith("-") and len(raw) > 1
        token = raw[1:] if negate else raw
        if token == "OR" and not negate:
            pending_or = bool(positive)
            continue
        if token.startswith('"'):
            words = _WORD.findall(token)
            expr = '"' + " ".join(words) + '"' if words else ""
        else:
            prefix = token.endswith("*")
            words = _WORD.findall(token)
            expr = " ".join(f'"{w}"' for w in words)
            if prefix and len(words) == 1:
                expr += "*"
        if not expr:
            continue
        if negate:
            negative.append(expr)
        elif pending_or and positive:
            positive[-1] = f"({positive[-1]} OR {expr})"
            pending_or = False
        else:
            positive.append(expr)
    if not positive:
        raise QueryError(f"search needs at least one word to look for: {query!r}")
    expression = " AND ".join(positive)
    for expr in negative:
        expression = f"({expression}) NOT {expr}"
    return expression


def _document_date_since(since: date) -> ColumnElement[bool]:
    start = datetime.combine(since, time.min, tzinfo=UTC)
    return or_(
        _DOCS.c.decided_on >= since,
        _DOCS.c.published_at >= start,
        and_(
            _DOCS.c.decided_on.is_(None),
            _DOCS.c.published_at.is_(None),
            _DOCS.c.first_seen_at >= start,
        ),
    )


def search_documents(
    engine: Engine,
    query: str,
    *,
    kind: str | None = None,
    source: str | None = None,
    since: date | None = None,
    limit: int = 20,
) -> list[SearchHit]:
    filters: list[ColumnElement[bool]] = []
    if kind:
        filters.append(_DOCS.c.kind == kind)
    if source:
        filters.append(_DOCS.c.source == source)
    if since:
        filters.append(_document_date_since(since))
    columns = [
        _DOCS.c.id,
        _DOCS.c.kind,
        _DOCS.c.source,
        _DOCS.c.title,
        _DOCS.c.url,
        _DOCS.c.decided_on,
        _DOCS.c.published_at,
        _DOCS.c.reference,
        _DOCS.c.organisation,
        _DOCS.c.outcome,
    ]
    with read_connection(engine) as connection:
        if is_sqlite(connection):
            rank: ColumnElement[Any] = literal_column("bm25(documents_fts, 10.0, 4.0, 1.0)")
            snippet: ColumnElement[Any] = literal_column(
                "snippet(documents_fts, 2, '[', ']', ' … ', 16)"
            )
            sql = (
                select(*columns, rank.label("rank"), snippet.label("snippet"))
                .select_from(_DOCS)
                .join(text("documents_fts"), literal_column("documents_fts.rowid") == _DOCS.c.id)
                .where(literal_column("documents_fts").op("MATCH")(bindparam("q")), *filters)
                .order_by(rank)
                .limit(limit)
            )
            rows = connection.execute(sql, {"q": to_fts5(query)}).all()
        else:
            vector: ColumnElement[Any] = literal_column("search_vector")
            tsquery = func.websearch_to_tsquery("english", bindparam("q"))
            rank = func.ts_rank_cd(vector, tsquery)
            snippet = func.ts_headline(
                "english",
                _DOCS.c.body,
                tsquery,
                "StartSel=[, StopSel=], MaxWords=30, MinWords=12",
            )
            sql = (
                select(*columns, rank.label("rank"), snippet.label("snippet"))
                .where(vector.op("@@")(tsquery), *filters)
                .order_by(rank.desc(), _DOCS.c.id.desc())
                .limit(limit)
            )
            rows = connection.execute(sql, {"q": query}).all()
    return [
        SearchHit(
            id=row.id,
            kind=row.kind,
            source=row.source,
            title=row.title,
            url=row.url,
            date=row.decided_on or (row.published_at.date() if row.published_at else None),
            reference=row.reference,
            organisation=row.organisation,
            outcome=row.outcome,
            snippet=" ".join(row.snippet.split()),
            rank=float(row.rank),
        )
        for row in rows
    ]
