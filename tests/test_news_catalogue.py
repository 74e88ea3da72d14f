"""The publisher catalogue: built-in entries by council, and the operator's CSV import."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import pytest

from alerts.councils import Register
from cwerrors import ConfigError
from scraper.news.catalogue import (
    Catalogue,
    Publisher,
    builtin_catalogue,
    load_catalogue,
    parse_csv,
    to_toml,
)

REGISTER = Register.builtin()


def _in_county(county: str) -> frozenset[str]:
    return frozenset({county}) | REGISTER.in_county(county)


def test_every_built_in_entry_names_known_councils_and_https_addresses() -> None:
    catalogue = builtin_catalogue()
    assert len(catalogue.publishers) >= 40
    assert catalogue.unknown_councils(c.id for c in REGISTER.councils()) == {}
    names = [p.name for p in catalogue.publishers]
    assert len(names) == len(set(names))
    for p in catalogue.publishers:
        assert p.councils or p.counties, p.name
        for url in (p.homepage, *p.feeds):
            assert urlsplit(url).scheme == "https" and urlsplit(url).hostname, (p.name, url)
        # Nothing here could be fetched where it was written: verified only by a connected check.
        assert p.verified is False


def test_a_cumbrian_council_gets_cumbrian_papers_and_not_norfolk_ones() -> None:
    found = builtin_catalogue().for_councils({"cumberland"}, in_county=_in_county)
    covering = {p.name for p in found}
    assert {"news-and-star", "bbc-cumbria", "times-and-star"} <= covering
    assert "eastern-daily-press" not in covering and "westmorland-gazette" not in covering
    norfolk = {p.name for p in builtin_catalogue().for_councils({"north-norfolk"})}
    assert {"eastern-daily-press", "north-norfolk-news", "bbc-norfolk"} <= norfolk


def test_a_county_entry_covers_its_districts_through_the_register() -> None:
    suffolk_districts = REGISTER.in_county("suffolk")
    assert suffolk_districts
    district = sorted(suffolk_districts)[0]
    with_register = builtin_catalogue().for_councils({district}, in_county=_in_county)
    assert "bbc-suffolk" in {p.name for p in with_register}
    # Without the register a county entry covers only the county council itself.
    assert "bbc-suffolk" not in {p.name for p in builtin_catalogue().for_councils({district})}


CSV = (
    "name,publisher,homepage,owner,councils,feeds\n"
    "wensum-gazette,Wensum Gazette,https://www.wensum-gazette.example/,Independent,"
    "norfolk;broadland,\n"
    "eastern-daily-press,EDP (our own feed),https://www.edp24.co.uk/,Newsquest,norfolk,"
    "https://www.edp24.co.uk/news/local/rss/\n"
)


def test_import_adds_and_replaces_by_name_and_survives_a_round_trip(tmp_path: Path) -> None:
    imported = parse_csv(CSV.encode(), origin="papers.csv")
    merged = builtin_catalogue().merged(imported)
    assert merged.get("wensum-gazette") == imported[0]
    edp = merged.get("eastern-daily-press")
    assert edp is not None and edp.feeds == ("https://www.edp24.co.uk/news/local/rss/",)
    assert len(merged.publishers) == len(builtin_catalogue().publishers) + 1
    saved = tmp_path / "publishers.toml"
    saved.write_text(to_toml(imported), encoding="utf-8")
    loaded = load_catalogue(saved)
    assert loaded.get("wensum-gazette") == Publisher(
        "wensum-gazette", "Wensum Gazette", "https://www.wensum-gazette.example/",
        "Independent", (), ("norfolk", "broadland"), origin="publishers.toml",
    )
    assert load_catalogue(tmp_path / "absent.toml") == builtin_catalogue()


@pytest.mark.parametrize(
    ("csv_text", "message"),
    [
        ("name,publisher\nx,y\n", "papers.csv: missing column(s) homepage, councils"),
        ("name,publisher,homepage,councils\nBad Name,P,https://p.example/,norfolk\n",
         "papers.csv: row 2: name 'Bad Name' must be a slug"),
        ("name,publisher,homepage,councils\np,P,ftp://p.example/,norfolk\n",
         "papers.csv: row 2: homepage 'ftp://p.example/' is not an http(s) address"),
        ("name,publisher,homepage,councils\np,P,https://p.example/,\n",
         "papers.csv: row 2: councils is empty"),
        ("name,publisher,homepage,councils\np,P,https://p.example/,norfolk\n"
         "p,Q,https://q.example/,norfolk\n", "papers.csv: row 3: name 'p' appears twice"),
        ('name,publisher,homepage,councils\np,"P\nand a second line",https://p.example/,norfolk\n',
         "papers.csv: row 2: publisher contains a control character"),
        ("name,publisher,homepage,councils,feeds\np,P,https://p.example/,norfolk,/rss\n",
         "papers.csv: row 2: feed '/rss' is not an http(s) address"),
    ],
)
def test_a_bad_csv_row_fails_the_import_with_one_line(csv_text: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_csv(csv_text.encode(), origin="papers.csv")
    assert str(caught.value).startswith(message)
    assert "\n" not in str(caught.value)


def test_a_non_utf8_csv_and_a_broken_saved_file_are_one_line_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"papers\.csv: not UTF-8 text"):
        parse_csv("name,publisher\n\xe9".encode("latin-1"), origin="papers.csv")
    broken = tmp_path / "publishers.toml"
    broken.write_text("format = [", encoding="utf-8")
    with pytest.raises(ConfigError, match="not a publisher catalogue"):
        load_catalogue(broken)


def test_an_imported_council_not_in_the_register_is_reported() -> None:
    imported = parse_csv(
        b"name,publisher,homepage,councils\np,P,https://p.example/,norfolk;atlantis\n",
        origin="papers.csv",
    )
    merged = Catalogue(tuple(imported))
    assert merged.unknown_councils(c.id for c in REGISTER.councils()) == {"p": ["atlantis"]}


def _config(tmp_path: Path) -> Path:
    config = tmp_path / "config.toml"
    config.write_text(
        f'[database]\nurl = "sqlite:///{tmp_path / "cw.db"}"\n'
        f'[sources.news]\ncatalogue_file = "{tmp_path / "var" / "publishers.toml"}"\n'
    )
    return config


def test_cli_import_then_catalogue_by_council(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.cli import run_cli

    config = _config(tmp_path)
    papers = tmp_path / "papers.csv"
    papers.write_text(CSV, encoding="utf-8")
    result = run_cli(capsys, "--config", str(config), "feeds", "import", str(papers))
    assert result.code == 0, result.err
    saved = tmp_path / "var" / "publishers.toml"
    assert result.out.strip() == (
        f"imported 2 publishers (1 new, 1 replacing entries of the same name) into {saved}"
    )
    result = run_cli(capsys, "--config", str(config), "feeds", "catalogue", "--council",
                     "Broadland District Council", "--json")
    assert result.code == 0, result.err
    import json

    rows = {row["name"]: row for row in json.loads(result.out)}
    assert rows["wensum-gazette"]["origin"] == "publishers.toml"
    assert "bbc-norfolk" in rows and "news-and-star" not in rows

    # An abolished council's papers include its successors'.
    result = run_cli(capsys, "--config", str(config), "feeds", "catalogue", "--council",
                     "Allerdale Borough Council")
    assert "bbc-cumbria" in result.out and "news-and-star" in result.out

    # A bad file is one line and leaves what was saved untouched.
    before = saved.read_bytes()
    papers.write_text("name,publisher,homepage,councils\np,P,https://p.example/,atlantis\n")
    result = run_cli(capsys, "--config", str(config), "feeds", "import", str(papers))
    assert result.code == 1
    assert result.err.strip() == (
        "error: papers.csv: p: unknown council id(s) atlantis (see `councilwatch councils list`)"
    )
    assert saved.read_bytes() == before
    result = run_cli(capsys, "--config", str(config), "feeds", "import", str(tmp_path / "no.csv"))
    assert result.code == 1 and result.err.startswith("error: cannot read ")
    assert len(result.err.strip().splitlines()) == 1
