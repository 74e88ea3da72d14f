"""The composition root's state for one process: settings and lazily made resources."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from councilwatch.config import Settings

if TYPE_CHECKING:
    from sqlalchemy import Engine


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class Runtime:
    settings: Settings
    _engine: Engine | None = field(default=None, repr=False)

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            from db.engine import check_connection, make_engine

            self._engine = make_engine(self.settings.database.url)
            check_connection(self._engine)
        return self._engine

    def migrated_engine(self) -> Engine:
        """The engine, after checking the schema is current (a clear error otherwise)."""
        from db.migrate import ensure_current

        ensure_current(self.engine)
        return self.engine

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None
