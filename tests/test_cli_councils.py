"""`councilwatch councils find|list|show|update` through the real CLI entry point."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from alerts.councils import Register
from tests.cli import run_cli
from tests.testweb import LocalWeb

SHARED_CSV = (
    Path(__file__).resolve().parents[1]
    / ".."
    / "shared"
    / "data"
    / "uk-local-authorities"
    / "uk_local_authorities.csv"
)
# Nothing here may touch a database: this one cannot be reached, so a command that tried
# would fail with "cannot connect".
NO_DATABASE = "postgresql+psycopg://nobody@127.0.0.1:1/none"

COLUMNS = [
    "local-authority-code", "official-name", "nice-name", "gss-code", "start-date", "end-date",
    "replaced-by", "nation", "region", "local-authority-type", "county-la", "alt-names", "notes",
]  # fmt: skip
# Invented rows in mySociety's layout: Norfolk as it is, a made-up new district under it,
# Somerset with a new alias, and a combined authority (not a principal council: skipped).
ROWS = [
    ["NFK", "Norfolk County Council", "Norfolk", "E10000020", "1974-04-01", "", "", "England",
     "East of England", "CTY", "", "Norfolk,norfolk", ""],
    ["FNM", "Fenmarsh District Council", "Fenmarsh", "E07000991", "2030-04-01", "", "",
     "England", "East of England", "NMD", "NFK", "Fenmarsh,fenmarsh", "invented"],
    ["SOM", "Somerset Council", "Somerset", "E06000066", "2023-04-01", "", "", "England",
     "South West", "UA", "", "Somerset,Somerset Unitary Authority", ""],
    ["WXC", "Wessex Combined Authority", "Wessex", "E47000990", "2029-05-01", "", "", "England",
     "South West", "COMB", "", "", "invented"],
]  # fmt: skip


def csv_bytes(rows: list[list[str]], columns: list[str] = COLUMNS) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows(row[: len(columns)] for row in rows)
    return out.getvalue().encode()


def write_config(
    tmp_path: Path,
    database_url: str = NO_DATABASE,
    update_url: str = "http://127.0.0.1:9/never-fetched.csv",
    extra: str = "",
) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(
        f'[database]\nurl = "{database_url}"\n'
        f'[councils]\nregister_file = "{tmp_path / "var" / "councils.json"}"\n'
        f'update_url = "{update_url}"\n' + extra
    )
    return path


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("COUNCILWATCH_DATABASE_URL", raising=False)
    return write_config(tmp_path)


def cli(capsys: pytest.CaptureFixture[str], config: Path, *args: str) -> tuple[int, str, str]:
    result = run_cli(capsys, "--config", str(config), *args)
    return result.code, result.out, result.err


# -- find ---------------------------------------------------------------------------------------


TEXT = (
    "Mrs B complained that CUMBRIA county council lost her file, and wrote to the\n"
    "Borough Council of King's Lynn and West Norfolk. Norfolk Constabulary was not involved."
)


def test_find_json_reports_each_mention_with_its_council(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = cli(capsys, config, "councils", "find", TEXT, "--json")
    assert code == 0, err
    cumbria, lynn = json.loads(out)
    assert cumbria["id"] == "cumbria" and cumbria["gss"] == "E10000006"
    assert cumbria["name"] == "Cumbria County Council"
    assert cumbria["matched_text"] == "CUMBRIA county council"
    assert TEXT[cumbria["start"] : cumbria["end"]] == "CUMBRIA county council"
    assert cumbria["current"] is False and cumbria["end_date"] == "2023-03-31"
    assert [s["name"] for s in cumbria["successors"]] == [
        "Cumberland Council",
        "Westmorland and Furness Council",
    ]
    assert cumbria["confidence"] == 1.0
    assert lynn["matched_text"] == "Borough Council of King's Lynn and West Norfolk"
    assert lynn["current"] is True and lynn["successors"] == []


def test_find_text_output_and_file(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    story = tmp_path / "story.txt"
    story.write_text(TEXT, encoding="utf-8")
    code, out, _ = cli(capsys, config, "councils", "find", "--file", str(story))
    assert code == 0
    first, second = out.splitlines()
    assert "'CUMBRIA county council' -> Cumbria County Council (E10000006" in first
    assert "abolished 2023-03-31; now Cumberland Council, Westmorland and Furness Council" in first
    assert "King's Lynn and West Norfolk" in second and "current" in second


def test_find_places_only_on_request(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = "Flooding closed roads across Norfolk overnight."
    assert cli(capsys, config, "councils", "find", text)[1] == "no councils found\n"
    code, out, _ = cli(capsys, config, "councils", "find", text, "--places", "--json")
    [place] = json.loads(out)
    assert code == 0 and place["id"] == "norfolk" and place["place_only"] is True
    assert place["confidence"] < 0.5


@pytest.mark.parametrize("args", [(), ("words", "--file", "x.txt")])
def test_find_wants_text_or_file(
    config: Path, capsys: pytest.CaptureFixture[str], args: tuple[str, ...]
) -> None:
    code, _, err = cli(capsys, config, "councils", "find", *args)
    assert code == 1
    assert err == "error: give either TEXT or --file PATH, not both and not neither\n"


def test_find_missing_file_is_one_line(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = cli(capsys, config, "councils", "find", "--file", str(tmp_path / "no.txt"))
    assert (
        code == 1
        and err == f"error: cannot read {tmp_path / 'no.txt'}: No such file or directory\n"
    )


# -- list and show ------------------------------------------------------------------------------


def test_list_filters_by_nation_and_current(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = cli(capsys, config, "councils", "list", "--nation", "wales", "--json")
    every_welsh = json.loads(out)
    code2, out2, _ = cli(capsys, config, "councils", "list", "--nation", "Wales", "--current")
    current_lines = out2.splitlines()
    assert code == code2 == 0
    assert {c["nation"] for c in every_welsh} == {"Wales"}
    assert len(current_lines) == len([c for c in every_welsh if c["end"] is None]) >= 22
    names = [c["name"].casefold() for c in every_welsh]
    assert names == sorted(names)
    assert all("[principal area, Wales]" in line and "ended" not in line for line in current_lines)


def test_list_current_drops_abolished(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    every = {c["id"] for c in json.loads(cli(capsys, config, "councils", "list", "--json")[1])}
    out = cli(capsys, config, "councils", "list", "--current", "--json")[1]
    current = {c["id"] for c in json.loads(out)}
    assert "cumbria" in every and "cumbria" not in current and "cumberland" in current
    assert len(every) == len(Register.builtin())


def test_list_unknown_nation_is_one_line(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = cli(capsys, config, "councils", "list", "--nation", "Mercia")
    assert code == 1
    assert err == (
        "error: --nation must be one of England, Wales, Scotland, Northern Ireland, not 'Mercia'\n"
    )


def test_show_county_lists_districts(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(capsys, config, "councils", "show", "Norfolk County Council")
    assert code == 0
    assert out.startswith("Norfolk County Council  (norfolk)\n")
    assert "  GSS code:     E10000020\n" in out and "  type:         county, England\n" in out
    assert "  ended:        - (current)\n" in out
    districts = next(line for line in out.splitlines() if line.startswith("  districts:"))
    assert "Breckland Council" in districts and "Norwich City Council" in districts


def test_show_abolished_and_successor(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(capsys, config, "councils", "show", "Cumbria council", "--json")
    cumbria = json.loads(out)
    assert code == 0 and cumbria["id"] == "cumbria" and cumbria["end"] == "2023-03-31"
    assert [s["id"] for s in cumbria["successors"]] == ["cumberland", "westmorland-and-furness"]
    assert "allerdale" in {d["id"] for d in cumbria["districts"]}
    # A district names its county, and the council that replaced it names it as predecessor.
    allerdale = json.loads(cli(capsys, config, "councils", "show", "allerdale", "--json")[1])
    assert allerdale["county"] == {"id": "cumbria", "name": "Cumbria County Council"}
    cumberland = json.loads(cli(capsys, config, "councils", "show", "E06000063", "--json")[1])
    assert {"id": "cumbria", "name": "Cumbria County Council"} in cumberland["predecessors"]
    assert {"id": "allerdale", "name": "Allerdale Borough Council"} in cumberland["predecessors"]


def test_show_unknown_council_suggests(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = cli(capsys, config, "councils", "show", "Norfok County")
    assert code == 1 and out == ""
    assert err.startswith("error: unknown council 'Norfok County'; did you mean ")
    assert "'Norfolk County Council'" in err and err.count("\n") == 1


# -- update -------------------------------------------------------------------------------------


def test_update_from_file_merges_and_saves(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "register.csv"
    source.write_bytes(csv_bytes(ROWS))
    saved = tmp_path / "var" / "councils.json"

    code, out, err = cli(capsys, config, "councils", "update", "--from", str(source))
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == f"1 added, 1 updated, 1 unchanged; register saved to {saved}"
    assert lines[1:] == ["  added: Fenmarsh District Council (fenmarsh)"]
    # Only what differs from the built-in register is saved.
    assert {c.id for c in Register.load(saved)} == {"fenmarsh", "somerset"}
    assert oct(saved.stat().st_mode & 0o777) == "0o644"

    # Every command now reads the merged register: the new district is in Norfolk, found by
    # name; the new alias of Somerset resolves.
    norfolk = json.loads(cli(capsys, config, "councils", "show", "norfolk", "--json")[1])
    assert {"id": "fenmarsh", "name": "Fenmarsh District Council"} in norfolk["districts"]
    out = cli(capsys, config, "councils", "find", "Fenmarsh District Council met.", "--json")[1]
    assert [m["gss"] for m in json.loads(out)] == ["E07000991"]
    alias = json.loads(
        cli(capsys, config, "councils", "show", "Somerset Unitary Authority", "--json")[1]
    )
    assert alias["id"] == "somerset" and "Somerset Unitary Authority" in alias["aliases"]

    # Importing the same file again changes nothing.
    out = cli(capsys, config, "councils", "update", "--from", str(source))[1]
    assert out.splitlines() == [f"0 added, 0 updated, 3 unchanged; register saved to {saved}"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (csv_bytes(ROWS, COLUMNS[:3]), "mySociety register: missing column 'gss-code'"),
        (b"<html><body>Service unavailable</body></html>", "missing column"),
        (b"\xff\xfe\x00z\x81\x82", "not a mySociety register CSV"),
        (csv_bytes([]), "no councils in the mySociety register CSV"),
        (
            csv_bytes([[*ROWS[1][:4], "first of April", *ROWS[1][5:]]]),
            "not a mySociety register CSV",
        ),
    ],
    ids=["missing-column", "html", "binary", "header-only", "bad-date"],
)
def test_update_bad_input_leaves_register_untouched(
    config: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    data: bytes,
    message: str,
) -> None:
    good = tmp_path / "good.csv"
    good.write_bytes(csv_bytes(ROWS))
    assert cli(capsys, config, "councils", "update", "--from", str(good))[0] == 0
    saved = tmp_path / "var" / "councils.json"
    before = saved.read_bytes()

    bad = tmp_path / "bad.csv"
    bad.write_bytes(data)
    code, out, err = cli(capsys, config, "councils", "update", "--from", str(bad))
    assert code == 1 and out == ""
    assert err.startswith(f"error: {bad}: ") and message in err and err.count("\n") == 1
    assert saved.read_bytes() == before
    assert [p.name for p in saved.parent.iterdir()] == ["councils.json"]  # no temp file left


def test_update_from_url_through_the_polite_client(
    tmp_path: Path,
    database_url: str,
    testweb: LocalWeb,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("COUNCILWATCH_DATABASE_URL", raising=False)
    testweb.route("/data/register.csv", body=csv_bytes(ROWS), content_type="text/csv")
    url = testweb.url("/data/register.csv")
    extra = "[http]\nmin_interval_seconds = 0\n"
    config = write_config(tmp_path, database_url, update_url=url, extra=extra)

    # Without --from, the configured URL is the source.
    code, out, err = cli(capsys, config, "councils", "update")
    assert code == 0, err
    assert out.startswith("1 added, 1 updated, 1 unchanged;")
    assert testweb.count("/data/register.csv") == 1
    assert "fenmarsh" in Register.load(tmp_path / "var" / "councils.json")

    missing = testweb.url("/data/moved.csv")
    code, out, err = cli(capsys, config, "councils", "update", "--from", missing)
    assert code == 1 and out == ""
    assert err.splitlines()[-1] == f"error: HTTP 404: {missing}"  # after the fetch's log lines


@pytest.mark.skipif(not SHARED_CSV.exists(), reason=f"mySociety register not at {SHARED_CSV}")
def test_update_from_the_real_mysociety_register(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = cli(capsys, config, "councils", "update", "--from", str(SHARED_CSV))
    assert code == 0, err
    added, updated, unchanged = (int(part.split()[0]) for part in out.splitlines()[0].split(", "))
    assert added + updated + unchanged >= 400
    again = cli(capsys, config, "councils", "update", "--from", str(SHARED_CSV))[1]
    assert again.splitlines()[0].startswith(f"0 added, 0 updated, {added + updated + unchanged}")
    # Every current council of the file is found by its GSS code in the merged register.
    with SHARED_CSV.open(encoding="utf-8-sig", newline="") as handle:
        rows = [r for r in csv.DictReader(handle) if r["gss-code"] and not r["end-date"]]
    merged = Register.builtin().merged(Register.load(tmp_path / "var" / "councils.json"))
    principal = [r for r in rows if r["local-authority-type"] not in ("COMB", "SRA", "GLA")]
    missing = [r["gss-code"] for r in principal if merged.by_gss(r["gss-code"]) is None]
    assert missing == []
