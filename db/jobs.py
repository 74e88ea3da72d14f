"""Exactly-once job slots, and locks that keep two runs of one thing apart.

Any number of service processes may fire the same job at the same time: the first INSERT of
(job, slot) wins and only that process works. Locks cover what slots cannot: a CLI fetch while
the service fetches the same source.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import IO

from sqlalchemy import Engine, text, update
from sqlalchemy.dialects import postgresql, sqlite

from cwerrors import StorageError
from db.engine import write_transaction
from db.tables import JOB_RUNS as _JOBS


def claim_slot(engine: Engine, job: str, slot: str, *, worker: str, now: datetime) -> bool:
    """True for exactly one caller per (job, slot)."""
    with write_transaction(engine) as connection:
        dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
        stmt = (
            dialect.insert(_JOBS)
            .values(job=job, slot=slot, worker=worker, claimed_at=now)
            .on_conflict_do_nothing(index_elements=["job", "slot"])
            .returning(_JOBS.c.job)
        )
        return connection.execute(stmt).first() is not None


def finish_slot(engine: Engine, job: str, slot: str, *, ok: bool, now: datetime) -> None:
    with write_transaction(engine) as connection:
        connection.execute(
            update(_JOBS)
            .where(_JOBS.c.job == job, _JOBS.c.slot == slot)
            .values(finished_at=now, ok=ok)
        )


class LockBusy(StorageError):
    """Another process holds the lock."""


def _lock_key(name: str) -> int:
    # pg advisory locks take a signed 64-bit key.
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


def _sqlite_lock_dir(engine: Engine) -> Path:
    database = engine.url.database or ""
    if not database or database == ":memory:":
        return Path("var/locks")
    return Path(database).resolve().parent / "locks"


@contextmanager
def exclusive(engine: Engine, name: str) -> Iterator[None]:
    """Hold a named lock for the block, or raise LockBusy at once.

    PostgreSQL: a session advisory lock on a dedicated connection (released if the process
    dies). SQLite: an flock on a file beside the database (one host, released on exit too).
    """
    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            key = _lock_key(name)
            got = connection.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar()
            connection.commit()
            if not got:
                raise LockBusy(f"{name} is already running in another process")
            try:
                yield
            finally:
                connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
                connection.commit()
        return
    handle = _open_lock_file(engine, name)
    try:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise LockBusy(f"{name} is already running in another process") from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        yield
    finally:
        handle.close()


def _open_lock_file(engine: Engine, name: str) -> IO[str]:
    directory = _sqlite_lock_dir(engine)
    directory.mkdir(parents=True, exist_ok=True)
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in name)
    return (directory / f"{safe}.lock").open("a+")
