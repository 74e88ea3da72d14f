"""`councilwatch alerts preview`: what an alert would have caught, before anyone subscribes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from councilwatch.commands.common import echo_json, runtime

if TYPE_CHECKING:
    from councilwatch.preview import Preview
    from councilwatch.runtime import Runtime
    from db.subscriptions import AlertFields

alerts_app = typer.Typer(
    help="Alerts before they are made.\n\nExample: councilwatch alerts preview 'school transport'",
    no_args_is_help=True,
)


def show_preview(rt: Runtime, fields: AlertFields, *, as_json: bool = False) -> Preview:
    """Print the alert's last 90 days (shared with `subscribe --preview`)."""
    from councilwatch.preview import preview, preview_lines
    from councilwatch.search import as_json as found_json

    found = preview(rt.migrated_engine(), rt.register, fields, today=rt.now().date())
    if as_json:
        echo_json(preview_json(found, [found_json(f) for f in found.newest]))
    else:
        for line in preview_lines(found):
            typer.echo(line)
    return found


def preview_json(found: Preview, newest: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "since": found.since,
        "until": found.until,
        "total": found.total,
        "total_exact": found.total_exact,
        "newest": newest,
        "unhealthy_sources": found.trouble_lines(),
        "hints": found.hints,
    }


@alerts_app.command("preview")
def preview_command(
    ctx: typer.Context,
    query: Annotated[
        str | None,
        typer.Argument(help='The alert query: words, "phrases", AND, OR, NOT, -word, prefix*.'),
    ] = None,
    council: Annotated[
        list[str] | None, typer.Option("--council", help="A council to follow (repeatable).")
    ] = None,
    county: Annotated[
        list[str] | None,
        typer.Option("--county", help="Every council in this county (repeatable)."),
    ] = None,
    outcome: Annotated[str | None, typer.Option(help="Only decisions with this outcome.")] = None,
    kind: Annotated[str | None, typer.Option(help="Only decision or news.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show what an alert would have caught in the last 90 days: how many, the newest five
    with the words found marked, the sources that failed meanwhile, and if it caught nothing,
    why that might be.

    Example: councilwatch alerts preview '"school transport" -taxi' --council Norfolk
    """
    from councilwatch.commands.subscriptions import alert_fields

    rt = runtime(ctx)
    fields = alert_fields(
        rt,
        councils=council or [],
        counties=county or [],
        keywords=query,
        outcome=outcome,
        kind=kind,
        frequency="daily",
        name=None,
    )
    show_preview(rt, fields, as_json=as_json)


def register(app: typer.Typer) -> None:
    app.add_typer(alerts_app, name="alerts")
