"""Golden files for one full digest built from the database path: pipeline matches ->
run_digests (dry run) -> the text and HTML parts. Decisions with remedies, a per-council cap,
a story on two titles, a backfill catch-up and a failing source, all in one email.

UPDATE_GOLDEN=1 rewrites the files; a missing file is written and the test fails so that
somebody reviews it before it is committed.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest

from councilwatch.digests import run_digests
from councilwatch.runtime import Runtime
from db.runs import finish_run, start_run
from tests.digestkit import (
    T0,
    T1,
    T2,
    Clock,
    Setup,
    add_alert,
    decision,
    ingest,
    part,
    remedies,
    set_cluster,
    story,
)
from tests.runtimes import disable_sources, make_runtime

GOLDEN = Path(__file__).resolve().parent / "golden" / "digest_db"

CONFIG = """
[digest]
items_per_group = 2
[[sources.news.feeds]]
name = "Eastern Daily Press"
url = "https://edp.example/rss"
""" + disable_sources(keep=("lgsco",))


def assert_golden(name: str, actual: str) -> None:
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN") == "1" or not path.exists():
        existed = path.exists()
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8", newline="")
        if not existed:
            pytest.fail(f"wrote missing golden file {path}: review and commit it")
        return
    with path.open(encoding="utf-8", newline="") as handle:
        expected = handle.read()
    assert actual == expected, (
        f"{name} differs from the golden file; if intended, rerun with UPDATE_GOLDEN=1 "
        "and review the diff"
    )


@pytest.fixture
def setup(database_url: str, tmp_path: Path) -> Iterator[Setup]:
    clock = Clock(T0)
    runtime: Runtime = make_runtime(database_url, tmp_path, now=clock, toml=CONFIG)
    yield Setup(runtime, clock, server=None)  # type: ignore[arg-type]  # no SMTP needed
    runtime.close()


def fill(setup: Setup) -> None:
    engine = setup.engine
    email = "mrs.b@example.org"
    add_alert(engine, email, "Norfolk", councils=["norfolk"])
    add_alert(engine, email, "Upheld with payment", query="pay OR payment", outcomes=["upheld"])
    add_alert(engine, email, "Respite", query="respite", kinds=["news"])
    add_alert(engine, email, "Cumbria", councils=["cumbria"])
    setup.clock.current = T1  # a backfill run stores old decisions now
    backfill = [
        decision(f"25 010 {n:03d}", "Cumberland Council", "An older complaint about bins.")
        for n in range(7)
    ]
    ingest(setup, backfill, backfill=True)
    ingest(
        setup,
        [
            decision(
                "26 007 001",
                body="The council agreed to pay Mrs B for the missed provision.",
                category="Education",
                summary=(
                    "The council took 38 weeks to issue an Education, Health and Care plan "
                    "for Mrs B's daughter; the limit is 20 weeks."
                ),
                decided_on=date(2026, 10, 28),
                extra=remedies((95000, "Mrs B"), (25000, "Mrs B"), apology=True),
            ),
            decision(
                "26 007 002",
                body="Mr C complained about a blue badge refusal.",
                outcome="not upheld",
                category="Transport and highways",
                decided_on=date(2026, 10, 26),
            ),
            decision(
                "26 007 003",
                body="Ms E's home care visits were cut short.",
                category="Adult care services",
                decided_on=date(2026, 10, 21),
                extra=remedies((30000, "Ms E")),
            ),
        ],
    )
    text = (
        "Parents in Norfolk County Council's area say respite care has been cut back "
        "for a third year, leaving carers without a break over the winter."
    )
    copies = ingest(
        setup,
        [
            story(
                "n1", "Eastern Daily Press", "Carers say respite cuts leave them exhausted", text
            ),
            story(
                "n2",
                "Diss Express",
                "Respite cuts hit carers",
                text,
                published=T1 + timedelta(hours=5),
            ),
        ],
    )
    set_cluster(engine, copies, ["n1", "n2"], "norfolk-respite-cuts")
    run = start_run(engine, "lgsco", "incremental", now=T1)
    finish_run(engine, run, now=T1 + timedelta(minutes=3), ok=True, inserted=3)
    for hours in (2, 3, 4):
        run = start_run(
            engine, "Eastern Daily Press", "incremental", now=T1 + timedelta(hours=hours)
        )
        finish_run(engine, run, now=T1 + timedelta(hours=hours), ok=False, error="HTTP 503")


def test_golden_digest_from_the_database(setup: Setup) -> None:
    fill(setup)
    setup.clock.current = T2
    report = run_digests(setup.runtime, "daily", dry_run=True)
    [built] = report.digests
    assert (report.items, report.catch_up) == (4, 7)
    assert built.subject == "3 decisions and 1 story: Norfolk County Council"
    assert_golden("digest.txt", part(built.message, "plain"))
    assert_golden("digest.html", part(built.message, "html"))
