"""Benchmark: the percolator matcher against brute force on generated alerts and documents.

    .venv/bin/python bench/match.py            # 100,000 alerts x 1,000 documents of ~5 KB
    .venv/bin/python bench/match.py --quick    # 10,000 alerts x 100 documents

Everything is generated from a fixed seed. Document words follow a Zipf-like distribution
over a vocabulary of common English words, ombudsman and council words (with inflections,
so stemming matters) and a long tail of invented words; councils are opaque ids, more
populous ones named more often. Alerts mix council-only, council+keywords, keyword-only
(phrases, OR, NOT, wildcards) and filter-only subscriptions.

Baselines, measured in the same interleaved rounds: brute force (every alert against every
document) and a council-indexed brute force (what a competent engineer writes first: the
alerts on a document's councils plus those on no council, each verified), both timed on a
sample of the documents and extrapolated (the table says so); and the tokenising floor,
cutting every document into words, the least any matcher must do (goal: the matcher within
3x of it, cold and warm); and the answer floor, which also looks each distinct word up once
and lists each document's matches (~600 a document: listing them alone costs several
tokenisings, so no matcher comes within 3x of the tokenising floor), cold with stemming.
Results on the sample must be identical, or the script exits non-zero. The matcher is
timed on the service's path: which alerts each document matched (``Matcher.matched``; code
from before it: ``Matcher.match``), the Matches then built untimed for the comparison;
building every Match (``match()``) has its own row. Also the index's memory: tracemalloc
over filing the alerts (specs made beforehand), in bytes per alert.

``--baseline-rev REV`` runs the same measurement on that revision's code too (unpacked with
``git archive`` under var/bench-match/), each side in its own process, alternating rounds
(``--rounds``), and prints both sides' medians: the matcher's speed and memory beside the
code it changes, in the same run.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections import defaultdict
from collections.abc import Callable
from itertools import accumulate
from pathlib import Path
from typing import Any

# The code measured: this tree, or (a --baseline-rev child) the tree the parent unpacked.
sys.path.insert(0, os.environ.get("CW_BENCH_CODE", str(Path(__file__).resolve().parents[1])))

from alerts.documents import AlertSpec, Match, MatchDocument
from alerts.explain import Explainer, document_tokens
from alerts.matcher import Matcher, brute_force, key_cost_from_documents
from alerts.query import clear_stem_cache, parse_query
from alerts.stem import stem

HERE = Path(__file__).resolve().parents[1]


def _words(text: str) -> list[str]:
    return text.split()


COMMON = _words(
    "the of and to a in that is was he for it with as his on be at by had not are but from "
    "or have an they which one you were her all she there would their we him been has when "
    "who will more no if out so said what up its about into than them can only other new "
    "some could time these two may then do first any my now such like our over me even most "
    "made after also did many before must through back years where much your way well down "
    "should because each just those people how too little state good very make world still "
    "own see men work long get here between both life being under never day same another know"
)
# Council and ombudsman vocabulary by topic: a document is mostly about one topic.
TOPICS = {
    "Children": "adoption foster guardianship safeguarding grandson daughter placement social "
    "worker contact court order kinship assessment",
    "Education": "school education special needs transition tribunal exclusion attendance "
    "admission transport plan provision tuition appeal",
    "Housing": "housing homeless tenant repair damp mould bedroom accommodation temporary "
    "suitable allocation register landlord eviction",
    "Adult-care": "care carer residential nursing package budget direct payment charge fee "
    "invoice home provider assessment support",
    "Planning": "planning application enforcement neighbour extension boundary permission "
    "objection committee officer condition development",
    "Benefits": "benefit tax arrears bailiff refund allowance reduction debt summons liability "
    "discount exemption instalment",
    "Highways": "highway pothole road bridge parking fine permit bus route street lighting "
    "gritting verge",
    "Environment": "waste bin collection noise nuisance pest flood drainage fly tipping "
    "pollution licence",
    "Corporate": "complaint procedure policy guidance record letter meeting councillor "
    "cabinet election consultation closure library",
}
GENERIC = _words(
    "council ombudsman decision fault injustice remedy apology payment delay review officer "
    "manager report investigation finding recommendation evidence distress uncertainty "
    "outcome upheld maladministration reasonable agreed action months weeks failed"
)
SUFFIXES = ("", "", "", "s", "ed", "ing", "ment", "er")
SYLLABLES = _words(
    "ba be bo ca co da de di do fa fe ga go ha he ka ke la le li lo ma me mi mo na ne ni no "
    "pa pe po ra re ri ro sa se si so ta te ti to va ve vi wa we ya yo za zu"
)
CATEGORIES = list(TOPICS)
OUTCOMES = ("upheld", "not upheld", "closed after initial enquiries", "no further action")
SOURCES = ("lgsco", "edp", "yorkshire-post", "manchester-evening-news", "bbc-local", "echo")


def zipf_cum_weights(n: int, s: float = 1.0) -> list[float]:
    return list(accumulate(1.0 / (rank**s) for rank in range(1, n + 1)))


class Corpus:
    """The generated language: general words by rank, and topic words with inflections."""

    def __init__(self, rng: random.Random, tail: int) -> None:
        self.rng = rng
        words, seen = list(COMMON), set(COMMON)
        while len(words) < len(COMMON) + tail:  # invented words: the long tail of English
            w = "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4)))
            if w not in seen:
                seen.add(w)
                words.append(w)
        self.general = words
        self.general_weights = zipf_cum_weights(len(words))
        self.topics = {name: _words(text) for name, text in TOPICS.items()}
        self.topic_words = sorted({w for ws in self.topics.values() for w in ws} - set(GENERIC))

    def inflect(self, word: str) -> str:
        return word + self.rng.choice(SUFFIXES)

    def text(self, topic: str, n: int) -> list[str]:
        rng = self.rng
        out = rng.choices(self.general, cum_weights=self.general_weights, k=n)
        for k in range(n):
            r = rng.random()
            if r < 0.08:
                out[k] = self.inflect(rng.choice(self.topics[topic]))
            elif r < 0.11:
                out[k] = self.inflect(rng.choice(GENERIC))
        return out


def make_documents(
    rng: random.Random, n: int, corpus: Corpus, councils: list[str]
) -> list[MatchDocument]:
    council_weights = zipf_cum_weights(len(councils), 0.3)
    docs = []
    for i in range(n):
        topic = rng.choice(CATEGORIES)
        body = corpus.text(topic, rng.randint(700, 900))
        sentences = [body[k : k + rng.randint(10, 22)] for k in range(0, len(body), 16)]
        text = " ".join(" ".join(s).capitalize() + "." for s in sentences if s)
        title = " ".join(corpus.text(topic, 6)).capitalize()
        kind = "decision" if rng.random() < 0.5 else "news"
        docs.append(
            MatchDocument(
                id=f"doc-{i}",
                kind=kind,
                source="lgsco" if kind == "decision" else rng.choice(SOURCES[1:]),
                title=title,
                text=text,
                councils=frozenset(
                    rng.choices(councils, cum_weights=council_weights, k=rng.choice((1, 1, 2, 3)))
                ),
                outcome=rng.choice(OUTCOMES) if kind == "decision" else None,
                category=topic if kind == "decision" else None,
            )
        )
    return docs


def make_alerts(rng: random.Random, n: int, corpus: Corpus, councils: list[str]) -> list[AlertSpec]:
    # People alert on topic words and on specific names, not on "the": general words come
    # from beyond the first 3,000 ranks.
    specific = corpus.general[3000:]
    weights = zipf_cum_weights(len(specific), 0.3)
    council_weights = zipf_cum_weights(len(councils), 0.3)

    def word() -> str:
        if rng.random() < 0.01:
            return corpus.inflect(rng.choice(corpus.topic_words))
        return rng.choices(specific, cum_weights=weights)[0]

    def term() -> str:
        r = rng.random()
        if r < 0.2:
            return f'"{word()} {word()}"'
        if r < 0.22:  # wildcards are for inflections of real words: adopt*, safeguard*
            w = rng.choice(corpus.topic_words)
            return w[: max(4, len(w) - rng.randint(0, 2))] + "*"
        return word()

    def keywords() -> str:
        r = rng.random()
        if r < 0.4:
            return term()
        if r < 0.65:
            return f"{term()} {term()}"
        if r < 0.85:
            return " OR ".join(term() for _ in range(rng.randint(2, 3)))
        return f"({term()} OR {term()}) -{word()}"

    def some_councils() -> frozenset[str]:
        k = rng.choice((1, 1, 1, 1, 1, 1, 2, 2, 3, 8))  # 8: a county and its districts
        return frozenset(rng.choices(councils, cum_weights=council_weights, k=k))

    alerts = []
    for i in range(n):
        r = rng.random()
        if r < 0.25:
            spec = AlertSpec(i, councils=some_councils())
        elif r < 0.50:
            spec = AlertSpec(i, councils=some_councils(), query=parse_query(keywords()))
        elif r < 0.95:
            kinds = frozenset({rng.choice(("decision", "news"))}) if rng.random() < 0.3 else None
            spec = AlertSpec(i, query=parse_query(keywords()), kinds=kinds or frozenset())
        else:  # filter-only: a category's upheld decisions, maybe excluding a word
            spec = AlertSpec(
                i,
                query=parse_query(f"-{word()}", allow_only_not=True)
                if rng.random() < 0.3
                else None,
                kinds=frozenset({"decision"}),
                outcomes=frozenset({"upheld"}),
                categories=frozenset({rng.choice(CATEGORIES)}),
            )
        alerts.append(spec)
    return alerts


def council_indexed(alerts: list[AlertSpec]) -> Callable[[list[MatchDocument]], list[Match]]:
    """What a competent engineer writes first: alerts indexed by council, so a document is
    checked against the alerts on its councils plus those on no council; each candidate is
    verified as brute force does. Matches come out in brute force's order."""
    by_council: dict[str, list[tuple[int, AlertSpec]]] = defaultdict(list)
    anywhere: list[tuple[int, AlertSpec]] = []
    for position, alert in enumerate(alerts):
        if alert.councils:
            for council in alert.councils:
                by_council[council].append((position, alert))
        else:
            anywhere.append((position, alert))

    def run(docs: list[MatchDocument]) -> list[Match]:
        out: list[Match] = []
        for doc in docs:
            explainer = Explainer(doc)
            tokens = explainer.tokens
            candidates = dict(anywhere)
            for council in doc.councils:
                candidates.update(by_council.get(council, ()))
            out.extend(
                explainer.match(alert)
                for _, alert in sorted(candidates.items())
                if alert.accepts(doc) and (alert.query is None or alert.query.root.matches(tokens))
            )
        return out

    return run


