"""Fetch benchmark: what PoliteClient costs over plain httpx, and memory when a body is refused.

1. Per-request overhead: N GETs of a 4 KB page from the local test web through PoliteClient with
   politeness off (min interval 0, robots off) and through a plain httpx.Client, interleaved in
   rounds so both see the same machine load; medians of the per-round means, in wall time and in
   the client process's CPU time (steadier on a busy machine). Goal: under 1.15x. The server
   runs in a child process so it does not share the GIL with the clients measured.
2. Peak traced memory (tracemalloc) while a 50 MB body is refused at the 10 MB default cap, with
   and without a Content-Length, beside plain httpx reading the same body. Goal: flat.

    .venv/bin/python bench/fetch.py            # 2,000 requests per client
    .venv/bin/python bench/fetch.py --quick    # 300
"""

from __future__ import annotations

import argparse
import multiprocessing
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx

from bench.common import print_table
from scraper.fetch import ClientOptions, PoliteClient, ResponseTooLarge
from tests.testweb import LocalWeb

PAGE = b"<html><body>" + b"<p>Decision about a council's handling of a complaint.</p>" * 70
BIG = 50_000_000
ROUNDS = 40  # many short rounds: the median shrugs off other load on the machine


def serve(base_url: Connection) -> None:
    """Child process: the local test web with the benchmark's routes, until told to stop."""
    web = LocalWeb().start()
    web.route("/page", body=PAGE)
    web.route("/big", body_size=BIG)
    web.route("/big-chunked", body_size=BIG, chunked=True)
    base_url.send(web.base_url)
    base_url.recv()
    web.stop()


def overhead(base: str, requests: int) -> list[list[str]]:
    url = base + "/page"
    options = ClientOptions(min_interval_seconds=0.0, obey_robots=False)
    per_round = max(1, requests // ROUNDS)
    wall: dict[str, list[float]] = {"httpx.Client": [], "PoliteClient": []}
    cpu: dict[str, list[float]] = {"httpx.Client": [], "PoliteClient": []}
    with (
        httpx.Client(timeout=httpx.Timeout(20.0, connect=10.0)) as plain,
        PoliteClient(options) as polite,
    ):
        plain_get: Callable[[], bytes] = lambda: plain.get(url).content  # noqa: E731
        polite_get: Callable[[], bytes] = lambda: polite.get(url).content  # noqa: E731
        for get in (plain_get, polite_get):  # warm up both connection pools
            assert get() == PAGE
        for _ in range(ROUNDS):
            for name, get in (("httpx.Client", plain_get), ("PoliteClient", polite_get)):
                start, start_cpu = time.perf_counter(), time.process_time()
                for _ in range(per_round):
                    get()
                wall[name].append((time.perf_counter() - start) / per_round)
                cpu[name].append((time.process_time() - start_cpu) / per_round)
    wall_base = statistics.median(wall["httpx.Client"])
    cpu_base = statistics.median(cpu["httpx.Client"])
    rows = []
    for name in wall:
        wall_median, cpu_median = statistics.median(wall[name]), statistics.median(cpu[name])
        rows.append(
            [
                name,
                str(per_round * ROUNDS),
                f"{wall_median * 1e6:.0f}",
                f"{wall_median / wall_base:.2f}x",
                f"{cpu_median * 1e6:.0f}",
                f"{cpu_median / cpu_base:.2f}x",
            ]
        )
    return rows


def peak_memory(fetch: Callable[[], object]) -> tuple[float, float, str]:
    tracemalloc.start()
    start = time.perf_counter()
    try:
        fetch()
        outcome = "read"
    except ResponseTooLarge:
        outcome = "refused"
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return peak / 1e6, time.perf_counter() - start, outcome


def memory(base: str) -> list[list[str]]:
    options = ClientOptions(min_interval_seconds=0.0, obey_robots=False)
    cases: list[tuple[str, Callable[[], object]]] = []
    with PoliteClient(options) as polite, httpx.Client(timeout=20.0) as plain:
        cases = [
            ("PoliteClient, Content-Length", lambda: polite.get(base + "/big")),
            ("PoliteClient, chunked", lambda: polite.get(base + "/big-chunked")),
            ("httpx.Client (baseline)", lambda: plain.get(base + "/big").content),
        ]
        rows = []
        for name, fetch in cases:
            peak_mb, seconds, outcome = peak_memory(fetch)
            rows.append([name, outcome, f"{peak_mb:.1f}", f"{seconds * 1000:.0f}"])
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="300 requests instead of 2,000")
    args = parser.parse_args()
    requests = 300 if args.quick else 2000
    here, there = multiprocessing.Pipe()
    server = multiprocessing.Process(target=serve, args=(there,), daemon=True)
    server.start()
    try:
        base = here.recv()
        print_table(
            f"GET of a {len(PAGE)}-byte page over keep-alive, {ROUNDS} interleaved rounds",
            ["client", "requests", "wall us/req", "ratio", "client CPU us/req", "ratio"],
            overhead(base, requests),
        )
        cap = ClientOptions().max_response_bytes
        print_table(
            f"{BIG // 1_000_000} MB body, PoliteClient cap {cap:,} bytes",
            ["client", "outcome", "peak traced MB", "ms"],
            memory(base),
        )
    finally:
        here.send("stop")
        server.join(timeout=10)


if __name__ == "__main__":
    main()
