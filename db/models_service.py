"""Tables for the service: job slots claimed by exactly one worker, and source health state."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Column, DateTime
from sqlmodel import Field, SQLModel

from db.document_tables import copy_into
from db.run_tables import SOURCE_STATE


def _when(*, nullable: bool = True) -> Any:
    return Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=nullable))


class JobRun(SQLModel, table=True):
    """A scheduled job's time slot; the worker whose INSERT wins does the work."""

    __tablename__ = "job_runs"

    job: str = Field(primary_key=True, max_length=100)
    slot: str = Field(primary_key=True, max_length=40)
    worker: str = Field(max_length=100)
    claimed_at: datetime = _when(nullable=False)
    finished_at: datetime | None = _when()
    ok: bool | None = None


# Defined once, in Core (db/run_tables.py: `status` and the health check use it without
# SQLModel); SourceState maps onto a copy in SQLModel.metadata.
_STATE = copy_into(SOURCE_STATE, SQLModel.metadata)


class SourceState(SQLModel, table=True):
    """Last known health of a source, so the operator hears of a change once."""

    __table__ = _STATE

    source: str = Field(max_length=100, sa_column=_STATE.c.source)
    healthy: bool = Field(default=True, sa_column=_STATE.c.healthy)
    changed_at: datetime = Field(default=None, sa_column=_STATE.c.changed_at)
    reason: str | None = Field(default=None, max_length=1000, sa_column=_STATE.c.reason)
