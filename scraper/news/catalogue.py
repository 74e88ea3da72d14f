"""The catalogue of local news publishers, by the councils they cover.

A subscriber who follows Cumberland Council should get Cumbrian news without the operator
hunting for feed URLs. The catalogue says which publishers cover which councils: the built-in
one (``data/publishers.toml``, written by us, its provenance at the top of the file) merged with
what an operator imports from a CSV (``councilwatch feeds import FILE``).

Council ids are plain strings here: ``scraper`` does not know the register. The composition root
checks them against it (:meth:`Catalogue.unknown_councils`) and expands each entry's
``counties`` to the county council and its districts before asking
:meth:`Catalogue.for_councils` which publishers cover a set of councils.
"""

from __future__ import annotations

import csv
import io
import re
import tomllib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from cwerrors import ConfigError

__all__ = ["CSV_COLUMNS", "Catalogue", "Publisher", "builtin_catalogue", "parse_csv"]

CSV_COLUMNS = ("name", "publisher", "homepage", "owner", "councils", "feeds")
_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_URL = re.compile(r"^https?://[^\s/]+(?:/\S*)?$")


@dataclass(frozen=True)
class Publisher:
    """One publisher (a paper, a BBC region) and the councils it covers."""

    name: str  # a slug, unique in the catalogue; the feed name it is read under
    publisher: str
    homepage: str
    owner: str | None = None
    feeds: tuple[str, ...] = ()  # empty: discovered from the homepage
    councils: tuple[str, ...] = ()
    counties: tuple[str, ...] = ()  # the county council and every district in it
    verified: bool = False
    origin: str = "built-in"  # "built-in" or the imported file's name


@dataclass(frozen=True)
class Catalogue:
    publishers: tuple[Publisher, ...]

    def get(self, name: str) -> Publisher | None:
        return next((p for p in self.publishers if p.name == name), None)

    def unknown_councils(self, known: Iterable[str]) -> dict[str, list[str]]:
        """Publisher name -> the council or county ids it names that ``known`` lacks."""
        known_set = set(known)
        out: dict[str, list[str]] = {}
        for publisher in self.publishers:
            missing = [c for c in (*publisher.councils, *publisher.counties) if c not in known_set]
            if missing:
                out[publisher.name] = missing
        return out

    def for_councils(
        self,
        councils: Iterable[str],
        *,
        in_county: Callable[[str], Iterable[str]] = lambda county: (county,),
    ) -> list[Publisher]:
        """The publishers covering any of ``councils``, in catalogue order. ``in_county`` gives
        the councils a county entry stands for (the register's county and its districts)."""
        wanted = set(councils)
        return [p for p in self.publishers if not wanted.isdisjoint(self.coverage(p, in_county))]

    @staticmethod
    def coverage(
        publisher: Publisher,
        in_county: Callable[[str], Iterable[str]] = lambda county: (county,),
    ) -> frozenset[str]:
        covered = set(publisher.councils)
        for county in publisher.counties:
            covered |= set(in_county(county))
        return frozenset(covered)

    def merged(self, imported: Iterable[Publisher]) -> Catalogue:
        """This catalogue with ``imported`` added; an imported name replaces the same name."""
        by_name = {p.name: p for p in self.publishers}
        order = [p.name for p in self.publishers]
        for publisher in imported:
            if publisher.name not in by_name:
                order.append(publisher.name)
            by_name[publisher.name] = publisher
        return Catalogue(tuple(by_name[name] for name in order))


def builtin_catalogue() -> Catalogue:
    text = resources.files("scraper.news").joinpath("data/publishers.toml").read_bytes()
    return _from_toml(tomllib.loads(text.decode("utf-8")), "built-in")


