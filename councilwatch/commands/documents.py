"""`councilwatch search` and `councilwatch export`: getting stored documents out."""

from __future__ import annotations

import csv
import json
import sys
from typing import Annotated

import typer

from councilwatch.commands.common import echo_json, parse_date, runtime

KINDS = ("decision", "news")


def search(
    ctx: typer.Context,
    query: Annotated[str, typer.Argument(help='Words, "exact phrases", OR, -excluded.')],
    kind: Annotated[str | None, typer.Option(help="decision or news.")] = None,
    source: Annotated[str | None, typer.Option(help="Only this source (e.g. lgsco).")] = None,
    since: Annotated[
        str | None, typer.Option(help="Documents dated on or after YYYY-MM-DD.")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="At most this many results.")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Full-text search of stored decisions and news, best matches first.

    Example: councilwatch search '"education health and care plan" -transport' --kind decision
    """
    from alerts.query import check_limits
    from alerts.validity import check_text
    from db.search import search_documents

    _check_kind(kind)
    check_text("the search", query)  # NUL: PostgreSQL refuses the statement
    check_limits(query)  # the query language's limits: FTS5's parser overflows past them
    hits = search_documents(
        runtime(ctx).migrated_engine(),
        query,
        kind=kind,
        source=source,
        since=parse_date(since, "--since"),
        limit=limit,
    )
    if as_json:
        echo_json([hit.__dict__ for hit in hits])
        return
    if not hits:
        typer.echo("no documents match")
    for hit in hits:
        label = hit.reference or hit.source
        day = hit.date.isoformat() if hit.date else ""
        typer.echo(f"{day:10}  {hit.kind:8}  {label}  {hit.title}")
        typer.echo(f"            {hit.snippet}")
        typer.echo(f"            {hit.url}")


def export(
    ctx: typer.Context,
    kind: Annotated[str | None, typer.Option(help="decision or news.")] = None,
    since: Annotated[
        str | None, typer.Option(help="Documents first seen on or after YYYY-MM-DD.")
    ] = None,
    fmt: Annotated[str, typer.Option("--format", help="jsonl or csv.")] = "jsonl",
) -> None:
    """Write every stored field of every document to standard output, one per line.

    Example: councilwatch export --kind decision --since 2026-01-01 > decisions.jsonl
    """
    from db.export import EXPORT_COLUMNS, iter_documents

    _check_kind(kind)
    if fmt not in ("jsonl", "csv"):
        raise typer.BadParameter(f"expected jsonl or csv, got {fmt!r}", param_hint="--format")
    rows = iter_documents(
        runtime(ctx).migrated_engine(), kind=kind, since=parse_date(since, "--since")
    )
    out = sys.stdout
    if fmt == "jsonl":
        for row in rows:
            out.write(json.dumps(row, default=str, ensure_ascii=False) + "\n")
        return
    writer = csv.DictWriter(out, fieldnames=list(EXPORT_COLUMNS))
    writer.writeheader()
    for row in rows:
        row["extra"] = json.dumps(row["extra"], ensure_ascii=False)
        writer.writerow(row)


def _check_kind(kind: str | None) -> None:
    if kind is not None and kind not in KINDS:
        raise typer.BadParameter(
            f"expected one of {', '.join(KINDS)}, got {kind!r}", param_hint="--kind"
        )


def register(app: typer.Typer) -> None:
    app.command("search")(search)
    app.command("export")(export)
