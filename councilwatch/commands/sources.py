"""`councilwatch sources`: the configured sources, their last run and health; `sources check`
asks a live site for a page of each kind and shows what the parser reads from it."""

from __future__ import annotations

from typing import Annotated

import typer

from councilwatch.commands.common import echo_json, runtime, when
from cwerrors import CouncilwatchError

sources_app = typer.Typer(
    help="Configured sources, their last run and health.",
    invoke_without_command=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)


@sources_app.callback()
def sources(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List configured sources with their last run and health.

    Example: councilwatch sources --json
    """
    if ctx.invoked_subcommand is not None:
        return
    from councilwatch.health import statuses

    found = statuses(runtime(ctx), include_disabled=True)
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
        for status in found
    ]
    if as_json:
        echo_json(rows)
        return
    if not rows:
        typer.echo("no sources configured")
    for status in found:
        state = health_line(
            healthy=status.healthy,
            reason=status.reason,
            failures=status.consecutive_failures,
            ran=status.last_run_at is not None,
            last_ok=status.last_ok,
            last_error=status.last_error,
        )
        enabled = "" if status.enabled else " (disabled)"
        typer.echo(f"{status.name:24} {status.kind:12} {state}{enabled}")
        typer.echo(f"{'':24} {status.url}  last success: {when(status.last_success_at)}")


@sources_app.command("check")
def check(
    ctx: typer.Context,
    source: Annotated[str, typer.Argument(help="The source to check (lgsco).")],
) -> None:
    """Fetch one listing page and one decision page from the configured site and print what
    was parsed, field by field, with the requests made and their timings. Exits non-zero
    when anything a digest needs is missing. Nothing is stored.

    Example: councilwatch sources check lgsco
    """
    import time

    from councilwatch.fetching import client_options
    from councilwatch.source_run import local_today
    from scraper.fetch import PoliteClient
    from scraper.sources.lgsco.check import check_site, decision_fields

    if source != "lgsco":
        raise CouncilwatchError(f"no check for source {source!r} (checks: lgsco)")
    rt = runtime(ctx)
    config = rt.settings.sources.lgsco
    started = time.perf_counter()
    with PoliteClient(client_options(rt.settings.http), clock=rt.fetch_clock) as client:
        report = check_site(
            client, base_url=config.base_url, today=local_today(rt), window_days=config.window_days
        )
        requests = sum(host.requests for host in client.stats.values())
    typer.echo(f"lgsco: checking {config.base_url}")
    for step in report.steps:
        state = "FAILED" if step.error else "ok"
        typer.echo(f"{step.what:9}{state:7}{step.seconds * 1000:8.0f} ms  {step.url}")
    listing = report.listing
    if listing is not None:
        typer.echo(
            f"listing: {listing.total} results in all, page {listing.page or '?'}, "
            f"{len(listing.entries)} results with a link and a reference"
        )
        for problem in listing.problems:
            typer.echo(f"  missing hint: {problem}")
        if listing.entries:
            entry = listing.entries[0]
            typer.echo("first result:")
            for name, value in (
                ("reference", entry.reference),
                ("organisation", entry.organisation),
                ("url", entry.url),
                ("type", entry.document_type or "-"),
                ("outcome", entry.outcome_text or "-"),
                ("subcategory", entry.subcategory or "-"),
                ("decision date", entry.decision_date.isoformat() if entry.decision_date else "-"),
                ("summary", entry.summary or "-"),
            ):
                typer.echo(f"  {name + ':':15}{value}")
    if report.decision is not None:
        typer.echo("decision page:")
        for name, value, needed in decision_fields(report.decision):
            flag = "  MISSING" if needed and not value else ""
            typer.echo(f"  {name + ':':15}{value or '-'}{flag}")
    typer.echo(f"requests: {requests} (robots.txt included), {time.perf_counter() - started:.2f} s")
    if not report.ok:
        raise CouncilwatchError(f"lgsco check failed: {'; '.join(report.missing)}")
    typer.echo("ok: every field a digest needs was found")


def health_line(
    *,
    healthy: bool,
    reason: str | None,
    failures: int,
    ran: bool,
    last_ok: bool | None,
    last_error: str | None,
) -> str:
    """Health, then the last result: "healthy, last run failed: cannot connect to ..."."""
    if healthy:
        state = "healthy"
    elif str(reason).startswith(f"{failures} failed runs"):
        state = f"UNHEALTHY ({failures} failed runs)"
    else:
        state = f"UNHEALTHY ({reason})"
    if not ran:
        return state + ", never run"
    if last_ok is None:
        return state + ", running now"
    if last_ok:
        return state + ", last run ok"
    error = last_error or "no reason recorded"
    for prefix in ("skipped: ", "interrupted: "):
        if error.startswith(prefix):
            return state + f", last run {prefix.rstrip(': ')}: {error.removeprefix(prefix)}"
    return state + f", last run failed: {error}"


def register(app: typer.Typer) -> None:
    app.add_typer(sources_app, name="sources")