def service_path(matcher: Matcher, docs: list[MatchDocument]) -> Any:
    """What the service asks of the matcher: which alerts each document matched
    (``Matcher.matched``, whose Matches are built only when iterated); code from before it
    existed built every Match (``Matcher.match``)."""
    matched = getattr(matcher, "matched", None)
    return matched(docs) if matched is not None else matcher.match(docs)


def tokenising_floor(docs: list[MatchDocument]) -> int:
    """The least any matcher must do: cut every document into its words."""
    return sum(len(document_tokens(doc).words) for doc in docs)


def stemming_floor(docs: list[MatchDocument]) -> int:
    """The least a matcher of a stemming query language must do: the words, and the stem of
    each distinct word (stems cached between documents, as the matcher caches them)."""
    return sum(len({stem(w) for w in set(document_tokens(doc).words)}) for doc in docs)


def _answers(result: Any, alerts: list[AlertSpec]) -> list[list[int]]:
    """Each document's matches as alert positions, shuffled (the order an index's buckets
    hand them over in is not the order they are reported in)."""
    by_doc = getattr(result, "by_document", None)
    if by_doc is not None:
        pairs = by_doc()
    else:  # code from before MatchedBatch: a list of Matches, grouped by document
        grouped: dict[str | int, list[str | int]] = {}
        for m in result:
            grouped.setdefault(m.document_id, []).append(m.alert_id)
        pairs = list(grouped.items())
    place = {a.id: k for k, a in enumerate(alerts)}
    shuffle = random.Random(3).shuffle
    out = []
    for _, ids in pairs:
        slots = [place[i] for i in ids]
        shuffle(slots)
        out.append(slots)
    return out


