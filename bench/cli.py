"""CLI start-up benchmark: `councilwatch search`, `status` and `export` as a person runs them,
each a fresh process on a store of 200,000 documents (the issue's size), beside a baseline in
the same run.

    .venv/bin/python bench/cli.py                      # 200,000 documents, SQLite
    .venv/bin/python bench/cli.py --quick              # 10,000
    .venv/bin/python bench/cli.py --documents 100000   # another size (a store of its own)
    .venv/bin/python bench/cli.py --postgres URL       # also on PostgreSQL (same documents)
    .venv/bin/python bench/cli.py --baseline-rev main  # baseline: that commit (default main)

The store is built once and cached in var/bench-cli/ (decisions and news over ten years, words
Zipf-distributed over the 34 common council words then ~100,000 invented ones, so a common word
matches most documents and a rare one a handful; keys cut as `db upgrade` cuts them). The
baseline is the given commit unpacked with `git archive`, run by the same interpreter with its
own tree first on the path. Rounds are interleaved (ABAB, BABA); per command it prints the
median wall and CPU time (user + system of the child) and the `-X importtime` total, and per
query the time of the query itself in this process (start-up excluded).
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import os
import random
import re
import resource
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from io import BytesIO
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlencode

HERE = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(HERE))

from bench.common import print_table  # noqa: E402
from bench.ingest import SMALL_VOCABULARY, Bodies, realistic_vocabulary  # noqa: E402

if TYPE_CHECKING:
    from db.ingest import DocumentRecord

WORK = HERE / "var" / "bench-cli"
STORE_VERSION = 1  # bump when the generated store changes
NOW = datetime(2026, 11, 1, tzinfo=UTC)
SECRET = "bench-cli-secret-key-0123456789-abcdefghij"
# A common word (most documents), a rare one, two words, phrases (confirmed by reading each
# candidate), prefixes, OR, NOT, filters, output options: the questions people ask.
QUERIES: list[tuple[str, ...]] = [
    ("council",),
    ("school transport",),
    ("zibuna",),  # replaced by a word of rank ~20,000 at run time
    ('"care plan"',),
    ("housing", "--kind", "decision"),
    ('"council complaint"',),  # the two commonest words: a phrase of a very common pair
    ('"care plan review delay"',),  # a long phrase: 5,000 candidates, hardly any match
    ('"zibuna council"',),  # a rare word beside a common one (rare word put in at run time)
    ("care-plan",),  # a word the tokeniser splits: a phrase of stems
    ('"care plan" NOT transport',),
    ('"care plan" OR "school transport"',),
    ("assess*",),
    ("ka*",),  # a short prefix of many invented words
    ("housing OR school",),
    ("council NOT complaint",),
    ("care -plan", "--kind", "news"),
    ('"care plan"', "--source", "lgsco", "--since", "2024-01-01"),
    ('"care plan"', "--limit", "100"),
    ('"care plan"', "--json"),
    ("council", "--json", "--limit", "100"),
]


def corpus(n: int, seed: int = 17) -> Iterator[DocumentRecord]:
    from db.ingest import DocumentRecord

    vocabulary = SMALL_VOCABULARY + realistic_vocabulary()
    bodies = Bodies(vocabulary, seed)
    rng = random.Random(seed)
    start = date(2016, 11, 1)
    for i in range(n):
        day = start + timedelta(days=rng.randrange(3650))
        body = bodies.text(700)
        if i % 10 < 7:
            yield DocumentRecord(
                kind="decision",
                source="lgsco",
                source_key=f"d{i:08d}",
                url=f"https://www.lgo.org.uk/decisions/x/{i}",
                title=f"Council {i % 400}: {bodies.text(8)}",
                summary=body[:200],
                body=body,
                decided_on=day,
                reference=f"{i:08d}",
                organisation=f"Council {i % 400}",
                category=f"Subject {i % 24}",
                outcome="upheld",
            )
        else:
            yield DocumentRecord(
                kind="news",
                source="news",
                source_key=f"n{i:08d}",
                url=f"https://news.example/{i}",
                title=bodies.text(10),
                summary=body[:200],
                body=body[:3000],
                published_at=datetime.combine(day, datetime.min.time(), UTC),
                site_name=f"Paper {i % 30}",
            )


def build_store(url: str, n: int) -> None:
    from sqlalchemy import text

    from councilwatch.search import refresh_keys
    from db import migrate
    from db.engine import make_engine
    from db.ingest import upsert_documents

    engine = make_engine(url)
    migrate.upgrade(engine)
    t0 = time.perf_counter()
    records = corpus(n)
    for offset in range(0, n, 5000):
        upsert_documents(engine, list(itertools.islice(records, 5000)), now=NOW)
        print(f"  stored {offset + 5000:,} ({time.perf_counter() - t0:.0f} s)", flush=True)
    refresh_keys(engine)
    print(f"  keys cut ({time.perf_counter() - t0:.0f} s)", flush=True)
    # planner statistics, as a store in service has them (PostgreSQL's autovacuum may not
    # have run yet: without them it looked keys up per document, 5 s for one count)
    with engine.begin() as connection:
        connection.execute(text("ANALYZE"))
    engine.dispose()


def sqlite_store(n: int) -> str:
    WORK.mkdir(parents=True, exist_ok=True)
    store = WORK / f"store-{n}-v{STORE_VERSION}.db"
    if not store.exists():
        print(f"building {store} ...", flush=True)
        partial = store.with_suffix(".partial")
        for leftover in WORK.glob(partial.name + "*"):
            leftover.unlink()
        build_store(f"sqlite:///{partial}", n)
        partial.rename(store)
    return f"sqlite:///{store}"


def postgres_store(url: str, n: int) -> str:
    """A database named for the store beside ``url``'s (built once, kept)."""
    from sqlalchemy import text
    from sqlalchemy.engine import make_url

    from db.engine import make_engine
    from db.schema_version import ensure_current

    name = f"cwbench_cli_{n}_v{STORE_VERSION}"
    target = make_url(url).set(database=name).render_as_string(hide_password=False)
    admin = make_engine(url).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        exists = connection.execute(
            text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}
        ).first()
        if exists is None:
            connection.execute(text(f"CREATE DATABASE {name}_partial"))
    admin.dispose()
    if exists is None:
        print(f"building PostgreSQL {name} ...", flush=True)
        partial = make_url(url).set(database=f"{name}_partial")
        build_store(partial.render_as_string(hide_password=False), n)
        admin = make_engine(url).execution_options(isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f"ALTER DATABASE {name}_partial RENAME TO {name}"))
        admin.dispose()
    engine = make_engine(target)
    ensure_current(engine)
    engine.dispose()
    return target


