"""LGSCO: parse speed of decision pages, and requests an incremental run costs.

    .venv/bin/python bench/lgsco.py [--quick]

Part 1 - parse speed. Both sides read the same example pages (tests/sources/lgsco/decision-*
.html) from memory. The baseline is BeautifulSoup(html.parser).get_text(): the least any
bs4-based parser would do, with no field extraction at all. Prints the median of several
rounds and the ratio.

Part 2 - requests. The simulated LGSCO site of tests/lgsco_site.py runs on the local test web;
after a first incremental run, each round publishes k decisions in the middle of the window
and runs the crawler again. The minimum any correct crawler needs is every listing page of the
window (a decision can appear on any of them) plus the k new decision pages; the naive
baseline refetches every decision in the window. Request counts are exact; the time is the
median over rounds (politeness on a fake clock, so it is the crawler's own cost).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bs4 import BeautifulSoup  # noqa: E402

from scraper.sources.lgsco import parse_decision  # noqa: E402
from scraper.sources.lgsco.crawl import LgscoCrawler, MemoryCrawlMemory  # noqa: E402
from tests.lgsco_site import SimulatedLgsco  # noqa: E402
from tests.testweb import FakeClock, LocalWeb, make_client  # noqa: E402

EXAMPLES = ROOT / "tests" / "sources" / "lgsco"
URL = "https://www.lgo.org.uk/decisions/example/example/24-000-000"
TODAY = date(2025, 6, 30)


def ours(content: bytes) -> object:
    return parse_decision(content, URL, today=TODAY)


def baseline(content: bytes) -> object:
    return BeautifulSoup(content, "html.parser").get_text()


def pages_per_second(
    parse: Callable[[bytes], object], pages: list[bytes], rounds: int, repeat: int
) -> float:
    rates = []
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(repeat):
            for content in pages:
                parse(content)
        rates.append(repeat * len(pages) / (time.perf_counter() - start))
    return statistics.median(rates)


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--quick", action="store_true", help="fewer rounds, for a smoke run")
    args = options.parse_args()
    rounds, repeat = (3, 3) if args.quick else (7, 20)
    pages = [path.read_bytes() for path in sorted(EXAMPLES.glob("decision-*.html"))]
    size = statistics.median(len(content) for content in pages) / 1024
    for content in pages:  # warm up imports and caches on both sides
        ours(content)
        baseline(content)
    base = pages_per_second(baseline, pages, rounds, repeat)
    mine = pages_per_second(ours, pages, rounds, repeat)
    print(f"{len(pages)} decision pages, median {size:.1f} KB, {rounds} rounds x {repeat} passes")
    print(f"{'parser':<44}{'pages/s (median)':>18}{'ms/page':>10}")
    print(f"{'bs4 html.parser get_text (baseline)':<44}{base:>18.0f}{1000 / base:>10.2f}")
    print(f"{'parse_decision (lxml, all fields)':<44}{mine:>18.0f}{1000 / mine:>10.2f}")
    print(f"ratio parse_decision / baseline: {mine / base:.2f}x the baseline's speed")
    print()
    incremental_requests(rounds=3 if args.quick else 7)


WINDOW_DAYS = 120


def incremental_requests(rounds: int) -> None:
    """Part 2: requests of an incremental run with k new decisions, beside the minimum."""
    web = LocalWeb().start()
    try:
        site = SimulatedLgsco(web, today=TODAY, count=900, days=720, seed=3).install()
        memory = MemoryCrawlMemory()
        with make_client(FakeClock()) as client:

            def run() -> tuple[int, int, int, float]:
                """(requests, listing pages, 304 pages, seconds) of one incremental run."""
                before = len(web.requests)
                started = time.perf_counter()
                report = LgscoCrawler(
                    client,
                    base_url=web.url(),
                    memory=memory,
                    sink=memory.store,
                    today=site.today,
                ).incremental(WINDOW_DAYS)
                seconds = time.perf_counter() - started
                requests = len(web.requests) - before
                return requests, report.listing_pages, report.not_modified_pages, seconds

            first, pages, _, _ = run()  # the first run fetches every decision in the window
            print(
                f"simulated site: {len(site.visible())} decisions, window {WINDOW_DAYS} days "
                f"= {pages} listing pages; first run {first} requests (robots.txt included)"
            )
            print(
                f"{'k new':>6}{'requests':>10}{'minimum':>9}{'ratio':>7}{'naive':>7}"
                f"{'304 pages':>11}{'ms (median)':>13}"
            )
            for k in (0, 1, 5, 20):
                counts, times = [], []
                for _ in range(rounds):
                    site.publish_mid_window(k, window_days=WINDOW_DAYS)
                    requests, pages, not_modified, seconds = run()
                    minimum = pages + k
                    in_window = len(site.visible(TODAY - timedelta(days=WINDOW_DAYS), TODAY))
                    counts.append((requests, minimum, pages + in_window, not_modified))
                    times.append(seconds)
                requests, minimum, naive, not_modified = counts[-1]
                print(
                    f"{k:>6}{requests:>10}{minimum:>9}{requests / minimum:>7.2f}{naive:>7}"
                    f"{not_modified:>11}{statistics.median(times) * 1000:>13.1f}"
                )
    finally:
        web.stop()


if __name__ == "__main__":
    main()
