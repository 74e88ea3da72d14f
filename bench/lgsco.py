"""LGSCO: parse speed of decision and listing pages, and requests an incremental run costs.

    .venv/bin/python bench/lgsco.py [--quick]

Part 1 - parse speed, three parsers on the same example pages (tests/sources/lgsco/, held in
memory), timed in interleaved rounds, medians of per-page CPU time:
- "before": the LGSCO parser as it was before issue #13 (one field per block), loaded from
  ``git show BEFORE:scraper/sources/lgsco/*`` into a temporary package, so the cost of reading
  cards and headers from running text is measured in the same run; the goal is at most 20%;
- "after": the parser in this checkout;
- "bs4+lxml": a fair baseline, what a competent engineer writes first with BeautifulSoup on
  lxml: the page's text as lines, the same regular expressions for title, labels, summary,
  sections and cards (no furniture handling, no vocabulary split).
Each parser's robustness is shown beside its speed: how many of the markup-variation harness's
variants (tests/markup_variants.py, every rendering of every example page) it parses to the
same JSON as the original page.

Part 2 - requests. The simulated LGSCO site of tests/lgsco_site.py runs on the local test web;
after a first incremental run, each round publishes k decisions in the middle of the window
and runs the crawler again. The minimum any correct crawler needs is every listing page of the
window (a decision can appear on any of them) plus the k new decision pages; the naive
baseline refetches every decision in the window. Request counts are exact; the time is the
median over rounds (politeness on a fake clock, so it is the crawler's own cost).
"""

from __future__ import annotations

import argparse
import importlib
import json
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bs4 import BeautifulSoup  # noqa: E402

import scraper.sources.lgsco as after  # noqa: E402
from scraper.sources.lgsco.crawl import LgscoCrawler, MemoryCrawlMemory  # noqa: E402
from tests.lgsco_site import SimulatedLgsco, decision_page, listing_page  # noqa: E402
from tests.markup_variants import variants  # noqa: E402
from tests.testweb import FakeClock, LocalWeb, make_client  # noqa: E402

EXAMPLES = ROOT / "tests" / "sources" / "lgsco"
TODAY = date(2025, 6, 30)
# main just before issue #13: the parser that read one field per block.
BEFORE = "2ef245408e085498048fddb1704d0c462727fdfa"
_SAVED_FROM = re.compile(rb"<!--\s*saved from url=\(\d+\)(\S+?)\s*-->")


