"""`councilwatch feeds ...`: find a publisher's feeds from its homepage."""

from __future__ import annotations

from typing import Annotated

import typer

from councilwatch.commands.common import echo_json, runtime
from cwerrors import CouncilwatchError

feeds_app = typer.Typer(
    help="News feeds: discover a publisher's feeds from its homepage.", no_args_is_help=True
)


@feeds_app.command("discover")
def discover(
    ctx: typer.Context,
    url: Annotated[str, typer.Argument(help="The publisher's homepage, e.g. www.example.co.uk.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Find the RSS/Atom feeds or news sitemaps of a site, and say how each was found.

    Tries the homepage's <link rel="alternate"> feeds, then the paths local publishers' platforms
    use, then news sitemaps named by robots.txt; a candidate counts only when it parses as a
    feed with items. Nothing is stored. Exits 1 when no feed is found.

    Example: councilwatch feeds discover https://www.example-gazette.co.uk/
    """
    from councilwatch.fetching import client_options
    from scraper.fetch import PoliteClient
    from scraper.news.discover import discover_feeds, site_root

    rt = runtime(ctx)
    try:
        site_root(url)
    except ValueError as error:
        raise CouncilwatchError(str(error)) from None
    # Per-URL state stays in memory: discovering a site must not create or change the database.
    with PoliteClient(client_options(rt.settings.http), clock=rt.fetch_clock) as client:
        found = discover_feeds(url, lambda u: client.get(u, conditional=False))
    if as_json:
        echo_json(
            {
                "homepage": found.homepage,
                "site_name": found.site_name,
                "feeds": [c.url for c in found.feeds],
                "tried": [
                    {"url": c.url, "found_by": c.found_by, "ok": c.ok, "reason": c.reason,
                     "kind": c.kind, "title": c.title}
                    for c in found.tried
                ],
            }
        )
    else:
        name = f" ({found.site_name})" if found.site_name else ""
        typer.echo(f"{found.homepage}{name}")
        for c in found.tried:
            mark = "found" if c.ok else "no   "
            typer.echo(f"  {mark} {c.url}  [{c.found_by}] {c.reason}")
    if not found.feeds:
        raise CouncilwatchError(
            f"no feed found at {found.homepage} ({len(found.tried)} addresses tried)"
        )


def register(app: typer.Typer) -> None:
    app.add_typer(feeds_app, name="feeds")
