"""Parse speed of LGSCO decision pages: our parser beside a plain BeautifulSoup baseline.

    .venv/bin/python bench/lgsco.py [--quick]

Both sides read the same example pages (tests/sources/lgsco/decision-*.html) from memory.
The baseline is BeautifulSoup(html.parser).get_text(): the least any bs4-based parser would do,
with no field extraction at all. Prints the median of several rounds and the ratio.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bs4 import BeautifulSoup  # noqa: E402

from scraper.sources.lgsco import parse_decision  # noqa: E402

EXAMPLES = ROOT / "tests" / "sources" / "lgsco"
URL = "https://www.lgo.org.uk/decisions/example/example/24-000-000"
TODAY = date(2025, 6, 30)


def ours(content: bytes) -> object:
    return parse_decision(content, URL, today=TODAY)


def baseline(content: bytes) -> object:
    return BeautifulSoup(content, "html.parser").get_text()


def pages_per_second(parse: Callable[[bytes], object], pages: list[bytes], rounds: int,
                     repeat: int) -> float:
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


if __name__ == "__main__":
    main()
