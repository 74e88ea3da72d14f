"""The sources' runs and health state, written once in SQLAlchemy Core: what `councilwatch
status` and the health check read, defined without SQLModel or pydantic.

As in db/document_tables.py, these definitions are the schema: ``FetchRun`` (db/models.py) and
``SourceState`` (db/models_service.py) map onto copies of these tables in SQLModel's metadata,
so the ORM, the migrations and `db check` see the same columns (tests/test_document_tables.py
compares their DDL on SQLite and PostgreSQL).
"""

from __future__ import annotations

from sqlalchemy import JSON, Boolean, Column, Index, Integer, String, Table, Text

from db.document_tables import METADATA
from db.document_tables import utc_column as _when

# One run of one source: what it did and how it ended.
FETCH_RUNS = Table(
    "fetch_runs",
    METADATA,
    Column("id", Integer, primary_key=True),
    Column("source", String(64), nullable=False),
    Column("mode", String(32), nullable=False, default="incremental"),
    _when("started_at", nullable=False),
    _when("finished_at"),
    Column("ok", Boolean, nullable=True),
    Column("requests", Integer, nullable=False, default=0),
    Column("inserted", Integer, nullable=False, default=0),
    Column("updated", Integer, nullable=False, default=0),
    Column("unchanged", Integer, nullable=False, default=0),
    Column("failures", Integer, nullable=False, default=0),
    Column("error", Text, nullable=True),
    Column("stats", JSON, nullable=False),
    Index("ix_fetch_runs_source_started", "source", "started_at"),
)

# Last known health of a source, so the operator hears of a change once.
SOURCE_STATE = Table(
    "source_state",
    METADATA,
    Column("source", String(100), primary_key=True),
    Column("healthy", Boolean, nullable=False, default=True),
    _when("changed_at", nullable=False),
    Column("reason", String(1000), nullable=True),
)