def load_before(directory: Path) -> ModuleType:
    """The pre-#13 LGSCO package from git, importable as ``lgsco_before``."""
    package = directory / "lgsco_before"
    package.mkdir()
    names = subprocess.run(
        ["git", "-C", str(ROOT), "ls-tree", "--name-only", BEFORE, "scraper/sources/lgsco/"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    for name in names:
        source = subprocess.run(
            ["git", "-C", str(ROOT), "show", f"{BEFORE}:{name}"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        source = source.replace("scraper.sources.lgsco.", "lgsco_before.").replace(
            "from scraper.sources.lgsco import", "from lgsco_before import"
        )
        (package / Path(name).name).write_text(source, encoding="utf-8")
    sys.path.insert(0, str(directory))
    return importlib.import_module("lgsco_before")


# -- the bs4 + lxml baseline -------------------------------------------------------------------

_TITLE = re.compile(r"^(?P<org>\S.*?)\s*\((?P<ref>\d{2} \d{3} \d{3}[a-z]?)\)$")
_FIELD = re.compile(r"^(Category|Decision date|Decision|Summary)\s*:?\s*(.*)$")
_DATE = re.compile(r"(\d{1,2})[ -]([A-Za-z]{3})[a-z]*[ -](\d{4})")
_MONTH_NAMES = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_MONTHS = {name: number for number, name in enumerate(_MONTH_NAMES, 1)}


def _bs4_lines(soup: BeautifulSoup) -> list[str]:
    for tag in soup(["script", "style", "nav", "footer", "noscript"]):
        tag.decompose()
    return [line.strip() for line in soup.get_text("\n").splitlines() if line.strip()]


def _bs4_date(text: str) -> date | None:
    match = _DATE.search(text)
    if not match:
        return None
    return date(int(match.group(3)), _MONTHS[match.group(2).lower()], int(match.group(1)))


def bs4_decision(content: bytes, url: str) -> dict[str, Any]:
    soup = BeautifulSoup(content, "lxml")
    headings = {h.get_text(" ", strip=True) for h in soup.find_all(["h2", "h3"])}
    lines = _bs4_lines(soup)
    result: dict[str, Any] = {"url": url, "sections": []}
    pending = ""
    for line in lines:
        if "title" not in result and (title := _TITLE.match(line)):
            result.update(title=line, organisation=title["org"], reference=title["ref"])
        elif (field := _FIELD.match(line)) and field[1].lower() not in result:
            value = field[2]
            if not value:
                pending = field[1].lower()
                continue
            result[field[1].lower()] = value
        elif pending:
            result[pending] = line
        elif line in headings:
            result["sections"].append({"heading": line, "paragraphs": []})
        elif result["sections"]:
            result["sections"][-1]["paragraphs"].append(line)
        pending = ""
    result["decision_date"] = _bs4_date(result.get("decision date", ""))
    category, _, subcategory = result.get("category", "").partition(" > ")
    result.update(category=category, subcategory=subcategory)
    return result


def bs4_listing(content: bytes, url: str) -> list[dict[str, Any]]:
    soup = BeautifulSoup(content, "lxml")
    entries = []
    for anchor in soup.find_all("a", href=True):
        title = _TITLE.match(anchor.get_text(" ", strip=True))
        if not title:
            continue
        card = anchor.find_parent(["div", "li", "tr", "article"]) or anchor
        lines = [line.strip() for line in card.get_text("\n").splitlines() if line.strip()]
        entry: dict[str, Any] = {
            "reference": title["ref"],
            "organisation": title["org"],
            "url": anchor["href"],
        }
        for line in lines[1:]:
            if line in ("Statement", "Report"):
                entry["type"] = line
            elif line.startswith(("Upheld", "Not upheld", "Closed after")):
                entry["outcome"] = line
            elif (found := _bs4_date(line)) and len(line) < 30:
                entry["decision_date"] = found
            elif line.startswith("Summary"):
                entry["summary"] = line.partition(":")[2].strip()
            elif "subcategory" not in entry:
                entry["subcategory"] = line
        entries.append(entry)
    return entries


# -- timing ----------------------------------------------------------------------------------

Parse = Callable[[bytes, str], object]


def _median_ms(parse: Parse, pages: list[tuple[bytes, str]], repeat: int) -> float:
    """CPU milliseconds per page for one pass over ``pages``, ``repeat`` times (median)."""
    times = []
    for _ in range(repeat):
        start = time.process_time()
        for content, url in pages:
            parse(content, url)
        times.append((time.process_time() - start) * 1000 / len(pages))
    return statistics.median(times)


def _url(content: bytes) -> str:
    match = _SAVED_FROM.search(content[:2048])
    return match.group(1).decode() if match else "https://www.lgo.org.uk/x"


def _same_json(module: ModuleType, content: bytes, url: str) -> Callable[[bytes], bool]:
    def parse(page: bytes) -> Any:
        kind = module.detect_page_kind(page)
        if kind == "decision":
            return module.parse_decision(page, url, today=TODAY).to_json()
        if kind == "listing":
            found = module.parse_listing(page, url, today=TODAY).to_json()
            found.pop("problems", None)  # the old parser had none
            return found
        return None

    expected = json.dumps(parse(content), sort_keys=True, default=str)

    def same(variant: bytes) -> bool:
        try:
            return json.dumps(parse(variant), sort_keys=True, default=str) == expected
        except Exception:  # the old parser raises on layouts it cannot read
            return False

    return same


def robustness(module: ModuleType, pages: list[tuple[bytes, str]]) -> tuple[int, int]:
    """(variants parsed to the original's JSON, variants tried)."""
    good = tried = 0
    for content, url in pages:
        same = _same_json(module, content, url)
        for _name, variant in variants(content):
            tried += 1
            good += same(variant)
    return good, tried


def parse_speed(rounds: int, repeat: int) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        before = load_before(Path(scratch))
        decisions = [(p.read_bytes(), "") for p in sorted(EXAMPLES.glob("decision-*.html"))]
        decisions = [(content, _url(content)) for content, _ in decisions]
        listings = [(p.read_bytes(), "") for p in sorted(EXAMPLES.glob("listing-*.html"))]
        listings = [(content, _url(content)) for content, _ in listings]
        parsers: dict[str, tuple[Parse, Parse]] = {
            "before (#13)": (
                lambda c, u: before.parse_decision(c, u, today=TODAY),
                lambda c, u: before.parse_listing(c, u, today=TODAY),
            ),
            "after": (
                lambda c, u: after.parse_decision(c, u, today=TODAY),
                lambda c, u: after.parse_listing(c, u, today=TODAY),
            ),
            "bs4+lxml baseline": (bs4_decision, bs4_listing),
        }
        samples: dict[str, tuple[list[float], list[float]]] = {n: ([], []) for n in parsers}
        for decision, listing in parsers.values():  # warm up
            _median_ms(decision, decisions, 1)
            _median_ms(listing, listings, 1)
        for _ in range(rounds):  # interleaved: load on the machine hits every parser alike
            for name, (decision, listing) in parsers.items():
                samples[name][0].append(_median_ms(decision, decisions, repeat))
                samples[name][1].append(_median_ms(listing, listings, repeat))
        kept = {
            "before (#13)": robustness(before, decisions + listings),
            "after": robustness(after, decisions + listings),
        }
        size = statistics.median(len(content) for content, _ in decisions + listings) / 1024
        print(
            f"{len(decisions)} decision and {len(listings)} listing pages (median {size:.0f} "
            f"KB), {rounds} interleaved rounds x {repeat} passes, CPU ms per page (median)"
        )
        print(f"{'parser':<22}{'decision ms':>12}{'listing ms':>12}{'variants same JSON':>22}")
        for name in parsers:
            d, listing_ms = (statistics.median(x) for x in samples[name])
            good, tried = kept.get(name, (0, 0))
            robust = f"{good}/{tried}" if tried else "-"
            print(f"{name:<22}{d:>12.2f}{listing_ms:>12.2f}{robust:>22}")
        d_ratio = statistics.median(samples["after"][0]) / statistics.median(
            samples["before (#13)"][0]
        )
        l_ratio = statistics.median(samples["after"][1]) / statistics.median(
            samples["before (#13)"][1]
        )
        print(
            f"after / before: decision pages {d_ratio:.2f}x, listing pages {l_ratio:.2f}x "
            f"the time (goal: at most 1.20x)"
        )
        real_layout(rounds, repeat)


def real_layout(rounds: int, repeat: int) -> None:
    """The parser on the simulated site's pages in the real layout (one-line cards, run-together
    decision header) beside the same pages in blocks; the old parser reads neither real page."""
    web = LocalWeb()  # never started: only its page builders are used
    site = SimulatedLgsco(web, today=TODAY, count=60, days=120, seed=7)
    found = site.visible()
    times: dict[str, tuple[float, float]] = {}
    for layout in ("blocks", "real"):
        decisions = [
            (decision_page(d, layout=layout).encode(), f"https://www.lgo.org.uk{d.path}")
            for d in found[:12]
        ]
        listings = [
            (
                listing_page(found, n, layout=layout).encode(),
                f"https://www.lgo.org.uk/Decisions/SearchResults?page={n}",
            )
            for n in range(1, 6)
        ]
        d = statistics.median(
            _median_ms(lambda c, u: after.parse_decision(c, u, today=TODAY), decisions, repeat)
            for _ in range(rounds)
        )
        listing_ms = statistics.median(
            _median_ms(lambda c, u: after.parse_listing(c, u, today=TODAY), listings, repeat)
            for _ in range(rounds)
        )
        times[layout] = (d, listing_ms)
    for layout, (d, listing_ms) in times.items():
        print(f"{'after, simulated ' + layout:<22}{d:>12.2f}{listing_ms:>12.2f}")


def main() -> None:
    options = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    options.add_argument("--quick", action="store_true", help="fewer rounds, for a smoke run")
    args = options.parse_args()
    rounds, repeat = (3, 3) if args.quick else (7, 10)
    parse_speed(rounds, repeat)
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
