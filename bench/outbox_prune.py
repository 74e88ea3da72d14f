"""Sent mail's retention on a large outbox: db.outbox_prune.prune_bodies (batched) beside one
DELETE statement over the same rows (what a first version writes), each on its own copy of
the same store, while a writer beside it commits a small transaction every 20 ms (as the
senders and ingest do): how long the prune takes, and how long that writer waited at most.

    .venv/bin/python bench/outbox_prune.py                       # 100,000 rows, ~57 KB each
    .venv/bin/python bench/outbox_prune.py --rows 10000          # quicker
    .venv/bin/python bench/outbox_prune.py --postgres URL        # also on PostgreSQL

The store (var/bench-outbox/, built once and cached): ``--rows`` emails queued one a second
over the 60 days to now; those older than 30 days sent (every twentieth failed for good),
newer ones sent too but for the last 1%, which are pending. Checked after each run: the
bodies left are exactly those of rows pending or finished within the period, on both sides.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import resource
import shutil
import statistics
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(HERE))

from sqlalchemy import Engine, delete, func, select, text, update  # noqa: E402

from bench.common import print_table  # noqa: E402
from cwerrors import StorageError  # noqa: E402
from db import migrate  # noqa: E402
from db.delivery_tables import OUTBOX, OUTBOX_BODIES  # noqa: E402
from db.engine import make_engine, read_connection, write_transaction  # noqa: E402
from db.outbox import OutgoingMessage, enqueue_many  # noqa: E402
from db.outbox_prune import FINISHED, PRUNE_BATCH, prune_bodies  # noqa: E402

WORK = HERE / "var" / "bench-outbox"
NOW = datetime(2026, 11, 1, 7, tzinfo=UTC)
KEEP = timedelta(days=30)
SPAN = timedelta(days=60)


def body(n: int, size: int) -> str:
    line = f"digest {n:08d} " + "0123456789abcdef" * 4 + "\r\n"
    return "Subject: digest\r\n\r\n" + line * (size // len(line))


def build(engine: Engine, rows: int, size: int) -> None:
    migrate.upgrade(engine)
    step = SPAN / rows
    t0 = time.perf_counter()
    for start in range(0, rows, 1000):
        ns = range(start, min(rows, start + 1000))
        with write_transaction(engine) as connection:
            for n in ns:  # enqueue_many takes one `now`: a statement per queued second
                enqueue_many(
                    connection,
                    [OutgoingMessage(f"k{n}", f"<{n}@b>", "digest", f"s{n}@example.org",
                                     "Digest", body(n, size))],
                    now=NOW - SPAN + n * step,
                )  # fmt: skip
            ids = select(OUTBOX.c.id).where(OUTBOX.c.idempotency_key.in_([f"k{n}" for n in ns]))
            connection.execute(
                update(OUTBOX)
                .where(OUTBOX.c.id.in_(ids), OUTBOX.c.id <= int(rows * 0.99))
                .values(status="sent", sent_at=OUTBOX.c.created_at)  # sent when queued
            )
            connection.execute(
                update(OUTBOX)
                .where(OUTBOX.c.id.in_(ids), OUTBOX.c.id % 20 == 0, OUTBOX.c.id <= rows // 2)
                .values(status="failed", sent_at=None)
            )
        if start % 20_000 == 0:
            print(f"  queued {start + 1000:,} ({time.perf_counter() - t0:.0f} s)", flush=True)


def sqlite_template(rows: int, size: int) -> Path:
    WORK.mkdir(parents=True, exist_ok=True)
    path = WORK / f"outbox-{rows}-{size}.db"
    if not path.exists():
        print(f"building {path} ...", flush=True)
        partial = path.with_suffix(".partial")
        for leftover in WORK.glob(partial.name + "*"):
            leftover.unlink()
        engine = make_engine(f"sqlite:///{partial}")
        build(engine, rows, size)
        with engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        engine.dispose()
        partial.rename(path)
    return path


def one_statement(engine: Engine, before: datetime) -> int:
    """The unbatched delete: every finished body older than the cut-off, one transaction."""
    finished = select(OUTBOX.c.id).where(
        OUTBOX.c.status.in_(FINISHED),
        func.coalesce(OUTBOX.c.sent_at, OUTBOX.c.next_attempt_at) < before,
    )
    with write_transaction(engine) as connection:
        return int(
            connection.execute(
                delete(OUTBOX_BODIES).where(OUTBOX_BODIES.c.outbox_id.in_(finished))
            ).rowcount
        )


def kept(engine: Engine) -> str:
    with read_connection(engine) as connection:
        ids = connection.execute(
            select(OUTBOX_BODIES.c.outbox_id).order_by(OUTBOX_BODIES.c.outbox_id)
        ).scalars()
        return hashlib.sha256(",".join(map(str, ids)).encode()).hexdigest()[:16]


def with_a_writer(engine: Engine, work: object) -> tuple[float, float, float, int, float, float]:
    """Run ``work`` while another thread commits a one-row update every 20 ms: the work's
    wall and CPU seconds, the writer's longest and median wait (s), its commits (a commit
    refused after SQLite's 30 s busy timeout counts as a wait that long)."""
    waits: list[float] = []
    failed: list[float] = []
    done = threading.Event()

    def writer() -> None:
        while not done.is_set():
            start = time.perf_counter()
            try:
                with write_transaction(engine) as connection:
                    connection.execute(text("UPDATE outbox SET attempts = attempts WHERE id = 1"))
            except StorageError:  # locked past SQLite's busy timeout: it waited that long
                failed.append(time.perf_counter() - start)
            waits.append(time.perf_counter() - start)
            time.sleep(0.02)

    thread = threading.Thread(target=writer)
    thread.start()
    time.sleep(0.2)
    before = len(waits)
    cpu = time.process_time()
    start = time.perf_counter()
    result = work()  # type: ignore[operator]
    wall = time.perf_counter() - start
    cpu = time.process_time() - cpu
    done.set()
    thread.join()  # a commit the work held up ends now: it counts
    during = waits[before:]
    if failed:
        print(f"  the writer gave up {len(failed)} times (locked past the busy timeout)")
    return wall, cpu, max(during or [0.0]), len(during), statistics.median(during or [0.0]), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--body-bytes", type=int, default=57_000)
    parser.add_argument("--postgres", metavar="URL")
    parser.add_argument(
        "--sides", default=f"{PRUNE_BATCH},one", help="batch sizes to run, 'one': one statement"
    )
    args = parser.parse_args()
    before = NOW - KEEP
    template = sqlite_template(args.rows, args.body_bytes)
    sides = [int(b) if b != "one" else None for b in args.sides.split(",")]
    rows = []
    for batch in sides:
        name = f"batches of {batch}" if batch else "one statement"
        copy = WORK / "run.db"
        shutil.copyfile(template, copy)
        url = f"sqlite:///{copy}"
        engine = make_engine(url)

        def work(e: Engine = engine, b: int | None = batch) -> int:
            if b is None:
                return one_statement(e, before)
            return prune_bodies(e, before=before, batch=b).deleted

        wall, cpu, longest, commits, median, deleted = with_a_writer(engine, work)
        rows.append(
            ["sqlite", name, deleted, f"{wall:.2f}", f"{cpu:.2f}", f"{longest * 1000:.0f}",
             f"{median * 1000:.1f}", commits, kept(engine), f"{os.getloadavg()[0]:.1f}"]
        )  # fmt: skip
        print(" | ".join(map(str, rows[-1])), flush=True)
        engine.dispose()
        Path(url.removeprefix("sqlite:///")).unlink()
    if args.postgres:
        rows += postgres_rows(args.postgres, args.rows, args.body_bytes, before)  # default batch
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    print_table(
        f"outbox prune, {args.rows:,} rows of {args.body_bytes // 1000} KB, cut-off 30 of 60 "
        f"days; a writer commits every 20 ms meanwhile; peak RSS {peak} MB",
        ["db", "prune", "bodies deleted", "wall s", "CPU s", "writer's longest wait ms",
         "median wait ms", "writer commits", "bodies kept (sha)", "load"],
        rows,
    )  # fmt: skip


