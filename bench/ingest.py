"""Ingest benchmark: bulk upsert of synthetic documents with 5 KB bodies, search index included.

Pass 1 inserts N new documents, pass 2 upserts the same N again (all unchanged). The baseline,
measured in the same run, is what a naive ingest does: an ORM add and commit per document; it
runs on a sample (it is slow) and is reported as documents/s.

    .venv/bin/python bench/ingest.py            # 100,000 documents
    .venv/bin/python bench/ingest.py --quick    # 10,000
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import Engine, text
from sqlmodel import Session

from bench.common import print_table
from db import migrate
from db.engine import make_engine
from db.ingest import DocumentRecord, upsert_documents
from db.models import Document

WORDS = [
    "council",
    "complaint",
    "ombudsman",
    "care",
    "plan",
    "review",
    "delay",
    "payment",
    "apology",
    "housing",
    "school",
    "transport",
    "assessment",
    "social",
    "worker",
    "family",
    "carer",
    "fault",
    "injustice",
    "remedy",
    "decision",
    "investigation",
    "report",
    "officer",
    "tenant",
    "repair",
    "homeless",
    "education",
    "needs",
    "safeguarding",
    "adult",
    "child",
    "charge",
    "benefit",
]
NOW = datetime(2026, 11, 1, tzinfo=UTC)


def synthetic(n: int, seed: int = 7) -> list[DocumentRecord]:
    rng = random.Random(seed)
    records = []
    for i in range(n):
        body = " ".join(rng.choices(WORDS, k=720))[:5000]
        records.append(
            DocumentRecord(
                kind="decision",
                source="lgsco",
                source_key=f"{i:08d}",
                url=f"https://www.lgo.org.uk/decisions/x/{i}",
                title=f"Council {i % 400}",
                summary=body[:200],
                body=body,
                decided_on=date(2025, 1 + i % 12, 1 + i % 28),
                reference=f"{i:08d}",
                organisation=f"Council {i % 400}",
                outcome="upheld",
            )
        )
    return records


def orm_baseline(engine: Engine, records: list[DocumentRecord]) -> float:
    start = time.perf_counter()
    for record in records:
        with Session(engine) as session:
            session.add(
                Document(
                    **record.row(),
                    content_hash=record.content_hash(),
                    first_seen_at=NOW,
                    updated_at=NOW,
                )
            )
            session.commit()
    return len(records) / (time.perf_counter() - start)


def run(name: str, url: str, records: list[DocumentRecord], sample: list[DocumentRecord]) -> list:  # type: ignore[type-arg]
    engine = make_engine(url)
    migrate.upgrade(engine)
    start = time.perf_counter()
    first = upsert_documents(engine, records, now=NOW)
    first_s = time.perf_counter() - start
    start = time.perf_counter()
    second = upsert_documents(engine, records, now=NOW)
    second_s = time.perf_counter() - start
    assert len(first.inserted) == len(records) and second.unchanged == len(records)
    baseline = orm_baseline(engine, sample)
    engine.dispose()
    n = len(records)
    return [
        [
            name,
            "upsert, all new",
            n,
            f"{first_s:.1f}",
            f"{n / first_s:,.0f}",
            f"{n / first_s / baseline:.1f}x",
        ],
        [
            name,
            "upsert, all unchanged",
            n,
            f"{second_s:.1f}",
            f"{n / second_s:,.0f}",
            f"{n / second_s / baseline:.1f}x",
        ],
        [name, "baseline: ORM add+commit each", len(sample), "", f"{baseline:,.0f}", "1.0x"],
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument(
        "--postgres",
        default=os.environ.get(
            "COUNCILWATCH_BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
        ),
    )
    args = parser.parse_args()
    n = 10_000 if args.quick else 100_000
    records = synthetic(n)
    sample = [
        DocumentRecord(**{**r.__dict__, "source_key": "b" + r.source_key}) for r in records[:1000]
    ]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        rows += run("sqlite", f"sqlite:///{tmp}/bench.db", records, sample)
    schema = "bench_" + uuid.uuid4().hex[:8]
    try:
        admin = make_engine(args.postgres)
        with admin.begin() as connection:
            connection.execute(text(f"CREATE SCHEMA {schema}"))
    except Exception as exc:
        print(f"PostgreSQL skipped: {exc}".splitlines()[0])
    else:
        try:
            rows += run(
                "postgres", f"{args.postgres}?options=-csearch_path%3D{schema}", records, sample
            )
        finally:
            with admin.begin() as connection:
                connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    print_table(
        f"ingest: {n:,} documents with 5 KB bodies (full-text index kept by the database)",
        ["db", "pass", "docs", "seconds", "docs/s", "vs baseline"],
        rows,
    )


if __name__ == "__main__":
    main()
