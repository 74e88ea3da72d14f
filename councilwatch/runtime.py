"""The composition root's state for one process: settings and lazily made resources."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from councilwatch.config import Settings

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from alerts.councils import Register
    from councilwatch.alert_index import AlertIndex
    from db.search_types import DocumentReader
    from db.sqlite_search import SqliteReader
    from scraper.fetch import Clock, PoliteClient
    from scraper.quarantine import Quarantine


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class Runtime:
    """Everything a command or job needs, made once per process and passed down.

    ``now`` and ``fetch_clock`` are injectable so tests drive time; ``fetch_transport`` lets
    a test route the HTTP client elsewhere (the suites use a real local server instead).
    """

    settings: Settings
    now: Callable[[], datetime] = utcnow
    fetch_clock: Clock | None = None
    # Set when the service is asked to stop: long jobs check it between units of work and
    # end early with everything done so far stored and their run recorded.
    stopping: threading.Event = field(default_factory=threading.Event)
    _engine: Engine | None = field(default=None, repr=False)
    _register: Register | None = field(default=None, repr=False)
    _alert_index: AlertIndex | None = field(default=None, repr=False)
    _sqlite_reader: SqliteReader | None = field(default=None, repr=False)

    @property
    def engine(self) -> Engine:
        """The database as it is: a SQLite file that is not there is an error, not made."""
        if self._engine is None:
            from db.engine import check_connection, make_engine

            self._engine = make_engine(self.settings.database.url, create=False)
            check_connection(self._engine)
        return self._engine

    def creating_engine(self) -> Engine:
        """The database, creating a SQLite file (and its folder) if missing: `db upgrade`."""
        if self._engine is None:
            from db.engine import check_connection, make_engine

            self._engine = make_engine(self.settings.database.url, create=True)
            check_connection(self._engine)
        return self._engine

    def migrated_engine(self) -> Engine:
        """The engine, after checking the schema is current (a clear error otherwise)."""
        from db.schema_version import ensure_current

        ensure_current(self.engine)
        return self.engine

    def search_reader(self) -> DocumentReader:
        """What `councilwatch search` reads: a SQLite file with the current schema through
        sqlite3 alone (db.sqlite_search: no SQLAlchemy in its start-up); any other store, or
        a file that does not open as one, through the migrated engine with its usual errors."""
        if self._sqlite_reader is None and self._engine is None:
            from db.sqlite_search import SqliteReader

            self._sqlite_reader = SqliteReader.open(
                self.settings.database.url, engine=self.migrated_engine
            )
        if self._sqlite_reader is not None:
            return self._sqlite_reader
        from db.search import EngineReader

        return EngineReader(self.migrated_engine())

    @property
    def register(self) -> Register:
        if self._register is None:
            from councilwatch.councils import load_register

            self._register = load_register(self.settings)
        return self._register

    @property
    def alert_index(self) -> AlertIndex:
        """The stored alerts, filed once per process and kept up to date between batches."""
        if self._alert_index is None:
            from councilwatch.alert_index import AlertIndex
            from councilwatch.alert_problems import operator_reporter

            self._alert_index = AlertIndex(report=operator_reporter(self))
        return self._alert_index

    def client(self) -> PoliteClient:
        """A polite HTTP client whose per-URL state lives in the database."""
        from councilwatch.fetching import DatabaseFetchStateStore, client_options
        from scraper.fetch import PoliteClient

        return PoliteClient(
            client_options(self.settings.http),
            state=DatabaseFetchStateStore(self.migrated_engine(), self.now),
            clock=self.fetch_clock,
        )

    def quarantine(self) -> Quarantine:
        """Where pages that failed to parse are kept (bounded; see scraper.quarantine)."""
        from scraper.quarantine import Quarantine

        config = self.settings.quarantine
        return Quarantine(config.directory, max_bytes=config.max_bytes, now=self.now)

    def check_stopping(self) -> None:
        from cwerrors import ShutdownRequested

        if self.stopping.is_set():
            raise ShutdownRequested()

    def close(self) -> None:
        if self._sqlite_reader is not None:
            self._sqlite_reader.close()
            self._sqlite_reader = None
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None
