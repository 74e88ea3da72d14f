"""The crawlers' memory in the database (db/crawl_state.py), and the migration that moved
LGSCO's listing windows into it, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime

import sqlalchemy as sa
from sqlalchemy import Engine

from db import migrate
from db.crawl_state import FINGERPRINT_KEY, CrawlState
from db.ingest import DocumentRecord, upsert_documents
from scraper.sources.lgsco.crawl import Window, WindowState
from scraper.sources.lgsco.source import CheckpointMemory

NOW = datetime(2026, 6, 30, 9, 0, tzinfo=UTC)


def test_stored_items_and_checkpoints_per_source(engine: Engine) -> None:
    upsert_documents(
        engine,
        [
            DocumentRecord(
                kind="decision",
                source="housing-ombudsman",
                source_key="202512345",
                url="https://x/1",
                decided_on=date(2026, 5, 18),
            ),
            DocumentRecord(
                kind="decision",
                source="lgsco",
                source_key="24 001 001",
                url="https://x/2",
                decided_on=date(2026, 5, 1),
                extra={FINGERPRINT_KEY: "abc"},
            ),
        ],
        now=NOW,
    )
    housing = CrawlState(engine, "housing-ombudsman", lambda: NOW)
    lgsco = CrawlState(engine, "lgsco", lambda: NOW)
    found = housing.stored(["202512345", "202599999", "24 001 001"])
    assert list(found) == ["202512345"]  # another source's keys are not this one's
    assert (found["202512345"].fingerprint, found["202512345"].decided_on) == (
        None,
        date(2026, 5, 18),
    )
    assert lgsco.stored(["24 001 001"])["24 001 001"].fingerprint == "abc"
    assert housing.known_between(date(2026, 5, 1), date(2026, 5, 31)) == 1
    assert housing.checkpoint("backfill") is None
    housing.save_checkpoint("backfill", {"next_page": 3})
    housing.save_checkpoint("backfill", {"next_page": 4, "done": False})
    assert housing.checkpoint("backfill") == {"next_page": 4, "done": False}
    assert lgsco.checkpoint("backfill") is None


def test_the_upgrade_keeps_lgsco_windows_as_checkpoints(engine: Engine) -> None:
    migrate.downgrade(engine, "0003_lgsco_state")
    windows = sa.table(
        "lgsco_windows",
        sa.column("date_from", sa.Date()),
        sa.column("date_to", sa.Date()),
        sa.column("total", sa.Integer()),
        sa.column("pages_done", sa.JSON()),
        sa.column("complete", sa.Boolean()),
        sa.column("updated_at", sa.DateTime(timezone=True)),
    )
    with engine.begin() as connection:
        connection.execute(
            windows.insert(),
            [
                {
                    "date_from": date(2026, 4, 1),
                    "date_to": date(2026, 4, 30),
                    "total": 37,
                    "pages_done": [2, 1, 4],
                    "complete": False,
                    "updated_at": NOW,
                },
                {
                    "date_from": date(2026, 3, 1),
                    "date_to": date(2026, 3, 31),
                    "total": 12,
                    "pages_done": [1, 2],
                    "complete": True,
                    "updated_at": NOW,
                },
            ],
        )
    migrate.upgrade(engine)
    memory = CheckpointMemory(CrawlState(engine, "lgsco", lambda: NOW))
    assert memory.window(Window(date(2026, 4, 1), date(2026, 4, 30))) == WindowState(
        37, frozenset({1, 2, 4}), False
    )
    assert memory.window(Window(date(2026, 3, 1), date(2026, 3, 31))) == WindowState(
        12, frozenset({1, 2}), True
    )
    assert not sa.inspect(engine).has_table("lgsco_windows")
