"""Exactly-once job slots, leases on shared work, and locks that keep two runs apart.

Any number of service processes may fire the same job at the same time: the first INSERT of
(job, slot) wins and only that process works. Work several processes share (a digest run's
subscriber batches) is claimed as leases: a slot whose holder stops renewing it before
finishing (it died) may be taken over. Locks cover what slots cannot: a CLI fetch while the
service fetches the same source.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO

from sqlalchemy import Engine, select, text, update
from sqlalchemy.dialects import postgresql, sqlite

from cwerrors import StorageError
from db.engine import read_connection, write_transaction
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


def claim_lease(
    engine: Engine, job: str, slot: str, *, worker: str, now: datetime, lease: timedelta
) -> bool:
    """True when ``worker`` now holds (job, slot): nobody had claimed it, or its holder left it
    unfinished and has not renewed it for ``lease`` (it died or hung): a takeover. The
    lease's ``claimed_at`` is the last renewal (renew_leases)."""
    if claim_slot(engine, job, slot, worker=worker, now=now):
        return True
    with write_transaction(engine) as connection:
        taken = connection.execute(
            update(_JOBS)
            .where(
                _JOBS.c.job == job,
                _JOBS.c.slot == slot,
                _JOBS.c.finished_at.is_(None),
                _JOBS.c.claimed_at < now - lease,
            )
            .values(worker=worker, claimed_at=now)
        )
        return taken.rowcount == 1


def renew_leases(engine: Engine, job: str, *, worker: str, prefix: str, now: datetime) -> int:
    """Renew every unfinished lease ``worker`` holds on ``job`` slots starting ``prefix``."""
    with write_transaction(engine) as connection:
        renewed = connection.execute(
            update(_JOBS)
            .where(
                _JOBS.c.job == job,
                _JOBS.c.worker == worker,
                _JOBS.c.finished_at.is_(None),
                _JOBS.c.slot.startswith(prefix, autoescape=True),
            )
            .values(claimed_at=now)
        )
        return int(renewed.rowcount)


def slots_finished(engine: Engine, job: str, slots: Sequence[str]) -> dict[str, bool]:
    """For each of ``slots`` claimed so far: whether its holder finished it."""
    found: dict[str, bool] = {}
    with read_connection(engine) as connection:
        for start in range(0, len(slots), 500):
            rows = connection.execute(
                select(_JOBS.c.slot, _JOBS.c.finished_at).where(
                    _JOBS.c.job == job, _JOBS.c.slot.in_(slots[start : start + 500])
                )
            ).all()
            found.update((str(row.slot), row.finished_at is not None) for row in rows)
    return found


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