def answer_floor(
    docs: list[MatchDocument],
    answers: list[list[int]],
    ids: list[str | int],
    known: dict[str, object],
    stems: bool,
) -> int:
    """The least a matcher that reports its matches must do: cut each document into words,
    look each distinct word up once in a table of every word seen (an index's least), and
    list the document's matches (its set of alerts, in order, as ids: ~600 a document
    here, which costs several times the tokenising). ``stems``: and stem each distinct
    word, through the stem cache (cold when the caller has just cleared it)."""
    n = 0
    get = known.get
    for doc, answer in zip(docs, answers, strict=True):
        words = document_tokens(doc).word_set
        n += len(list(map(get, words)))
        if stems:
            n += len({stem(w) for w in words})
        n += len(list(map(ids.__getitem__, sorted(set(answer)))))
    return n


def timed(fn: Callable[[], object], repeat: int) -> tuple[float, object]:
    """Median CPU time of ``repeat`` runs: the machine is shared, so wall time is noisy."""
    times, result = [], None
    for _ in range(repeat):
        result = None
        gc.collect()
        start = time.process_time()
        result = fn()
        times.append(time.process_time() - start)
    return statistics.median(times), result


def _fingerprint(matches: list[Match]) -> str:
    """One hash of a match list (ids, councils, terms, query, in order): equal across code."""
    import hashlib

    digest = hashlib.sha256()
    for m in matches:
        digest.update(repr((m.alert_id, m.document_id, m.councils, m.terms, m.query)).encode())
    return digest.hexdigest()


