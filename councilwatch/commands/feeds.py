"""`councilwatch feeds ...`: find a publisher's feeds from its homepage."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Annotated, Any

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


@feeds_app.command("list")
def list_feeds(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Every feed read: publisher, area, health, and the councils it named most in 30 days.

    Followed feeds (``follow_subscribed_councils``) are listed with the configured ones.

    Example: councilwatch feeds list --json
    """
    from datetime import timedelta

    from councilwatch.news_catalogue import followed_feeds
    from db.feed_stats import councils_by_feed
    from db.runs import source_health

    rt = runtime(ctx)
    settings = rt.settings
    engine = rt.migrated_engine()
    register = rt.register
    configured = list(settings.sources.news.feeds)
    followed = followed_feeds(settings, engine, register)
    named = councils_by_feed(engine, since=rt.now() - timedelta(days=30))
    limit = settings.http.unhealthy_after_failed_runs
    rows: list[dict[str, Any]] = []
    every = [(f, "config") for f in configured] + [(f, "followed") for f in followed]
    for feed, origin in every:
        health = source_health(engine, feed.name, unhealthy_after=limit)
        top = named.get(feed.name, Counter()).most_common(3)
        rows.append(
            {
                "name": feed.name,
                "kind": feed.kind,
                "url": feed.url,
                "publisher": feed.publisher,
                "area": feed.area,
                "origin": origin,
                "healthy": health.healthy,
                "last_error": None if health.last_ok else health.last_error,
                "never_run": health.last_started_at is None,
                "councils_30_days": [
                    {"council": register.get(c).name if c in register else c, "stories": n}
                    for c, n in top
                ],
            }
        )
    if as_json:
        echo_json(rows)
        return
    if not rows:
        typer.echo("no feeds configured or followed")
    for row in rows:
        if row["never_run"]:
            state = "never run"
        elif row["healthy"] and not row["last_error"]:
            state = "healthy"
        else:
            state = ("healthy" if row["healthy"] else "UNHEALTHY") + (
                f", last run failed: {row['last_error']}" if row["last_error"] else ""
            )
        where = " · ".join(str(v) for v in (row["publisher"], row["area"]) if v)
        typer.echo(f"{row['name']:28} {row['kind']:6} {where or '-'} ({row['origin']}): {state}")
        councils = ", ".join(f"{c['council']} {c['stories']}" for c in row["councils_30_days"])
        typer.echo(f"{'':28} {row['url']}" + (f"  named most: {councils}" if councils else ""))


@feeds_app.command("catalogue")
def catalogue(
    ctx: typer.Context,
    council: Annotated[
        str | None, typer.Option("--council", help="Only publishers covering this council.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List the publisher catalogue (built-in and imported), or the papers covering a council.

    An abolished council shows its successors' papers too.

    Example: councilwatch feeds catalogue --council "Cumberland Council"
    """
    from councilwatch.news_catalogue import covering, load

    rt = runtime(ctx)
    register = rt.register
    publishers = load(rt.settings).publishers
    if council is not None:
        publishers = tuple(covering(load(rt.settings), register, [register.lookup(council).id]))
    rows: list[dict[str, Any]] = [
        {
            "name": p.name,
            "publisher": p.publisher,
            "homepage": p.homepage,
            "owner": p.owner,
            "feeds": list(p.feeds),
            "councils": list(p.councils),
            "counties": list(p.counties),
            "verified": p.verified,
            "origin": p.origin,
        }
        for p in publishers
    ]
    if as_json:
        echo_json(rows)
        return
    if not rows:
        typer.echo("no publisher in the catalogue covers that council")
    for row in rows:
        state = "verified" if row["verified"] else "unverified"
        feeds = ", ".join(row["feeds"]) or "(feeds discovered from the homepage)"
        typer.echo(f"{row['name']:34} {row['publisher']:34} {state:10} {row['origin']}")
        typer.echo(f"{'':34} {row['homepage']}  {feeds}")


@feeds_app.command("import")
def import_csv(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="CSV: name,publisher,homepage,owner,councils,feeds")],
) -> None:
    """Add publishers to the catalogue from a CSV (councils and feeds separated by ';').

    A row whose name is already in the catalogue replaces it. Every council must be in the
    register; any bad row fails the import and leaves the saved catalogue as it was.

    Example: councilwatch feeds import papers.csv
    """
    from councilwatch.news_catalogue import save_import

    rt = runtime(ctx)
    try:
        content = file.read_bytes()
    except OSError as error:
        raise CouncilwatchError(f"cannot read {file}: {error.strerror or error}") from None
    added, replaced, target = save_import(rt.settings, rt.register, content, origin=file.name)
    typer.echo(f"imported {added + replaced} publishers ({added} new, {replaced} replacing "
               f"entries of the same name) into {target}")


def register(app: typer.Typer) -> None:
    app.add_typer(feeds_app, name="feeds")