HEAD_PROGRAM = "from db.schema_version import scripted_head; print(scripted_head())"


def schema_head(tree: Path) -> str:
    done = subprocess.run(
        [sys.executable, "-c", HEAD_PROGRAM],
        cwd=tree, env=environment(tree), capture_output=True, text=True, check=True,
    )  # fmt: skip
    return done.stdout.strip()


def tree_stores(
    trees: dict[str, Path], stores: dict[str, str], n: int
) -> dict[str, dict[str, str]]:
    """Each store's URL for each tree: the same store where the trees' schemas agree; else a
    SQLite store of the baseline's own, built by its own bench/cli.py (same documents, keys
    cut by its code: a revision reads only its own schema)."""
    heads = {name: schema_head(tree) for name, tree in trees.items()}
    if len(set(heads.values())) == 1:
        return {db: dict.fromkeys(trees, url) for db, url in stores.items()}
    if "postgres" in stores:  # its store's name would be ours: one database per size
        raise SystemExit(f"schemas differ ({heads}): PostgreSQL needs a baseline of the same")
    out: dict[str, dict[str, str]] = {"sqlite": {}}
    for name, tree in trees.items():
        if tree == HERE:
            out["sqlite"][name] = stores["sqlite"]
            continue
        store = tree / "var" / "bench-cli" / f"store-{n}-v{STORE_VERSION}.db"
        if not store.exists():
            print(f"building {name}'s own store at {heads[name]} ...", flush=True)
            subprocess.run(
                [sys.executable, "bench/cli.py", "--build-only", "--documents", str(n)],
                cwd=tree, env=environment(tree), check=True,
            )  # fmt: skip
        out["sqlite"][name] = f"sqlite:///{store}"
    return out


