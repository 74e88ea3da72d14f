"""Linking on the big pipeline store: `link_documents` for one batch of new documents, with
another revision's linking (default HEAD~1's councilwatch/news_linking.py and db/links.py)
beside today's, interleaved rounds, medians of CPU and wall; the links written must be the same.

    .venv/bin/python bench/pipeline.py --db sqlite --digests 100 --no-baseline   # leaves the store
    .venv/bin/python bench/linking_store.py [--rev REV] [--rounds 5]

The store is var/bench-pipeline/run-full-current.db as bench/pipeline.py left it; the batch
is the cycle's first 100 new documents (source keys N000000-N000099).
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(HERE))

from sqlalchemy import create_engine, text  # noqa: E402

import councilwatch.news_linking as linking  # noqa: E402
from alerts.councils import Register  # noqa: E402

STORE = HERE / "var" / "bench-pipeline" / "run-full-current.db"


def _module_at(rev: str, path: str, name: str) -> Any:
    source = subprocess.run(
        ["git", "-C", str(HERE), "show", f"{rev}:{path}"],
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    file = Path(tempfile.mkdtemp()) / f"{name}.py"
    file.write_text(source)
    spec = importlib.util.spec_from_file_location(name, file)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def _linking_at(rev: str) -> Any:
    """That revision's news_linking, bound to that revision's db.links."""
    links = _module_at(rev, "db/links.py", "links_then")
    saved = sys.modules["db.links"]
    sys.modules["db.links"] = links  # what its `from db.links import ...` reads
    try:
        return _module_at(rev, "councilwatch/news_linking.py", "news_linking_then")
    finally:
        sys.modules["db.links"] = saved


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rev", default="HEAD~1")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    if not STORE.exists():
        raise SystemExit(f"no store at {STORE}: run bench/pipeline.py --db sqlite first")
    engine = create_engine(f"sqlite:///{STORE}")
    with engine.connect() as connection:
        ids = [
            row[0]
            for row in connection.execute(
                text("SELECT id FROM documents WHERE source_key BETWEEN 'N000000' AND 'N000099'")
            )
        ]
    then = _linking_at(args.rev)
    register = Register.builtin()
    from datetime import UTC, datetime

    now = datetime(2026, 12, 1, tzinfo=UTC)
    variants = {f"{args.rev}": then.link_documents, "today": linking.link_documents}
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in variants}
    written: dict[str, set[Any]] = {name: set() for name in variants}
    for _ in range(args.rounds):
        for name, link_documents in variants.items():
            wall, cpu = time.perf_counter(), time.process_time()
            link_documents(engine, register, ids, now=now)
            times[name].append((time.perf_counter() - wall, time.process_time() - cpu))
            with engine.connect() as connection:
                rows = connection.execute(
                    text("SELECT story_id, decision_id, score FROM document_links ORDER BY 1")
                ).all()
            written[name].add(tuple(tuple(row) for row in rows))
    print(f"link_documents, {len(ids)} new documents, {args.rounds} rounds, medians")
    for name, runs in times.items():
        print(
            f"  {name:10} CPU {statistics.median(c for _, c in runs):.3f} s"
            f"  wall {statistics.median(w for w, _ in runs):.3f} s"
        )
    same = len({frozenset(v) for v in written.values()}) == 1
    print(f"  links written the same both ways: {same}")
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