def load_catalogue(imported_file: Path | None) -> Catalogue:
    """The built-in catalogue merged with the operator's saved import, if there is one."""
    catalogue = builtin_catalogue()
    if imported_file is None or not imported_file.exists():
        return catalogue
    try:
        data = tomllib.loads(imported_file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise ConfigError(f"{imported_file}: not a publisher catalogue: {error}") from None
    return catalogue.merged(_from_toml(data, imported_file.name).publishers)


def parse_csv(content: bytes, *, origin: str) -> list[Publisher]:
    """Publishers from an operator's CSV (columns :data:`CSV_COLUMNS`; ``councils`` and
    ``feeds`` separated by ``;``). Any bad row fails the whole import with one line naming the
    row and the column, so a half-read file never replaces the catalogue."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ConfigError(f"{origin}: not UTF-8 text") from None
    reader = csv.DictReader(io.StringIO(text))
    columns = [c.strip().lower() for c in reader.fieldnames or []]
    missing = [c for c in ("name", "publisher", "homepage", "councils") if c not in columns]
    if missing:
        raise ConfigError(f"{origin}: missing column(s) {', '.join(missing)}; expected "
                          f"{', '.join(CSV_COLUMNS)}")
    out: list[Publisher] = []
    seen: set[str] = set()
    for line, raw in enumerate(reader, start=2):
        row = {(k or "").strip().lower(): (v or "").strip() for k, v in raw.items() if k}
        where = f"{origin}: row {line}"
        bad = next((k for k, v in row.items() if _CONTROL.search(v)), None)
        if bad is not None:
            raise ConfigError(f"{where}: {bad} contains a control character")
        name = row.get("name", "")
        if not _NAME.match(name):
            raise ConfigError(f"{where}: name {name!r} must be a slug (a-z, 0-9, '-')")
        if name in seen:
            raise ConfigError(f"{where}: name {name!r} appears twice")
        seen.add(name)
        if not row.get("publisher"):
            raise ConfigError(f"{where}: publisher is empty")
        homepage = row.get("homepage", "")
        if not _URL.match(homepage):
            raise ConfigError(f"{where}: homepage {homepage!r} is not an http(s) address")
        feeds = _list(row.get("feeds", ""))
        for feed in feeds:
            if not _URL.match(feed):
                raise ConfigError(f"{where}: feed {feed!r} is not an http(s) address")
        councils = _list(row.get("councils", ""))
        if not councils:
            raise ConfigError(f"{where}: councils is empty (ids separated by ';')")
        out.append(
            Publisher(
                name=name,
                publisher=row["publisher"],
                homepage=homepage,
                owner=row.get("owner") or None,
                feeds=tuple(feeds),
                councils=tuple(councils),
                origin=origin,
            )
        )
    return out


def to_toml(publishers: Iterable[Publisher]) -> str:
    """The imported publishers as the TOML :func:`load_catalogue` reads back."""
    lines = ["# Imported by `councilwatch feeds import`; merged over the built-in catalogue.",
             "format = 1"]
    for p in publishers:
        lines += ["", "[[publishers]]", f"name = {_q(p.name)}", f"publisher = {_q(p.publisher)}",
                  f"homepage = {_q(p.homepage)}"]
        if p.owner:
            lines.append(f"owner = {_q(p.owner)}")
        lines.append("feeds = [" + ", ".join(_q(f) for f in p.feeds) + "]")
        lines.append("councils = [" + ", ".join(_q(c) for c in p.councils) + "]")
        if p.counties:
            lines.append("counties = [" + ", ".join(_q(c) for c in p.counties) + "]")
        lines.append(f"verified = {'true' if p.verified else 'false'}")
    return "\n".join(lines) + "\n"


def _from_toml(data: Mapping[str, Any], origin: str) -> Catalogue:
    if data.get("format") != 1 or not isinstance(data.get("publishers"), list):
        raise ConfigError(f"{origin}: not a publisher catalogue (format 1 with [[publishers]])")
    publishers = []
    for entry in data["publishers"]:
        publishers.append(
            Publisher(
                name=str(entry["name"]),
                publisher=str(entry["publisher"]),
                homepage=str(entry["homepage"]),
                owner=entry.get("owner"),
                feeds=tuple(entry.get("feeds", ())),
                councils=tuple(entry.get("councils", ())),
                counties=tuple(entry.get("counties", ())),
                verified=bool(entry.get("verified", False)),
                origin=origin,
            )
        )
    return Catalogue(tuple(publishers))


def _list(value: str) -> list[str]:
    return [part.strip() for part in value.split(";") if part.strip()]


def _q(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
