"""`councilwatch match`: try an alert on a text before subscribing to it."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from councilwatch.commands.common import echo_json, runtime
from councilwatch.commands.councils import read_text_source
from cwerrors import CouncilwatchError

if TYPE_CHECKING:
    from alerts.councils import Register
    from alerts.documents import AlertSpec, MatchDocument

KINDS = ("decision", "news")
ALERT_ID = "cli"


def build_alert(
    register: Register, query: str | None, councils: list[str], kind: str | None
) -> AlertSpec:
    """The alert as the pipeline would file it: named councils resolved, then expanded to
    their successors (not county-wide), the query parsed as the subscription form does."""
    from alerts.documents import AlertSpec
    from alerts.validity import valid_alert_query

    if not query and not councils:
        raise CouncilwatchError("give --query, --council or both: an alert needs one of them")
    ids = [register.lookup(name).id for name in councils]
    return AlertSpec(
        id=ALERT_ID,
        councils=register.expand(ids, county_wide=False) if ids else frozenset(),
        query=valid_alert_query(query, councils=ids),
        kinds=frozenset({kind}) if kind else frozenset(),
    )


def why_not(alert: AlertSpec, doc: MatchDocument) -> list[str]:
    """Each of the alert's conditions the document fails, in words."""
    from alerts.matcher import document_tokens

    reasons = []
    if alert.kinds and doc.kind not in alert.kinds:
        reasons.append(
            f"kind: the alert wants {', '.join(sorted(alert.kinds))}; the text is {doc.kind}"
            " (see --text-kind)"
        )
    if alert.councils and alert.councils.isdisjoint(doc.councils):
        reasons.append("councils: the text names none of the alert's councils")
    if alert.query is not None and not alert.query.matches(document_tokens(doc)):
        reasons.append(f"query: {alert.query} does not match the text")
    return reasons


def _check_kind(value: str | None, option: str) -> None:
    if value is not None and value not in KINDS:
        raise CouncilwatchError(f"{option} must be one of {', '.join(KINDS)}, not {value!r}")


def match(
    ctx: typer.Context,
    file: Annotated[
        Path, typer.Option("--file", "-f", help="The text to try the alert on ('-': stdin).")
    ],
    query: Annotated[
        str | None, typer.Option("--query", "-q", help='Words, "phrases", AND/OR/NOT, prefix*.')
    ] = None,
    council: Annotated[
        list[str] | None,
        typer.Option("--council", help="A council the alert follows (repeat for several)."),
    ] = None,
    kind: Annotated[
        str | None, typer.Option("--kind", help="The alert only wants decision or news.")
    ] = None,
    text_kind: Annotated[
        str, typer.Option("--text-kind", help="What the text is: decision or news.")
    ] = "news",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Try an alert on a text: print MATCH with the explanation, or NO MATCH with the reasons.

    The councils named in the text are recognised as they are for fetched documents; an alert
    on a council also follows its successors. Exit status is 0 either way (MATCH / NO MATCH
    is printed, and "matched" in --json); 1 means an error such as an invalid query or an
    unknown council.

    Example: councilwatch match --file story.txt --query 'school transport*' --council Norfolk
    """
    from alerts.councils import find_councils
    from alerts.documents import MatchDocument
    from alerts.matcher import Matcher

    _check_kind(kind, "--kind")
    _check_kind(text_kind, "--text-kind")
    register = runtime(ctx).register
    alert = build_alert(register, query, council or [], kind)
    text = read_text_source(None, file)
    mentions = find_councils(text, register)
    doc = MatchDocument(
        id=str(file),
        kind=text_kind,
        source="file",
        title="",
        text=text,
        councils=frozenset(m.council_id for m in mentions),
    )
    found = Matcher([alert]).match([doc])
    result: dict[str, Any] = {
        "matched": bool(found),
        "alert": {
            "query": str(alert.query) if alert.query is not None else None,
            "councils": [{"id": i, "name": register.get(i).name} for i in sorted(alert.councils)],
            "kinds": sorted(alert.kinds),
        },
        "text_councils": [
            {"id": i, "name": register.get(i).name}
            for i in dict.fromkeys(m.council_id for m in mentions)
        ],
    }
    if found:
        hit = found[0]
        result["match"] = {
            "councils": list(hit.councils),
            "terms": list(hit.terms),
            "snippet": hit.snippet,
            "highlighted": hit.highlighted(),
            "explanation": hit.explain(),
        }
    else:
        result["reasons"] = why_not(alert, doc)
    if as_json:
        echo_json(result)
        return
    names = ", ".join(row["name"] for row in result["text_councils"]) or "none"
    if found:
        typer.echo("MATCH")
        typer.echo(found[0].explain())
    else:
        typer.echo("NO MATCH")
        for reason in result["reasons"]:
            typer.echo(reason)
    if alert.councils:
        # Say so when the alert follows more than was named: successors of an abolished council.
        typer.echo("alert follows: " + ", ".join(r["name"] for r in result["alert"]["councils"]))
    typer.echo(f"councils named in the text: {names}")


def register(app: typer.Typer) -> None:
    app.command("match")(match)
