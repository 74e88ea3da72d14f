"""`councilwatch councils ...`: find, list and show councils; import register updates.

Every command reads the effective register (built-in merged with the imported file); only
`update` writes, and it writes a file, never the database.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from councilwatch.commands.common import echo_json, runtime
from cwerrors import CouncilwatchError

if TYPE_CHECKING:
    from alerts.councils import Council, Mention, MergeReport, Register
    from councilwatch.runtime import Runtime
    from db.council_record import CouncilRecord

councils_app = typer.Typer(
    help="The council register: recognise, list, show and update councils.",
    no_args_is_help=True,
)

NATIONS = ("England", "Wales", "Scotland", "Northern Ireland")


def read_text_source(text: str | None, file: Path | None) -> str:
    """Exactly one of a TEXT argument or ``--file PATH`` (``-`` is standard input)."""
    if (text is None) == (file is None):
        raise CouncilwatchError("give either TEXT or --file PATH, not both and not neither")
    if text is not None:
        return text
    assert file is not None
    if str(file) == "-":
        return sys.stdin.read()
    try:
        return file.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise CouncilwatchError(f"cannot read {file}: {exc.strerror or exc}") from None


def _named(register: Register, ids: Iterable[str]) -> list[dict[str, str]]:
    """Ids with their names; an id the register lacks keeps the id as its name."""
    return [{"id": i, "name": register.get(i).name if i in register else i} for i in ids]


def mention_row(mention: Mention, register: Register) -> dict[str, Any]:
    council = register.get(mention.council_id)
    return {
        "id": council.id,
        "name": council.name,
        "gss": council.gss,
        "matched_text": mention.matched_text,
        "start": mention.start,
        "end": mention.end,
        "confidence": mention.confidence,
        "place_only": mention.place_only,
        "current": council.current,
        "end_date": council.end.isoformat() if council.end else None,
        "successors": _named(register, council.successors),
    }


def _status(council: Council, register: Register) -> str:
    if council.current:
        return "current"
    now = ", ".join(row["name"] for row in _named(register, council.successors))
    return f"abolished {council.end}" + (f"; now {now}" if now else "")


@councils_app.command("find")
def find(
    ctx: typer.Context,
    text: Annotated[str | None, typer.Argument(help="The text to read.")] = None,
    file: Annotated[
        Path | None, typer.Option("--file", "-f", help="Read the text from a file ('-': stdin).")
    ] = None,
    places: Annotated[
        bool,
        typer.Option("--places", help="Also report bare place names (low confidence)."),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Print the councils named in a text, with where and how surely each was found.

    Example: councilwatch councils find "a complaint about CUMBRIA county council"
    """
    from alerts.councils import find_councils

    body = read_text_source(text, file)
    register = runtime(ctx).register
    rows = [mention_row(m, register) for m in find_councils(body, register, include_places=places)]
    if as_json:
        echo_json(rows)
        return
    if not rows:
        typer.echo("no councils found")
    for row in rows:
        council = register.get(row["id"])
        typer.echo(
            f"{row['start']:>6}-{row['end']:<6} {row['matched_text']!r} -> {council.name}"
            f" ({council.gss or 'no GSS'}, {_status(council, register)},"
            f" confidence {row['confidence']:.2f})"
        )


