"""Import mySociety's UK local authority register (CSV) and merge it into ours.

mySociety publishes the register as one CSV (columns local-authority-code, official-name,
nice-name, gss-code, start-date, end-date, replaced-by, nation, local-authority-type,
county-la, alt-names, former-gss-codes, ...). ``import_mysociety`` reads it into ``Council``
values that still carry mySociety's three-letter codes as ids; ``merge`` maps those codes onto
our ids (by GSS code, then by name) and returns a new register with a report.

Merge policy: our names stay ours (theirs become aliases when they differ); the GSS code, end
date and successors follow the import, since those change with reorganisations. End dates one
day apart are the same end: mySociety sometimes records the vesting day of the successor, we
record the last day the council existed. Combined authorities and the Greater London Authority
are not principal councils and are skipped.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, timedelta
from pathlib import Path

from cwerrors import ParseError

from .names import canonical, slug
from .register import DISTRICT, Council, Register

_TYPES = {
    "CTY": "county",
    "NMD": DISTRICT,
    "UA": "unitary",
    "MD": "metropolitan borough",
    "LBO": "london borough",
    "CC": "city corporation",
    "SCO": "council area",
    "WPA": "principal area",
    "NID": "ni district",
}
# Isles of Scilly is "UA" in some versions of the register and "SRA" in others.
_SCILLY_GSS = "E06000053"
_REQUIRED = ("local-authority-code", "official-name", "gss-code", "local-authority-type")
# alt-names is comma separated, but names may hold ", " themselves ("Armagh City, Banbridge").
_ALT_SPLIT = re.compile(r",(?! )")


@dataclass(frozen=True, slots=True)
class MergeReport:
    added: tuple[str, ...]
    updated: tuple[str, ...]
    unchanged: tuple[str, ...]


def import_mysociety(source: bytes | str | Path) -> list[Council]:
    """Councils from a mySociety register CSV (bytes, text, or a path to a file).

    Ids, ``county`` and ``successors`` are mySociety codes here; ``merge`` translates them.
    Raises ``ParseError`` when a required column is missing.
    """
    if isinstance(source, Path):
        source = source.read_bytes()
    text = source.decode("utf-8-sig") if isinstance(source, bytes) else source
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in _REQUIRED if c not in (reader.fieldnames or ())]
    if missing:
        raise ParseError(f"mySociety register: missing column {missing[0]!r}", field=missing[0])
    councils = []
    for row in reader:
        council = _council(row)
        if council is not None:
            councils.append(council)
    return councils


def _council(row: dict[str, str]) -> Council | None:
    code = (row.get("local-authority-code") or "").strip()
    gss = (row.get("gss-code") or "").strip() or None
    kind = (row.get("local-authority-type") or "").strip()
    ctype = "sui generis" if gss == _SCILLY_GSS else _TYPES.get(kind)
    if not code or ctype is None:
        return None
    official = row["official-name"].strip()
    common = (row.get("nice-name") or "").strip() or official
    known = {canonical(official), canonical(common)}
    aliases: dict[str, str] = {}
    for alt in _ALT_SPLIT.split(row.get("alt-names") or ""):
        alt = alt.strip()
        key = canonical(alt)
        if key and key not in known and key not in aliases:
            aliases[key] = alt
    return Council(
        id=code,
        name=official,
        common_name=common,
        aliases=tuple(aliases.values()),
        gss=gss,
        type=ctype,
        nation=(row.get("nation") or "England").strip(),
        county=(row.get("county-la") or "").strip() or None,
        start=_date(row.get("start-date")),
        end=_date(row.get("end-date")),
        successors=tuple(s.strip() for s in (row.get("replaced-by") or "").split(",") if s.strip()),
    )


def _date(value: str | None) -> date | None:
    value = (value or "").strip()
    return date.fromisoformat(value[:10]) if value else None


def merge(register: Register, imported: Iterable[Council]) -> tuple[Register, MergeReport]:
    """Fold imported councils (ids are mySociety codes) into ``register``."""
    rows = list(imported)
    ids = _map_codes(register, rows)
    added: list[str] = []
    updated: list[str] = []
    unchanged: list[str] = []
    result: list[Council] = []
    for row in rows:
        our_id = ids[row.id]
        successors = tuple(ids[s] for s in row.successors if s in ids)
        county = ids.get(row.county) if row.county and row.type == DISTRICT else None
        if our_id not in register:
            result.append(replace(row, id=our_id, successors=successors, county=county))
            added.append(our_id)
            continue
        ours = register.get(our_id)
        new = _update(ours, row, successors, county)
        if new == ours:
            unchanged.append(our_id)
        else:
            result.append(new)
            updated.append(our_id)
    report = MergeReport(tuple(added), tuple(updated), tuple(unchanged))
    return register.merged(result), report


def _map_codes(register: Register, rows: list[Council]) -> dict[str, str]:
    """mySociety code -> our id: by GSS code, then by official or common name, else a slug."""
    ids: dict[str, str] = {}
    taken = {c.id for c in register}
    for row in rows:
        match = register.by_gss(row.gss) if row.gss else None
        if match is None:
            wanted_current = row.end is None
            for name in (row.name, row.common_name):
                found = [
                    i
                    for i in register.ids_for_name(name)
                    if register.get(i).current == wanted_current
                ]
                if found:
                    match = register.get(found[0])
                    break
        if match is not None:
            ids[row.id] = match.id
            continue
        new_id = base = slug(row.common_name) or row.id.lower()
        n = 2
        while new_id in taken:
            new_id, n = f"{base}-{n}", n + 1
        taken.add(new_id)
        ids[row.id] = new_id
    return ids


def _update(
    ours: Council, row: Council, successors: tuple[str, ...], county: str | None
) -> Council:
    known = {canonical(n) for n in ours.names}
    extra = [n for n in (row.name, row.common_name, *row.aliases) if canonical(n) not in known]
    aliases = ours.aliases + tuple(dict.fromkeys(_dedupe(extra)))
    end = ours.end
    if row.end is not None and (end is None or abs(row.end - end) > timedelta(days=1)):
        end = row.end
    return replace(
        ours,
        aliases=aliases,
        gss=row.gss or ours.gss,
        end=end,
        successors=successors or ours.successors,
        county=ours.county or county,
        start=ours.start or row.start,
    )


def _dedupe(names: list[str]) -> list[str]:
    seen: set[str] = set()
    out = []
    for name in names:
        key = canonical(name)
        if key not in seen:
            seen.add(key)
            out.append(name)
    return out