def _traced_bytes(build: Callable[[], object]) -> tuple[int, object]:
    """Bytes still allocated once ``build()`` has returned (tracemalloc), and its result."""
    gc.collect()
    tracemalloc.start()
    try:
        built = build()
        gc.collect()
        size, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return size, built


def measure(quick: bool) -> dict[str, Any]:
    """Every figure of the table for the code on sys.path (see the module docstring)."""
    n_alerts, n_docs, sample, repeat = (10_000, 100, 5, 3) if quick else (100_000, 1_000, 10, 5)
    rng = random.Random(20240601)
    corpus = Corpus(rng, tail=100_000)
    councils = [f"E{rng.randint(6, 9):02d}{i:06d}" for i in range(400)]
    t0 = time.perf_counter()
    docs = make_documents(rng, n_docs, corpus, councils)
    alerts = make_alerts(rng, n_alerts, corpus, councils)
    gen = time.perf_counter() - t0
    kb = statistics.mean(len(d.text.encode()) for d in docs) / 1024

    # Anchor costs learned from documents seen before the batch (a separate sample).
    history = make_documents(random.Random(7), 200, corpus, councils)
    build, matcher = timed(lambda: Matcher(alerts, key_cost=key_cost_from_documents(history)), 1)
    assert isinstance(matcher, Matcher)
    sample_docs = docs[:sample]
    indexed = council_indexed(alerts)
    t_floor_cold, _ = timed(lambda: tokenising_floor(docs), 1)
    clear_stem_cache()
    t_stems_cold, _ = timed(lambda: stemming_floor(docs), 1)
    # A first batch: no stems of words seen before, no word entries in the matcher.
    clear_stem_cache()
    matcher.clear_caches()
    t_cold, cold = timed(lambda: service_path(matcher, docs), 1)
    # The answer floors (see answer_floor), the answer taken from the cold run.
    answers = _answers(cold, alerts)
    alert_ids = [a.id for a in alerts]
    known: dict[str, object] = dict.fromkeys(w for d in docs for w in document_tokens(d).words)
    clear_stem_cache()
    t_answer_cold, _ = timed(lambda: answer_floor(docs, answers, alert_ids, known, True), 1)
    # Then rounds of brute force and matcher runs, interleaved: the machine's speed drifts
    # over minutes (brute force alone moved from 110 to 180 ms/doc in a day here), and
    # timing one after the other put that drift into the ratio.
    times: dict[str, list[float]] = {
        "brute": [], "indexed": [], "floor": [], "stems": [], "answer": [], "all": [],
        "sample": [], "objects": [],
    }  # fmt: skip
    results: dict[str, object] = {}
    runs: dict[str, Callable[[], object]] = {
        "brute": lambda: brute_force(alerts, sample_docs),
        "indexed": lambda: indexed(sample_docs),
        "floor": lambda: tokenising_floor(docs),
        "stems": lambda: stemming_floor(docs),
        "answer": lambda: answer_floor(docs, answers, alert_ids, known, False),
        "all": lambda: service_path(matcher, docs),
        "sample": lambda: service_path(matcher, sample_docs),
        "objects": lambda: matcher.match(docs),
    }
    for _ in range(repeat):
        for name, run in runs.items():
            seconds, results[name] = timed(run, 1)
            times[name].append(seconds)
    # The Matches of the service's path, built now (untimed) to compare with brute force.
    cold, found, m_sample = list(cold), list(results["all"]), list(results["sample"])  # type: ignore[call-overload]
    b_sample, i_sample, objects = results["brute"], results["indexed"], results["objects"]
    assert isinstance(objects, list)
    assert isinstance(cold, list) and isinstance(found, list)
    assert isinstance(m_sample, list) and isinstance(b_sample, list)
    assert isinstance(i_sample, list)
    identical = m_sample == b_sample == i_sample and cold == found == objects
    fingerprint, n_found = _fingerprint(found), len(found)
    del results, cold, found, runs, objects
    # The index's own memory: a second index of the same specs (made beforehand and kept
    # by this script either way), traced while it is filed.
    cost = key_cost_from_documents(history)
    index_bytes, again = _traced_bytes(lambda: Matcher(alerts, key_cost=cost))
    del again
    return {
        "n_alerts": n_alerts,
        "n_docs": n_docs,
        "sample": sample,
        "repeat": repeat,
        "gen": gen,
        "kb": kb,
        "build": build,
        "times": {k: statistics.median(v) for k, v in times.items()},
        "floor_cold": t_floor_cold,
        "stems_cold": t_stems_cold,
        "answer_cold": t_answer_cold,
        "cold": t_cold,
        "counts": {"brute": len(b_sample), "indexed": len(i_sample), "sample": len(m_sample)},
        "found": n_found,
        "fingerprint": fingerprint,
        "identical": identical,
        "index_bytes_per_alert": index_bytes / n_alerts,
    }


