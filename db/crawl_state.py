"""What a source's crawler remembers between runs, for every source alike.

- ``crawl_checkpoints``: named JSON values per source (an LGSCO listing window's result count
  and pages done, a Housing Ombudsman backfill's next archive page). They are the resume
  points of backfills and the memory that makes "0 results" for a window with results a fault.
- Listing fingerprints are not a table: they live in ``documents.extra["listing_fingerprint"]``
  so a document and its fingerprint are written in one transaction (a run killed between the
  two cannot leave a stored document that looks unknown and is fetched again).

``db`` imports no ``scraper`` code: :class:`CrawlState` has the shape of the scrapers'
``SourceMemory`` protocol, and values cross as plain fields.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Column, DateTime, Engine, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Field, SQLModel

from db.document_tables import DOCUMENTS as _DOCS
from db.engine import read_connection, write_transaction

FINGERPRINT_KEY = "listing_fingerprint"
_LOOKUP_CHUNK = 500


class CrawlCheckpoint(SQLModel, table=True):
    """One named resume point of one source's crawler."""

    __tablename__ = "crawl_checkpoints"

    source: str = Field(primary_key=True, max_length=100)
    name: str = Field(primary_key=True, max_length=200)
    value: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    updated_at: datetime = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=False)
    )


_CHECKPOINTS = CrawlCheckpoint.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class StoredDocument:
    fingerprint: str | None
    decided_on: date | None


class CrawlState:
    """One source's stored documents and checkpoints (the crawlers' ``SourceMemory``)."""

    def __init__(self, engine: Engine, source: str, clock: Callable[[], datetime]) -> None:
        self._engine = engine
        self._source = source
        self._clock = clock

    def stored(self, keys: Collection[str]) -> Mapping[str, StoredDocument]:
        wanted = list(dict.fromkeys(keys))
        found: dict[str, StoredDocument] = {}
        with read_connection(self._engine) as connection:
            for start in range(0, len(wanted), _LOOKUP_CHUNK):
                rows = connection.execute(
                    select(_DOCS.c.source_key, _DOCS.c.extra, _DOCS.c.decided_on).where(
                        _DOCS.c.source == self._source,
                        _DOCS.c.source_key.in_(wanted[start : start + _LOOKUP_CHUNK]),
                    )
                )
                for row in rows:
                    extra = row.extra if isinstance(row.extra, dict) else {}
                    fingerprint = extra.get(FINGERPRINT_KEY)
                    found[row.source_key] = StoredDocument(
                        fingerprint if isinstance(fingerprint, str) else None, row.decided_on
                    )
        return found

    def known_between(self, date_from: date, date_to: date) -> int:
        with read_connection(self._engine) as connection:
            count = connection.execute(
                select(func.count()).where(
                    _DOCS.c.source == self._source, _DOCS.c.decided_on.between(date_from, date_to)
                )
            ).scalar()
        return int(count or 0)

    def checkpoint(self, name: str) -> dict[str, Any] | None:
        with read_connection(self._engine) as connection:
            value = connection.execute(
                select(_CHECKPOINTS.c.value).where(
                    _CHECKPOINTS.c.source == self._source, _CHECKPOINTS.c.name == name
                )
            ).scalar()
        return dict(value) if isinstance(value, dict) else None

    def save_checkpoint(self, name: str, value: dict[str, Any]) -> None:
        values = {"value": dict(value), "updated_at": self._clock()}
        with write_transaction(self._engine) as connection:
            dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
            stmt = dialect.insert(_CHECKPOINTS).values(source=self._source, name=name, **values)
            connection.execute(
                stmt.on_conflict_do_update(index_elements=["source", "name"], set_=values)
            )
