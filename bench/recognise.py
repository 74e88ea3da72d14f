"""Recogniser throughput in MB/s beside a naive baseline, measured in the same run.

    .venv/bin/python bench/recognise.py [--quick]

Text: generated prose (ombudsman and local-news vocabulary, written here) with a council name
in a random form every few sentences. Baseline: one compiled regex per council name (official
and common name, the latter followed by "council"), each run over the text in turn - what the
recogniser would be without the single trie-factored pattern. The baseline is about 100x
slower, so it runs on the first tenth of the text; MB/s compares the two fairly.
"""

from __future__ import annotations

import argparse
import random
import re
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from alerts.councils import Register, find_councils

PROSE = (
    "the ombudsman found fault with how the council assessed Mrs B and her son after a delay "
    "of several months in arranging respite care so it agreed to apologise and pay 350 pounds "
    "for the distress caused while officers reviewed the education health and care plan and "
    "residents said the planning committee had approved the scheme despite objections about "
    "parking bins potholes and the closure of a library on the high street last week"
)
WORDS = PROSE.split()


def make_text(register: Register, size: int, seed: int = 7) -> str:
    rng = random.Random(seed)
    names = [c for c in register]
    parts: list[str] = []
    length = 0
    while length < size:
        sentence = " ".join(rng.choices(WORDS, k=rng.randint(12, 30))).capitalize() + "."
        if rng.random() < 0.3:
            council = rng.choice(names)
            form = rng.choice(
                [council.name, f"{council.common_name} council", council.common_name.upper()]
            )
            sentence = sentence[:-1] + f", said {form}."
        parts.append(sentence)
        length += len(sentence) + 1
    return " ".join(parts)


def naive_finder(register: Register) -> Callable[[str], int]:
    patterns = []
    for council in register:
        for name in (council.name, f"{council.common_name} council"):
            words = [re.escape(w) for w in name.split()]
            patterns.append(re.compile(r"\b" + r"\s+".join(words) + r"\b", re.IGNORECASE))

    def find(text: str) -> int:
        return sum(1 for p in patterns for _ in p.finditer(text))

    return find


def median_seconds(fn: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small text, few repeats")
    args = parser.parse_args()
    size, repeats = (200_000, 3) if args.quick else (2_000_000, 5)
    register = Register.builtin()
    text = make_text(register, size)
    sample = text[: size // 10]

    start = time.perf_counter()
    find_councils("warm-up", register)  # builds and caches the pattern
    build = time.perf_counter() - start
    naive = naive_finder(register)

    ours = median_seconds(lambda: find_councils(text, register), repeats)
    base = median_seconds(lambda: naive(sample), repeats)
    ours_rate = len(text.encode()) / 1e6 / ours
    base_rate = len(sample.encode()) / 1e6 / base
    print(
        f"text {len(text) / 1e6:.2f} MB ({len(sample) / 1e6:.2f} MB for the baseline), "
        f"{len(register)} councils, pattern built in {build:.2f} s, medians of {repeats}"
    )
    print(f"{'finder':<28}{'median s':>10}{'MB/s':>9}{'mentions':>10}")
    found = len(find_councils(text, register))
    print(f"{'find_councils (one regex)':<28}{ours:>10.3f}{ours_rate:>9.2f}{found:>10}")
    print(f"{'naive (regex per name)':<28}{base:>10.3f}{base_rate:>9.2f}{naive(sample):>10}")
    print(f"ratio (MB/s, ours / naive): {ours_rate / base_rate:.1f}x")


if __name__ == "__main__":
    main()
