"""`councilwatch status`: what the service is doing and whether its sources are healthy."""

from __future__ import annotations

from typing import Annotated

import typer

from councilwatch.commands.common import echo_json, runtime, when


def status(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Each source's last run, result, newest document and health; next runs; outbox depth.

    Example: councilwatch status --json
    """
    from councilwatch.commands.sources import health_line
    from councilwatch.health import statuses
    from councilwatch.service import next_runs
    from db.outbox import depth

    rt = runtime(ctx)
    now = rt.now()
    sources = statuses(rt)
    upcoming = next_runs(rt.settings, now)
    queue = depth(rt.migrated_engine())
    if as_json:
        echo_json(
            {
                "sources": [source.__dict__ for source in sources],
                "next_runs": upcoming,
                "outbox": queue,
            }
        )
        return
    typer.echo("Sources")
    for source in sources:
        state = health_line(
            healthy=source.healthy,
            reason=source.reason,
            failures=source.consecutive_failures,
            ran=source.last_run_at is not None,
            last_ok=source.last_ok,
            last_error=source.last_error,
        )
        typer.echo(f"  {source.name:22} {state}")
        typer.echo(
            f"  {'':22} last run {when(source.last_run_at)}, "
            f"last success {when(source.last_success_at)}, "
            f"newest document {when(source.newest_document_at, 'none')}"
        )
    typer.echo("Next runs")
    for name, next_run in upcoming.items():
        typer.echo(f"  {name:22} {next_run:%Y-%m-%d %H:%M %Z}" if next_run else f"  {name:22} -")
    pending = queue.get("pending", 0)
    typer.echo(
        f"Outbox: {pending} pending, {queue.get('sent', 0)} sent, {queue.get('failed', 0)} failed"
    )


def register(app: typer.Typer) -> None:
    app.command("status")(status)
