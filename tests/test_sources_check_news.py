"""`councilwatch sources check news` on the local test web: every configured feed fetched and
parsed (a homepage through discovery), and with --catalogue the papers covering a council,
saying which unverified entries would now verify. Nothing is stored or written."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

import scraper.news
from tests.cli import Result, run_cli
from tests.news_sites import SimItem, rss
from tests.testweb import LocalWeb

WHEN = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
ITEMS = [
    SimItem("Bypass plan goes back to the cabinet", "/news/2001.bypass/", WHEN,
            "Councillors will look again at the route."),
    SimItem("Library opening hours cut from January", "/news/2002.library/", WHEN,
            "Three branches will close on Mondays."),
    SimItem("School transport contract re-tendered", "/news/2003.buses/", WHEN,
            "The old operator withdrew."),
]
BUILT_IN = Path(scraper.news.__file__).parent / "data" / "publishers.toml"


@pytest.fixture
def web(testweb: LocalWeb) -> LocalWeb:
    testweb.route("/oakham/feed.xml", body=rss("Oakham Echo", ITEMS, testweb.url("")),
                  content_type="application/rss+xml")
    testweb.route("/uppingham/", content_type="text/html", body=(
        "<!doctype html><html><head><title>Uppingham Post</title>"
        '<link rel="alternate" type="application/rss+xml" href="/uppingham/rss.xml">'
        "</head><body><h1>News</h1></body></html>"
    ))
    testweb.route("/uppingham/rss.xml", body=rss("Uppingham Post", ITEMS[:2], testweb.url("")),
                  content_type="application/rss+xml")
    testweb.route("/gone/feed.xml", status=410)
    return testweb


def write_config(tmp_path: Path, web: LocalWeb, *, broken: bool = False) -> Path:
    feeds = [
        ("oakham-echo", web.url("/oakham/feed.xml"), "rss"),
        ("uppingham-post", web.url("/uppingham/"), "site"),
    ]
    if broken:
        feeds.append(("gone-gazette", web.url("/gone/feed.xml"), "rss"))
    text = (
        f'[database]\nurl = "sqlite:///{tmp_path}/never-created.db"\n'
        "[http]\nmin_interval_seconds = 0\nmax_attempts = 1\n"
        f'[sources.news]\ncatalogue_file = "{tmp_path / "publishers.toml"}"\n'
    )
    for name, url, kind in feeds:
        text += f'[[sources.news.feeds]]\nname = "{name}"\nurl = "{url}"\nkind = "{kind}"\n'
    path = tmp_path / "config.toml"
    path.write_text(text)
    return path


def check(capsys: pytest.CaptureFixture[str], config: Path, *args: str) -> Result:
    return run_cli(capsys, "--config", str(config), "sources", "check", "news", *args)


def error_line(result: Result) -> str:
    [line] = [line for line in result.err.splitlines() if line.startswith("error:")]
    return line


def field_line(out: str, name: str) -> str:
    [line] = [line for line in out.splitlines() if line.startswith(f"  {name}:")]
    return line


def test_every_configured_feed_is_fetched_and_a_homepage_is_discovered(
    web: LocalWeb, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path, web)
    result = check(capsys, config)
    assert result.code == 0, result.err
    assert field_line(result.out, "oakham-echo").endswith("ok (3 items)")
    uppingham = field_line(result.out, "uppingham-post")
    assert "ok (2 items (rss) at " in uppingham and uppingham.endswith("/uppingham/rss.xml)")
    assert result.out.endswith("ok: every configured feed gave items\n")
    assert web.count("/oakham/feed.xml") == 1
    assert not (tmp_path / "never-created.db").exists()  # nothing stored


def test_a_configured_feed_that_fails_fails_the_check_by_name(
    web: LocalWeb, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path, web, broken=True)
    result = check(capsys, config)
    assert result.code == 1
    assert field_line(result.out, "oakham-echo").endswith("ok (3 items)")  # the others still run
    [step] = [line for line in result.out.splitlines() if line.startswith("gone-gazette ")]
    assert step.split()[1] == "FAILED" and step.endswith("/gone/feed.xml")
    assert field_line(result.out, "gone-gazette").startswith("  gone-gazette:  FAILED: HTTP 410")
    line = error_line(result)
    assert line.startswith("error: news check failed: feed gone-gazette: ") and "410" in line
    assert "oakham" not in line


def test_the_catalogue_says_which_papers_covering_a_council_would_now_verify(
    web: LocalWeb, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path, web)
    papers = tmp_path / "papers.csv"
    papers.write_text(
        "name,publisher,homepage,councils,feeds\n"
        f"oakham-echo-paper,Oakham Echo,{web.url('/oakham/')},rutland,"
        f"{web.url('/oakham/feed.xml')}\n"
        f"uppingham-paper,Uppingham Post,{web.url('/uppingham/')},rutland,\n"
        f"dead-paper,Dead Paper,{web.url('/gone/')},rutland,{web.url('/gone/feed.xml')}\n"
        f"island-paper,Island Paper,{web.url('/island/')},isle-of-wight,\n"
    )
    imported = run_cli(capsys, "--config", str(config), "feeds", "import", str(papers))
    assert imported.code == 0, imported.err
    saved = (tmp_path / "publishers.toml").read_bytes()
    built_in = BUILT_IN.read_bytes()

    result = check(capsys, config, "--catalogue", "--council", "Rutland")
    assert result.code == 0, result.err  # a catalogue entry failing does not fail the check
    assert "catalogue, papers covering Rutland County Council:" in result.out
    assert field_line(result.out, "oakham-echo-paper").endswith(
        "unverified, would now verify: ok (3 items)"
    )
    assert "unverified, would now verify: ok (2 items (rss)" in field_line(
        result.out, "uppingham-paper"
    )
    dead = field_line(result.out, "dead-paper")
    assert "unverified, does not verify: " in dead and "410" in dead
    assert "island-paper" not in result.out  # another council's paper
    assert web.count("/island/") == 0
    assert (tmp_path / "publishers.toml").read_bytes() == saved  # nothing written
    assert BUILT_IN.read_bytes() == built_in


def test_no_configured_feed_is_said_plainly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f'[database]\nurl = "sqlite:///{tmp_path}/never-created.db"\n')
    result = check(capsys, config)
    assert result.code == 0, result.err
    last = result.out.splitlines()[-1]
    assert last == "ok: no feed is configured ([[sources.news.feeds]]), so none failed"
    assert "requests: 0 " in result.out
