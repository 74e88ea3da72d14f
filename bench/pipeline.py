"""Benchmark: one service cycle on a big store, through the service's own job functions.

    .venv/bin/python bench/pipeline.py                 # 200,000 documents, 100,000 alerts
    .venv/bin/python bench/pipeline.py --quick         # 20,000 documents, 10,000 alerts
    .venv/bin/python bench/pipeline.py --db sqlite --digests 10000
    .venv/bin/python bench/pipeline.py --db postgres --workers 2 --digests 4000 --no-baseline
    .venv/bin/python bench/pipeline.py --quick --db postgres --workers 2 \
        --baseline-rev 3f61dd7 --baseline-workers --sql-times

The store: documents (half ombudsman decisions of ~6-14 KB, half news stories of ~2-5 KB)
written in the words of bench/match.py's generated language (Zipf over ~100,000 words, topic
words with inflections) and naming real councils from the register, stored by
``councilwatch.pipeline.process`` (ingest, council tags) over "ten years"; then 60,000
confirmed subscribers holding 100,000 alerts (council-only, council + keywords, keyword-only
with phrases / OR / NOT / wildcards, filter-only; mostly daily).

The stores, cached under var/bench-pipeline/ and copied per run (never changed in place):
- ``store-<size>-v<STORE_VERSION>-<rev>.db``: the world as the baseline's code (``rev``,
  ``--baseline-rev``) stores it (SQLite, built once by the baseline's ``process``: ~hours at
  full size by 2ef2454's, less by a later one's; or symlink a shared one in). The baseline
  runs on copies of this.
- ``store-...-at-<head>.db``: that file upgraded by the code under test (its migrations, and
  every document's search keys cut: migration 0007's backfill, 230 s CPU at full size), so
  the code under test does not pay a one-off upgrade in its warm-up batch. Rebuilt when the
  migration head changes (delete it by hand if key cutting changes without a migration).
- PostgreSQL: template databases ``cwbench_store_<size>_v<V>_<rev>`` (schema by the
  baseline's migrations) and ``..._at_<head number>_<hash>`` (by the current code's), each
  filled from the SQLite file of the same state by ``COPY`` (copy_sqlite_to_pg: ids,
  sequences, ANALYZE), so both databases hold the same world; built when first needed.
  Runs use ``CREATE DATABASE cwbench_run_<worktree>_<size>_<label> TEMPLATE ...``; with
  ``CW_BENCH_PG_OPTIONS`` set (e.g. ``-c log_min_duration_statement=100``, or
  ``-c session_preload_libraries=auto_explain -c auto_explain.log_min_duration=200``) every
  session of a run passes those options: slow statements and their plans go to the server log.

One cycle, each stage timed (wall and CPU of this process; PostgreSQL's own CPU is not in
the CPU column) with the rows it wrote and the process's peak RSS so far:
- warm-up: one batch of 100 documents, as the service's previous fetch run (the long-lived
  alert index is filed here, cold);
- alert changes: 50 new subscriptions and 50 unsubscribes, as happen between two runs;
- cycle: 1,000 new documents (500 decisions, 500 stories) through ``process`` in batches of
  100 (a crawl stores a listing page at a time), split into ingest+tag, match and record;
- digests: ``run_digests(runtime, "daily")`` (build, render, queue) and ``send_outbox`` to a
  local aiosmtpd sink. ``--digests N`` stops building after N subscribers' digests (a slice,
  extrapolated in the table); on PostgreSQL ``--workers 2`` runs two processes that share it,
  each through the service's own digest job (``JobRunner``: claim or join the slot, lock,
  build, queue, send; the job sends from a thread while it builds, so a worker's send row
  overlaps its build row; the workers' row is the span from the first job's start to the
  last one's end). ``--sql-times``: every child also prints the statements it waited on
  longest (client-side wall and count per statement text). With ``--workers`` each worker
  also prints its explain pass and the CPU its PostgreSQL backends spent (/proc: the server
  runs on this machine), and the table a line of CPU per digest: the workers, PostgreSQL and
  the SMTP sink (this process), which share the 2 cores; the outbox sha256 follows the run.
  ``--py-spy DIR``: on-CPU samples of each digest stage (collapsed stacks; needs py-spy).
  ``--job``: one worker (SQLite or PostgreSQL) through the same service digest job, where the
  default builds, then sends. The SMTP sink (``--sink``) is Postfix's ``smtp-sink`` in its
  own process when installed (``apt-get install postfix``; C, PIPELINING, ~0.1-0.2 ms CPU a
  digest), else aiosmtpd in this parent process (~2 ms CPU and ~4.3 ms wall a digest: on
  its own 7 min per 100,000). Each digest row says how long its thread waited for a core
  (the machine's load) and how long it was blocked (the rest of wall - CPU); the job's tail
  is what it sent after the build ended; the end-to-end line gives wall, CPU, digests/s and
  the figures per 100,000 digests (the run's explain pass counted once).

The baseline is today's code path at ``--baseline-rev`` (default: the commit this work
started from), unpacked with ``git archive`` under var/bench-pipeline/ and run by the same
script in its own process, on a copy of the same store, in the same run (on the upgraded
store when it has the same migrations as the code under test). ``--baseline-workers``: the
baseline shares its digest run among ``--workers`` too (a baseline later than 2ef2454).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parents[1]
BASELINE_REV = "2ef2454"  # main when issue #17's pipeline work began
STORE_VERSION = 1  # bump when the generated store changes
WORK = HERE / "var" / "bench-pipeline"
SECRET_KEY = "bench-secret-0123456789-0123456789-abcdef"  # the config wants 32+ bytes
PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
SIZES = {
    # documents in the store, alerts, subscribers, new documents per cycle
    "full": (200_000, 100_000, 60_000, 1_000),
    "quick": (20_000, 10_000, 6_000, 200),
}
BATCH = 100
T_CYCLE = datetime(2026, 11, 3, 9, 0, tzinfo=UTC)
T_DIGEST = datetime(2026, 11, 4, 7, 0, tzinfo=UTC)


# -- generated world ---------------------------------------------------------------------------


class World:
    """Deterministic documents and alerts in bench/match.py's generated language."""

    def __init__(self, seed: int = 20261103) -> None:
        from alerts.councils import Register
        from bench.match import CATEGORIES, OUTCOMES, Corpus, zipf_cum_weights

        self.rng = random.Random(seed)
        self.corpus = Corpus(self.rng, tail=100_000)
        councils = [c for c in Register.builtin() if c.current]
        self.rng.shuffle(councils)
        self.councils = councils
        self.council_weights = zipf_cum_weights(len(councils), 0.5)
        self.categories = CATEGORIES
        self.outcomes = OUTCOMES
        self.sources = ("edp", "yorkshire-post", "manchester-evening-news", "bbc-local", "echo")

    def _council(self) -> Any:
        return self.rng.choices(self.councils, cum_weights=self.council_weights)[0]

    def _paragraphs(self, topic: str, words: int, named: list[str]) -> str:
        rng = self.rng
        body = self.corpus.text(topic, words)
        sentences = [
            " ".join(body[k : k + rng.randint(10, 22)]).capitalize() + "."
            for k in range(0, len(body), 16)
        ]
        for name in named:  # the councils appear in the running text, as in real pages
            sentences.insert(rng.randrange(len(sentences) + 1), f"{name} said it would respond.")
        return "\n\n".join(" ".join(sentences[k : k + 6]) for k in range(0, len(sentences), 6))

    def record(self, key: str, when: datetime) -> Any:
        from db.ingest import DocumentRecord

        rng = self.rng
        topic = rng.choice(self.categories)
        council = self._council()
        if rng.random() < 0.5:
            return DocumentRecord(
                kind="decision",
                source="lgsco",
                source_key=key,
                url=f"https://www.lgo.org.uk/decisions/x/{key}",
                title=" ".join(self.corpus.text(topic, 7)).capitalize(),
                summary=" ".join(self.corpus.text(topic, 60)).capitalize() + ".",
                body=self._paragraphs(topic, rng.randint(900, 2100), [council.name]),
                decided_on=(when - timedelta(days=rng.randint(20, 90))).date(),
                reference=key,
                organisation=council.name,
                category=topic,
                outcome=rng.choice(self.outcomes),
            )
        named = [council.name] + ([self._council().name] if rng.random() < 0.3 else [])
        source = rng.choice(self.sources)
        return DocumentRecord(
            kind="news",
            source=source,
            source_key=key,
            url=f"https://news.example/{source}/{key}",
            title=" ".join(self.corpus.text(topic, 9)).capitalize(),
            summary=" ".join(self.corpus.text(topic, 30)).capitalize() + ".",
            body=self._paragraphs(topic, rng.randint(350, 800), named),
            published_at=when - timedelta(hours=rng.randint(1, 20)),
            site_name=source,
        )

    def query(self) -> str:
        rng, corpus = self.rng, self.corpus
        specific = corpus.general[3000:]

        def word() -> str:
            if rng.random() < 0.01:
                return corpus.inflect(rng.choice(corpus.topic_words))
            return rng.choice(specific[:20_000] if rng.random() < 0.7 else specific)

        def term() -> str:
            r = rng.random()
            if r < 0.2:
                return f'"{word()} {word()}"'
            if r < 0.22:
                w = rng.choice(corpus.topic_words)
                return w[: max(4, len(w) - rng.randint(0, 2))] + "*"
            return word()

        r = rng.random()
        if r < 0.4:
            return term()
        if r < 0.65:
            return f"{term()} {term()}"
        if r < 0.85:
            return " OR ".join(term() for _ in range(rng.randint(2, 3)))
        return f"({term()} OR {term()}) -{word()}"

    def alert(self, subscriber: int, n: int) -> dict[str, Any]:
        rng = self.rng
        fields: dict[str, Any] = {
            "name": f"alert {n}",
            "councils": [],
            "counties": [],
            "query": None,
            "kinds": [],
            "outcomes": [],
            "categories": [],
            "sources": [],
            "frequency": rng.choices(("daily", "weekly", "immediate"), (85, 10, 5))[0],
        }
        k = rng.choice((1, 1, 1, 1, 1, 1, 2, 2, 3))
        r = rng.random()
        if r < 0.25:
            fields["councils"] = sorted({self._council().id for _ in range(k)})
        elif r < 0.50:
            fields["councils"] = sorted({self._council().id for _ in range(k)})
            fields["query"] = self.query()
        elif r < 0.95:
            fields["query"] = self.query()
            if rng.random() < 0.3:
                fields["kinds"] = [rng.choice(("decision", "news"))]
        else:
            fields["kinds"] = ["decision"]
            fields["outcomes"] = ["upheld"]
            fields["categories"] = [rng.choice(self.categories)]
        return fields


