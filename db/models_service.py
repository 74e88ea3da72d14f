"""Tables for the service: job slots claimed by exactly one worker, and source health state."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Column, DateTime
from sqlmodel import Field, SQLModel


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


class SourceState(SQLModel, table=True):
    """Last known health of a source, so the operator hears of a change once."""

    __tablename__ = "source_state"

    source: str = Field(primary_key=True, max_length=100)
    healthy: bool = True
    changed_at: datetime = _when(nullable=False)
    reason: str | None = Field(default=None, max_length=1000)