def measure_index(store: Path) -> dict[str, Any]:
    """The service's own index (councilwatch.alert_index) filed from a copy of a bench store
    (bench/pipeline.py's), traced: bytes per alert, CPU of the full load, objects tracked."""
    import shutil
    import tempfile

    from sqlalchemy import create_engine

    from alerts.councils import Register
    from councilwatch.alert_index import AlertIndex
    from db.migrate import upgrade

    with tempfile.TemporaryDirectory(dir=HERE / "var") as tmp:
        copy = Path(tmp) / "store.db"
        shutil.copyfile(store, copy)
        engine = create_engine(f"sqlite:///{copy}")
        upgrade(engine)
        register = Register.builtin()
        index = AlertIndex()
        cpu = time.process_time()
        index.refresh(engine, register)  # untraced: the CPU of a full load
        cpu = time.process_time() - cpu
        rss_filed = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        # Then new documents from bench/pipeline.py's generator (a cycle's worth), matched
        # through the index as pipeline.process does, 100 at a time: CPU, matches, peak RSS.
        batches = _cycle_documents(register, n=1_000 if len(index) > 50_000 else 200)
        match_cpu, matches = time.process_time(), 0
        for batch in batches:
            found, _ = index.match(engine, register, batch)
            matches += len(found)
            del found
        match_cpu = time.process_time() - match_cpu
        rss_matched = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        del index, batches
        clear_stem_cache()
        again = AlertIndex()
        size, _ = _traced_bytes(lambda: again.refresh(engine, register))
        gc.unfreeze()
        tracked = len(gc.get_objects())
        engine.dispose()
    return {"alerts": len(again), "bytes_per_alert": size / len(again), "load_cpu": cpu,
            "tracked": tracked, "rss_filed": rss_filed, "match_cpu": match_cpu,
            "matches": matches, "rss_matched": rss_matched}  # fmt: skip


def _cycle_documents(register: Any, n: int) -> list[list[MatchDocument]]:
    """``n`` new documents from bench/pipeline.py's world as the matcher gets them, by batch."""
    from bench.pipeline import BATCH, T_CYCLE, World
    from councilwatch.pipeline import _match_document, councils_of

    world, when = World(seed=99), T_CYCLE
    records = [world.record(f"N{i:06d}", when) for i in range(n)]
    docs = [
        _match_document(k, record, councils_of(record, register))
        for k, record in enumerate(records, 1)
    ]
    return [docs[k : k + BATCH] for k in range(0, n, BATCH)]


