"""Housing Ombudsman: requests an incremental run costs, beside the minimum and the baseline.

    .venv/bin/python bench/housing_ombudsman.py [--quick]

The simulated archive of tests/housing_ombudsman_site.py (newest published first, ten a page,
no dates) runs on the local test web. After the archive is stored, each round publishes k
decisions and runs the crawler again. The minimum under the stopping rule (the first page whose
decisions are all stored, which also catches a decision an earlier run failed to fetch): the
pages holding new decisions, the next page, and the k decision pages. The baseline is what
a careful first version does without a stopping rule: every archive page every run (the list
has no dates to stop by), fetching only unknown decisions. Request counts are exact (robots.txt
excluded); the time is the median over rounds (politeness on a fake clock).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from scraper.sources.base import CrawlWindow, DictMemory  # noqa: E402
from scraper.sources.housing_ombudsman.crawl import HousingOmbudsmanCrawl  # noqa: E402
from tests.housing_ombudsman_site import SimulatedHousingOmbudsman  # noqa: E402
from tests.testweb import FakeClock, LocalWeb, make_client  # noqa: E402

TODAY = date(2026, 6, 30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds, a smaller archive")
    args = parser.parse_args()
    count = 600 if args.quick else 2000
    rounds = 3 if args.quick else 7
    web = LocalWeb().start()
    try:
        site = SimulatedHousingOmbudsman(web, today=TODAY, count=count, days=900).install()
        memory = DictMemory()
        with make_client(FakeClock()) as client:

            def run(max_pages: int) -> tuple[int, float]:
                """(requests without robots.txt, seconds) of one incremental run."""
                before = len(web.requests)
                started = time.perf_counter()
                crawl = HousingOmbudsmanCrawl(
                    client,
                    memory,
                    CrawlWindow(today=TODAY),
                    base_url=site.base_url,
                    max_pages=max_pages,
                )
                for batch in crawl:
                    memory.store(batch)
                seconds = time.perf_counter() - started
                asked = [r for r in web.requests[before:] if r.route != "/robots.txt"]
                return len(asked), seconds

            first, _ = run(max_pages=10_000)  # the whole archive, as a backfill would
            print(
                f"simulated archive: {count} decisions on {site.last_page()} pages; "
                f"storing it all took {first} requests"
            )
            print(
                f"{'k new':>6}{'requests':>10}{'minimum':>9}{'ratio':>7}{'baseline':>10}"
                f"{'ms (median)':>13}"
            )
            for k in (0, 1, 10, 25):
                counts, times = [], []
                for _ in range(rounds):
                    site.publish(k)
                    requests, seconds = run(max_pages=20)
                    pages_with_new = -(-k // 10) if k else 0
                    minimum = pages_with_new + 1 + k  # and the first page with nothing new
                    baseline = site.last_page() + k
                    counts.append((requests, minimum, baseline))
                    times.append(seconds)
                requests, minimum, baseline = counts[-1]
                print(
                    f"{k:>6}{requests:>10}{minimum:>9}{requests / minimum:>7.2f}"
                    f"{baseline:>10}{statistics.median(times) * 1000:>13.1f}"
                )
    finally:
        web.stop()


if __name__ == "__main__":
    main()
