"""Small helpers shared by command modules."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

import typer

from cwerrors import CouncilwatchError

if TYPE_CHECKING:
    from councilwatch.runtime import Runtime


def runtime(ctx: typer.Context) -> Runtime:
    from councilwatch.runtime import Runtime

    obj = ctx.find_root().obj
    assert isinstance(obj, Runtime)
    return obj


def parse_date(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CouncilwatchError(f"{option} expects a date as YYYY-MM-DD, got {value!r}") from None


def echo_json(value: Any) -> None:
    typer.echo(json.dumps(value, default=str, ensure_ascii=False, indent=2))


def when(moment: datetime | None, missing: str = "never") -> str:
    """A time for people: minutes, in the service's zone as stored (UTC)."""
    return f"{moment:%Y-%m-%d %H:%M}" if moment is not None else missing