# -- building the store (child process, the baseline's code) -----------------------------------


def _runtime(url: str, tmp: Path, sink_port: int = 25, now: datetime = T_CYCLE) -> Any:
    from councilwatch.config import load_settings
    from councilwatch.runtime import Runtime

    config = tmp / "bench.toml"
    config.write_text(
        f'[database]\nurl = "{url}"\n'
        f'[mail]\ntransport = "smtp"\noutbox_dir = "{tmp / "outbox"}"\n'
        'from = "Councilwatch <alerts@councilwatch.example>"\n'
        f'[mail.smtp]\nhost = "127.0.0.1"\nport = {sink_port}\nsecurity = "none"\n'
        f'[councils]\nregister_file = "{tmp / "councils.json"}"\n'
        '[web]\nbase_url = "https://councilwatch.example"\n'
    )
    settings = load_settings(config, env={"COUNCILWATCH_SECRET_KEY": SECRET_KEY})
    runtime = Runtime(settings)
    runtime.now = lambda: now
    return runtime


def build_store(url: str, size: str) -> None:
    from sqlalchemy import insert, text

    from councilwatch.pipeline import process
    from db.migrate import upgrade
    from db.tables import ALERTS, SUBSCRIBERS

    n_docs, n_alerts, n_subs, _ = SIZES[size]
    with tempfile.TemporaryDirectory() as tmp:
        runtime = _runtime(url, Path(tmp))
        # Code since the engine stopped making a missing SQLite file has `creating_engine`
        # (what `db upgrade` uses); older code made the file on first use.
        upgrade(getattr(runtime, "creating_engine", lambda: runtime.engine)())
        engine = runtime.migrated_engine()
        world = World()
        start = T_CYCLE - timedelta(days=3650)
        step = timedelta(days=3650) / n_docs
        t0 = time.perf_counter()
        for first in range(0, n_docs, 500):
            when = start + step * first
            records = [world.record(f"S{i:07d}", when) for i in range(first, first + 500)]
            process(engine, records, register=runtime.register, now=when)
            if first % 20_000 == 0:
                print(f"  stored {first + 500:,} documents ({time.perf_counter() - t0:.0f} s)")
        created = T_CYCLE - timedelta(days=30)
        subs = [
            {
                "id": i + 1,
                "email": f"reader{i}@example.org",
                "token": f"tok{i:08d}",
                "status": "active",
                "created_at": created,
                "confirmed_at": created,
                "failures": 0,
            }
            for i in range(n_subs)
        ]
        owners = list(range(1, n_subs + 1)) + [
            world.rng.randint(1, n_subs) for _ in range(n_alerts - n_subs)
        ]
        alerts = []
        per_owner: dict[int, int] = {}
        for owner in owners:
            per_owner[owner] = per_owner.get(owner, 0) + 1
            fields = world.alert(owner, per_owner[owner])
            alerts.append(
                {"subscriber_id": owner, "created_at": created, "paused": False, **fields}
            )
        with engine.begin() as connection:
            connection.execute(insert(SUBSCRIBERS), subs)
            for k in range(0, len(alerts), 5000):
                connection.execute(insert(ALERTS), alerts[k : k + 5000])
            if connection.dialect.name == "postgresql":  # ids were given: move the sequence on
                connection.execute(
                    text(
                        "SELECT setval(pg_get_serial_sequence('subscribers', 'id'), "
                        "(SELECT max(id) FROM subscribers))"
                    )
                )
        print(f"  store built in {time.perf_counter() - t0:.0f} s")
        runtime.close()  # SQLite: checkpoints the WAL into the file that is cached
    print(json.dumps({}))


# -- one cycle (child process, the code under test) --------------------------------------------


