"""`councilwatch parse <source> FILE`: what a source's parser extracts from a saved page, the
tool to run when a page breaks. One command per registered source (and its aliases), made from
the registry: the source's ``show`` prints it (else its ``parse``, as JSON)."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from councilwatch.commands.common import echo_json, runtime
from cwerrors import CouncilwatchError

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


def parse_page(ctx: typer.Context, name: str, file: Path, url: str | None, as_json: bool) -> None:
    """Parse ``file`` with source ``name``'s parser and print what it found."""
    from councilwatch.source_run import local_today
    from scraper.sources import registry

    try:
        content = file.read_bytes()
    except OSError as exc:
        raise CouncilwatchError(f"{file}: cannot read ({exc.strerror})") from None
    rt = runtime(ctx)
    source = registry.load(name)
    site = rt.settings.sources.of(source.info.config_key).base_url
    page = page_url(content, file, url, site)
    today = local_today(rt)
    show = getattr(source, "show", None)
    if callable(show):
        typer.echo(show(content, page, today=today, as_json=as_json, origin=str(file)))
    else:
        echo_json(source.parse(content, page, today=today))


def _register_sources() -> None:
    """``parse <source>`` (and its aliases) for every registered source."""
    from scraper.sources import registry

    for info in registry.infos():
        for command in (info.name, *info.parse_aliases):
            parse_app.command(command)(_command(info.name, info.label, command))


def _command(source: str, label: str, command: str) -> Callable[..., None]:
    def parse_saved(
        ctx: typer.Context,
        file: Annotated[Path, typer.Argument(help="A saved page of this source.")],
        url: Annotated[
            str | None,
            typer.Option(
                help="The page's URL (default: its 'saved from' comment, else the source's "
                "base_url)."
            ),
        ] = None,
        as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    ) -> None:
        parse_page(ctx, source, file, url, as_json)

    parse_saved.__doc__ = (
        f"Parse a saved {label} page (told apart by content) and print what its parser "
        f"found.\n\nExample: councilwatch parse {command} saved-page.html"
    )
    return parse_saved


_register_sources()


def register(app: typer.Typer) -> None:
    app.add_typer(parse_app, name="parse")
