"""`councilwatch sources`: the configured sources, their last run and health."""

from __future__ import annotations

from typing import Annotated

import typer

from councilwatch.commands.common import echo_json, runtime


def sources(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List configured sources with their last run and health.

    Example: councilwatch sources --json
    """
    from councilwatch.sources_registry import configured_sources
    from db.runs import source_health

    rt = runtime(ctx)
    engine = rt.migrated_engine()
    rows = []
    for source in configured_sources(rt.settings):
        health = source_health(
            engine, source.name, unhealthy_after=rt.settings.http.unhealthy_after_failed_runs
        )
        rows.append(
            {
                "name": source.name,
                "kind": source.kind,
                "url": source.url,
                "enabled": source.enabled,
                "last_run": health.last_started_at,
                "last_ok": health.last_ok,
                "last_error": health.last_error,
                "last_success": health.last_success_at,
                "consecutive_failures": health.consecutive_failures,
                "healthy": health.healthy,
            }
        )
    if as_json:
        echo_json(rows)
        return
    if not rows:
        typer.echo("no sources configured")
    for row in rows:
        state = (
            "healthy"
            if row["healthy"]
            else f"UNHEALTHY ({row['consecutive_failures']} failed runs)"
        )
        if row["last_run"] is None:
            state += ", never run"
        elif not row["last_ok"]:
            state += f", last run failed: {row['last_error']}"
        enabled = "" if row["enabled"] else " (disabled)"
        typer.echo(f"{row['name']:24} {row['kind']:12} {state}{enabled}")
        typer.echo(f"{'':24} {row['url']}  last success: {row['last_success'] or 'never'}")


def register(app: typer.Typer) -> None:
    app.command("sources")(sources)
