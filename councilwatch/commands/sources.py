"""`councilwatch sources`: the configured sources, their last run and health; `sources check`
asks a live site for a page of each kind and shows what the parser reads from it."""

from __future__ import annotations

from typing import Annotated

import typer

from councilwatch.commands.common import echo_json, runtime, when
from cwerrors import CouncilwatchError
from scraper.sources import registry

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
    source: Annotated[
        str, typer.Argument(help=f"The source to check ({', '.join(registry.names())}).")
    ],
    catalogue: Annotated[
        bool, typer.Option("--catalogue", help="news: check the publisher catalogue too.")
    ] = False,
    council: Annotated[
        str | None,
        typer.Option("--council", help="news: check only the catalogue papers covering it."),
    ] = None,
) -> None:
    """Fetch a page of each kind from the configured site (news: every configured feed) and
    print what was parsed, field by field, with the requests made and their timings. Exits
    non-zero when anything a digest needs is missing, or a configured feed fails. Nothing is
    stored.

    Example: councilwatch sources check housing-ombudsman
    Example: councilwatch sources check news --catalogue --council "Norfolk County Council"
    """
    import time

    from councilwatch.fetching import client_options
    from councilwatch.sources_registry import CheckOptions, checks
    from scraper.fetch import PoliteClient

    known = checks()
    checker = known.get(source)
    if checker is None:
        raise CouncilwatchError(f"no check for source {source!r} (checks: {', '.join(known)})")
    rt = runtime(ctx)
    options = CheckOptions(catalogue=catalogue, council=council)
    started = time.perf_counter()
    with PoliteClient(client_options(rt.settings.http), clock=rt.fetch_clock) as client:
        report = checker(rt, client, options)
        requests = sum(host.requests for host in client.stats.values())
    typer.echo(f"{source}: checking {report.base_url}")
    width = max([9, *(len(step.what) + 1 for step in report.steps)])
    for step in report.steps:
        state = "FAILED" if step.error else "ok"
        typer.echo(f"{step.what:{width}}{state:7}{step.seconds * 1000:8.0f} ms  {step.url}")
        if step.error:
            typer.echo(f"{'':{width}}  {step.error}")
    for section in report.sections:
        typer.echo(section.heading)
        for hint in section.hints:
            typer.echo(f"  missing hint: {hint}")
        for found in section.fields:
            flag = "  MISSING" if found.needed and not found.value else ""
            typer.echo(f"  {found.name + ':':15}{found.value or '-'}{flag}")
    typer.echo(f"requests: {requests} (robots.txt included), {time.perf_counter() - started:.2f} s")
    if not report.ok:
        raise CouncilwatchError(f"{source} check failed: {'; '.join(report.missing)}")
    typer.echo(f"ok: {report.passed}")


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
