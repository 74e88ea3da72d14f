"""`councilwatch fetch`: one recorded run of a source, now, from the command line."""

from __future__ import annotations

from typing import Annotated

import typer

from councilwatch.commands.common import parse_date, runtime
from scraper.sources import registry


def fetch(
    ctx: typer.Context,
    source: Annotated[
        str,
        typer.Option(
            "--source",
            help=f"{', '.join(registry.names())} (a source with feeds: every feed), or one "
            "configured feed's name.",
        ),
    ],
    since: Annotated[
        str | None,
        typer.Option(help="Backfill: documents from YYYY-MM-DD on (resumable)."),
    ] = None,
    until: Annotated[
        str | None, typer.Option(help="Backfill: up to YYYY-MM-DD (default today).")
    ] = None,
) -> None:
    """Fetch a source now and record the run; exit code 1 when a run failed.

    Without --since a source runs incrementally (LGSCO over its rolling window of decision
    dates, an archive down to the first page it has stored); with --since it backfills, and
    a killed backfill run again continues where it stopped.

    Example: councilwatch fetch --source lgsco --since 2014-01-01
    """
    from councilwatch.runs import run_lock
    from councilwatch.sources_registry import resolve

    rt = runtime(ctx)
    start, end = parse_date(since, "--since"), parse_date(until, "--until")
    job, only = resolve(rt.settings, source)
    if start is not None and job.earliest is not None and start < job.earliest:
        typer.echo(
            f"--since {start} is before the first {job.label} decisions ({job.earliest.year}): "
            f"backfilling from {job.earliest}"
        )
        start = job.earliest
    mode = "backfill" if start is not None else "incremental"
    # The same lock as the service's fetch job: never two fetches of one source at once.
    with run_lock(rt, job.lock, mode=mode, attempted=only):
        outcomes = job.run(rt, start, end, True, only)
    failed = [outcome for outcome in outcomes if not outcome.ok]
    for outcome in outcomes:
        if outcome.ok:
            typer.echo(f"{outcome.source}: ok, {outcome.counts.line()}")
    for outcome in failed:
        typer.echo(f"error: {outcome.source} run failed: {outcome.error}", err=True)
    if failed:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command("fetch")(fetch)
