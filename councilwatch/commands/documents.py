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
    query: Annotated[
        str,
        typer.Argument(
            help='The alert language: words (stemmed), "exact phrases", AND, OR, NOT, -word, '
            "prefix*, (groups)."
        ),
    ],
    kind: Annotated[str | None, typer.Option(help="decision or news.")] = None,
    source: Annotated[
        str | None,
        typer.Option(help="Only this source: lgsco, a news feed's name or a publisher."),
    ] = None,
    since: Annotated[
        str | None, typer.Option(help="Documents dated on or after YYYY-MM-DD.")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="At most this many results.")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Search stored decisions and news as an alert with this query would, newest first.

    The same query as an alert finds the same documents (on SQLite and PostgreSQL alike),
    and a query an alert would refuse is refused with the same message.

    Example: councilwatch search '"education health and care plan" NOT transport' --kind decision
    """
    from alerts.validity import check_text
    from councilwatch.search import as_json as found_json
    from councilwatch.search import day_of
    from councilwatch.search import search as run_search
    from db.search_types import Scope

    _check_kind(kind)
    check_text("the search", query)  # NUL: PostgreSQL refuses the statement
    found = run_search(
        runtime(ctx).search_reader(),
        query,
        Scope(
            kinds=[kind] if kind else [],
            sources=[source] if source else [],
            since=parse_date(since, "--since"),
        ),
        limit=limit,
    )
    if as_json:
        echo_json([found_json(f) for f in found.found])
        return
    if not found.total:
        typer.echo("no documents match")
        return
    shown = len(found.found)
    count = f"{found.total}" if found.total_exact else f"at least {found.total}"
    typer.echo(
        f"{count} document{'s' if found.total != 1 else ''} match"
        + (f"; the newest {shown} shown" if shown < found.total else "")
    )
    for hit in found.found:
        doc = hit.document
        label = doc.reference or hit.source_label
        typer.echo(f"{day_of(doc) or '':10}  {doc.kind:8}  {label}  {doc.title}")
        typer.echo(f"            {' '.join(hit.highlighted().split())}")
        typer.echo(f"            {doc.url}")


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
        row["links"] = json.dumps(row["links"], ensure_ascii=False)
        writer.writerow(row)


def _check_kind(kind: str | None) -> None:
    if kind is not None and kind not in KINDS:
        raise typer.BadParameter(
            f"expected one of {', '.join(KINDS)}, got {kind!r}", param_hint="--kind"
        )


def register(app: typer.Typer) -> None:
    app.command("search")(search)
    app.command("export")(export)
