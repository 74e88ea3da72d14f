"""What the LGSCO crawler remembers between runs: listing windows and the stored fingerprints.

- ``lgsco_windows``: one row per window of decision dates that was walked (the incremental
  window of a day, a backfill month): its last result count, the listing pages fully processed
  and whether it is complete. That is the backfill checkpoint and the memory that makes
  "0 results" for a window with results a fault.
- Listing fingerprints are not a table: they live in ``documents.extra["listing_fingerprint"]``
  so a decision and its fingerprint are written in one transaction (a run killed between the
  two cannot leave a stored decision that looks unknown and is fetched again).

``db`` imports no ``scraper`` code: values cross as plain fields; councilwatch/ adapts them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Column, DateTime, Engine, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Field, SQLModel

from db.engine import read_connection, write_transaction
from db.models import Document

SOURCE = "lgsco"
FINGERPRINT_KEY = "listing_fingerprint"


class LgscoWindow(SQLModel, table=True):
    """A window of decision dates the crawler walked, and how far it got."""

    __tablename__ = "lgsco_windows"

    date_from: date = Field(primary_key=True)
    date_to: date = Field(primary_key=True)
    total: int | None = None
    pages_done: list[int] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    complete: bool = False
    updated_at: datetime = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=False)
    )


_WINDOWS = LgscoWindow.__table__  # type: ignore[attr-defined]
_DOCS = Document.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class StoredWindow:
    total: int | None
    pages_done: frozenset[int]
    complete: bool


class LgscoState:
    def __init__(self, engine: Engine, clock: Callable[[], datetime]) -> None:
        self._engine = engine
        self._clock = clock

    def fingerprint(self, reference: str) -> str | None:
        """The listing fingerprint stored with decision ``reference``; None if not stored."""
        with read_connection(self._engine) as connection:
            extra: Any = connection.execute(
                select(_DOCS.c.extra).where(
                    _DOCS.c.source == SOURCE, _DOCS.c.source_key == reference
                )
            ).scalar()
        if not isinstance(extra, dict):
            return None
        value = extra.get(FINGERPRINT_KEY)
        return value if isinstance(value, str) else None

    def known_between(self, date_from: date, date_to: date) -> int:
        with read_connection(self._engine) as connection:
            count = connection.execute(
                select(func.count()).where(
                    _DOCS.c.source == SOURCE, _DOCS.c.decided_on.between(date_from, date_to)
                )
            ).scalar()
        return int(count or 0)

    def window(self, date_from: date, date_to: date) -> StoredWindow | None:
        with read_connection(self._engine) as connection:
            row = connection.execute(
                select(_WINDOWS.c.total, _WINDOWS.c.pages_done, _WINDOWS.c.complete).where(
                    _WINDOWS.c.date_from == date_from, _WINDOWS.c.date_to == date_to
                )
            ).first()
        if row is None:
            return None
        return StoredWindow(row.total, frozenset(row.pages_done or ()), bool(row.complete))

    def save_window(self, date_from: date, date_to: date, state: StoredWindow) -> None:
        values = {
            "total": state.total,
            "pages_done": sorted(state.pages_done),
            "complete": state.complete,
            "updated_at": self._clock(),
        }
        with write_transaction(self._engine) as connection:
            dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
            stmt = dialect.insert(_WINDOWS).values(date_from=date_from, date_to=date_to, **values)
            connection.execute(
                stmt.on_conflict_do_update(index_elements=["date_from", "date_to"], set_=values)
            )
