"""Helpers shared by the benchmark scripts: timing with medians, a plain table, and another
revision's code to run beside today's."""

from __future__ import annotations

import os
import statistics
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any


def median_seconds(fn: Callable[[], Any], repeat: int = 5) -> float:
    timings = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        timings.append(time.perf_counter() - start)
    return statistics.median(timings)


def print_table(title: str, header: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    cells = [[str(cell) for cell in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(header)]
    print(f"\n{title}")
    print("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    print("  ".join("-" * w for w in widths))
    for row in cells:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)))


@dataclass(frozen=True)
class Timing:
    wall: float  # median seconds
    cpu: float  # median process CPU seconds (what the noisy shared machine does not inflate)
    walls: tuple[float, ...]


def interleaved(fns: dict[str, Callable[[], Any]], rounds: int) -> dict[str, Timing]:
    """Time each function once per round, the order alternating round by round (ABAB, BABA),
    so drift in the machine's load falls on every method alike; medians over rounds."""
    walls: dict[str, list[float]] = {name: [] for name in fns}
    cpus: dict[str, list[float]] = {name: [] for name in fns}
    names = list(fns)
    for number in range(rounds):
        for name in names if number % 2 == 0 else reversed(names):
            start, cpu = time.perf_counter(), time.process_time()
            fns[name]()
            walls[name].append(time.perf_counter() - start)
            cpus[name].append(time.process_time() - cpu)
    return {
        name: Timing(
            statistics.median(walls[name]), statistics.median(cpus[name]), tuple(walls[name])
        )
        for name in names
    }


@contextmanager
def postgres_schema(url: str) -> Iterator[str | None]:
    """A throwaway schema on the PostgreSQL at ``url``: yields a URL using it (None when that
    server cannot be reached, after printing why), and drops it afterwards."""
    from sqlalchemy import text

    from db.engine import make_engine

    schema = "bench_" + uuid.uuid4().hex[:8]
    try:
        admin = make_engine(url)
        with admin.begin() as connection:
            connection.execute(text(f"CREATE SCHEMA {schema}"))
    except Exception as exc:
        print(f"PostgreSQL skipped: {exc}".splitlines()[0])
        yield None
        return
    try:
        yield f"{url}?options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as connection:
            connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


def default_postgres() -> str:
    return os.environ.get(
        "COUNCILWATCH_BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
    )


def code_at(rev: str, target: Path, *, marker: str = "councilwatch") -> Path:
    """The tree of ``rev`` (``git archive`` of this checkout), unpacked into ``target`` once:
    the baseline a bench runs in its own process beside today's code."""
    if not (target / marker).is_dir():
        target.mkdir(parents=True, exist_ok=True)
        root = Path(__file__).resolve().parents[1]
        archive = subprocess.run(
            ["git", "-C", str(root), "archive", rev], check=True, capture_output=True
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
    return target