def report(r: dict[str, Any]) -> None:
    """The table of one side's figures."""
    n_alerts, n_docs, sample, repeat = r["n_alerts"], r["n_docs"], r["sample"], r["repeat"]
    t = r["times"]
    per_doc_b = t["brute"] / sample
    print(f"generated {n_alerts:,} alerts and {n_docs:,} documents (~{r['kb']:.1f} KB)")
    print(f"index build (incl. learning anchor costs from 200 documents): {r['build']:.2f} s")
    print(f"index memory (tracemalloc while filing): {r['index_bytes_per_alert']:,.0f} bytes/alert")
    print(f"times: median CPU seconds of {repeat} interleaved rounds (the machine is shared)")
    print()
    print(f"{'run':<46}{'docs':>6}{'total s':>9}{'ms/doc':>8}{'matches':>10}{'speed-up':>10}")
    counts = r["counts"]
    rows = [
        ("brute force, sample (baseline)", sample, t["brute"], counts["brute"]),
        ("brute force, extrapolated from the sample", n_docs, per_doc_b * n_docs, None),
        ("council-indexed brute force, sample", sample, t["indexed"], counts["indexed"]),
        ("council-indexed, extrapolated", n_docs, t["indexed"] / sample * n_docs, None),
        ("tokenising floor, all documents", n_docs, t["floor"], None),
        ("tokenising floor, all documents, cold (1 run)", n_docs, r["floor_cold"], None),
        ("words + stems floor, all documents", n_docs, t["stems"], None),
        ("words + stems floor, cold stem cache (1 run)", n_docs, r["stems_cold"], None),
        ("answer floor: words, a lookup each, matches", n_docs, t["answer"], r["found"]),
        ("answer floor, stems too, cold (1 run)", n_docs, r["answer_cold"], r["found"]),
        ("matcher, sample", sample, t["sample"], counts["sample"]),
        ("matcher, all documents", n_docs, t["all"], r["found"]),
        ("matcher, all documents, cold caches (1 run)", n_docs, r["cold"], r["found"]),
        ("matcher building every Match (match())", n_docs, t["objects"], r["found"]),
    ]
    for name, n, secs, matches in rows:
        shown = "" if matches is None else f"{matches:,}"
        ratio = per_doc_b / (secs / n)
        print(f"{name:<46}{n:>6}{secs:>9.2f}{secs / n * 1000:>8.2f}{shown:>10}{ratio:>9.0f}x")
    print()
    per_doc = r["found"] / n_docs
    print(f"matches per document: {per_doc:,.0f} ({per_doc / n_alerts:.2%} of alerts)")
    print(f"matcher total for {n_docs:,} documents: {t['all']:.2f} s (goal < 5 s, >= 50x)")
    print(
        f"matcher / tokenising floor: warm {t['all'] / t['floor']:.1f}x, cold "
        f"{r['cold'] / r['floor_cold']:.1f}x (goal within 3x); / words + stems floor: warm "
        f"{t['all'] / t['stems']:.1f}x, cold {r['cold'] / r['stems_cold']:.1f}x; / answer "
        f"floor: warm {t['all'] / t['answer']:.1f}x, cold {r['cold'] / r['answer_cold']:.1f}x"
    )
    print(
        f"matcher vs council-indexed brute force: "
        f"{t['indexed'] / sample * n_docs / t['all']:.0f}x faster"
    )
    same = "yes" if r["identical"] else "NO"
    print(f"identical results on the sample (and warm == cold run): {same}")


def _baseline_tree(rev: str) -> Path:
    from bench.common import code_at

    return code_at(rev, HERE / "var" / "bench-match" / f"code-{rev}", marker="alerts")


