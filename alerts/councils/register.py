"""The council register: every principal council of the UK, current and abolished since 2009.

The built-in register is ``data/councils.json`` in this package, written by the project (it is
checked against mySociety's register by a test, not copied from it). A ``Register`` is immutable;
``merged`` returns a new one, which is how an import adds or updates councils.

Dates: ``start`` is the first day a council existed, ``end`` the last (``None`` while current).
``successors`` are the councils that took over its area; ``county`` is set for two-tier
districts only and names the county council they sit under.
"""

from __future__ import annotations

import difflib
import functools
import json
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any

from cwerrors import UnknownCouncilError

from .names import canonical

COUNTY = "county"
DISTRICT = "non-metropolitan district"
TYPES = (
    COUNTY,
    DISTRICT,
    "unitary",
    "metropolitan borough",
    "london borough",
    "city corporation",
    "sui generis",
    "principal area",
    "council area",
    "ni district",
)
NATIONS = ("England", "Wales", "Scotland", "Northern Ireland")


@dataclass(frozen=True, slots=True)
class Council:
    id: str
    name: str
    common_name: str
    aliases: tuple[str, ...] = ()
    gss: str | None = None
    type: str = "unitary"
    nation: str = "England"
    county: str | None = None
    start: date | None = None
    end: date | None = None
    successors: tuple[str, ...] = field(default=())

    @property
    def current(self) -> bool:
        return self.end is None

    @property
    def names(self) -> tuple[str, ...]:
        """Official name, common name and aliases, in that order, without repeats."""
        return tuple(dict.fromkeys((self.name, self.common_name, *self.aliases)))

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "common_name": self.common_name,
            "aliases": list(self.aliases),
            "gss": self.gss,
            "type": self.type,
            "nation": self.nation,
            "county": self.county,
            "start": self.start.isoformat() if self.start else None,
            "end": self.end.isoformat() if self.end else None,
            "successors": list(self.successors),
        }

    @classmethod
    def from_dict(cls, row: dict[str, Any]) -> Council:
        return cls(
            id=row["id"],
            name=row["name"],
            common_name=row.get("common_name") or row["name"],
            aliases=tuple(row.get("aliases") or ()),
            gss=row.get("gss") or None,
            type=row.get("type") or "unitary",
            nation=row.get("nation") or "England",
            county=row.get("county") or None,
            start=_date(row.get("start")),
            end=_date(row.get("end")),
            successors=tuple(row.get("successors") or ()),
        )


