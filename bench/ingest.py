"""Ingest benchmark: the service's storage path for new decisions (upsert, then the search
keys cut and indexed) on SQLite and PostgreSQL, beside the plain ``executemany`` floor, in the
same run.

    .venv/bin/python bench/ingest.py --only sqlite             # 100,000 documents, 1 round
    .venv/bin/python bench/ingest.py --quick --rounds 3        # 10,000, medians of 3
    .venv/bin/python bench/ingest.py --quick --baseline-rev main   # and main's code, same run

Bodies are realistic in vocabulary: words drawn Zipf-distributed (s = 1) from ~100,000
invented words of English-like lengths, so the full-text index sees tens of thousands of
distinct terms, as it does with real decisions (a 34-word vocabulary, what this bench used to
use, keeps the index tiny and flatters it; ``--small-vocabulary`` runs it too).

Methods, each on its own fresh store, interleaved round by round (medians over rounds):
- ``service``: what ``councilwatch.pipeline.process`` does to store a fetch run's documents,
  1,000 at a time: ``councilwatch.search.store_searchable`` (``db.ingest.upsert_documents``,
  each chunk's keys cut in a worker process meanwhile, then stored: searchable at once);
  then the same documents again (all unchanged).
- ``service at REV`` (``--baseline-rev``): the same loop on that revision's code (its tree
  unpacked with ``git archive``, run in its own interpreter, the same records): its
  ``store_searchable``, or at a revision before it ``upsert_documents`` then ``index_stored``
  (before that, ``refresh_keys``, which reads the documents back), as its ``process`` ran them.
- ``floor``: one plain Core ``INSERT ... executemany`` of the finished document rows and of the
  finished key rows (cut before the clock starts) into the same migrated schema, SQLite's key
  index fed the same key texts by one executemany (PostgreSQL's tsvector is generated), one
  transaction per 500, PostgreSQL's pending keys moved into the index once per 1,000 (as the
  service does: db.search.flush_key_index): the least any ingest of these rows can do.
  ``--floor-parts`` adds the floor without the full-text index and of the document rows alone
  (what each part costs).
Goals: SQLite 100,000 realistic documents < 30 s wall, PostgreSQL < 90 s.
"""

from __future__ import annotations

import argparse
import dataclasses
import inspect
import itertools
import json
import os
import pickle
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import insert, text

from bench.common import default_postgres, postgres_schema, print_table
from councilwatch.key_cutter import worker_pids
from councilwatch.search import changed_stems, document_tokens, key_text, store_searchable
from db import migrate
from db.engine import is_sqlite, make_engine, write_transaction
from db.ingest import BATCH_SIZE, DocumentRecord
from db.search import flush_key_index
from db.tables import DOCUMENT_TERMS, DOCUMENTS, WORD_STEMS

NOW = datetime(2026, 11, 1, tzinfo=UTC)
BODY_CHARS = 5000
RUN_SIZE = 1000  # documents a fetch run stores at once (pipeline.process)
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


@dataclass
class Clock:
    wall: float = 0.0
    cpu: float = 0.0  # every thread's, and the key cutting worker's
    # The calling thread's alone: with keys cut in a worker process (councilwatch.key_cutter),
    # the wall time on two idle cores is about this, however loaded the machine is.
    thread: float = 0.0

    @contextmanager
    def running(self) -> Iterator[None]:
        start, thread = time.perf_counter(), time.thread_time()
        cpu = time.process_time() + worker_cpu()
        try:
            yield
        finally:
            self.wall += time.perf_counter() - start
            self.cpu += time.process_time() + worker_cpu() - cpu
            self.thread += time.thread_time() - thread


def worker_cpu() -> float:
    """CPU seconds of the key cutting worker process (councilwatch.key_cutter), if it runs."""
    return sum(_process_cpu(pid) for pid in worker_pids())