class Stages:
    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []
        self.extra: dict[str, float] = {}

    @contextmanager
    def stage(self, name: str, engine: Any) -> Iterator[dict[str, Any]]:
        before = _row_counts(engine)
        row: dict[str, Any] = {"stage": name, "began": time.time()}
        wall, cpu, ready = time.perf_counter(), time.process_time(), _ready_seconds()
        yield row
        row["ended"] = time.time()
        row["wall"] = time.perf_counter() - wall
        row["cpu"] = time.process_time() - cpu
        row["ready"] = _ready_seconds() - ready  # this thread's: the others' are their rows
        after = _row_counts(engine)
        row["rows"] = sum(max(0, after[t] - before.get(t, 0)) for t in after)
        row["rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        self.rows.append(row)


def _ready_seconds() -> float:
    """The calling thread's time so far runnable but waiting for a core (Linux schedstat's
    run-queue delay): the wall a loaded machine adds. The rest of wall - CPU is time the
    thread was blocked (the GIL, a lock, a socket, a sleep)."""
    try:
        return int(Path("/proc/thread-self/schedstat").read_text().split()[1]) / 1e9
    except (OSError, IndexError, ValueError):
        return 0.0


def _row_counts(engine: Any) -> dict[str, int]:
    from sqlalchemy import inspect, text

    names = [
        t
        for t in inspect(engine).get_table_names()
        if t not in ("documents_fts", "alembic_version") and not t.startswith("documents_fts_")
    ]
    with engine.connect() as connection:
        return {
            t: int(connection.execute(text(f'SELECT count(*) FROM "{t}"')).scalar_one())
            for t in names
        }


class _Timer:
    """Wraps a module attribute so the time spent inside it is added up."""

    def __init__(self) -> None:
        self.seconds: dict[str, list[float]] = {}

    def wrap(self, owner: Any, attribute: str, label: str) -> None:
        original = getattr(owner, attribute, None)
        if original is None:
            return
        totals = self.seconds.setdefault(label, [0.0, 0.0])

        def timed(*args: Any, **kwargs: Any) -> Any:
            wall, cpu = time.perf_counter(), time.process_time()
            try:
                return original(*args, **kwargs)
            finally:
                totals[0] += time.perf_counter() - wall
                totals[1] += time.process_time() - cpu

        setattr(owner, attribute, timed)


def _time_statements() -> None:
    """With CW_BENCH_SQL set (``--sql-times``): add up, per statement text, the wall time this
    process waits in ``cursor.execute`` (the server's work plus the round trip), and print
    the top statements to stderr when the process ends: a client-side pg_stat_statements."""
    if not os.environ.get("CW_BENCH_SQL"):
        return
    import atexit
    import re

    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    totals: dict[str, list[float]] = {}
    started: dict[int, float] = {}

    @event.listens_for(Engine, "before_cursor_execute")
    def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        started[id(cursor)] = time.perf_counter()

    @event.listens_for(Engine, "after_cursor_execute")
    def after(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seconds = time.perf_counter() - started.pop(id(cursor), time.perf_counter())
        key = re.sub(r"%\(\w+\)s|\$\d+|%s", "?", re.sub(r"\s+", " ", statement))
        key = re.sub(r"\?(, \?)+", "?, ...", key)
        # by thread too: the job's sending thread waits apart from its building one
        key = f"[{threading.current_thread().name}] {key}"
        total = totals.setdefault(key[:150], [0, 0.0])
        total[0] += 1
        total[1] += seconds

    def report() -> None:
        top = sorted(totals.items(), key=lambda kv: -kv[1][1])[:15]
        lines = [f"  sql {pid}: {v[1]:7.2f} s {v[0]:6d}x  {k}" for k, v in top]
        sys.stderr.write("\n".join(lines) + "\n")

    pid = os.getpid()
    atexit.register(report)


def run_cycle(
    url: str, size: str, sink_port: int, digests: int | None, role: str, job: bool = False
) -> None:
    import councilwatch.digests as digests_module
    import councilwatch.pipeline as pipeline
    from councilwatch.alert_index import AlertIndex
    from db.migrate import upgrade
    from db.subscriptions import AlertFields, subscribe, unsubscribe

    _, _, n_subs, n_new = SIZES[size]
    out: dict[str, Any] = {"code": str(Path(pipeline.__file__).resolve().parents[1])}
    with tempfile.TemporaryDirectory() as tmp:
        if role == "digest-worker":
            backends = _BackendCpu.install()  # before the first connection
        runtime = _runtime(url, Path(tmp), sink_port)
        if role == "digest-worker":
            runtime.now = lambda: T_DIGEST
            stages = Stages()
            engine = runtime.migrated_engine()
            _service_digest_worker(stages, runtime, engine, digests, digests_module)
            stages.rows.append(
                {
                    "stage": "  PostgreSQL backends of this worker (server CPU)",
                    "wall": 0.0,
                    "cpu": backends.seconds(),
                    "sub": True,
                    "server": True,
                }
            )
            print(json.dumps({"stages": stages.rows}))
            return
        if role == "fingerprint":
            print(json.dumps({"outbox_sha256": _outbox_fingerprint(runtime.migrated_engine())}))
            return
        if role == "digests-only":
            print(json.dumps(_digests_only(runtime, digests, digests_module, job)))
            return
        upgrade(runtime.engine)  # the code under test may add tables to the cached store
        engine = runtime.migrated_engine()
        register = runtime.register
        index = runtime.alert_index
        stages = Stages()
        world = World(seed=99)
        timer = _Timer()
        for attribute in ("add_matches", "record_matches"):
            timer.wrap(pipeline, attribute, "record")
        timer.wrap(AlertIndex, "match", "match")

        with stages.stage("warm-up batch (100 docs, index filed cold)", engine):
            records = [world.record(f"W{i:05d}", T_CYCLE) for i in range(100)]
            pipeline.process(engine, records, register=register, now=T_CYCLE, alert_index=index)
        with stages.stage("alert changes (50 new, 50 unsubscribed)", engine):
            for i in range(50):
                subscribe(
                    engine,
                    email=f"newcomer{i}@example.org",
                    new_token=f"new{i:06d}",
                    alert=AlertFields(**{**world.alert(0, 1), "frequency": "daily"}),
                    confirmed=True,
                    now=T_CYCLE,
                )
                unsubscribe(engine, 1 + (i * 997) % n_subs, now=T_CYCLE)
        for totals in timer.seconds.values():  # only the cycle's batches count
            totals[:] = [0.0, 0.0]
        when = T_CYCLE + timedelta(minutes=30)
        records = [world.record(f"N{i:06d}", when) for i in range(n_new)]
        matches = 0
        with stages.stage(f"cycle: {n_new:,} new documents, total", engine) as row:
            for k in range(0, n_new, BATCH):
                report = pipeline.process(
                    engine, records[k : k + BATCH], register=register, now=when, alert_index=index
                )
                matches += report.matches
            row["note"] = f"{matches:,} matches recorded"
        total = stages.rows[-1]
        for label in ("match", "record"):
            wall, cpu = timer.seconds.get(label, [0.0, 0.0])
            stages.rows.append(
                {"stage": f"  of which {label}", "wall": wall, "cpu": cpu, "sub": True}
            )
        match_wall, match_cpu = timer.seconds.get("match", [0.0, 0.0])
        record_wall, record_cpu = timer.seconds.get("record", [0.0, 0.0])
        stages.rows.append(
            {
                "stage": "  of which ingest + council tags",
                "wall": total["wall"] - match_wall - record_wall,
                "cpu": total["cpu"] - match_cpu - record_cpu,
                "sub": True,
            }
        )
        out["matches"] = matches
        runtime.now = lambda: T_DIGEST
        _snapshot(engine)
        if role == "cycle" and job:
            _service_digest_worker(stages, runtime, engine, digests, digests_module)
            stages.extra["outbox_sha256"] = _outbox_fingerprint(engine)  # type: ignore[assignment]
        elif role == "cycle":
            _digest_stages(stages, runtime, engine, digests, digests_module)
        out["stages"] = stages.rows
        out["subscribers"] = n_subs
        out["outbox_sha256"] = stages.extra.get("outbox_sha256", "")
    print(json.dumps(out))


class _BackendCpu:
    """The CPU the PostgreSQL server spent on this process's connections: each backend's
    utime + stime (/proc/<pid>/stat; the server runs on this machine) read when its
    connection closes and, for those still open, at the end. The client's CPU column leaves
    the server out, and on a 2-core box shared by the workers it is part of the wall."""

    def __init__(self) -> None:
        self.closed = 0.0
        self.open: set[int] = set()
        self.tick = os.sysconf("SC_CLK_TCK")

    @classmethod
    def install(cls) -> _BackendCpu:
        from sqlalchemy import event
        from sqlalchemy.pool import Pool

        found = cls()

        @event.listens_for(Pool, "connect")
        def connected(dbapi_connection: Any, _record: Any) -> None:
            pid = getattr(getattr(dbapi_connection, "info", None), "backend_pid", None)
            if pid:
                found.open.add(int(pid))

        @event.listens_for(Pool, "close")
        def closing(dbapi_connection: Any, _record: Any) -> None:
            pid = getattr(getattr(dbapi_connection, "info", None), "backend_pid", None)
            if pid in found.open:
                found.open.discard(pid)
                found.closed += found._cpu(pid)

        return found

    def _cpu(self, pid: int) -> float:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # gone, or another machine's server
            return 0.0
        return (int(fields[11]) + int(fields[12])) / self.tick  # utime, stime

    def seconds(self) -> float:
        return self.closed + sum(self._cpu(pid) for pid in self.open)


def _snapshot(engine: Any) -> None:
    """With CW_BENCH_SNAPSHOT set (``--snapshot``), keep the SQLite store as the cycle left it,
    so ``--from-snapshot`` can time digest runs on it again without the cycle."""
    target = os.environ.get("CW_BENCH_SNAPSHOT")
    if not target or engine.dialect.name != "sqlite":
        return
    with engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    shutil.copyfile(engine.url.database, target)


def _digests_only(
    runtime: Any, limit: int | None, digests_module: Any, job: bool = False
) -> dict[str, Any]:
    """The digest stages alone, on a store saved by ``--snapshot`` (the cycle already run);
    with ``job``, through the service's digest job."""
    from db.migrate import upgrade

    runtime.now = lambda: T_DIGEST
    upgrade(runtime.engine)
    engine = runtime.migrated_engine()
    stages = Stages()
    if job:
        _service_digest_worker(stages, runtime, engine, limit, digests_module)
        stages.extra["outbox_sha256"] = _outbox_fingerprint(engine)  # type: ignore[assignment]
    else:
        _digest_stages(stages, runtime, engine, limit, digests_module)
    return {
        "code": str(Path(digests_module.__file__).resolve().parents[1]),
        "stages": stages.rows,
        "outbox_sha256": stages.extra.get("outbox_sha256", ""),
    }


def _digest_stages(
    stages: Stages,
    runtime: Any,
    engine: Any,
    limit: int | None,
    digests_module: Any,
    share: str | None = None,
) -> None:
    from councilwatch.digests import run_digests
    from councilwatch.mailer import send_outbox

    if limit is not None:  # a slice: stop after ``limit`` subscribers with a digest
        batches = digests_module._subscriber_batches

        def limited(*args: Any, **kwargs: Any) -> Iterator[Any]:
            seen = 0
            for batch in batches(*args, **kwargs):
                yield batch
                seen += len(batch)
                if seen >= limit:
                    return

        digests_module._subscriber_batches = limited
    # Work a run does once whatever its size (explaining the day's stories): a slice's
    # extrapolation must not multiply it.
    once = _Timer()
    deriver = getattr(digests_module, "_Deriver", None)
    if deriver is not None:
        once.wrap(deriver, "explain_stories", "once")
    with stages.stage("daily digests: build, render, queue", engine) as row:
        shared: dict[str, Any] = {"share": share, "worker": f"bench-{os.getpid()}"} if share else {}
        report = _profiled("build", run_digests, runtime, "daily", **shared)
        row["note"] = report.line()
        row["digests"] = report.queued
    if "once" in once.seconds:
        row["once"] = once.seconds["once"]
        wall, cpu = once.seconds["once"]
        name = "  of which explaining the run's stories (once a run, not scaled)"
        stages.rows.append({"stage": name, "wall": wall, "cpu": cpu, "sub": True})
    with stages.stage("daily digests: send to the SMTP sink", engine) as row:
        sent = _profiled("send", send_outbox, runtime)
        row["note"] = sent.line()
        row["digests"] = sent.sent
    stages.extra["outbox_sha256"] = _outbox_fingerprint(engine)  # type: ignore[assignment]


def _profiled(label: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """``fn(*args)``, under cProfile when --profile DIR was given (stats in DIR/<label>.prof;
    read them with ``python -m pstats``); tracemalloc's top allocations with --trace-memory."""
    where = os.environ.get("CW_BENCH_PROFILE")
    if spy := os.environ.get("CW_BENCH_PYSPY"):
        return _sampled(Path(spy) / f"{label}-{os.getpid()}.txt", fn, *args, **kwargs)
    if os.environ.get("CW_BENCH_TRACEMALLOC"):
        import tracemalloc

        tracemalloc.start(8)
        try:
            return fn(*args, **kwargs)
        finally:
            snapshot = tracemalloc.take_snapshot()
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            # Lines starting with two spaces are echoed by the parent.
            print(f"  tracemalloc {label}: peak {peak / 1e6:.0f} MB traced; live at the end:")
            for stat in snapshot.statistics("traceback")[:8]:
                print(f"  {stat.size / 1e6:.1f} MB in {stat.count:,} blocks")
                for line in stat.traceback.format()[-6:]:
                    print("    " + line)
    if not where:
        return fn(*args, **kwargs)
    import cProfile

    # The calling thread's CPU time, not the wall clock: on the loaded 2-core box a wall
    # profile charges other processes' time slices (and waits on the server) to whatever
    # line was running. Threads the job starts (its sender) are not in the profile.
    profile = cProfile.Profile(time.thread_time)
    try:
        return profile.runcall(fn, *args, **kwargs)
    finally:
        Path(where).mkdir(parents=True, exist_ok=True)
        profile.dump_stats(str(Path(where) / f"{label}.prof"))


def _sampled(out: Path, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """``fn(*args)`` sampled by py-spy (``--py-spy DIR``; `pip install py-spy`, not a project
    dependency): collapsed stacks of every thread while it runs, on-CPU samples only, so a
    loaded machine's waits are not charged to code, and no tracing overhead skews them
    (cProfile's does, towards code making many small calls)."""
    import signal

    out.parent.mkdir(parents=True, exist_ok=True)
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    command = [spy, "record", "--pid", str(os.getpid()), "--rate", "250", "--format", "raw"]
    command += ["--threads"]  # the job's building and sending threads apart
    if os.environ.get("CW_BENCH_PYSPY_IDLE"):  # --py-spy-idle: where the threads wait too
        command += ["--idle"]
    proc = subprocess.Popen([*command, "--output", str(out)], stdout=subprocess.DEVNULL)
    time.sleep(1.0)  # attached before the work starts
    try:
        return fn(*args, **kwargs)
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=60)


def _outbox_fingerprint(engine: Any) -> str:
    """One hash of every queued message (key and bytes, Date and Message-ID included: the
    bench's clock is fixed and Message-IDs follow the key), so two code paths that queue the
    same digests print the same value."""
    import hashlib

    from sqlalchemy import inspect, text

    # From migration 0013 on, the bytes are in outbox_bodies; a baseline before it has them
    # in the outbox row.
    apart = "outbox_bodies" in inspect(engine).get_table_names()
    query = (
        "SELECT o.idempotency_key, b.message FROM outbox o"
        " JOIN outbox_bodies b ON b.outbox_id = o.id ORDER BY o.idempotency_key"
        if apart
        else "SELECT idempotency_key, message FROM outbox ORDER BY idempotency_key"
    )
    digest = hashlib.sha256()
    with engine.connect() as connection:
        rows = connection.execute(text(query))
        for key, message in rows:
            body = message if isinstance(message, bytes) else message.encode("utf-8")
            digest.update(f"{key}\n{len(body)}\n".encode())
            digest.update(body)
    return digest.hexdigest()


def _service_digest_worker(
    stages: Stages, runtime: Any, engine: Any, limit: int | None, digests_module: Any
) -> None:
    """One of ``--workers`` processes: the service's own digest job (JobRunner, slot claim,
    lock, shared run, outbox) firing slot "bench-run"; the first to claim it opens the run,
    the others join. Build and send are timed apart by wrapping the functions the job calls."""
    import councilwatch.mailer as mailer
    from councilwatch.schedule import Schedule, interval
    from councilwatch.service import JobRunner, digest_job
    from db import outbox

    if limit is not None:  # a slice: the batches holding the first ``limit`` subscribers
        ranges = digests_module._subscriber_ranges

        def sliced(*args: Any, **kwargs: Any) -> dict[int, list[int]]:
            kept: dict[int, list[int]] = {}
            for first, ids in ranges(*args, **kwargs).items():
                if sum(map(len, kept.values())) >= limit:
                    break
                kept[first] = ids
            return kept

        digests_module._subscriber_ranges = sliced
    results: dict[str, Any] = {}

    def timed(owner: Any, attribute: str, label: str) -> None:
        """Adds up every call (the job may send from a thread while it builds): wall, CPU of
        the calling thread, and the count (``queued`` or ``sent``) of the reports."""
        original = getattr(owner, attribute)
        lock = threading.Lock()

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            wall, cpu, ready = time.perf_counter(), time.thread_time(), _ready_seconds()
            done = original(*args, **kwargs)
            if label == "build":  # what the sending thread has still to send, and from when
                results["build ended"] = time.time()
                results["unsent"] = outbox.depth(engine).get("pending", 0)
            with lock:
                spent = results.get(label + " s", (0.0, 0.0))
                results[label + " s"] = (
                    spent[0] + time.perf_counter() - wall,
                    spent[1] + time.thread_time() - cpu,
                )
                results[label + " ready"] = (
                    results.get(label + " ready", 0.0) + _ready_seconds() - ready
                )
                results[label + " n"] = results.get(label + " n", 0) + getattr(
                    done, "queued" if label == "build" else "sent", 0
                )
                results[label] = done
            return done

        setattr(owner, attribute, wrapper)

    timed(digests_module, "run_digests", "build")
    timed(mailer, "send_outbox", "send")
    # Explaining the run's stories, each worker (main's explain pass; not scaled by a slice).
    once = _Timer()
    deriver = getattr(digests_module, "_Deriver", None)
    if deriver is not None:
        once.wrap(deriver, "explain_stories", "once")
    every_worker_fires_one_slot = Schedule(
        interval(86400, "UTC", jitter=False).trigger, lambda _: "bench-run", "bench"
    )
    spec = digest_job("daily", every_worker_fires_one_slot, timedelta(hours=12))
    worker = f"bench-{os.getpid()}"
    with stages.stage("service digest job (claim or join, build, queue, send)", engine) as row:
        _profiled(f"worker-{os.getpid()}", JobRunner(runtime, worker), spec)
        report = results.get("build")
        row["note"] = report.line() if report is not None else "no run"
        row["digests"] = results.get("build n", 0)
    if "once" in once.seconds:
        row["once"] = once.seconds["once"]
    for label in ("build", "send"):
        wall, cpu = results.get(label + " s", (0.0, 0.0))
        done = results.get(label)
        count = results.get(label + " n", 0)
        name = "build, render, queue" if label == "build" else "send to the SMTP sink"
        stages.rows.append(
            {"stage": f"  of which {name}", "wall": wall, "cpu": cpu, "sub": True,
             "digests": count, "note": done.line() if done is not None else "",
             "ready": results.get(label + " ready", 0.0)}
        )  # fmt: skip
        if label == "build" and "once" in once.seconds:
            stages.rows[-1]["once"] = once.seconds["once"]
            wall, cpu = once.seconds["once"]
            name = "    of which explaining the run's stories (not scaled)"
            stages.rows.append({"stage": name, "wall": wall, "cpu": cpu, "sub": True})
    if "build ended" in results:  # the job's tail: sending what building left unsent
        tail = row["ended"] - results["build ended"]
        name = "  of which after the build (the job sends what is left)"
        note = f"{results['unsent']:,} unsent when the build ended (all workers')"
        stages.rows.append({"stage": name, "wall": tail, "cpu": 0.0, "sub": True, "note": note})


# -- orchestration -----------------------------------------------------------------------------


def _child(code: Path, *args: str) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(code)}
    proc = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), *args],
        env=env,
        cwd=code,
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout[-4000:] + proc.stderr[-8000:])
        raise SystemExit(f"child {args[:2]} failed ({code})")
    for line in proc.stdout.splitlines():
        if line.startswith("  "):
            print(line)
    for line in proc.stderr.splitlines():
        if line.startswith("  sql "):  # --sql-times
            print(line)
    return json.loads(proc.stdout.strip().splitlines()[-1]) if proc.stdout.strip() else {}