def _date(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


class Register:
    """Councils by id, with name lookup, successor chains and county membership."""

    def __init__(self, councils: Iterable[Council]) -> None:
        self._by_id: dict[str, Council] = {}
        for council in councils:
            if council.id in self._by_id:
                raise ValueError(f"duplicate council id {council.id!r}")
            self._by_id[council.id] = council
        self._by_gss = {c.gss: c.id for c in self._by_id.values() if c.gss}
        keys: dict[str, list[str]] = defaultdict(list)
        for council in self._by_id.values():
            for name in council.names:
                key = canonical(name)
                if council.id not in keys[key]:
                    keys[key].append(council.id)
        # Several councils may share a key ("Durham"): current ones first, then by id.
        self._by_key = {
            key: tuple(sorted(ids, key=lambda i: (not self._by_id[i].current, i)))
            for key, ids in keys.items()
        }

    # -- loading -----------------------------------------------------------------------------

    @classmethod
    def builtin(cls) -> Register:
        """The register shipped in the package (loaded once per process)."""
        return _builtin()

    @classmethod
    def from_json(cls, text: str) -> Register:
        data = json.loads(text)
        return cls(Council.from_dict(row) for row in data["councils"])

    @classmethod
    def load(cls, path: Path) -> Register:
        return cls.from_json(path.read_text(encoding="utf-8"))

    def to_json(self) -> str:
        rows = ",\n".join(
            "    " + json.dumps(c.to_dict(), ensure_ascii=False) for c in self._by_id.values()
        )
        return '{\n  "format": 1,\n  "councils": [\n' + rows + "\n  ]\n}\n"

    # -- access ------------------------------------------------------------------------------

    def __iter__(self) -> Iterator[Council]:
        return iter(self._by_id.values())

    def __len__(self) -> int:
        return len(self._by_id)

    def __contains__(self, council_id: object) -> bool:
        return council_id in self._by_id

    def get(self, council_id: str) -> Council:
        try:
            return self._by_id[council_id]
        except KeyError:
            raise UnknownCouncilError(
                council_id, difflib.get_close_matches(council_id, list(self._by_id), n=3)
            ) from None

    def by_gss(self, gss: str) -> Council | None:
        council_id = self._by_gss.get(gss.strip().upper())
        return self._by_id[council_id] if council_id else None

    def councils(self, *, nation: str | None = None, current: bool | None = None) -> list[Council]:
        """Councils filtered by nation (case-insensitive) and by being current or not."""
        return [
            c
            for c in self._by_id.values()
            if (nation is None or c.nation.casefold() == nation.casefold())
            and (current is None or c.current == current)
        ]

    def ids_for_name(self, name: str) -> tuple[str, ...]:
        """Every council whose official name, common name or alias has this canonical form."""
        return self._by_key.get(canonical(name), ())

    def lookup(self, name: str) -> Council:
        """The council a person means by ``name``: exact id, GSS code, or any of its names.

        Names compare by canonical form (case, punctuation, "&", "St.", "King's" folded). A name
        that is not a known form but is recognised as one council ("Cumbria council") also
        resolves. Otherwise ``UnknownCouncilError`` lists up to three close matches.
        """
        text = name.strip()
        if text in self._by_id:
            return self._by_id[text]
        by_gss = self.by_gss(text) if text else None
        if by_gss is not None:
            return by_gss
        ids = self.ids_for_name(text)
        if ids:
            return self._by_id[ids[0]]
        from .recognise import find_councils  # the recogniser is built from a register

        # People type names in lower case at a prompt; the recogniser reads a lower-case place
        # before "council" as prose ("reading council papers"), so ask it about the title case.
        mentions = [m for m in find_councils(text.title(), self) if m.confidence >= 0.8]
        if len(mentions) == 1 and len(mentions[0].matched_text) >= len(text) * 0.6:
            return self._by_id[mentions[0].council_id]
        raise UnknownCouncilError(name, self._suggest(text))

    def _suggest(self, name: str) -> list[str]:
        keys = difflib.get_close_matches(canonical(name), list(self._by_key), n=3, cutoff=0.6)
        names = [self._by_id[self._by_key[k][0]].name for k in keys]
        return list(dict.fromkeys(names))

    # -- reorganisations and counties ----------------------------------------------------------

    def successors_closure(self, council_id: str) -> set[str]:
        """Every council that took over from this one, directly or through later changes."""
        seen: set[str] = set()
        todo = list(self.get(council_id).successors)
        while todo:
            nxt = todo.pop()
            if nxt in seen or nxt not in self._by_id:
                continue
            seen.add(nxt)
            todo.extend(self._by_id[nxt].successors)
        return seen

    def in_county(self, county_id: str) -> frozenset[str]:
        """The districts under a county council, computed now: councils added later count."""
        self.get(county_id)
        return frozenset(c.id for c in self._by_id.values() if c.county == county_id)

    def expand(self, ids: Iterable[str], *, county_wide: bool = True) -> frozenset[str]:
        """The councils an alert on ``ids`` follows.

        Each council brings its successors (an alert on Cumbria County Council keeps working
        after 2023); with ``county_wide`` a county also brings its districts and theirs, which is
        what "all councils in Norfolk" means.
        """
        out: set[str] = set()
        for council_id in ids:
            self.get(council_id)
            group = {council_id}
            if county_wide and self._by_id[council_id].type == COUNTY:
                group |= self.in_county(council_id)
            for member in group:
                out.add(member)
                out |= self.successors_closure(member)
        return frozenset(out)

    def predecessors(self, council_id: str) -> set[str]:
        """Councils this one (directly) took over from."""
        return {c.id for c in self._by_id.values() if council_id in c.successors}

    def merged(self, councils: Iterable[Council]) -> Register:
        """A new register: councils with a known id replace it, the others are added."""
        updated = dict(self._by_id)
        for council in councils:
            updated[council.id] = council
        return Register(updated.values())


@functools.cache
def _builtin() -> Register:
    text = resources.files(__package__).joinpath("data/councils.json").read_text("utf-8")
    return Register.from_json(text)
