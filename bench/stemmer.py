"""Benchmark: our Porter2 stemmer beside PyStemmer (C) and snowballstemmer (pure Python).

    .venv/bin/python bench/stemmer.py [--quick]

All three implement the Snowball "english" (Porter2) algorithm. The vocabulary: every word
of the real news pages and samples under ../shared (when present), the generated language of
bench/match.py (100,000 invented words, topic words with their inflections), and each of
those words with common English endings added, so the suffix rules are all exercised.

1. Identity: the stems of every word from each implementation; differences are listed.
2. Speed: stemming the vocabulary once, uncached (median of 5, CPU seconds).
3. The matcher bench's cold batch (bench/match.py sizes; --quick: 10,000 x 100) with each
   stemmer in place: the stemmer only matters where a word is new, so this is the effect.

"ours" is alerts/stem.py as it was at bench/pipeline.py's baseline commit (the service now
uses PyStemmer); it is unpacked from git and run from there.
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import random
import re
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import Stemmer  # noqa: E402
from snowballstemmer.english_stemmer import EnglishStemmer  # noqa: E402

import alerts.query as query_module  # noqa: E402
import alerts.stem as stem_module  # noqa: E402
from bench.match import Corpus, make_alerts, make_documents  # noqa: E402

SHARED = ROOT.parent / "shared"
ENDINGS = ("s", "es", "ed", "ing", "ly", "ness", "ment", "ation", "ational", "ful", "ive",
           "ize", "ise", "able", "ibly", "er", "est", "ies", "ied")  # fmt: skip
_TAG = re.compile(r"<[^>]+>")


def vocabulary() -> tuple[list[str], int]:
    words: set[str] = set()
    real = 0
    if SHARED.is_dir():
        for path in [*SHARED.glob("corpus/**/*"), *SHARED.glob("samples/*")]:
            if path.is_file():
                text = _TAG.sub(" ", path.read_text(errors="replace"))
                words.update(stem_module.words(text))
        real = len(words)
    corpus = Corpus(random.Random(20240601), tail=100_000)
    words.update(corpus.general)
    words.update(corpus.topic_words)
    base = sorted(w for w in words if w.isalpha())
    words.update(w + e for w in base[:: max(1, len(base) // 20_000)] for e in ENDINGS)
    return sorted(w for w in words if w), real


def _our_porter2() -> ModuleType:
    """Our Porter2 as it was before PyStemmer replaced it (alerts/stem.py at the baseline
    commit, unpacked by bench/pipeline.py's helper), kept runnable for this comparison."""
    from bench.pipeline import BASELINE_REV, _baseline_tree

    path = _baseline_tree(BASELINE_REV) / "alerts" / "stem.py"
    spec = importlib.util.spec_from_file_location("porter2_ours", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def cpu(fn: Callable[[], object], repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        gc.collect()
        start = time.process_time()
        fn()
        times.append(time.process_time() - start)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    vocab, real = vocabulary()
    ours_module = _our_porter2()
    ours_uncached = ours_module.stem.__wrapped__
    c_stemmer = Stemmer.Stemmer("english")
    # snowballstemmer.stemmer() hands out PyStemmer when it is installed: ask for its own.
    py_stemmer = EnglishStemmer()
    ours = [ours_uncached(w) for w in vocab]
    c_stems = c_stemmer.stemWords(vocab)
    py_stems = py_stemmer.stemWords(vocab)
    print(f"vocabulary: {len(vocab):,} distinct words ({real:,} from real pages under ../shared)")
    for name, stems in (("PyStemmer 3.1.0", c_stems), ("snowballstemmer 3.1.1", py_stems)):
        diff = [(w, a, b) for w, a, b in zip(vocab, ours, stems, strict=True) if a != b]
        digits = sum(1 for w, _, _ in diff if any(ch.isdigit() for ch in w))
        print(f"  ours vs {name}: {len(diff):,} different stems ({digits:,} in words with digits)")
        diff.sort(key=lambda d: any(ch.isdigit() for ch in d[0]))  # letters-only first
        for w, a, b in diff[:15]:
            print(f"    {w!r}: ours {a!r}, {name.split()[0]} {b!r}")
    print("\nstemming the whole vocabulary once, uncached (median CPU s of 5)")
    rows = [
        ("ours (alerts/stem.py)", cpu(lambda: [ours_uncached(w) for w in vocab])),
        ("PyStemmer, one word a call", cpu(lambda: [c_stemmer.stemWord(w) for w in vocab])),
        ("PyStemmer, stemWords", cpu(lambda: c_stemmer.stemWords(vocab))),
        ("snowballstemmer", cpu(lambda: py_stemmer.stemWords(vocab), 3)),
    ]
    for name, seconds in rows:
        print(f"  {name:<30} {seconds:7.3f} s  {seconds / len(vocab) * 1e6:6.2f} us/word")

    from alerts.matcher import Matcher

    n_alerts, n_docs = (10_000, 100) if args.quick else (100_000, 1_000)
    rng = random.Random(20240601)
    corpus = Corpus(rng, tail=100_000)
    councils = [f"E{rng.randint(6, 9):02d}{i:06d}" for i in range(400)]
    docs = make_documents(rng, n_docs, corpus, councils)
    alerts = make_alerts(rng, n_alerts, corpus, councils)
    matcher = Matcher(alerts)
    print(f"\nmatcher, {n_docs:,} new documents x {n_alerts:,} alerts, cold word caches")
    original = query_module.stem
    results = {}
    for name, fn in (("ours", ours_module.stem), ("PyStemmer", original)):
        times = []
        for _ in range(3):
            query_module.stem = fn
            query_module.clear_stem_cache()
            matcher.clear_caches()
            gc.collect()
            start = time.process_time()
            found = matcher.match(docs)
            times.append(time.process_time() - start)
        query_module.stem = original
        results[name] = {(m.alert_id, m.document_id) for m in found}
        print(f"  {name:<10} {statistics.median(times):6.2f} s CPU  ({len(found):,} matches)")
    same = results["ours"] == results["PyStemmer"]
    print(f"  same matches: {'yes' if same else 'NO'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
