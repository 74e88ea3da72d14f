"""Benchmark: alert previews (last 90 days) on a store of 100,000 documents.

    .venv/bin/python bench/preview.py                 # 100,000 documents of ~5 KB, SQLite
    .venv/bin/python bench/preview.py --quick         # 10,000
    .venv/bin/python bench/preview.py --postgres URL  # PostgreSQL as well

Documents come from bench/match.py's generated language (Zipf words, topic words with
inflections, invented long tail), spread evenly over four years (so ~6,000 fall in a 90-day
window), each naming one to three of the register's councils. The store is built once per
size in var/ (building 100,000 takes minutes) and reused.

The path timed is the one the subscribe form runs: councilwatch.preview.preview (keys brought
up to date, count, newest five with snippets, failing sources, hints when empty). The baseline,
timed in the same run, is what a competent first version does: load every document of the
window and run the alert's own check (Query.matches) on each. Both must give the same count, or
the script exits non-zero. Medians of 5 runs, wall and CPU time.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import Engine, text

from alerts.councils import Register
from bench.common import print_table
from bench.match import Corpus, make_documents
from councilwatch.preview import alert_query, alert_scope, preview
from councilwatch.search import document_tokens, refresh_keys
from db import migrate
from db.engine import make_engine
from db.ingest import DocumentRecord, upsert_documents
from db.matches import CouncilTag, set_document_councils
from db.search import iter_documents
from db.subscriptions import AlertFields

TODAY = date(2026, 11, 30)
NOW = datetime(2026, 11, 30, 12, tzinfo=UTC)
SPAN_DAYS = 4 * 365

ALERTS = [
    ("council only", AlertFields("a", councils=("norfolk",))),
    ("council + word", AlertFields("b", councils=("norfolk",), query="school")),
    ("word, everywhere", AlertFields("c", query="adoption")),
    ("common word", AlertFields("d", query="council")),
    ("prefix", AlertFields("e", query="safeguard*")),
    ("NOT", AlertFields("f", query="housing NOT repair")),
    ("phrase (confirmed)", AlertFields("g", query='"school transport"')),
    ("OR + exclusion", AlertFields("h", query="(tenant OR landlord) -damp", kinds=("decision",))),
    ("nothing (hints)", AlertFields("i", query="zzyzxq")),
]


def build(engine: Engine, n: int, register: Register) -> None:
    rng = random.Random(19)
    councils = sorted(c.id for c in register.councils(nation="England", current=True))
    corpus = Corpus(rng, tail=20_000)
    batch = 2000
    for start in range(0, n, batch):
        docs = make_documents(rng, min(batch, n - start), corpus, councils)
        records = []
        for k, doc in enumerate(docs):
            i = start + k
            day = TODAY - timedelta(days=(i * 7919) % SPAN_DAYS)
            records.append(
                DocumentRecord(
                    kind=doc.kind,
                    source=doc.source,
                    source_key=f"bench-{i}",
                    url=f"https://bench.example/{i}",
                    title=doc.title,
                    body=doc.text,
                    decided_on=day if doc.kind == "decision" else None,
                    published_at=datetime.combine(day, datetime.min.time(), tzinfo=UTC)
                    if doc.kind == "news"
                    else None,
                    outcome=doc.outcome,
                    category=doc.category,
                )
            )
        result = upsert_documents(engine, records, now=NOW)
        set_document_councils(
            engine,
            {
                result.ids[r.key]: [CouncilTag(c, c, 1.0) for c in doc.councils]
                for r, doc in zip(records, docs, strict=True)
            },
        )
        print(f"  stored {start + len(records):,}", file=sys.stderr, end="\r")
    start_s = time.perf_counter()
    refresh_keys(engine)
    print(
        f"  keys cut for {n:,} documents in {time.perf_counter() - start_s:.0f} s", file=sys.stderr
    )


def baseline(engine: Engine, register: Register, fields: AlertFields) -> int:
    """Load the window's documents (with the alert's councils) and check each one."""
    query = alert_query(fields)
    scope = alert_scope(register, fields, since=TODAY - timedelta(days=89))
    count = 0
    for doc in iter_documents(engine, None, scope, batch=1000):
        if query is None or query.matches(document_tokens(doc.title, doc.summary, doc.body)):
            count += 1
    return count


def timed(fn: object, repeat: int = 5) -> tuple[float, float, object]:
    walls, cpus, result = [], [], None
    for _ in range(repeat):
        w, c = time.perf_counter(), time.process_time()
        result = fn()  # type: ignore[operator]
        walls.append(time.perf_counter() - w)
        cpus.append(time.process_time() - c)
    return statistics.median(walls), statistics.median(cpus), result


def run(name: str, url: str, n: int, register: Register, baseline_too: bool) -> list[list[str]]:
    engine = make_engine(url)
    migrate.upgrade(engine)
    with engine.connect() as connection:
        stored = connection.execute(text("SELECT count(*) FROM documents")).scalar_one()
    if stored != n:
        build(engine, n, register)
    rows = []
    for label, fields in ALERTS:
        wall, cpu, found = timed(lambda f=fields: preview(engine, register, f, today=TODAY))
        row = [name, label, f"{found.total:,}", f"{wall * 1000:.0f}", f"{cpu * 1000:.0f}"]  # type: ignore[attr-defined]
        if baseline_too:
            b_wall, _, b_count = timed(lambda f=fields: baseline(engine, register, f), repeat=3)
            if b_count != found.total:  # type: ignore[attr-defined]
                print(f"MISMATCH {label}: preview {found.total} vs baseline {b_count}")  # type: ignore[attr-defined]
                sys.exit(1)
            row += [f"{b_wall * 1000:.0f}", f"{b_wall / wall:.1f}x"]
        rows.append(row)
    engine.dispose()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--postgres", default=None, help="a PostgreSQL URL to bench as well")
    parser.add_argument("--no-baseline", action="store_true")
    args = parser.parse_args()
    n = 10_000 if args.quick else 100_000
    register = Register.builtin()
    var = Path(__file__).resolve().parents[1] / "var"
    var.mkdir(exist_ok=True)
    rows = run("sqlite", f"sqlite:///{var}/bench-preview-{n}.db", n, register, not args.no_baseline)
    if args.postgres:
        admin = make_engine(args.postgres)
        schema = f"bench_preview_{n}"
        with admin.begin() as connection:
            connection.execute(text(f"CREATE SCHEMA IF NOT EXISTS {schema}"))
        url = f"{args.postgres}?options=-csearch_path%3D{schema}"
        rows += run("postgres", url, n, register, not args.no_baseline)
        admin.dispose()
    header = ["db", "alert", "caught", "preview ms", "cpu ms"]
    if not args.no_baseline:
        header += ["baseline ms", "speed-up"]
    print_table(
        f"preview: last 90 days of {n:,} stored documents (medians of 5; baseline of 3)",
        header,
        rows,
    )
    medians = [float(r[3]) for r in rows if r[0] == "sqlite"]
    print(f"\nmedian preview over these alerts (sqlite): {statistics.median(medians):.0f} ms")


if __name__ == "__main__":
    main()
