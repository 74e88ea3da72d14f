"""/documents browsing on a large store: keyset pages beside OFFSET, the subject menu beside a
DISTINCT scan, on SQLite and PostgreSQL.

    .venv/bin/python bench/browse.py            # 200,000 documents
    .venv/bin/python bench/browse.py --quick    # 20,000

The store: decisions (60%, decided on dates over ten years, 24 categories) and news (40%,
published over the same years), tagged with one of 400 councils each, stored through the
ordinary upsert. Measured in the same run, interleaved (ABAB, BABA), medians:
- the served page: GET /documents (and ?kind=decision, ?council=...) through the real web app
  in-process, page 1 and page 500 (page 500's link found by walking 499 pages, untimed);
- the listing queries alone: keyset (db.browse.browse) beside two OFFSET baselines: the code
  before this change (ORDER BY first_seen_at ... OFFSET, no usable index) and OFFSET on the
  new (dated_at, id) index (what a competent first version with the index does);
- the subject menu: document_categories beside SELECT DISTINCT category over documents.
Goal: page 1 and page 500 under 50 ms median on 200,000 documents, both stores.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import Engine, insert, select, text  # noqa: E402
from starlette.testclient import TestClient  # noqa: E402

from bench.common import default_postgres, interleaved, postgres_schema, print_table  # noqa: E402
from councilwatch.web.app import create_app  # noqa: E402
from db import migrate  # noqa: E402
from db.browse import BrowseFilters, Cursor, browse, categories, offset_page  # noqa: E402
from db.engine import make_engine, read_connection  # noqa: E402
from db.ingest import DocumentRecord, upsert_documents  # noqa: E402
from db.pages import DocumentFilters, list_documents  # noqa: E402
from db.tables import DOCUMENT_COUNCILS, DOCUMENTS  # noqa: E402
from tests.runtimes import make_runtime  # noqa: E402

NOW = datetime(2026, 11, 1, tzinfo=UTC)
PER_PAGE = 20
DEEP = 500  # the deep page timed (100 with --quick, whose smaller store holds fewer pages)
CATEGORIES = [f"Subject {n:02d}" for n in range(24)]
WORDS = ["council", "complaint", "delay", "plan", "care", "school", "housing", "repair", "fault"]


def corpus(n: int, seed: int = 17) -> list[DocumentRecord]:
    rng = random.Random(seed)
    start = date(2016, 11, 1)
    records = []
    for i in range(n):
        day = start + timedelta(days=rng.randrange(3650))
        summary = " ".join(rng.choices(WORDS, k=30))
        if rng.random() < 0.6:
            records.append(
                DocumentRecord(
                    kind="decision", source="lgsco", source_key=f"{i:08d}",
                    url=f"https://www.lgo.org.uk/decisions/{i}", title=f"Decision {i}",
                    summary=summary, body=summary, decided_on=day, reference=f"{i:08d}",
                    category=rng.choice(CATEGORIES),
                    outcome=rng.choice(["upheld", "not upheld", "closed after initial enquiries"]),
                )
            )  # fmt: skip
        else:
            moment = datetime.combine(day, datetime.min.time(), UTC)
            records.append(
                DocumentRecord(
                    kind="news", source="news", source_key=f"https://news.example/{i}",
                    url=f"https://news.example/{i}", title=f"Story {i}", summary=summary,
                    body=summary, published_at=moment + timedelta(minutes=rng.randrange(1440)),
                )
            )  # fmt: skip
    rng.shuffle(records)  # stored in no particular date order, as a backfill would
    return records


def load(url: str, records: list[DocumentRecord], councils: list[str]) -> Engine:
    engine = make_engine(url)
    migrate.upgrade(engine)
    upsert_documents(engine, records, now=NOW)
    with engine.begin() as connection:
        ids = connection.execute(select(DOCUMENTS.c.id)).scalars().all()
        rng = random.Random(5)
        # a few councils are named often (Zipf): the busiest has about 15% of documents
        weights = [1 / (rank + 1) for rank in range(len(councils))]
        chosen = rng.choices(councils, weights=weights, k=len(ids))
        tags = [{"document_id": i, "council_id": c} for i, c in zip(ids, chosen, strict=True)]
        for start in range(0, len(tags), 5000):
            connection.execute(insert(DOCUMENT_COUNCILS), tags[start : start + 5000])
        connection.execute(text("ANALYZE"))
    return engine


def distinct_categories(engine: Engine) -> list[str]:
    with read_connection(engine) as connection:
        rows = connection.execute(
            select(DOCUMENTS.c.category).where(DOCUMENTS.c.category.is_not(None)).distinct()
        ).all()
    return sorted(str(row.category) for row in rows)


def cursor_of_page(engine: Engine, filters: BrowseFilters, page: int) -> Cursor:
    """The cursor a reader following "Older" links from page 1 reaches page ``page`` with."""
    after = browse(engine, filters, per_page=PER_PAGE).later
    for _ in range(page - 2):
        assert after is not None, f"the store must hold {page} pages"
        after = browse(engine, filters, after=after, per_page=PER_PAGE).later
    assert after is not None, f"the store must hold {page} pages"
    return after


def methods(
    engine: Engine,
    client: TestClient,
    params: Mapping[str, object],
    deep: Mapping[str, object],
    filters: BrowseFilters,
    last: Cursor,
) -> dict[str, Callable[[], object]]:
    old = DocumentFilters(council_id=filters.council_id, kind=filters.kind)
    return {
        "page 1": lambda: client.get("/documents", params=params),
        "page 500": lambda: client.get("/documents", params=deep),
        "keyset 1": lambda: browse(engine, filters, per_page=PER_PAGE),
        "keyset 500": lambda: browse(engine, filters, after=last, per_page=PER_PAGE),
        "offset 1": lambda: offset_page(engine, filters, page=1),
        "offset 500": lambda: offset_page(engine, filters, page=DEEP),
        "before 1": lambda: list_documents(engine, old, page=1, per_page=PER_PAGE),
        "before 500": lambda: list_documents(engine, old, page=DEEP, per_page=PER_PAGE),
    }


def run(
    name: str, url: str, records: list[DocumentRecord], rounds: int, tmp: Path
) -> list[list[object]]:
    runtime = make_runtime(url, tmp)
    councils = [c.id for c in runtime.register.councils(current=True)][:400]
    engine = load(url, records, councils)
    busy = councils[0]
    rows: list[list[object]] = []
    with TestClient(create_app(runtime)) as client:
        cases = {
            "all": ({}, BrowseFilters()),
            "decisions": ({"kind": "decision"}, BrowseFilters(kind="decision")),
            "one council": ({"council": busy}, BrowseFilters(council_id=busy)),
        }
        for label, (params, filters) in cases.items():
            last = cursor_of_page(engine, filters, DEEP)
            deep = {**params, "after": last.token(), "page": DEEP}
            for path_params in (params, deep):
                assert client.get("/documents", params=path_params).status_code == 200
            timed = interleaved(methods(engine, client, params, deep, filters, last), rounds)
            # wall (CPU of this process): the machine is shared, CPU is what load does not inflate
            ms = {k: f"{t.wall * 1e3:.1f} ({t.cpu * 1e3:.1f})" for k, t in timed.items()}
            for method, key in (
                ("GET /documents (keyset)", "page"),
                ("query: keyset", "keyset"),
                ("query: OFFSET, dated index", "offset"),
                ("query: before (first_seen OFFSET)", "before"),
            ):
                rows.append([name, label, method, ms[f"{key} 1"], ms[f"{key} 500"]])
    assert categories(engine) == distinct_categories(engine)
    menu = interleaved(
        {"table": lambda: categories(engine), "distinct": lambda: distinct_categories(engine)},
        rounds,
    )
    for method, key in (("document_categories table", "table"), ("SELECT DISTINCT", "distinct")):
        rows.append([name, "subject menu", method, f"{menu[key].wall * 1e3:.1f}", ""])
    engine.dispose()
    runtime.close()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20,000 documents, fewer rounds")
    parser.add_argument("--postgres", default=default_postgres())
    parser.add_argument("--documents", type=int, help="store size (default 200,000)")
    parser.add_argument("--only", choices=("sqlite", "postgres"), help="one store only")
    args = parser.parse_args()
    global DEEP
    n, rounds = (args.documents or 20_000, 5) if args.quick else (args.documents or 200_000, 11)
    DEEP = 100 if args.quick else 500
    records = corpus(n)
    rows: list[list[object]] = []
    with tempfile.TemporaryDirectory() as tmp:
        if args.only != "postgres":
            rows += run("sqlite", f"sqlite:///{tmp}/browse.db", records, rounds, Path(tmp))
        with postgres_schema(args.postgres) as pg_url:
            if pg_url is not None and args.only != "sqlite":
                (Path(tmp) / "pg").mkdir()
                rows += run("postgres", pg_url, records, rounds, Path(tmp) / "pg")
    print_table(
        f"/documents on {n:,} documents, {PER_PAGE} a page (ms, median of {rounds}, interleaved)",
        ["db", "filter", "method", "page 1 ms (CPU)", f"page {DEEP} ms (CPU)"],
        rows,
    )
    print("goal: the served page 1 and page 500 under 50 ms median on 200,000 documents")


if __name__ == "__main__":
    main()
