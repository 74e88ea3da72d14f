"""The mySociety register importer and merge, and a check of our register against theirs."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import date
from pathlib import Path

import pytest

from alerts.councils import Register, import_mysociety, merge
from alerts.councils.names import canonical
from cwerrors import ParseError

SHARED_CSV = (
    Path(__file__).resolve().parents[1]
    / ".."
    / "shared"
    / "data"
    / "uk-local-authorities"
    / "uk_local_authorities.csv"
)
needs_shared = pytest.mark.skipif(
    not SHARED_CSV.exists(), reason=f"mySociety register not available at {SHARED_CSV}"
)

# Invented rows in mySociety's column layout: one known council with a new alias, one that
# was abolished into a new council, the new council itself, a combined authority (skipped).
COLUMNS = [
    "local-authority-code",
    "official-name",
    "nice-name",
    "gss-code",
    "start-date",
    "end-date",
    "replaced-by",
    "nation",
    "region",
    "local-authority-type",
    "local-authority-type-name",
    "county-la",
    "combined-authority",
    "alt-names",
    "former-gss-codes",
    "notes",
    "current-authority",
]
ROWS = [
    ("NRF", "Norfolk County Council", "Norfolk", "E10000020", "1974-04-01", "", "", "CTY",
     "", "Norfolk,norfolk,County of Norfolk Council"),
    ("BRE", "Breckland Council", "Breckland", "E07000143", "1974-04-01", "2031-04-01", "MNF",
     "NMD", "NRF", "Breckland,breckland"),
    ("MNF", "Mid Norfolk Council", "Mid Norfolk", "E06000099", "2031-04-01", "", "", "UA", "",
     "Mid Norfolk,mid norfolk,Mid Norfolk Unitary Council"),
    ("ARM", "Armagh City, Banbridge and Craigavon Borough Council",
     "Armagh City, Banbridge and Craigavon", "N09000002", "2015-04-01", "", "", "NID", "",
     "Armagh City, Banbridge and Craigavon,ABC Borough Council"),
    ("XCA", "Example Combined Authority", "Example", "E47000099", "2017-05-08", "", "", "COMB",
     "", ""),
]  # fmt: skip


def csv_text(rows: Sequence[tuple[str, ...]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, COLUMNS, lineterminator="\n")
    writer.writeheader()
    for code, official, nice, gss, start, end, replaced, kind, county, alt in rows:
        nation = "Northern Ireland" if gss.startswith("N") else "England"
        writer.writerow({
            "local-authority-code": code, "official-name": official, "nice-name": nice,
            "gss-code": gss, "start-date": start, "end-date": end, "replaced-by": replaced,
            "nation": nation, "local-authority-type": kind, "county-la": county,
            "alt-names": alt, "current-authority": str(not end),
        })  # fmt: skip
    return out.getvalue()


SMALL_CSV = csv_text(ROWS)


def test_import_reads_the_mysociety_columns() -> None:
    rows = {c.id: c for c in import_mysociety(SMALL_CSV.encode())}
    assert set(rows) == {"NRF", "BRE", "MNF", "ARM"}  # the combined authority is skipped
    breckland = rows["BRE"]
    assert breckland.gss == "E07000143"
    assert breckland.type == "non-metropolitan district"
    assert breckland.county == "NRF"
    assert breckland.end == date(2031, 4, 1)
    assert breckland.successors == ("MNF",)
    assert rows["NRF"].aliases == ("County of Norfolk Council",)
    # A comma inside a name is not a list separator.
    assert rows["ARM"].aliases == ("ABC Borough Council",)


def test_import_from_a_path_and_from_text(tmp_path: Path) -> None:
    path = tmp_path / "register.csv"
    path.write_text(SMALL_CSV, encoding="utf-8")
    assert import_mysociety(path) == import_mysociety(SMALL_CSV)


def test_import_rejects_a_file_without_the_columns() -> None:
    with pytest.raises(ParseError, match="gss-code"):
        import_mysociety("local-authority-code,official-name\nNRF,Norfolk County Council\n")


def test_merge_adds_updates_and_maps_codes_to_our_ids() -> None:
    register = Register.builtin()
    merged, report = merge(register, import_mysociety(SMALL_CSV))
    assert report.added == ("mid-norfolk",)
    assert set(report.updated) == {"norfolk", "breckland", "armagh-banbridge-and-craigavon"}
    assert report.unchanged == ()
    breckland = merged.get("breckland")
    assert breckland.successors == ("mid-norfolk",)
    assert breckland.end == date(2031, 4, 1)
    assert breckland.name == "Breckland Council"  # our name stays ours
    assert "County of Norfolk Council" in merged.get("norfolk").aliases
    assert merged.lookup("County of Norfolk Council").id == "norfolk"
    assert merged.get("mid-norfolk").type == "unitary"
    # The alert on Breckland now follows its successor; the original register is untouched.
    assert "mid-norfolk" in merged.expand(["breckland"])
    assert register.get("breckland").end is None
    # Merging the same import again changes nothing.
    _again, second = merge(merged, import_mysociety(SMALL_CSV))
    assert second.added == () and second.updated == ()


def test_end_dates_one_day_apart_are_the_same_end() -> None:
    cumbria = ("CMA", "Cumbria County Council", "Cumbria", "E10000006", "1974-04-01",
               "2023-04-01", "CMB,WAF", "CTY", "", "")  # fmt: skip
    _merged, report = merge(Register.builtin(), import_mysociety(csv_text([cumbria])))
    assert report.updated == ()  # successors CMB/WAF are unknown codes: ours are kept


@needs_shared
def test_every_current_mysociety_council_is_in_our_register() -> None:
    register = Register.builtin()
    missing = []
    with SHARED_CSV.open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            # Combined authorities and the GLA are not principal councils.
            if row["local-authority-type"] in ("COMB", "SRA") or row["current-authority"] != "True":
                continue
            by_gss = register.by_gss(row["gss-code"])
            by_name = register.ids_for_name(row["official-name"]) or register.ids_for_name(
                row["nice-name"]
            )
            if by_gss is None and not by_name:
                missing.append(row["official-name"])
    assert missing == []


@needs_shared
def test_importing_the_real_register_adds_nothing_we_lack() -> None:
    register = Register.builtin()
    imported = import_mysociety(SHARED_CSV)
    assert len(imported) > 400
    merged, report = merge(register, imported)
    assert report.added == ()
    assert len(merged) == len(register)
    # Their end dates and successors agree with ours (one-day convention aside).
    for council in register:
        assert merged.get(council.id).successors == council.successors, council.id
        assert merged.get(council.id).end == council.end, council.id
    # Their aliases become ours: every name variant they list resolves.
    for row in imported:
        for name in (row.name, row.common_name, *row.aliases):
            assert merged.ids_for_name(name), canonical(name)
