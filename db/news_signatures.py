"""Stored clustering signatures of news stories: one row per signed story and its LSH band
keys, so a feed run looks up only its new stories' bands instead of rebuilding the window.

The window is the stories whose stamp (published, else first seen) is on or after ``since``.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, Select, delete, func, select
from sqlalchemy.dialects import postgresql, sqlite

from db.engine import read_connection, write_transaction
from db.news import NEWS_SOURCE, NewsText, _aware
from db.tables import DOCUMENTS as _DOCS
from db.tables import NEWS_BANDS as _BANDS
from db.tables import NEWS_SIGNATURES as _SIGS

# SQLite limits bound parameters per statement; PostgreSQL is happy either way.
_CHUNK = 4000  # band keys of ~100 stories per query; under SQLite's 32,766 parameters


def _stamp() -> Any:
    return func.coalesce(_DOCS.c.published_at, _DOCS.c.first_seen_at)


def _texts(rows: Sequence[Any]) -> list[NewsText]:
    return [
        NewsText(
            id=row.id,
            source_key=row.source_key,
            text=row.body or row.summary,
            published_at=_aware(row.stamp) or row.stamp,
            cluster_key=row.cluster_key,
        )
        for row in rows
    ]


def _text_query() -> Select[Any]:
    return select(
        _DOCS.c.id,
        _DOCS.c.source_key,
        _DOCS.c.body,
        _DOCS.c.summary,
        _DOCS.c.cluster_key,
        _stamp().label("stamp"),
    ).where(_DOCS.c.source == NEWS_SOURCE)


def news_texts(
    engine: Engine, ids: Collection[int], *, since: datetime | None = None
) -> list[NewsText]:
    """The stored stories among ``ids`` (only those on or after ``since`` when given)."""
    wanted = sorted(set(ids))
    found: list[NewsText] = []
    with read_connection(engine) as connection:
        for start in range(0, len(wanted), _CHUNK):
            stmt = _text_query().where(_DOCS.c.id.in_(wanted[start : start + _CHUNK]))
            if since is not None:
                stmt = stmt.where(_stamp() >= since)
            found += _texts(connection.execute(stmt).all())
    return found


def unsigned_news(engine: Engine, *, since: datetime) -> list[NewsText]:
    """Stories in the window stored after the newest signed one: before signatures existed,
    or by a run that stopped before clustering. An indexed range on ids, not a window scan
    (a story revised later is re-signed by the run that revised it)."""
    newest = select(func.coalesce(func.max(_SIGS.c.document_id), 0)).scalar_subquery()
    with read_connection(engine) as connection:
        rows = connection.execute(
            _text_query().where(_DOCS.c.id > newest, since <= _stamp()).order_by(_DOCS.c.id)
        ).all()
    return _texts(rows)


def stored_shingles(engine: Engine, ids: Collection[int]) -> dict[int, bytes]:
    """The stored shingle hashes of the signed stories among ``ids``."""
    wanted = sorted(set(ids))
    found: dict[int, bytes] = {}
    with read_connection(engine) as connection:
        for start in range(0, len(wanted), _CHUNK):
            rows = connection.execute(
                select(_SIGS.c.document_id, _SIGS.c.shingles).where(
                    _SIGS.c.document_id.in_(wanted[start : start + _CHUNK])
                )
            )
            found.update((row.document_id, bytes(row.shingles)) for row in rows)
    return found


def save_signatures(
    engine: Engine, signatures: Mapping[int, tuple[datetime, bytes, Sequence[int]]]
) -> None:
    """Store (replace) each story's stamp, shingle hashes and band keys, by document id."""
    if not signatures:
        return
    ids = sorted(signatures)
    with write_transaction(engine) as connection:
        for start in range(0, len(ids), _CHUNK):
            chunk = ids[start : start + _CHUNK]
            connection.execute(delete(_BANDS).where(_BANDS.c.document_id.in_(chunk)))
            connection.execute(delete(_SIGS).where(_SIGS.c.document_id.in_(chunk)))
        # another run signing the same stories at once (the first runs after an upgrade) must
        # not fail on the keys: both computed the same rows from the same text
        dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
        connection.execute(
            dialect.insert(_SIGS).on_conflict_do_nothing(),
            [
                {"document_id": i, "stamp": signatures[i][0], "shingles": signatures[i][1]}
                for i in ids
            ],
        )
        bands = [{"band_key": key, "document_id": i} for i in ids for key in set(signatures[i][2])]
        if bands:
            connection.execute(dialect.insert(_BANDS).on_conflict_do_nothing(), bands)


def sharing_bands(
    engine: Engine, keys: Collection[int], *, since: datetime
) -> dict[int, list[int]]:
    """Band key -> ids of the window's stories with that key."""
    wanted = sorted(set(keys))
    found: dict[int, list[int]] = {}
    with read_connection(engine) as connection:
        for start in range(0, len(wanted), _CHUNK):
            rows = connection.execute(
                select(_BANDS.c.band_key, _BANDS.c.document_id)
                .join(_SIGS, _SIGS.c.document_id == _BANDS.c.document_id)
                .where(
                    _BANDS.c.band_key.in_(wanted[start : start + _CHUNK]), _SIGS.c.stamp >= since
                )
            )
            for row in rows:
                found.setdefault(row.band_key, []).append(row.document_id)
    return found


def forget_signatures(engine: Engine, *, before: datetime) -> int:
    """Drop the signatures of stories that have left the window for good; returns how many."""
    old = select(_SIGS.c.document_id).where(_SIGS.c.stamp < before)
    with write_transaction(engine) as connection:
        connection.execute(delete(_BANDS).where(_BANDS.c.document_id.in_(old)))
        return connection.execute(delete(_SIGS).where(_SIGS.c.stamp < before)).rowcount or 0