def _baseline_tree(rev: str) -> Path:
    from bench.common import code_at

    return code_at(rev, WORK / f"code-{rev}")


def _pg(url_db: str) -> str:
    url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{url_db}"
    # e.g. CW_BENCH_PG_OPTIONS="-c log_min_duration_statement=100": the server logs the
    # statements of the runs' sessions slower than that (its log, not this output).
    if options := os.environ.get("CW_BENCH_PG_OPTIONS"):
        url += "?options=" + urllib.parse.quote(options)
    return url


def _psql(*sql: str) -> None:
    for statement in sql:
        subprocess.run(
            ["psql", "-h", "127.0.0.1", "-U", "postgres", "-q", "-c", statement],
            check=True,
            capture_output=True,
        )


def _pg_exists(name: str) -> bool:
    out = subprocess.run(
        [
            "psql",
            "-h",
            "127.0.0.1",
            "-U",
            "postgres",
            "-tAc",
            f"SELECT 1 FROM pg_database WHERE datname = '{name}'",
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return out.strip() == "1"


def _migrations(code: Path) -> list[str]:
    return sorted(p.name for p in (code / "db" / "migrations" / "versions").glob("*.py"))


def _head_revision() -> str:
    """The migration head of the code under test (this worktree)."""
    from db.migrate import head_revision

    head = head_revision()
    if head is None:
        raise SystemExit("no migration head found")
    return head


def _pg_tag(head: str) -> str:
    """A short, stable name for a migration head (database names stop at 63 bytes)."""
    number = head.split("_")[0]
    return f"{number}_{hashlib.sha1(head.encode()).hexdigest()[:8]}"


def _upgraded_sqlite(base: Path, head: str) -> Path:
    """``base`` upgraded to the current head by the code under test, cached beside it: the
    migrations and the one-off search-key backfill of migration 0007 (230 s CPU at full
    size) are paid once here, not in every run's warm-up batch."""
    store = base.with_name(f"{base.stem}-at-{head}.db")
    if store.exists():
        return store
    print(f"upgrading {base.name} to {head} (cached in {store.name}) ...")
    partial = store.with_suffix(".partial")
    for suffix in ("", "-wal", "-shm"):
        Path(f"{partial}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(base, partial)
    _child(HERE, "--child", "upgrade", "--url", f"sqlite:///{partial}")
    partial.rename(store)
    return store


def upgrade_store(url: str) -> None:
    """Child: migrate the store to this code's head and cut every document's search keys
    (what the first batch after a real upgrade does: councilwatch.search.refresh_keys)."""
    from councilwatch.search import refresh_keys
    from db.engine import make_engine
    from db.migrate import upgrade

    engine = make_engine(url)
    t0, cpu = time.perf_counter(), time.process_time()
    upgrade(engine)
    keyed = refresh_keys(engine)
    with engine.begin() as connection:
        if connection.dialect.name == "sqlite":
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    wall, cpu = time.perf_counter() - t0, time.process_time() - cpu
    print(f"  upgraded, search keys cut for {keyed:,} documents ({wall:.0f} s, {cpu:.0f} s CPU)")
    print(json.dumps({}))


def create_schema(url: str) -> None:
    """Child: this code's migrations on an empty database (the tables the rows are copied
    into, with this code's PostgreSQL DDL: generated columns, GIN indexes, triggers)."""
    from db.engine import make_engine
    from db.migrate import upgrade

    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    print(json.dumps({}))


def copy_sqlite_to_pg(source: Path, database: str) -> dict[str, int]:
    """Copy every row of the SQLite store ``source`` into ``database`` (PostgreSQL, schema
    already made by the same code's migrations): COPY table by table, the secondary indexes
    dropped before and rebuilt after, triggers and foreign-key checks off while copying
    (session_replication_role = replica: the rows, logs included, are already as the
    triggers left them in the source), every id sequence moved past its table's largest id,
    then VACUUM ANALYZE (planner statistics, visibility map). Generated columns (the
    tsvectors) are left to the server. Both databases then hold the same world, ids
    included; building it through ``process`` on PostgreSQL took hours."""
    import sqlite3

    import psycopg

    counts: dict[str, int] = {}
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    src_version = src.execute("SELECT version_num FROM alembic_version").fetchone()
    with psycopg.connect(host="127.0.0.1", user="postgres", dbname=database, autocommit=True) as pg:
        pg_version = pg.execute("SELECT version_num FROM alembic_version").fetchone()
        if src_version != pg_version:
            raise SystemExit(f"{source.name} is at {src_version}, the schema at {pg_version}")
        pg.execute("SET session_replication_role = replica")
        pg.execute("SET TIME ZONE 'UTC'")  # SQLite holds UTC datetimes without an offset
        pg.execute("SET maintenance_work_mem = '2GB'")
        tables = [
            name
            for (name,) in pg.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                "AND tablename <> 'alembic_version' ORDER BY tablename"
            )
        ]
        for table in tables:
            t0 = time.perf_counter()
            columns = [
                name
                for (name,) in pg.execute(
                    "SELECT attname FROM pg_attribute WHERE attrelid = %s::regclass "
                    "AND attnum > 0 AND NOT attisdropped AND attgenerated = '' ORDER BY attnum",
                    (f'public."{table}"',),
                )
            ]
            have = {row[1] for row in src.execute(f'PRAGMA table_info("{table}")')}
            if missing := [c for c in columns if c not in have]:
                raise SystemExit(f"{source.name}: {table} has no column(s) {missing}")
            indexes = pg.execute(
                "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) "
                "FROM pg_index i WHERE i.indrelid = %s::regclass AND NOT EXISTS "
                "(SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)",
                (f'public."{table}"',),
            ).fetchall()
            for name, _ in indexes:
                pg.execute(f"DROP INDEX {name}")
            quoted = ", ".join(f'"{c}"' for c in columns)
            rows = src.execute(f'SELECT {quoted} FROM "{table}"')
            n = 0
            statement = f'COPY public."{table}" ({quoted}) FROM STDIN'
            with pg.transaction(), pg.cursor() as cur, cur.copy(statement) as copy:
                while chunk := rows.fetchmany(2000):
                    for row in chunk:
                        copy.write_row(row)
                    n += len(chunk)
            for _, definition in indexes:
                pg.execute(definition)
            counts[table] = n
            if n >= 10_000:
                print(f"  copied {n:,} rows of {table} ({time.perf_counter() - t0:.0f} s)")
        sequences = pg.execute(
            "SELECT table_name, column_name, "
            "pg_get_serial_sequence(quote_ident(table_name), column_name) "
            "FROM information_schema.columns WHERE table_schema = 'public' "
            "AND pg_get_serial_sequence(quote_ident(table_name), column_name) IS NOT NULL"
        ).fetchall()
        for table, column, sequence in sequences:
            pg.execute(
                f'SELECT setval(%s, coalesce(max("{column}"), 1), max("{column}") IS NOT NULL) '
                f'FROM public."{table}"',
                (sequence,),
            )
        pg.execute("RESET session_replication_role")
        t0 = time.perf_counter()
        # This leaves the tables the store holds nothing in (outbox, ledger) analyzed
        # empty, as a store restored or vacuumdb'd before its first digest run is: plans
        # made from that scanned the outbox per ledger row until ef23097. Kept on purpose.
        pg.execute("VACUUM (ANALYZE)")
        print(f"  VACUUM ANALYZE ({time.perf_counter() - t0:.0f} s)")
    src.close()
    return counts


def _pg_template(name: str, source: Path, code: Path) -> str:
    """The template database ``name`` (built once): ``code``'s schema, ``source``'s rows."""
    if not _pg_exists(name):
        print(f"copying {source.name} into PostgreSQL (template database {name}) ...")
        t0 = time.perf_counter()
        partial = f"{name}_partial"
        _psql(f'DROP DATABASE IF EXISTS "{partial}"', f'CREATE DATABASE "{partial}"')
        _child(code, "--child", "schema", "--url", _pg(partial))
        counts = copy_sqlite_to_pg(source, partial)
        _psql(f'ALTER DATABASE "{partial}" RENAME TO "{name}"')
        rows = sum(counts.values())
        print(f"  {rows:,} rows in {len(counts)} tables ({time.perf_counter() - t0:.0f} s)")
    return name


def prepare_store(
    db: str, size: str, baseline: Path, rev: str = BASELINE_REV
) -> Callable[[str, bool], str]:
    """Build the stores once (cached), and return ``copy(name, upgraded)`` making a fresh
    copy by name: of the store as the baseline built it (``upgraded=False``, for the
    baseline) or of that store upgraded to the current head (for the code under test).

    SQLite: ``store-<tag>.db`` (built by the baseline's ``process``, or symlinked in from
    where it was built) and ``store-<tag>-at-<head>.db``. PostgreSQL: template databases
    ``cwbench_store_<tag>`` and ``cwbench_store_<tag>_at_<head number>_<hash>``, each
    copied from the SQLite file of the same state (copy_sqlite_to_pg), built when first
    needed."""
    WORK.mkdir(parents=True, exist_ok=True)
    # Named after the code that builds it: the baseline's (a store built by another
    # revision's ``process`` holds that revision's schema and keys).
    tag = f"{size}-v{STORE_VERSION}-{rev}"
    store = WORK / f"store-{tag}.db"
    if not store.exists():
        print(f"building the {size} SQLite store (cached in {store}) ...")
        partial = store.with_suffix(".partial")
        partial.unlink(missing_ok=True)
        _child(baseline, "--child", "build", "--url", f"sqlite:///{partial}", "--size", size)
        partial.rename(store)
    head = _head_revision()
    # Run copies are named after the worktree, so two worktrees' runs never meet.
    mine = "".join(ch if ch.isalnum() else "_" for ch in HERE.name.lower())

    if db == "sqlite":

        def copy_sqlite(name: str, upgraded: bool) -> str:
            source = _upgraded_sqlite(store, head) if upgraded else store
            target = WORK / f"run-{name}.db"
            for suffix in ("", "-wal", "-shm"):
                Path(f"{target}{suffix}").unlink(missing_ok=True)
            shutil.copyfile(source, target)
            return f"sqlite:///{target}"

        return copy_sqlite
    base_template = f"cwbench_store_{tag.replace('-', '_')}"

    def copy_pg(name: str, upgraded: bool) -> str:
        if upgraded:
            template = _pg_template(
                f"{base_template}_at_{_pg_tag(head)}", _upgraded_sqlite(store, head), HERE
            )
        else:
            template = _pg_template(base_template, store, baseline)
        target = f"cwbench_run_{mine}_{name}".replace("-", "_")
        _psql(
            f'DROP DATABASE IF EXISTS "{target}"',
            f'CREATE DATABASE "{target}" TEMPLATE "{template}"',
        )
        return _pg(target)

    return copy_pg


class Sink:
    """An aiosmtpd server in this process counting what it accepts (``--sink aiosmtpd``).

    Its CPU is this process's (the parent only waits for its children meanwhile). It reads
    DATA a line at a time through asyncio and does not offer PIPELINING: ~4.3 ms wall and
    ~2 ms CPU a 57 KB digest here, more than the sender's own cost (see ``SmtpSink``)."""

    name = "aiosmtpd (in the bench's parent process)"

    def __init__(self) -> None:
        from aiosmtpd.controller import Controller

        from tests.smtpd import free_port

        self.count = 0
        self.bytes = 0
        self.lock = threading.Lock()
        sink = self

        class Handler:
            async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
                with sink.lock:
                    sink.count += 1
                    sink.bytes += len(envelope.content)
                return "250 OK"

        self.port = free_port()
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def cpu(self) -> float:
        return time.process_time()

    def accepted(self) -> int:
        return self.count

    def stop(self) -> None:
        self.controller.stop()

    def summary(self) -> str:
        return f"{self.count:,} messages ({self.bytes / 1e6:.1f} MB)"


class SmtpSink:
    """Postfix's ``smtp-sink`` (C; Debian's ``postfix`` package) in a process of its own
    (``--sink smtp-sink``): it accepts and discards, offers PIPELINING, and costs ~0.1 ms a
    57 KB message, so what the bench times is the sender, not a test server. Its CPU is read
    from /proc; ``-c`` makes it print a running count of DATA commands done."""

    name = "postfix smtp-sink (own process)"

    def __init__(self, executable: str) -> None:
        from tests.smtpd import free_port

        self.port = free_port()
        self._out = tempfile.TemporaryFile()  # noqa: SIM115 (open as long as the sink runs)
        command = [executable, "-c"]
        if os.geteuid() == 0:  # it refuses to run as root without a user to drop to
            command += ["-u", "nobody"]
        self.proc = subprocess.Popen(
            [*command, f"127.0.0.1:{self.port}", "256"], stdout=self._out, stderr=self._out
        )
        tick = os.sysconf("SC_CLK_TCK")
        self._tick = tick
        import socket

        for _ in range(100):  # listening once a connection is accepted
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.05)

    def cpu(self) -> float:
        try:
            fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return 0.0
        return (int(fields[11]) + int(fields[12])) / self._tick

    def accepted(self) -> int:
        self._out.seek(0)
        tail = self._out.read()[-200:].decode("ascii", "replace")
        counts = [part for part in tail.replace("\r", " ").split() if part.startswith("mesg=")]
        # the probe connection above is a session, not a message
        return int(counts[-1].removeprefix("mesg=")) if counts else 0

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)

    def summary(self) -> str:
        return f"{self.accepted():,} messages"