def _process_cpu(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class ServerCpu:
    """CPU the PostgreSQL backends of an engine's connections spent (utime + stime in
    /proc/<pid>/stat: the server runs on this machine), read at close and at the end. Its
    source runs in the baseline's interpreter too (``_BASELINE``)."""

    def __init__(self, engine: Any) -> None:
        from sqlalchemy import event

        self.pids: set[int] = set()
        self.closed, self.tick = 0.0, os.sysconf("SC_CLK_TCK")
        if engine.dialect.name == "postgresql":
            event.listen(engine, "connect", lambda dbapi, _: self.pids.add(dbapi.info.backend_pid))
            event.listen(engine, "close", self._closing)

    def _closing(self, dbapi: Any, _record: Any) -> None:
        if dbapi.info.backend_pid in self.pids:
            self.closed += self.cpu(dbapi.info.backend_pid)
            self.pids.discard(dbapi.info.backend_pid)

    def cpu(self, pid: int) -> float:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return 0.0
        return (int(fields[11]) + int(fields[12])) / self.tick

    def seconds(self) -> float:
        return self.closed + sum(self.cpu(pid) for pid in self.pids)


_SERVER_CPU = "import os\nfrom pathlib import Path\nfrom typing import Any\n" + inspect.getsource(
    ServerCpu
)


def service(url: str, records: list[DocumentRecord]) -> dict[str, Clock]:
    """Store ``records`` as a fetch run does, RUN_SIZE at a time; then again, unchanged.

    ``councilwatch.search.store_searchable``, as ``pipeline.process`` runs it: the upsert,
    with each chunk's keys cut in the worker process meanwhile, then the keys stored. Its
    upsert and keys are not timed apart (they overlap): "upsert" is left at zero."""
    engine = make_engine(url)
    server = ServerCpu(engine)
    migrate.upgrade(engine)
    clocks = {name: Clock() for name in ("total", "upsert", "keys", "again", "server")}
    started = server.seconds()
    for offset in range(0, len(records), RUN_SIZE):
        chunk = records[offset : offset + RUN_SIZE]
        with clocks["total"].running(), clocks["keys"].running():
            result = store_searchable(engine, chunk, now=NOW)
        assert len(result.inserted) == len(chunk)
    assert keyed(engine) == len(records)
    with clocks["again"].running():
        again = store_searchable(engine, records, now=NOW)
    assert again.unchanged == len(records)
    clocks["server"].cpu = server.seconds() - started
    engine.dispose()
    return clocks


def keyed(engine: Any) -> int:
    with engine.connect() as connection:
        return int(connection.execute(text("SELECT count(*) FROM document_terms")).scalar_one())


# The service loop of another revision, run in its own interpreter on that revision's tree.
_BASELINE = """
import json, pickle, sys, time
sys.path.insert(0, sys.argv[1])
from councilwatch.search import refresh_keys
from db import migrate
from db.engine import make_engine
from db.ingest import DocumentRecord, upsert_documents
records = [DocumentRecord(**r) for r in pickle.load(open(sys.argv[3], "rb"))]
now, size = pickle.load(open(sys.argv[4], "rb"))
engine = make_engine(sys.argv[2])
exec(sys.argv[5])
server = ServerCpu(engine)
migrate.upgrade(engine)
clocks = {name: [0.0, 0.0, 0.0] for name in ("total", "upsert", "keys", "again", "server")}
started = server.seconds()
try:  # the key cutting worker's CPU counts too (a revision that has one)
    from councilwatch.key_cutter import worker_pids
except ImportError:
    worker_pids = lambda: []
def all_cpu():
    return time.process_time() + sum(ServerCpu.cpu(server, pid) for pid in worker_pids())
def timed(name, fn):
    start, cpu, thread = time.perf_counter(), all_cpu(), time.thread_time()
    out = fn()
    clocks[name][0] += time.perf_counter() - start
    clocks[name][1] += all_cpu() - cpu
    clocks[name][2] += time.thread_time() - thread
    return out
try:  # the service's path at that revision: upsert and keys in one (pipeline.process's)
    from councilwatch.search import store_searchable
    store = lambda chunk: timed("keys", lambda: store_searchable(engine, chunk, now=now))
except ImportError:
    try:  # older: keys cut from the records in hand after the upsert
        from councilwatch.search import index_stored
    except ImportError:  # older still: read back and cut
        index_stored = lambda engine, chunk, stored: refresh_keys(engine)
    def store(chunk):
        stored = timed("upsert", lambda: upsert_documents(engine, chunk, now=now))
        return timed("keys", lambda: index_stored(engine, chunk, stored))
for offset in range(0, len(records), size):
    chunk = records[offset : offset + size]
    timed("total", lambda: store(chunk))
timed("again", lambda: store(records))
clocks["server"][1] = server.seconds() - started
print(json.dumps(clocks))
"""


def baseline(url: str, records: list[DocumentRecord], rev: str | None) -> dict[str, Clock]:
    """The same service loop at revision ``rev`` (``git archive``), on its own fresh store;
    ``rev`` None: this working tree's, through the same harness (``--baseline-rev`` runs it
    too: a process that unpickled the records writes slower than this one, which built
    them, so "service at REV" is compared with it, not with "service")."""
    root = Path(__file__).resolve().parents[1]
    with tempfile.TemporaryDirectory() as tree:
        code = str(root)
        if rev is not None:
            archive = subprocess.run(
                ["git", "archive", rev], cwd=root, check=True, capture_output=True
            ).stdout
            subprocess.run(["tar", "-x", "-C", tree], input=archive, check=True)
            code = tree
        payload, settings = Path(tree) / "records.pickle", Path(tree) / "settings.pickle"
        payload.write_bytes(pickle.dumps([dataclasses.asdict(r) for r in records]))
        settings.write_bytes(pickle.dumps((NOW, RUN_SIZE)))
        done = subprocess.run(
            [sys.executable, "-c", _BASELINE, code, url, str(payload), str(settings), _SERVER_CPU],
            capture_output=True,
            text=True,
            cwd=code,  # its key cutter's `-m` finds that tree's councilwatch first, not ours
        )
        if done.returncode:  # its error, not just its exit status
            raise SystemExit(f"the service at {rev or 'this tree'} failed:\n{done.stderr}")
        out = done.stdout
    return {name: Clock(*times) for name, times in json.loads(out).items()}


def floor(url: str, records: list[DocumentRecord], parts: str = "all") -> dict[str, Clock]:
    """Plain executemany of the finished rows: no look-up, no hashing, no RETURNING, keys cut
    before the clock starts.

    ``parts`` (``--floor-parts``): "documents" writes the document rows alone; "no index" the
    document and key rows without the full-text index (SQLite's FTS5 not fed, PostgreSQL's
    GIN index dropped first, its tsvector still generated): what the index itself costs is
    the floor less "no index"."""
    engine = make_engine(url)
    server = ServerCpu(engine)
    migrate.upgrade(engine)
    if parts == "no index" and not is_sqlite(engine):
        with engine.begin() as connection:
            connection.execute(text("DROP INDEX ix_document_terms_terms"))
    rows, key_rows, word_sets = [], [], []
    for doc_id, record in enumerate(records, 1):
        row = record.row()
        row.update(
            id=doc_id,
            content_hash="0" * 64,
            first_seen_at=NOW,
            updated_at=NOW,
            dated_at=NOW,
            backfill=False,
        )
        rows.append(row)
        tokens = document_tokens(record.title, record.summary, record.body)
        key_rows.append({"document_id": doc_id, "content_hash": "0" * 64, "keys": key_text(tokens)})
        word_sets.append(tokens.word_set)
    # Each batch's words not stored before whose stem is another word (word_stems).
    stored: set[str] = set()
    new_words = []
    for offset in range(0, len(rows), BATCH_SIZE):
        stems = changed_stems(word_sets[offset : offset + BATCH_SIZE])
        new_words.append([{"word": w, "stem": stems[w]} for w in sorted(stems.keys() - stored)])
        stored.update(stems)
    clock, started = Clock(), server.seconds()
    with clock.running():
        for offset in range(0, len(rows), BATCH_SIZE):
            if offset and offset % RUN_SIZE == 0 and parts == "all":
                flush_key_index(engine)  # a run's pending keys into the index, as the service
            with write_transaction(engine) as connection:
                connection.execute(insert(DOCUMENTS), rows[offset : offset + BATCH_SIZE])
                if parts == "documents":
                    continue
                if not is_sqlite(connection):
                    connection.execute(text("SET LOCAL work_mem = '64MB'"))  # as the service
                batch = key_rows[offset : offset + BATCH_SIZE]
                if words := new_words[offset // BATCH_SIZE]:
                    connection.execute(insert(WORD_STEMS), words)
                connection.execute(insert(DOCUMENT_TERMS), batch)
                if is_sqlite(connection) and parts == "all":  # as store_document_keys feeds it
                    driver = connection.connection.driver_connection
                    assert driver is not None
                    driver.executemany(
                        "INSERT INTO document_terms_fts(rowid, keys) VALUES (?, ?)",
                        [(r["document_id"], r["keys"]) for r in batch],
                    )
        if parts == "all":
            flush_key_index(engine)
    on_server = Clock(cpu=server.seconds() - started)
    engine.dispose()
    return {"total": clock, "server": on_server}


def run(
    db: str,
    new_url: Callable[[], AbstractContextManager[str | None]],
    label: str,
    records: list[DocumentRecord],
    rounds: int,
    baseline_rev: str | None,
    floor_parts: bool = False,
) -> list[list[object]]:
    methods: dict[str, Callable[[str], dict[str, Clock]]] = {
        "service": lambda url: service(url, records),
        "floor: Core executemany": lambda url: floor(url, records),
    }
    if floor_parts:
        methods["floor, no full-text index"] = lambda url: floor(url, records, "no index")
        methods["floor, documents only"] = lambda url: floor(url, records, "documents")
    if baseline_rev:
        methods["service, same harness"] = lambda url: baseline(url, records, None)
        methods[f"service at {baseline_rev}"] = lambda url: baseline(url, records, baseline_rev)
    seen: dict[str, list[dict[str, Clock]]] = {name: [] for name in methods}
    names = list(methods)
    for number in range(rounds):
        for name in names if number % 2 == 0 else reversed(names):
            with new_url() as url:
                if url is None:
                    return []
                seen[name].append(methods[name](url))
            total = seen[name][-1]["total"]
            print(  # each run as it ends: a long run shows its progress, and its spread
                f"{db} {label} round {number + 1}: {name}: {total.wall:.1f} s wall, "
                f"{total.cpu:.1f} s CPU ({total.thread:.1f} in its thread), "
                f"server {seen[name][-1]['server'].cpu:.1f} s CPU, "
                f"load {os.getloadavg()[0]:.1f}",
                file=sys.stderr,
                flush=True,
            )

    def med(name: str, part: str, what: str) -> float:
        return statistics.median(getattr(c[part], what) for c in seen[name])

    n = len(records)
    floor_wall = med("floor: Core executemany", "total", "wall")
    out: list[list[object]] = []
    for name in names:
        wall, cpu = med(name, "total", "wall"), med(name, "total", "cpu")
        split = ""
        if name.startswith("service"):  # the baseline's too
            split = (
                f"upsert {med(name, 'upsert', 'wall'):.1f}/{med(name, 'upsert', 'cpu'):.1f}, "
                f"keys {med(name, 'keys', 'wall'):.1f}/{med(name, 'keys', 'cpu'):.1f}/"
                f"{med(name, 'keys', 'thread'):.1f}, "
                f"again {med(name, 'again', 'wall'):.1f}/{med(name, 'again', 'cpu'):.1f}"
            )
        server = f"{med(name, 'server', 'cpu'):.1f}" if db == "postgres" else "-"
        out.append(
            [db, label, name, f"{wall:.1f}", f"{cpu:.1f}", f"{med(name, 'total', 'thread'):.1f}",
             server, f"{n / wall:,.0f}", f"{wall / floor_wall:.2f}", split]
        )  # fmt: skip
    return out


HEADER = ["db", "vocabulary", "method", "wall s", "CPU s", "its thread CPU s", "server CPU s"]
HEADER += ["docs/s", "vs floor", "split"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--postgres", default=default_postgres())
    parser.add_argument("--only", choices=("sqlite", "postgres"), help="one store only")
    parser.add_argument("--documents", type=int, help="this many (a smoke test)")
    parser.add_argument("--rounds", type=int, default=1, help="interleaved rounds (medians)")
    parser.add_argument("--small-vocabulary", action="store_true", help="also the 34 words")
    parser.add_argument(
        "--baseline-rev", help="also the service loop at this git revision (e.g. main)"
    )
    parser.add_argument(
        "--floor-parts",
        action="store_true",
        help="also the floor without the full-text index, and of the document rows alone",
    )
    args = parser.parse_args()
    n = args.documents or (10_000 if args.quick else 100_000)
    vocabularies = {"realistic": synthetic(n, realistic_vocabulary())}
    if args.small_vocabulary:
        vocabularies["34 words"] = synthetic(n, SMALL_VOCABULARY)
    rows: list[list[object]] = []
    for label, records in vocabularies.items():
        if args.only != "postgres":
            with tempfile.TemporaryDirectory() as tmp:

                @contextmanager
                def sqlite_url(
                    tmp: str = tmp, counter: Iterator[int] = itertools.count()
                ) -> Iterator[str | None]:
                    yield f"sqlite:///{tmp}/bench{next(counter)}.db"

                rows += run(
                    "sqlite",
                    sqlite_url,
                    label,
                    records,
                    args.rounds,
                    args.baseline_rev,
                    args.floor_parts,
                )
        if args.only != "sqlite":
            rows += run(
                "postgres",
                lambda: postgres_schema(args.postgres),
                label,
                records,
                args.rounds,
                args.baseline_rev,
                args.floor_parts,
            )
    print_table(
        f"ingest: {n:,} decisions with 5 KB bodies, searchable when stored; medians of "
        f"{args.rounds} round(s); split = wall/CPU s (keys: wall/CPU/its thread)",
        HEADER,
        rows,
    )
    print("goals (realistic vocabulary, 100,000): SQLite < 30 s wall, PostgreSQL < 90 s wall")


if __name__ == "__main__":
    main()
