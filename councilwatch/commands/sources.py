"""`councilwatch sources`: the configured sources, their last run and health."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import typer

from councilwatch.commands.common import echo_json, runtime, when


def sources(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List configured sources with their last run and health.

    Example: councilwatch sources --json
    """
    from councilwatch.health import statuses

    rows = [
        {
            "name": status.name,
            "kind": status.kind,
            "url": status.url,
            "enabled": status.enabled,
            "last_run": status.last_run_at,
            "last_ok": status.last_ok,
            "last_error": status.last_error,
            "last_success": status.last_success_at,
            "newest_document": status.newest_document_at,
            "consecutive_failures": status.consecutive_failures,
            "healthy": status.healthy,
            "reason": status.reason,
        }
        for status in statuses(runtime(ctx), include_disabled=True)
    ]
    if as_json:
        echo_json(rows)
        return
    if not rows:
        typer.echo("no sources configured")
    for row in rows:
        failures = row["consecutive_failures"]
        if row["healthy"]:
            state = "healthy"
        elif str(row["reason"]).startswith(f"{failures} failed runs"):
            state = f"UNHEALTHY ({failures} failed runs)"
        else:
            state = f"UNHEALTHY ({row['reason']})"
        if row["last_run"] is None:
            state += ", never run"
        elif not row["last_ok"]:
            state += f", last run failed: {row['last_error']}"
        enabled = "" if row["enabled"] else " (disabled)"
        typer.echo(f"{row['name']:24} {row['kind']:12} {state}{enabled}")
        last = row["last_success"]
        success = when(last) if isinstance(last, datetime) else "never"
        typer.echo(f"{'':24} {row['url']}  last success: {success}")


def register(app: typer.Typer) -> None:
    app.command("sources")(sources)
