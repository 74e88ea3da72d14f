"""Engine set-up for SQLite (embedded default, WAL) and PostgreSQL (scale-out)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, OperationalError

from cwerrors import StorageError

SQLITE_BUSY_TIMEOUT_MS = 30_000
_WRITE = "councilwatch_write"


def is_sqlite(engine: Engine | Connection) -> bool:
    return engine.dialect.name == "sqlite"


def make_engine(url: str, *, echo: bool = False, create: bool = True) -> Engine:
    """Create an engine; raise StorageError for a URL that cannot work.

    ``create=False`` (read-only commands, and everything but `db upgrade`): a SQLite file that
    does not exist is an error naming the command that creates it, never a new empty file and
    folder.
    """
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError) as exc:
        raise StorageError(f"invalid database URL {url!r} ({exc})") from None
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:" and not database.startswith("file:"):
            if not create and not Path(database).exists():
                raise StorageError(
                    f"no database at {database}: run `councilwatch db upgrade` to create it"
                )
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        try:
            engine = create_engine(
                url, echo=echo, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}
            )
        except NoSuchModuleError:
            raise StorageError(f"unsupported database URL {url!r}") from None
        _configure_sqlite(engine)
        return engine
    if parsed.get_backend_name() == "postgresql":
        if parsed.get_driver_name() != "psycopg":
            parsed = parsed.set(drivername="postgresql+psycopg")
        try:
            return create_engine(parsed, echo=echo, pool_pre_ping=True)
        except (NoSuchModuleError, ModuleNotFoundError):
            raise StorageError(
                "PostgreSQL needs psycopg 3: pip install 'councilwatch[postgres]'"
            ) from None
    raise StorageError(f"unsupported database URL {url!r} (use sqlite:/// or postgresql://)")


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # pysqlite's own transaction handling is switched off so that we can emit
        # BEGIN IMMEDIATE for writers: a deferred writer that upgrades its lock can
        # fail with SQLITE_BUSY at once instead of waiting for busy_timeout.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        if connection.get_execution_options().get(_WRITE):
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            connection.exec_driver_sql("BEGIN")


# SQLite copies the WAL into the database (a checkpoint: the pages, then an fsync) in the
# connection whose commit takes the WAL past this many pages; SQLite's default.
AUTOCHECKPOINT_PAGES = 1000
# ... and past this many when the writer defers (``defer_checkpoint``): ~100 MB, a bound on
# the WAL when nobody else commits meanwhile.
DEFERRED_CHECKPOINT_PAGES = 25_000


@contextmanager
def write_transaction(engine: Engine, *, defer_checkpoint: bool = False) -> Iterator[Connection]:
    """A transaction that intends to write: BEGIN IMMEDIATE on SQLite.

    A SQLite write lock held by another process past the busy timeout is a StorageError that
    says so (the transaction is rolled back), not a driver traceback.

    ``defer_checkpoint`` (SQLite): this commit leaves the WAL's checkpoint to the next other
    writer's commit, unless the WAL is past ``DEFERRED_CHECKPOINT_PAGES``. For big writes on
    a thread whose wall counts, a digest run's groups (~3 MB each at full size): checkpointing
    them was ~0.1 ms of a digest's CPU and ~0.1 ms of fsync waits (the bench's quick store),
    while the job's sending thread, which commits every few messages and mostly waits on the
    mail server, does the copying beside it (a checkpoint does not block writers).
    """
    deferring = defer_checkpoint and is_sqlite(engine)
    try:
        with engine.connect().execution_options(**{_WRITE: True}) as connection:
            if deferring:
                _autocheckpoint(connection, DEFERRED_CHECKPOINT_PAGES)
            try:
                with connection.begin():
                    yield connection
            finally:
                if deferring:  # before the connection goes back to the pool
                    _autocheckpoint(connection, AUTOCHECKPOINT_PAGES)
    except OperationalError as exc:
        if not is_sqlite(engine) or "database is locked" not in str(exc.orig):
            raise
        raise StorageError(
            f"the SQLite database {engine.url.database} stayed locked by another process for "
            f"{SQLITE_BUSY_TIMEOUT_MS // 1000}s; try again when it has finished "
            "(several writers at once need PostgreSQL)"
        ) from None


def _autocheckpoint(connection: Connection, pages: int) -> None:
    """Set the connection's WAL autocheckpoint through the driver's own connection: a PRAGMA
    sent through SQLAlchemy would begin a transaction first."""
    driver = connection.connection.driver_connection
    if driver is not None:
        driver.execute(f"PRAGMA wal_autocheckpoint={int(pages)}")


@contextmanager
def read_connection(engine: Engine) -> Iterator[Connection]:
    with engine.connect() as connection, connection.begin():
        yield connection


def check_connection(engine: Engine) -> None:
    """Raise StorageError with a one-line reason when the database is unreachable."""
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except DBAPIError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        where = engine.url.render_as_string(hide_password=True)
        if is_sqlite(engine) and "not a database" in reason:
            raise StorageError(
                f"{engine.url.database} is not a SQLite database ({reason})"
            ) from None
        raise StorageError(f"cannot connect to database {where}: {reason}") from None
