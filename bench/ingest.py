"""Ingest benchmark: bulk upsert of decisions with ~5 KB bodies, search index included, on
SQLite and PostgreSQL, beside the Core ``executemany`` floor, in the same run.

    .venv/bin/python bench/ingest.py            # 100,000 documents
    .venv/bin/python bench/ingest.py --quick    # 10,000

Bodies are realistic in vocabulary: words drawn Zipf-distributed (s = 1) from ~100,000
invented words of English-like lengths, so the full-text index sees tens of thousands of
distinct terms, as it does with real decisions (a 34-word vocabulary, what this bench used to
use, keeps the index tiny and flatters it; it is run too, for comparison).

Per store and vocabulary: pass 1 upserts N new documents (the service's path:
``db.ingest.upsert_documents``), pass 2 the same N again (all unchanged). The floor is one
plain Core ``INSERT ... executemany`` of the same rows into the same migrated table (triggers
and generated search column included) in one transaction per 500: the least any ingest of
these rows can do. Goals: SQLite 100,000 realistic documents < 30 s wall, PostgreSQL < 90 s.
"""

from __future__ import annotations

import argparse
import itertools
import random
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import Engine, insert

from bench.common import default_postgres, postgres_schema, print_table
from db import migrate
from db.engine import make_engine, write_transaction
from db.ingest import BATCH_SIZE, DocumentRecord, upsert_documents
from db.tables import DOCUMENTS

NOW = datetime(2026, 11, 1, tzinfo=UTC)
BODY_CHARS = 5000
SMALL_VOCABULARY = [
    "council", "complaint", "ombudsman", "care", "plan", "review", "delay", "payment",
    "apology", "housing", "school", "transport", "assessment", "social", "worker", "family",
    "carer", "fault", "injustice", "remedy", "decision", "investigation", "report", "officer",
    "tenant", "repair", "homeless", "education", "needs", "safeguarding", "adult", "child",
    "charge", "benefit",
]  # fmt: skip
SYLLABLES = [c + v for c in "bcdfghjklmnprstvwz" for v in "aeiou"] + ["th", "sh", "ch", "st"]


def realistic_vocabulary(size: int = 100_000, seed: int = 3) -> list[str]:
    rng = random.Random(seed)
    words: set[str] = set()
    while len(words) < size:
        words.add("".join(rng.choices(SYLLABLES, k=rng.choice((1, 2, 2, 3, 3, 3, 4)))))
    ordered = sorted(words)
    rng.shuffle(ordered)
    return ordered


class Bodies:
    def __init__(self, vocabulary: list[str], seed: int) -> None:
        self.rng = random.Random(seed)
        self.vocabulary = vocabulary
        self.weights = list(itertools.accumulate(1 / (r + 1) for r in range(len(vocabulary))))

    def text(self, words: int) -> str:
        chosen = self.rng.choices(self.vocabulary, cum_weights=self.weights, k=words)
        return " ".join(chosen)[:BODY_CHARS]


def synthetic(n: int, vocabulary: list[str], seed: int = 7) -> list[DocumentRecord]:
    bodies = Bodies(vocabulary, seed)
    records = []
    for i in range(n):
        body = bodies.text(900)
        records.append(
            DocumentRecord(
                kind="decision",
                source="lgsco",
                source_key=f"{i:08d}",
                url=f"https://www.lgo.org.uk/decisions/x/{i}",
                title=f"Council {i % 400}: {bodies.text(8)}",
                summary=body[:200],
                body=body,
                decided_on=date(2025, 1 + i % 12, 1 + i % 28),
                reference=f"{i:08d}",
                organisation=f"Council {i % 400}",
                category=f"Subject {i % 24}",
                outcome="upheld",
            )
        )
    return records


def floor(engine: Engine, records: list[DocumentRecord]) -> float:
    """Plain executemany of the finished rows: no look-up, no hashing, no RETURNING."""
    rows = []
    for record in records:
        row = record.row()
        row.update(
            content_hash="0" * 64,
            first_seen_at=NOW,
            updated_at=NOW,
            dated_at=NOW,
            backfill=False,
        )
        rows.append(row)
    start = time.perf_counter()
    for offset in range(0, len(rows), BATCH_SIZE):
        with write_transaction(engine) as connection:
            connection.execute(insert(DOCUMENTS), rows[offset : offset + BATCH_SIZE])
    return time.perf_counter() - start


def run(
    name: str, url: str, floor_url: str, label: str, records: list[DocumentRecord]
) -> list[list[object]]:
    """The upsert on ``url``, the floor on ``floor_url``: two fresh stores, so neither inherits
    the other's index."""
    engine = make_engine(url)
    migrate.upgrade(engine)
    start, cpu = time.perf_counter(), time.process_time()
    first = upsert_documents(engine, records, now=NOW)
    first_s, first_cpu = time.perf_counter() - start, time.process_time() - cpu
    start = time.perf_counter()
    second = upsert_documents(engine, records, now=NOW)
    second_s = time.perf_counter() - start
    assert len(first.inserted) == len(records) and second.unchanged == len(records)
    engine.dispose()
    engine = make_engine(floor_url)
    migrate.upgrade(engine)
    floor_s = floor(engine, records)
    engine.dispose()
    n = len(records)
    return [
        [name, label, "upsert, all new", f"{first_s:.1f}", f"{first_cpu:.1f}",
         f"{n / first_s:,.0f}", f"{first_s / floor_s:.2f}"],
        [name, label, "upsert, all unchanged", f"{second_s:.1f}", "", f"{n / second_s:,.0f}",
         f"{second_s / floor_s:.2f}"],
        [name, label, "floor: Core executemany", f"{floor_s:.1f}", "", f"{n / floor_s:,.0f}",
         "1.00"],
    ]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--postgres", default=default_postgres())
    parser.add_argument("--only", choices=("sqlite", "postgres"), help="one store only")
    args = parser.parse_args()
    n = 10_000 if args.quick else 100_000
    vocabularies = {
        "realistic": synthetic(n, realistic_vocabulary()),
        "34 words": synthetic(n, SMALL_VOCABULARY),
    }
    rows: list[list[object]] = []
    for label, records in vocabularies.items():
        if args.only != "postgres":
            with tempfile.TemporaryDirectory() as tmp:
                urls = (f"sqlite:///{tmp}/bench.db", f"sqlite:///{tmp}/floor.db")
                rows += run("sqlite", *urls, label, records)
        if args.only != "sqlite":
            with postgres_schema(args.postgres) as pg, postgres_schema(args.postgres) as floor_pg:
                if pg is not None and floor_pg is not None:
                    rows += run("postgres", pg, floor_pg, label, records)
    print_table(
        f"ingest: {n:,} decisions with 5 KB bodies (full-text index kept by the database)",
        ["db", "vocabulary", "pass", "seconds", "CPU s", "docs/s", "vs floor"],
        rows,
    )
    print("goals (realistic vocabulary, 100,000): SQLite < 30 s wall, PostgreSQL < 90 s wall")


if __name__ == "__main__":
    main()