def rare_word() -> str:
    return realistic_vocabulary()[20_000]


# -- the baseline -----------------------------------------------------------------------------


def baseline_tree(rev: str) -> Path:
    sha = subprocess.run(
        ["git", "rev-parse", rev], cwd=HERE, capture_output=True, text=True, check=True
    ).stdout.strip()
    tree = WORK / f"baseline-{sha[:12]}"
    if not tree.exists():
        archive = subprocess.run(["git", "archive", sha], cwd=HERE, capture_output=True, check=True)
        partial = Path(tempfile.mkdtemp(dir=WORK))
        with tarfile.open(fileobj=BytesIO(archive.stdout)) as tar:
            tar.extractall(partial, filter="data")
        partial.rename(tree)
    return tree


# -- timing -----------------------------------------------------------------------------------

PROGRAM = "import sys; from councilwatch.cli import main; sys.exit(main())"


def command(tree: Path, config: Path, args: tuple[str, ...], *extra: str) -> list[str]:
    return [sys.executable, *extra, "-c", PROGRAM, "-c", str(config), *args]


def environment(tree: Path) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": str(tree),
        "COUNCILWATCH_SECRET_KEY": SECRET,
        "PYTHONDONTWRITEBYTECODE": "",
    }


# The interpreter alone, timed beside the commands: on a loaded machine the ratio to it speaks
# where the wall time alone does not.
NOTHING = ("(python -c pass)",)


def run_once(tree: Path, config: Path, args: tuple[str, ...]) -> tuple[float, float, str]:
    argv = [sys.executable, "-c", "pass"] if args == NOTHING else command(tree, config, args)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(
        argv, cwd=tree, env=environment(tree), capture_output=True, check=False
    )  # fmt: skip
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"{tree.name} {' '.join(args)} failed:\n{done.stderr.decode()}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, hashlib.sha256(done.stdout).hexdigest()[:12]


_IMPORT_LINE = re.compile(r"^import time:\s+(\d+) \|\s+(\d+) \|(\s*)(\S+)")