def postgres_rows(url: str, rows: int, size: int, before: datetime) -> list[list[object]]:
    """The batched prune on PostgreSQL (built fresh in a database beside ``url``'s, dropped
    after). Its writers take row locks, so the one-statement side is left to SQLite."""
    from sqlalchemy.engine import make_url

    db = "cwbench_outbox_prune"
    admin = make_engine(url).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"DROP DATABASE IF EXISTS {db}"))
        connection.execute(text(f"CREATE DATABASE {db}"))
    target = make_url(url).set(database=db).render_as_string(hide_password=False)
    engine = make_engine(target)
    print(f"building PostgreSQL {db} ...", flush=True)
    build(engine, rows, size)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE"))
    wall, cpu, longest, commits, median, deleted = with_a_writer(
        engine, lambda: prune_bodies(engine, before=before).deleted
    )
    row: list[object] = ["postgres", "batched", deleted, f"{wall:.2f}", f"{cpu:.2f}",
                         f"{longest * 1000:.0f}", f"{median * 1000:.1f}", commits, kept(engine),
                         f"{os.getloadavg()[0]:.1f}"]  # fmt: skip
    print(" | ".join(map(str, row)), flush=True)
    engine.dispose()
    with admin.connect() as connection:
        connection.execute(text(f"DROP DATABASE {db}"))
    admin.dispose()
    return [row]


if __name__ == "__main__":
    main()
