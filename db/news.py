"""Queries for news runs: stored stories by canonical URL as records, partial ones (due for a
retry), the recent texts and titles that clustering and Google News matching read, and cluster
keys. The record queries take any ``source`` (the runner's memory of a source's items).

News documents are ``source = "news"`` rows whose ``source_key`` is the canonical URL. What a
feed run knows of a story beyond the columns lives in ``extra`` (feeds, retries, ...); it is
read here in Python rather than through JSON operators, which SQLite and PostgreSQL spell
differently, and the partial or recent sets it is read from are small.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, bindparam, func, select, update

from db.engine import read_connection, write_transaction
from db.ingest import CONTENT_FIELDS, DocumentRecord
from db.tables import DOCUMENTS as _DOCS

NEWS_SOURCE = "news"
# SQLite limits bound parameters per statement; PostgreSQL is happy either way.
_CHUNK = 500


@dataclass(frozen=True)
class NewsText:
    """What clustering reads of one stored story."""

    id: int
    source_key: str
    text: str
    published_at: datetime  # published, else first seen
    cluster_key: str | None


def _aware(moment: datetime | None) -> datetime | None:
    # SQLite hands back naive datetimes; everything stored is UTC
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment


def news_records(
    engine: Engine, urls: Collection[str], *, source: str = NEWS_SOURCE
) -> dict[str, DocumentRecord]:
    """Stored stories (of ``source``) as the records that would store them again (to add to
    their ``extra`` through the ordinary upsert, so the change is a revision like any other)."""
    wanted = list(dict.fromkeys(urls))
    columns = [_DOCS.c[name] for name in ("source_key", "url", *CONTENT_FIELDS)]
    found: dict[str, DocumentRecord] = {}
    with read_connection(engine) as connection:
        for start in range(0, len(wanted), _CHUNK):
            rows = connection.execute(
                select(*columns).where(
                    _DOCS.c.source == source,
                    _DOCS.c.source_key.in_(wanted[start : start + _CHUNK]),
                )
            )
            for row in rows:
                found[row.source_key] = _record(source, row)
    return found


def partial_records(engine: Engine, *, source: str = NEWS_SOURCE) -> list[DocumentRecord]:
    """The stored documents of ``source`` whose page could not be had, oldest first."""
    columns = [_DOCS.c[name] for name in ("source_key", "url", *CONTENT_FIELDS)]
    with read_connection(engine) as connection:
        rows = connection.execute(
            select(*columns)
            .where(_DOCS.c.source == source, _DOCS.c.partial.is_(True))
            .order_by(_DOCS.c.id)
        )
        return [_record(source, row) for row in rows]


def _record(source: str, row: Any) -> DocumentRecord:
    values = row._asdict()
    values["published_at"] = _aware(values["published_at"])
    values["partial"] = bool(values["partial"])
    values["extra"] = dict(values["extra"] or {})
    return DocumentRecord(source=source, **values)


def _since_clause(since: datetime) -> Any:
    return func.coalesce(_DOCS.c.published_at, _DOCS.c.first_seen_at) >= since


def recent_news_texts(engine: Engine, *, since: datetime) -> list[NewsText]:
    """Stories published (or, undated, first seen) since ``since``, oldest first; the text is
    the body, or the summary of a partial story."""
    stamp = func.coalesce(_DOCS.c.published_at, _DOCS.c.first_seen_at)
    with read_connection(engine) as connection:
        rows = connection.execute(
            select(
                _DOCS.c.id,
                _DOCS.c.source_key,
                _DOCS.c.body,
                _DOCS.c.summary,
                _DOCS.c.cluster_key,
                stamp.label("stamp"),
            )
            .where(_DOCS.c.source == NEWS_SOURCE, _since_clause(since))
            .order_by(stamp, _DOCS.c.id)
        ).all()
    return [
        NewsText(
            id=row.id,
            source_key=row.source_key,
            text=row.body or row.summary,
            published_at=_aware(row.stamp) or since,
            cluster_key=row.cluster_key,
        )
        for row in rows
    ]


def recent_news_titles(
    engine: Engine, *, since: datetime, source: str = NEWS_SOURCE
) -> list[tuple[str, str]]:
    """(source_key, title) of stories published (or first seen) since ``since``."""
    with read_connection(engine) as connection:
        rows = connection.execute(
            select(_DOCS.c.source_key, _DOCS.c.title)
            .where(_DOCS.c.source == source, _since_clause(since))
            .order_by(_DOCS.c.id)
        ).all()
    return [(row.source_key, row.title) for row in rows]


def set_cluster_keys(engine: Engine, keys: Mapping[int, str]) -> int:
    """Write ``documents.cluster_key`` by document id; returns how many rows changed."""
    if not keys:
        return 0
    ids = list(keys)
    with write_transaction(engine) as connection:
        current = {
            row.id: row.cluster_key
            for start in range(0, len(ids), _CHUNK)
            for row in connection.execute(
                select(_DOCS.c.id, _DOCS.c.cluster_key).where(
                    _DOCS.c.id.in_(ids[start : start + _CHUNK])
                )
            )
        }
        params = [
            {"b_id": doc_id, "b_key": key}
            for doc_id, key in keys.items()
            if doc_id in current and current[doc_id] != key
        ]
        if params:
            connection.execute(
                update(_DOCS)
                .where(_DOCS.c.id == bindparam("b_id"))
                .values(cluster_key=bindparam("b_key")),
                params,
            )
    return len(params)