def import_time(tree: Path, config: Path, args: tuple[str, ...]) -> tuple[float, int]:
    """Seconds spent importing (sum of every module's own time) and how many modules."""
    done = subprocess.run(
        command(tree, config, args, "-X", "importtime"), cwd=tree, env=environment(tree),
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    own = [int(m.group(1)) for m in map(_IMPORT_LINE.match, done.stderr.splitlines()) if m]
    return sum(own) / 1e6, len(own)


def write_config(url: str, name: str) -> Path:
    path = WORK / f"config-{name}.toml"
    path.write_text(f'[database]\nurl = "{url}"\n')
    return path


def query_seconds(url: str, args: tuple[str, ...], repeat: int = 5) -> tuple[float, float]:
    """The query alone (parse, look-up, count, snippets) in this process, warm: median s.

    Read as `councilwatch search` reads the store: db.sqlite_search on a SQLite file, else
    the engine (Runtime.search_reader)."""
    from councilwatch.search import search
    from db.engine import make_engine
    from db.search import EngineReader, Scope
    from db.search_types import DocumentReader
    from db.sqlite_search import SqliteReader

    engine = make_engine(url, create=False)
    reader: DocumentReader | None = SqliteReader.open(url, engine=lambda: engine)
    reader = reader or EngineReader(engine)

    def option(name: str) -> list[str]:
        return [args[args.index(name) + 1]] if name in args else []

    since = [date.fromisoformat(d) for d in option("--since")]
    scope = Scope(kinds=option("--kind"), sources=option("--source"), since=next(iter(since), None))
    limit = int(next(iter(option("--limit")), 20))
    walls, cpus = [], []
    for _ in range(repeat):
        start, cpu = time.perf_counter(), time.process_time()
        search(reader, args[0], scope, limit=limit)
        walls.append(time.perf_counter() - start)
        cpus.append(time.process_time() - cpu)
    if isinstance(reader, SqliteReader):
        reader.close()
    engine.dispose()
    return statistics.median(walls), statistics.median(cpus)


# The web page's search (/documents?q=...), which asks the store through the engine: each
# tree in its own process, every page fetched once untimed, then `repeat` times; JSON out.
WEB_PAGES = [
    {"q": "council"},
    {"q": '"care plan"'},
    {"q": '"care plan"', "kind": "decision"},
    {"q": '"care plan"', "page": "3"},
    {"q": '"council complaint"'},
    {"q": '"care plan review delay"'},
    {"q": "care-plan"},
    {"q": '"care plan"', "council": "Norfolk"},
    {"q": "assess*", "kind": "news"},
]
WEB_PROGRAM = """
import hashlib, json, statistics, sys, tempfile, time
from pathlib import Path
from starlette.testclient import TestClient
from councilwatch.web.app import create_app
from tests.runtimes import make_runtime
url, pages, repeat = sys.argv[1], json.loads(sys.argv[2]), int(sys.argv[3])
runtime = make_runtime(url, Path(tempfile.mkdtemp()))
out = []
with TestClient(create_app(runtime)) as client:
    for params in pages:
        body = client.get("/documents", params=params)
        walls, cpus = [], []
        for _ in range(repeat):
            start, cpu = time.perf_counter(), time.process_time()
            client.get("/documents", params=params)
            walls.append(time.perf_counter() - start)
            cpus.append(time.process_time() - cpu)
        out.append([statistics.median(walls), statistics.median(cpus), body.status_code,
                    hashlib.sha256(body.content).hexdigest()[:12]])
runtime.close()
print(json.dumps(out))
"""


def web_seconds(tree: Path, url: str, repeat: int) -> list[tuple[float, float, int, str]]:
    done = subprocess.run(
        [sys.executable, "-c", WEB_PROGRAM, url, json.dumps(WEB_PAGES), str(repeat)],
        cwd=tree, env=environment(tree), capture_output=True, text=True, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise SystemExit(f"{tree.name} web pages failed:\n{done.stderr}")
    return [tuple(row) for row in json.loads(done.stdout)]


def web_table(trees: dict[str, Path], stores: dict[str, dict[str, str]], rounds: int) -> None:
    rows = []
    for db, urls in stores.items():
        runs: dict[str, list[list[tuple[float, float, int, str]]]] = {name: [] for name in trees}
        names = list(trees)
        for number in range(2):  # two processes per tree, interleaved; `rounds` pages each
            for name in names if number % 2 == 0 else reversed(names):
                runs[name].append(web_seconds(trees[name], urls[name], rounds))
        for i, params in enumerate(WEB_PAGES):
            cells = []
            for name in names:
                timings = [row[i] for row in runs[name]]
                cells += [
                    f"{statistics.median(t[0] for t in timings) * 1000:.0f}",
                    f"{statistics.median(t[1] for t in timings) * 1000:.0f}",
                ]
            pages = {(row[i][2], row[i][3]) for name in names for row in runs[name]}
            page = " ".join(map(str, next(iter(pages)))) if len(pages) == 1 else "DIFFER"
            rows.append([db, urlencode(params), *cells, page, f"{os.getloadavg()[0]:.1f}"])
    print_table(
        "GET /documents?q=... in process (TestClient), median of the rounds of two processes, ms",
        ["db", "page", "base wall", "base CPU", "wall", "CPU", "status page sha256", "load"],
        rows,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10,000 documents")
    parser.add_argument("--documents", type=int, default=200_000, help="store size")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--baseline-rev", default="main")
    parser.add_argument("--postgres", metavar="URL", help="also time PostgreSQL at this URL")
    parser.add_argument("--no-sqlite", action="store_true", help="PostgreSQL only")
    parser.add_argument("--build-only", action="store_true")
    parser.add_argument("--web", action="store_true", help="also time /documents?q=...")
    parser.add_argument("--only", help="only the commands holding this text")
    args = parser.parse_args()
    n = 10_000 if args.quick else args.documents
    stores = {} if args.no_sqlite else {"sqlite": sqlite_store(n)}
    if args.postgres:
        stores["postgres"] = postgres_store(args.postgres, n)
    if args.build_only:
        return
    trees = {"baseline": baseline_tree(args.baseline_rev), "this": HERE}
    per_tree = tree_stores(trees, stores, n)
    queries = [(q[0].replace("zibuna", rare_word()), *q[1:]) for q in QUERIES]
    commands: list[tuple[str, ...]] = (
        [NOTHING]
        + [("search", *q) for q in queries]
        + [
            ("status",),
            ("export", "--kind", "decision", "--since", "2026-12-01"),
        ]
    )
    if args.only:
        commands = [NOTHING] + [c for c in commands[1:] if args.only in " ".join(c)]
        queries = [q for q in queries if args.only in " ".join(q)]
    rows = []
    for db, urls in per_tree.items():
        configs = {name: write_config(url, f"{db}-{name}") for name, url in urls.items()}
        for args_ in commands:
            timings: dict[str, list[tuple[float, float, str]]] = {name: [] for name in trees}
            names = list(trees)
            for number in range(args.rounds):
                for name in names if number % 2 == 0 else reversed(names):
                    timings[name].append(run_once(trees[name], configs[name], args_))
            cells = []
            for name in names:
                wall = statistics.median(t[0] for t in timings[name])
                cpu = statistics.median(t[1] for t in timings[name])
                if args_ == NOTHING:
                    cells += [f"{wall:.3f}", f"{cpu:.3f}", "-"]
                    continue
                imports, modules = import_time(trees[name], configs[name], args_)
                cells += [f"{wall:.2f}", f"{cpu:.2f}", f"{imports:.2f} ({modules})"]
            # stdout's digest, every round of both trees: the outputs must not change
            digests = {t[2] for name in names for t in timings[name]}
            output = next(iter(digests)) if len(digests) == 1 else "DIFFER"
            output = "-" if args_ == NOTHING else output
            rows.append([db, " ".join(args_), *cells, output, f"{os.getloadavg()[0]:.1f}"])
            print(" | ".join(rows[-1]), flush=True)
    print_table(
        f"CLI, {n:,} documents, median of {args.rounds} interleaved rounds, seconds "
        f"(baseline {args.baseline_rev} = {trees['baseline'].name}); load {os.getloadavg()[0]:.1f}",
        ["db", "command", "base wall", "base CPU", "base imports (modules)",
         "wall", "CPU", "imports (modules)", "stdout sha256", "load"],
        rows,
    )  # fmt: skip
    if args.web:
        web_table(trees, per_tree, args.rounds)
    query_rows = []
    for db, url in stores.items():
        for q in queries:
            wall, cpu = query_seconds(url, q)
            query_rows.append([db, " ".join(q), f"{wall * 1000:.0f}", f"{cpu * 1000:.0f}"])
    if not query_rows:  # --only chose none of them
        return
    print_table(
        "the query alone, in process, warm (this tree, read as the CLI reads), median of 5, ms",
        ["db", "query", "wall", "CPU"],
        query_rows,
    )


if __name__ == "__main__":
    main()