@councils_app.command("list")
def list_councils(
    ctx: typer.Context,
    nation: Annotated[
        str | None, typer.Option(help="England, Wales, Scotland or 'Northern Ireland'.")
    ] = None,
    current: Annotated[bool, typer.Option("--current", help="Only current councils.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List the councils in the register, sorted by name.

    Example: councilwatch councils list --nation England --current
    """
    if nation is not None and nation.casefold() not in {n.casefold() for n in NATIONS}:
        raise CouncilwatchError(f"--nation must be one of {', '.join(NATIONS)}, not {nation!r}")
    register = runtime(ctx).register
    found = sorted(
        register.councils(nation=nation, current=True if current else None),
        key=lambda c: (c.name.casefold(), c.id),
    )
    if as_json:
        echo_json([c.to_dict() for c in found])
        return
    if not found:
        typer.echo("no councils match")
    for c in found:
        ended = f"  ended {c.end}" if c.end else ""
        typer.echo(f"{c.gss or '-':9}  {c.id:32}  {c.name}  [{c.type}, {c.nation}]{ended}")


def council_detail(council: Council, register: Register) -> dict[str, Any]:
    """Everything `show` prints: the council, its names, and its place among the others."""
    detail = council.to_dict()
    detail["current"] = council.current
    detail["county"] = _named(register, (council.county,))[0] if council.county else None
    detail["successors"] = _named(register, council.successors)
    detail["predecessors"] = _named(register, sorted(register.predecessors(council.id)))
    detail["follows"] = _named(register, sorted(register.successors_closure(council.id)))
    detail["districts"] = _named(register, sorted(register.in_county(council.id)))
    return detail


@councils_app.command("show")
def show(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="A name, common name, alias, id or GSS code.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    record: Annotated[
        bool,
        typer.Option(
            "--record",
            help="Also its ombudsman record from the store (as on its web page).",
        ),
    ] = False,
) -> None:
    """Show one council: names, type, county, dates, successors, predecessors, districts.

    Example: councilwatch councils show "Cumbria County Council"

    Example: councilwatch councils show Norfolk --record
    """
    rt = runtime(ctx)
    register = rt.register
    council = register.lookup(name)
    detail = council_detail(council, register)
    found = None
    if record:
        from db.council_record import council_record

        found = council_record(rt.migrated_engine(), [council.id], today=rt.now().date())
        detail["record"] = record_json(found)
    if as_json:
        echo_json(detail)
        return

    def names(rows: list[dict[str, str]]) -> str:
        return ", ".join(row["name"] for row in rows) or "-"

    lines = [
        f"{council.name}  ({council.id})",
        f"  common name:  {council.common_name}",
        f"  aliases:      {', '.join(council.aliases) or '-'}",
        f"  GSS code:     {council.gss or '-'}",
        f"  type:         {council.type}, {council.nation}",
        f"  county:       {detail['county']['name'] if detail['county'] else '-'}",
        f"  started:      {council.start or '-'}",
        f"  ended:        {council.end or '- (current)'}",
        f"  successors:   {names(detail['successors'])}",
        f"  predecessors: {names(detail['predecessors'])}",
    ]
    if detail["follows"] and detail["follows"] != detail["successors"]:
        lines.append(f"  alerts follow: {names(detail['follows'])}")
    if detail["districts"]:
        lines.append(f"  districts:    {names(detail['districts'])}")
    if found is not None:
        lines += record_lines(found)
    typer.echo("\n".join(lines))


def record_json(found: CouncilRecord) -> dict[str, Any]:
    return {
        "decisions": found.decisions,
        "outcomes": found.outcomes,
        "investigated": found.investigated,
        "upheld_rate": found.upheld_rate,
        "remedied": found.remedied,
        "payments": found.payments,
        "total_pounds": found.total_pence / 100,
        "categories": [{"category": c, "decisions": n} for c, n in found.categories],
        "quarters": [{"quarter": q.label, **q.outcomes} for q in found.quarters],
        "latest_decisions": [
            {"reference": d.reference, "decided_on": d.decided_on, "outcome": d.outcome}
            for d in found.latest_decisions
        ],
        "latest_news": [
            {"title": d.title, "published_at": d.published_at, "url": d.url}
            for d in found.latest_news
        ],
    }


def record_lines(found: CouncilRecord) -> list[str]:
    """The figures of the council's web page, as text."""
    rate = f"{found.upheld_rate:.0%}" if found.upheld_rate is not None else "-"
    lines = [
        "ombudsman record (from the store):",
        f"  decisions:    {found.decisions}"
        + (
            " (" + ", ".join(f"{n} {o}" for o, n in sorted(found.outcomes.items())) + ")"
            if found.outcomes
            else ""
        ),
        f"  upheld rate:  {rate} of {found.investigated} investigated",
        f"  remedies:     {found.remedied} decisions; payments in {found.payments}, "
        f"£{found.total_pence / 100:,.2f} in all",
        "  top subjects: " + (", ".join(f"{c} ({n})" for c, n in found.categories) or "-"),
        "  per quarter:  "
        + "  ".join(
            f"{q.label} {q.total}" + (f" ({q.outcomes.get('upheld', 0)} upheld)" if q.total else "")
            for q in found.quarters
        ),
    ]
    lines += [
        f"  decision:     {d.decided_on}  {d.reference}  {d.outcome or ''}".rstrip()
        for d in found.latest_decisions
    ]
    lines += [
        f"  news:         {d.published_at:%Y-%m-%d}  {d.title}"
        if d.published_at
        else f"  news:         {d.title}"
        for d in found.latest_news
    ]
    return lines


def _is_url(value: str) -> bool:
    return value.startswith(("http://", "https://"))


def read_update_source(rt: Runtime, source: str) -> bytes:
    """The register CSV: fetched through the polite client for a URL, read for a path."""
    if _is_url(source):
        # Not conditional: a 304 would give no body, and the import must read the whole file.
        with rt.client() as client:
            return client.get(source, conditional=False).content
    try:
        return Path(source).read_bytes()
    except OSError as exc:
        raise CouncilwatchError(f"cannot read {source}: {exc.strerror or exc}") from None


def report_lines(report: MergeReport, register: Register, saved_to: Path) -> list[str]:
    lines = [
        f"{len(report.added)} added, {len(report.updated)} updated, "
        f"{len(report.unchanged)} unchanged; register saved to {saved_to}"
    ]
    lines += [f"  added: {register.get(i).name} ({i})" for i in report.added]
    return lines


@councils_app.command("update")
def update(
    ctx: typer.Context,
    source: Annotated[
        str | None,
        typer.Option(
            "--from",
            help="URL or local path of mySociety's register CSV (default: councils.update_url).",
        ),
    ] = None,
) -> None:
    """Import mySociety's UK local authority register and merge it into ours.

    The merged register is written to councils.register_file (atomically); every command and
    the service read it from then on. Input that is not that CSV leaves the file untouched.

    Example: councilwatch councils update --from uk_local_authorities.csv
    """
    from councilwatch.councils import import_update, save_register

    rt = runtime(ctx)
    origin = source or rt.settings.councils.update_url
    data = read_update_source(rt, origin)
    register, report = import_update(rt.register, data, origin=origin)
    path = rt.settings.councils.register_file
    save_register(register, path)
    typer.echo("\n".join(report_lines(report, register, path)))


def register(app: typer.Typer) -> None:
    app.add_typer(councils_app, name="councils")