def compare(quick: bool, rev: str, rounds: int) -> int:
    """This tree and ``rev`` in alternating child processes; medians of each side."""
    sides = {"baseline": _baseline_tree(rev), "current": HERE}
    found: dict[str, list[dict[str, Any]]] = {label: [] for label in sides}
    for k in range(rounds):
        order = list(sides) if k % 2 == 0 else list(sides)[::-1]
        for label in order:
            env = {**os.environ, "CW_BENCH_CODE": str(sides[label])}
            args = [sys.executable, str(Path(__file__).resolve()), "--child"]
            out = subprocess.run(
                [*args, *(["--quick"] if quick else [])],
                env=env, capture_output=True, text=True, check=True,
            ).stdout  # fmt: skip
            found[label].append(json.loads(out.strip().splitlines()[-1]))
            print(f"round {k + 1} {label}: matcher {found[label][-1]['times']['all']:.2f} s")

    def med(label: str, pick: Callable[[dict[str, Any]], float]) -> float:
        return statistics.median(pick(r) for r in found[label])

    metrics: list[tuple[str, Callable[[dict[str, Any]], float]]] = [
        ("index build, CPU s", lambda r: r["build"]),
        ("index memory, bytes/alert", lambda r: r["index_bytes_per_alert"]),
        ("matcher, all documents, CPU s", lambda r: r["times"]["all"]),
        ("matcher, cold caches, CPU s", lambda r: r["cold"]),
        ("matcher + every Match, CPU s", lambda r: r["times"].get("objects", r["times"]["all"])),
        ("tokenising floor, CPU s", lambda r: r["times"]["floor"]),
        ("tokenising floor, cold, CPU s", lambda r: r["floor_cold"]),
        ("matcher / floor, warm", lambda r: r["times"]["all"] / r["times"]["floor"]),
        ("matcher / floor, cold", lambda r: r["cold"] / r["floor_cold"]),
        ("answer floor, CPU s", lambda r: r["times"]["answer"]),
        ("answer floor, cold, CPU s", lambda r: r["answer_cold"]),
        ("matcher / answer floor, warm", lambda r: r["times"]["all"] / r["times"]["answer"]),
        ("matcher / answer floor, cold", lambda r: r["cold"] / r["answer_cold"]),
    ]
    print()
    print(f"medians of {rounds} rounds, each side in its own process, alternating")
    print(f"{'':<34}{'baseline ' + rev:>18}{'current':>12}{'ratio':>8}")
    for name, pick in metrics:
        before, after = med("baseline", pick), med("current", pick)
        print(f"{name:<34}{before:>18,.2f}{after:>12,.2f}{after / before:>8.2f}")
    prints = {r["fingerprint"] for side in found.values() for r in side}
    same = len(prints) == 1 and all(r["identical"] for side in found.values() for r in side)
    print(f"matches identical across both sides and every round: {'yes' if same else 'NO'}")
    return 0 if same else 1


def compare_index(store: Path, rev: str | None, rounds: int) -> int:
    """The alert index's memory and load CPU for this tree (and ``rev``), alternating."""
    sides = {"current": HERE} if rev is None else {"baseline": _baseline_tree(rev), "current": HERE}
    found: dict[str, list[dict[str, Any]]] = {label: [] for label in sides}
    for k in range(rounds):
        for label in list(sides) if k % 2 == 0 else list(sides)[::-1]:
            env = {**os.environ, "CW_BENCH_CODE": str(sides[label])}
            args = [sys.executable, str(Path(__file__).resolve()), "--child"]
            out = subprocess.run(
                [*args, "--index-store", str(store)],
                env=env, capture_output=True, text=True, check=True,
            ).stdout  # fmt: skip
            found[label].append(json.loads(out.strip().splitlines()[-1]))
    print(f"alert index filed from {store.name}: medians of {rounds} rounds")
    columns = [
        ("bytes/alert", "bytes_per_alert", ",.0f"),
        ("load CPU s", "load_cpu", ".2f"),
        ("RSS filed MB", "rss_filed", ",.0f"),
        ("match CPU s", "match_cpu", ".2f"),
        ("RSS matched MB", "rss_matched", ",.0f"),
        ("gc-tracked", "tracked", ",.0f"),
    ]
    print(f"{'':<18}{'alerts':>8}" + "".join(f"{head:>16}" for head, _, _ in columns) + "  matches")
    for label, results in found.items():
        name = f"{label} {rev}" if label == "baseline" else label
        cells = "".join(
            f"{statistics.median(r[key] for r in results):>16{fmt}}" for _, key, fmt in columns
        )
        print(f"{name:<18}{results[0]['alerts']:>8,}{cells}  {results[0]['matches']:,}")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10,000 alerts x 100 documents")
    parser.add_argument("--baseline-rev", help="measure this revision's code too, alternating")
    parser.add_argument("--rounds", type=int, default=3, help="with --baseline-rev")
    parser.add_argument(
        "--index-store",
        help="instead: the service's alert index filed from this bench/pipeline.py SQLite "
        "store, memory per alert (tracemalloc) and CPU; with --baseline-rev beside that rev",
    )
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        if args.index_store:
            print(json.dumps(measure_index(Path(args.index_store))))
        else:
            print(json.dumps(measure(args.quick)))
        return 0
    if args.index_store:
        return compare_index(Path(args.index_store).resolve(), args.baseline_rev, args.rounds)
    if args.baseline_rev:
        return compare(args.quick, args.baseline_rev, args.rounds)
    result = measure(args.quick)
    report(result)
    return 0 if result["identical"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
