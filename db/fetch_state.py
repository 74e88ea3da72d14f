"""Per-URL fetch state in the database (the scraper's FetchStateStore, structurally).

`db` does not import `scraper`, so values cross as plain fields; councilwatch/ adapts them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, select
from sqlalchemy.dialects import postgresql, sqlite

from db.engine import read_connection, write_transaction
from db.tables import FETCH_STATE as _STATE

FIELDS = ("etag", "last_modified", "last_status", "moved_to", "gone")


@dataclass(frozen=True)
class StoredUrlState:
    etag: str | None
    last_modified: str | None
    last_status: int | None
    moved_to: str | None
    gone: bool


class DbFetchState:
    def __init__(self, engine: Engine, clock: Callable[[], datetime]) -> None:
        self._engine = engine
        self._clock = clock

    def load(self, url: str) -> StoredUrlState | None:
        with read_connection(self._engine) as connection:
            row = connection.execute(
                select(*(_STATE.c[name] for name in FIELDS)).where(_STATE.c.url == url)
            ).first()
        return StoredUrlState(**row._mapping) if row is not None else None

    def save(self, url: str, state: StoredUrlState) -> None:
        values = {name: getattr(state, name) for name in FIELDS}
        values["updated_at"] = self._clock()
        with write_transaction(self._engine) as connection:
            dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
            stmt = dialect.insert(_STATE).values(url=url, **values)
            connection.execute(stmt.on_conflict_do_update(index_elements=["url"], set_=values))
