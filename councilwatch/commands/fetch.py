"""`councilwatch fetch`: one recorded run of a source, now, from the command line."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Annotated

import typer

from councilwatch.commands.common import parse_date, runtime
from cwerrors import CouncilwatchError

if TYPE_CHECKING:
    from councilwatch.runs import RunOutcome
    from councilwatch.runtime import Runtime


def fetch(
    ctx: typer.Context,
    source: Annotated[
        str,
        typer.Option(
            "--source", help="lgsco, news (every feed), or the name of one configured feed."
        ),
    ],
    since: Annotated[
        str | None,
        typer.Option(help="LGSCO backfill: decisions dated from YYYY-MM-DD (resumable)."),
    ] = None,
    until: Annotated[
        str | None, typer.Option(help="LGSCO backfill: up to YYYY-MM-DD (default today).")
    ] = None,
) -> None:
    """Fetch a source now and record the run; exit code 1 when a run failed.

    Without --since, LGSCO runs incrementally over its rolling window of decision dates;
    with --since it backfills month windows, newest first, and a killed backfill run again
    continues where it stopped.

    Example: councilwatch fetch --source lgsco --since 2014-01-01
    """
    from councilwatch.runs import run_lock

    rt = runtime(ctx)
    start, end = parse_date(since, "--since"), parse_date(until, "--until")
    # The same lock as the service's fetch job: never two fetches of one source at once.
    if source == "lgsco":
        from councilwatch.lgsco_run import fetch_lgsco
        from scraper.sources.lgsco.crawl import FIRST_DECISION_YEAR

        first = date(FIRST_DECISION_YEAR, 1, 1)
        if start is not None and start < first:
            typer.echo(
                f"--since {start} is before the first LGSCO decisions ({FIRST_DECISION_YEAR}): "
                f"backfilling from {first}"
            )
            start = first
        mode = "backfill" if start is not None else "incremental"
        with run_lock(rt, "fetch:lgsco", mode=mode):
            outcomes = [fetch_lgsco(rt, since=start, until=end, progress=True)]
    else:
        if start is not None or end is not None:
            raise CouncilwatchError("--since and --until are for --source lgsco only")
        _check_feed(rt, source)
        with run_lock(rt, "fetch:news", attempted=None if source == "news" else [source]):
            outcomes = _fetch_news(rt, source)
    failed = [outcome for outcome in outcomes if not outcome.ok]
    for outcome in outcomes:
        if outcome.ok:
            typer.echo(f"{outcome.source}: ok, {outcome.counts.line()}")
    for outcome in failed:
        typer.echo(f"error: {outcome.source} run failed: {outcome.error}", err=True)
    if failed:
        raise typer.Exit(1)


def _check_feed(rt: Runtime, source: str) -> None:
    feeds = [feed.name for feed in rt.settings.sources.news.feeds]
    if source != "news" and source not in feeds:
        known = ", ".join(["lgsco", "news", *feeds])
        raise CouncilwatchError(f"unknown source {source!r} (configured: {known})")


def _fetch_news(rt: Runtime, source: str) -> list[RunOutcome]:
    from councilwatch.news_run import fetch_news

    outcomes: list[RunOutcome] = fetch_news(rt, None if source == "news" else [source])
    return outcomes


def register(app: typer.Typer) -> None:
    app.command("fetch")(fetch)
