"""The publisher catalogue wired to the register and the configuration."""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import TYPE_CHECKING

from cwerrors import ConfigError
from scraper.news.catalogue import Catalogue, Publisher, load_catalogue, parse_csv, to_toml
from scraper.sources.news.config import FeedConfig

if TYPE_CHECKING:
    from pathlib import Path

    from sqlalchemy import Engine

    from alerts.councils import Register
    from councilwatch.config import Settings


def load(settings: Settings) -> Catalogue:
    return load_catalogue(settings.sources.news.catalogue_file)


def covering(catalogue: Catalogue, register: Register, councils: Iterable[str]) -> list[Publisher]:
    """The publishers covering ``councils`` or their successors."""
    wanted = set(councils) | register.expand(councils, county_wide=False)
    return catalogue.for_councils(
        wanted, in_county=lambda county: {county} | register.in_county(county)
    )


def save_import(
    settings: Settings, register: Register, content: bytes, *, origin: str
) -> tuple[int, int, Path]:
    """Merge a CSV into the saved import; (new, replaced, file). Nothing is written on error."""
    imported = parse_csv(content, origin=origin)
    known = {council.id for council in register.councils()}
    unknown = Catalogue(tuple(imported)).unknown_councils(known)
    if unknown:
        name, ids = next(iter(unknown.items()))
        raise ConfigError(f"{origin}: {name}: unknown council id(s) {', '.join(ids)} "
                          "(see `councilwatch councils list`)")
    target = settings.sources.news.catalogue_file
    before = load_catalogue(target)
    names = {p.name for p in before.publishers}
    previous = [p for p in before.publishers if p.origin != "built-in"]
    merged = Catalogue(tuple(previous)).merged(imported)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + ".tmp")
    tmp.write_text(to_toml(merged.publishers), encoding="utf-8")
    os.replace(tmp, target)  # atomic: a reader sees the old file or the new one
    replaced = sum(1 for p in imported if p.name in names)
    return len(imported) - replaced, replaced, target


def followed_feeds(settings: Settings, engine: Engine, register: Register) -> list[FeedConfig]:
    """The feeds a news fetch adds for the councils confirmed subscribers follow (see
    :func:`scraper.sources.news.runs.followed_feeds`)."""
    from councilwatch.sources_registry import RegisterCouncils
    from scraper.sources.news.runs import followed_feeds as feeds_for

    return feeds_for(settings.sources.news, RegisterCouncils.of(engine, register))