def make_sink(choice: str) -> Sink | SmtpSink:
    # Debian installs it in /usr/sbin, which is not on every PATH.
    found = shutil.which("smtp-sink") or shutil.which("smtp-sink", path="/usr/sbin")
    if choice == "smtp-sink" or (choice == "auto" and found):
        if not found:
            raise SystemExit("--sink smtp-sink: no smtp-sink (apt-get install postfix)")
        return SmtpSink(found)
    return Sink()


def _fmt(row: dict[str, Any], scale: float) -> list[str]:
    wall, cpu = row.get("wall", 0.0), row.get("cpu", 0.0)
    shown = [f"{wall:.2f}", f"{cpu:.2f}"]
    digests = row.get("digests")
    rate = f"{digests:,} digests, {digests / cpu:.0f}/s CPU" if digests and cpu else ""
    if digests and scale != 1:
        once_wall, once_cpu = row.get("once", (0.0, 0.0))
        rate += (
            f"; x{scale:.1f} -> {((wall - once_wall) * scale + once_wall) / 60:.1f} min"
            f" ({((cpu - once_cpu) * scale + once_cpu) / 60:.1f} min CPU)"
        )
    ready = row.get("ready", 0.0)
    if ready >= 0.01 and wall > 0:  # what of wall - CPU the machine's load explains
        # Not for the job's row: its CPU is both threads', its ``ready`` the main thread's.
        one_thread = "digest job" not in row["stage"]
        blocked = max(0.0, wall - cpu - ready) if one_thread else None
        waits = f"waited {ready:.2f} s for a core"
        waits += f", {blocked:.2f} s blocked" if blocked is not None else ""
        rate = f"{rate}; {waits}" if rate else waits
    return [
        row["stage"],
        *shown,
        "" if row.get("sub") else f"{row.get('rows', 0):,}",
        "" if row.get("sub") else f"{row.get('rss_mb', 0):.0f}",
        rate or row.get("note", ""),
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20,000 documents, 10,000 alerts")
    parser.add_argument("--db", default="sqlite,postgres", help="sqlite, postgres or both")
    parser.add_argument("--digests", type=int, help="the first N subscribers only (a slice)")
    parser.add_argument("--workers", type=int, default=1, help="digest workers on PostgreSQL")
    parser.add_argument(
        "--job",
        action="store_true",
        help="one worker builds and sends through the service's digest job (JobRunner: "
        "build, queue, and send from a thread meanwhile), SQLite or PostgreSQL",
    )
    parser.add_argument(
        "--sink",
        choices=("auto", "smtp-sink", "aiosmtpd"),
        default="auto",
        help="the SMTP sink: postfix's smtp-sink in its own process (auto: when installed) "
        "or aiosmtpd in the bench's parent process",
    )
    parser.add_argument("--baseline-rev", default=BASELINE_REV)
    parser.add_argument(
        "--baseline-workers",
        action="store_true",
        help="the baseline shares its digest run among --workers too (a baseline after 2ef2454)",
    )
    parser.add_argument("--no-baseline", action="store_true", help="only the code under test")
    parser.add_argument(
        "--only-baseline", action="store_true", help="only the baseline (beside a --no-baseline)"
    )
    parser.add_argument("--profile", help="cProfile the digest stages into this directory")
    parser.add_argument(
        "--py-spy", help="sample the digest stages with py-spy into this directory (on-CPU)"
    )
    parser.add_argument(
        "--py-spy-idle",
        action="store_true",
        help="with --py-spy: idle samples too (a thread waiting on a lock, the GIL, a socket)",
    )
    parser.add_argument(
        "--trace-memory", action="store_true", help="tracemalloc's top allocations of digests"
    )
    parser.add_argument(
        "--snapshot", help="SQLite: save the store as the cycle left it (for --from-snapshot)"
    )
    parser.add_argument(
        "--from-snapshot", help="SQLite: only the digest stages, on copies of this saved store"
    )
    parser.add_argument(
        "--sql-times",
        action="store_true",
        help="each child prints, to stderr, the statements it waited on longest (wall, count)",
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--size", default="full", help=argparse.SUPPRESS)
    parser.add_argument("--sink-port", type=int, default=25, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.job and args.workers > 1:
        parser.error("--job is one worker; --workers N (PostgreSQL) runs N through the job")
    if args.child == "build":
        build_store(args.url, args.size)
        return 0
    if args.child == "upgrade":
        upgrade_store(args.url)
        return 0
    if args.child == "schema":
        create_schema(args.url)
        return 0
    if args.child in ("cycle", "match-only", "digest-worker", "digests-only", "fingerprint"):
        _time_statements()
        run_cycle(args.url, args.size, args.sink_port, args.digests, args.child, args.job)
        return 0

    sys.path.insert(0, str(HERE))
    if args.trace_memory:
        os.environ["CW_BENCH_TRACEMALLOC"] = "1"
    if args.py_spy_idle:
        os.environ["CW_BENCH_PYSPY_IDLE"] = "1"
    if args.sql_times:
        os.environ["CW_BENCH_SQL"] = "1"
    size = "quick" if args.quick else "full"
    n_docs, n_alerts, n_subs, n_new = SIZES[size]
    baseline = _baseline_tree(args.baseline_rev)
    # A baseline with the same migrations as the code under test runs on the upgraded store
    # too (it would cut the same keys in its warm-up batch).
    same_schema = _migrations(baseline) == _migrations(HERE)
    codes = [("current", HERE)] if args.no_baseline else [("baseline", baseline), ("current", HERE)]
    if args.only_baseline:
        codes = [("baseline", baseline)]
    sink = make_sink(args.sink)
    path = "the service's digest job" if args.job or args.workers > 1 else "build, then send"
    print(
        f"store: {n_docs:,} documents, {n_alerts:,} alerts held by {n_subs:,} subscribers; "
        f"cycle: {n_new:,} new documents; baseline: {args.baseline_rev}\n"
        f"digests: {path}; SMTP sink: {sink.name}"
    )
    try:
        for db in args.db.split(","):
            copy = prepare_store(db, size, baseline, args.baseline_rev)
            for label, code in codes:
                if args.profile:  # the child reads it: DIR/<db>-<label>/{build,send}.prof
                    where = Path(args.profile).resolve() / f"{db}-{label}"
                    os.environ["CW_BENCH_PROFILE"] = str(where)
                if args.py_spy:  # DIR/<db>-<label>/<stage>-<pid>.txt, collapsed stacks
                    os.environ["CW_BENCH_PYSPY"] = str(
                        Path(args.py_spy).resolve() / f"{db}-{label}"
                    )
                if args.from_snapshot:
                    _digests_from_snapshot(Path(args.from_snapshot), label, code, sink, args)
                    continue
                url = copy(f"{size}-{label}", label == "current" or same_schema)
                if args.snapshot and label == "current":  # DIR/<size>-current.db
                    os.environ["CW_BENCH_SNAPSHOT"] = str(
                        Path(args.snapshot).resolve() / f"{size}-{label}.db"
                    )
                    Path(args.snapshot).mkdir(parents=True, exist_ok=True)
                extra = ["--digests", str(args.digests)] if args.digests else []
                extra += ["--job"] if args.job else []
                # 2ef2454 has no way to share a run: the baseline runs one worker unless
                # told otherwise (--baseline-workers, for a later baseline).
                shares = label == "current" or args.baseline_workers
                workers = args.workers if db == "postgres" and shares else 1
                role = "cycle" if workers == 1 else "match-only"
                base = ["--child", role, "--url", url, "--size", size]
                result = _sink_child(sink, code, *base, "--sink-port", str(sink.port), *extra)
                if workers > 1:
                    result["stages"] += _parallel_digests(code, url, size, sink, workers, extra)
                    found = _child(code, "--child", "fingerprint", "--url", url, "--size", size)
                    result["outbox_sha256"] = found["outbox_sha256"]
                _print(db, label, result, _scale(result))
    finally:
        sink.stop()
    print(f"\nSMTP sink accepted {sink.summary()}")
    return 0


def _scale(result: dict[str, Any]) -> float:
    """From the digests built to 100,000 (a slice, or a whole run's day)."""
    built = next((r.get("digests") for r in result["stages"] if r.get("digests")), 0)
    return 100_000 / built if built else 1.0


def _sink_child(sink: Sink | SmtpSink, code: Path, *args: str) -> dict[str, Any]:
    """``_child``, with a row for the SMTP sink's CPU and the messages it accepted meanwhile
    (the sink sees nothing but the digests' sending)."""
    cpu, count = sink.cpu(), sink.accepted()
    result = _child(code, *args)
    accepted, spent = sink.accepted() - count, sink.cpu() - cpu
    if accepted and "stages" in result:
        result["sink"] = {"cpu": spent, "accepted": accepted}
    return result


def _digests_from_snapshot(
    snapshot: Path, label: str, code: Path, sink: Sink | SmtpSink, args: argparse.Namespace
) -> None:
    """Time the digest stages of ``code`` on a copy of a saved post-cycle store."""
    target = WORK / f"run-snapshot-{label}.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(snapshot, target)
    size = "quick" if args.quick else "full"
    extra = ["--digests", str(args.digests)] if args.digests else []
    extra += ["--job"] if args.job else []
    base = ["--child", "digests-only", "--url", f"sqlite:///{target}", "--size", size]
    result = _sink_child(sink, code, *base, "--sink-port", str(sink.port), *extra)
    _print("sqlite", f"{label}, digests only on {snapshot.name}", result, _scale(result))


def _parallel_digests(
    code: Path, url: str, size: str, sink: Sink | SmtpSink, workers: int, extra: list[str]
) -> list[dict[str, Any]]:
    env = {**os.environ, "PYTHONPATH": str(code)}
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--child",
        "digest-worker",
        "--url",
        url,
        "--size",
        size,
        "--sink-port",
        str(sink.port),
        *extra,
    ]
    started, parent_cpu = time.perf_counter(), sink.cpu()
    procs = [
        subprocess.Popen(command, env=env, cwd=code, stdout=subprocess.PIPE, text=True)
        for _ in range(workers)
    ]
    outputs = [p.communicate()[0] for p in procs]
    wall = time.perf_counter() - started
    sink_cpu = sink.cpu() - parent_cpu  # the SMTP sink's process (or this one's thread)
    rows: list[dict[str, Any]] = []
    built = 0
    for k, text in enumerate(outputs):
        for row in json.loads(text.strip().splitlines()[-1])["stages"]:
            stage = row["stage"].strip()
            rows.append({**row, "stage": f"worker {k + 1}: {stage}"})
            built += row.get("digests", 0) if "queue" in stage and row.get("sub") else 0
    # The digest phase as a long-lived service sees it: first job start to last job end
    # (the processes' start-up, connecting and the bench's row counts left out).
    jobs = [r for r in rows if "began" in r and "digest job" in r["stage"]]
    span = max(r["ended"] for r in jobs) - min(r["began"] for r in jobs) if jobs else wall
    onces = [r["once"] for r in rows if "once" in r]
    together = {
        "stage": f"{workers} workers together, jobs' span ({wall:.1f} s with start-up)",
        "wall": span,
        "cpu": sum(r["cpu"] for r in jobs),
    }
    if onces:  # the explain passes run side by side: the longest one's wall, all their CPU
        together["once"] = (max(o[0] for o in onces), sum(o[1] for o in onces))
    server = sum(r["cpu"] for r in rows if r.get("server"))
    per = 1000 / built if built else 0.0
    cost = {
        "stage": "  CPU per digest, ms: workers (client) / PostgreSQL / SMTP sink",
        "wall": 0.0,
        "cpu": 0.0,
        "sub": True,
        "note": f"{together['cpu'] * per:.2f} / {server * per:.2f} / {sink_cpu * per:.2f}"
        f" (all {(together['cpu'] + server + sink_cpu) * per:.2f} ms on 2 cores)",
    }
    # First, so the slice's scale (main) is the digests all workers built together.
    return [{**together, "sub": True, "digests": built}, cost, *rows]


def _print(db: str, label: str, result: dict[str, Any], scale: float) -> None:
    from bench.common import print_table

    rows = [_fmt(row, scale) for row in result["stages"]]
    print_table(
        f"{db} - {label} ({result.get('code', '')})",
        ["stage", "wall s", "CPU s", "rows added", "peak RSS MB", "note"],
        rows,
    )
    if result.get("outbox_sha256"):
        print(f"outbox contents sha256: {result['outbox_sha256']}")
    for line in _end_to_end(result):
        print(line)


def _end_to_end(result: dict[str, Any]) -> list[str]:
    """The digests from the first built to the last handed to the sink: the job's span (or
    the workers'), or build + send when the bench runs them one after the other; per
    100,000 digests with the run's explain pass counted once."""
    rows = result["stages"]
    job = next((r for r in rows if "digest job" in r["stage"] and not r.get("sub")), None)
    job = next((r for r in rows if "workers together" in r["stage"]), job)
    build = next((r for r in rows if "digests: build" in r["stage"]), None)
    send = next((r for r in rows if "digests: send" in r["stage"]), None)
    sent = sum(r.get("digests", 0) for r in rows if "send to the SMTP sink" in r["stage"])
    if job is not None:
        how, wall, cpu, built = "the job", job["wall"], job["cpu"], job.get("digests", 0)
        once = job.get("once", (0.0, 0.0))
    elif build is not None and send is not None:
        how, wall, cpu, built = "build + send", build["wall"] + send["wall"], 0.0, 0
        cpu, built = build["cpu"] + send["cpu"], build.get("digests", 0)
        once = build.get("once", (0.0, 0.0))
    else:
        return []
    if not built:
        return []
    scale = 100_000 / built
    lines = [
        f"end to end ({how}): {built:,} digests queued, {sent:,} sent, in {wall:.1f} s wall"
        f" ({built / wall:.0f}/s), {cpu:.1f} s CPU; peak RSS"
        f" {max(r.get('rss_mb', 0) for r in rows):.0f} MB",
        f"  per 100,000 digests (the explain pass once): "
        f"{((wall - once[0]) * scale + once[0]) / 60:.1f} min wall,"
        f" {((cpu - once[1]) * scale + once[1]) / 60:.1f} min CPU",
    ]
    sink = result.get("sink")
    if sink:
        lines.append(
            f"  SMTP sink: {sink['accepted']:,} accepted, {sink['cpu']:.1f} s CPU"
            f" ({sink['cpu'] * 1000 / sink['accepted']:.2f} ms a message,"
            f" {sink['cpu'] * 100_000 / sink['accepted'] / 60:.1f} min per 100,000)"
        )
    return lines


if __name__ == "__main__":
    raise SystemExit(main())
