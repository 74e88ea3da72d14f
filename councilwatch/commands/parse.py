"""`councilwatch parse ...`: what a parser extracts from a saved page, the tool to run when a
page breaks. ``parse_app`` is a sub-app other source modules add their own page kinds to."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from councilwatch.commands.common import echo_json, runtime
from cwerrors import CouncilwatchError

if TYPE_CHECKING:
    from scraper.sources.lgsco import Decision, Listing

parse_app = typer.Typer(
    help="Show what a parser extracts from a saved page.",
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)

# Browsers stamp saved pages with where they came from: the best default for --url.
_SAVED_FROM = re.compile(rb"<!--\s*saved from url=\(\d+\)(\S+?)\s*-->")


def page_url(content: bytes, path: Path, url: str | None, site: str | None = None) -> str:
    """--url, else the page's "saved from url" comment, else the source's site (so links
    resolve to where they point, not to file:///decisions/...), else the file's own URI."""
    if url:
        return url
    found = _SAVED_FROM.search(content[:4096])
    if found:
        return found.group(1).decode("ascii", "replace")
    if site:
        return site.rstrip("/") + "/"
    return path.resolve().as_uri()


@parse_app.command("lgsco")
def parse_lgsco(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="A saved LGSCO decision or listing page.")],
    url: Annotated[
        str | None,
        typer.Option(
            help="The page's URL (default: its 'saved from' comment, else sources.lgsco.base_url)."
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Parse a saved LGSCO page, telling a decision from a search listing by its content
    (or, for a page too broken to tell, by its URL: how a quarantined page is reproduced).

    Example: councilwatch parse lgsco var/quarantine/lgsco/PAGE.html --url URL
    """
    from councilwatch.source_run import local_today
    from scraper.sources.lgsco import (
        detect_page_kind,
        kind_from_url,
        parse_decision,
        parse_listing,
    )

    try:
        content = file.read_bytes()
    except OSError as exc:
        raise CouncilwatchError(f"{file}: cannot read ({exc.strerror})") from None
    rt = runtime(ctx)
    page = page_url(content, file, url, rt.settings.sources.lgsco.base_url)
    today = local_today(rt)
    kind = detect_page_kind(content)
    if kind == "unknown":
        kind = kind_from_url(page)
    if kind == "decision":
        decision = parse_decision(content, page, today=today)
        if as_json:
            echo_json(decision.to_json())
        else:
            _print_decision(decision)
    elif kind == "listing":
        listing = parse_listing(content, page, today=today)
        if as_json:
            echo_json([entry.to_json() for entry in listing.entries])
        else:
            _print_listing(listing)
    else:
        raise CouncilwatchError(f"{file}: neither an LGSCO decision nor a search listing page")


@parse_app.command("article")
def parse_article(
    file: Annotated[Path, typer.Argument(help="A saved news article page.")],
    url: Annotated[
        str | None, typer.Option(help="The page's URL (default: its 'saved from' comment).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Extract a saved news article: title, author, dates, canonical URL, site, text, LDRS.

    Example: councilwatch parse article saved-story.html --json
    """
    from scraper.news import extract_article

    try:
        content = file.read_bytes()
    except OSError as exc:
        raise CouncilwatchError(f"{file}: cannot read ({exc.strerror})") from None
    article = extract_article(content, page_url(content, file, url))
    if not (article.title or article.text):
        raise CouncilwatchError(f"{file}: not an article page (no title and no text found)")
    if as_json:
        echo_json(article.to_json())
        return
    rows = [
        ("title", article.title or "-"),
        ("author", article.author or "-"),
        ("published", article.published.isoformat() if article.published else "-"),
        ("modified", article.modified.isoformat() if article.modified else "-"),
        ("canonical_url", article.canonical_url),
        ("site_name", article.site_name or "-"),
        ("ldrs", "yes" if article.ldrs else "no"),
        ("partial", "yes (consent wall or paywall)" if article.partial else "no"),
    ]
    for name, value in rows:
        typer.echo(f"{name + ':':15}{value}")
    typer.echo("")
    typer.echo(article.text or "(no text)")


def _print_decision(decision: Decision) -> None:
    rows = [
        ("reference", ", ".join(decision.references)),
        ("organisation", decision.organisation),
        ("category", f"{decision.category or '-'} > {decision.subcategory or '-'}"),
        ("outcome", f"{decision.outcome.value} ({decision.outcome_text})"),
        ("decision date", decision.decision_date.isoformat()),
        ("type", decision.document_type or "-"),
        ("satisfied", _iso(decision.satisfied_date)),
        ("url", decision.url),
        ("pdf", decision.pdf_url or "-"),
        ("summary", decision.summary),
    ]
    remedies = decision.remedies
    found = [
        name
        for name, present in (
            ("apology", remedies.apology),
            ("service improvements", remedies.service_improvements),
            ("reconsideration", remedies.reconsideration),
        )
        if present
    ]
    found += [
        f"£{p.amount_pence / 100:,.2f}" + (f" to {p.recipient}" if p.recipient else "")
        for p in remedies.payments
    ]
    rows.append(("remedies", ", ".join(found) or "none found"))
    rows.append(("sections", " | ".join(s.heading or "(untitled)" for s in decision.sections)))
    for name, value in rows:
        typer.echo(f"{name + ':':15}{value}")


def _print_listing(listing: Listing) -> None:
    shell = " (page shell: no results area)" if listing.is_shell else ""
    typer.echo(f"listing page {listing.page or '?'}, {listing.total} results in all{shell}")
    for problem in listing.problems:
        typer.echo(f"missing hint: {problem}")
    for entry in listing.entries:
        typer.echo(
            f"{_iso(entry.decision_date):10}  {entry.reference:12} {entry.outcome.value:32}"
            f"{entry.organisation}"
        )
        typer.echo(f"{'':12}{entry.subcategory or '-'}: {entry.summary}")
        typer.echo(f"{'':12}{entry.url}")


def _iso(value: date | None) -> str:
    return value.isoformat() if value else "-"


def _register_sources() -> None:
    """``parse <source>`` for every registered source without a command of its own above:
    the source's parser, printed as JSON."""
    from scraper.sources import registry

    taken = {command.name for command in parse_app.registered_commands}
    for info in registry.infos():
        if info.name in taken:
            continue

        def parse_saved(
            ctx: typer.Context,
            file: Annotated[Path, typer.Argument(help="A saved page of this source.")],
            url: Annotated[
                str | None, typer.Option(help="The page's URL (default: its 'saved from' comment).")
            ] = None,
            name: str = typer.Option(info.name, hidden=True),
        ) -> None:
            from councilwatch.source_run import local_today

            try:
                content = file.read_bytes()
            except OSError as exc:
                raise CouncilwatchError(f"{file}: cannot read ({exc.strerror})") from None
            source = registry.load(name)
            today = local_today(runtime(ctx))
            echo_json(source.parse(content, page_url(content, file, url), today=today))

        parse_saved.__doc__ = (
            f"Parse a saved {info.label} page (told apart by content) and print it as JSON.\n\n"
            f"Example: councilwatch parse {info.name} saved-page.html"
        )
        parse_app.command(info.name)(parse_saved)


_register_sources()


def register(app: typer.Typer) -> None:
    app.add_typer(parse_app, name="parse")
