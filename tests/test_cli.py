import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from councilwatch.cli import app
from db.engine import make_engine
from db.ingest import DocumentRecord, upsert_documents
from scraper.sources import registry
from tests.cli import run_cli

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def config(tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(
        f'[database]\nurl = "{database_url}"\n'
        '[[sources.news.feeds]]\nname = "local-paper"\nurl = "http://127.0.0.1:9/rss"\n'
    )
    monkeypatch.delenv("COUNCILWATCH_DATABASE_URL", raising=False)
    return path


def _store(database_url: str) -> None:
    engine = make_engine(database_url)
    upsert_documents(
        engine,
        [
            DocumentRecord(
                kind="decision",
                source="lgsco",
                source_key="25 001 234",
                url="https://www.lgo.org.uk/decisions/education/25-001-234",
                title="Norfolk County Council (25 001 234)",
                body="The Council delayed the annual review of an education plan.",
                decided_on=date(2026, 8, 4),
                reference="25 001 234",
                organisation="Norfolk County Council",
                outcome="upheld",
                extra={"remedies": {"apology": True}},
            ),
            DocumentRecord(
                kind="news",
                source="news",
                source_key="https://paper/1",
                url="https://paper/1",
                title="Parents win apology",
                body="A family won an apology after delays.",
                published_at=datetime(2026, 9, 1, tzinfo=UTC),
                site_name="The Local Paper",
                extra={"feeds": ["local-paper"]},
            ),
        ],
        now=datetime(2026, 9, 2, tzinfo=UTC),
    )
    engine.dispose()


def test_version_and_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli(capsys, "--version").out.strip() == "councilwatch 0.1.0"
    result = run_cli(capsys, "--help")
    assert result.code == 0 and "search" in result.out and "export" in result.out


def test_search_and_export(
    config: Path, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    _store(database_url)
    result = run_cli(capsys, "--config", str(config), "search", "review", "--json")
    assert result.code == 0, result.err
    [hit] = json.loads(result.out)
    assert hit["reference"] == "25 001 234" and "[review]" in hit["snippet"]

    result = run_cli(capsys, "--config", str(config), "search", "review")
    count, first = result.out.splitlines()[:2]
    assert count == "1 document match"
    assert first.startswith("2026-08-04  decision  25 001 234  Norfolk County Council")

    # The alert language: NOT excludes, a feed's name picks its stories, the source column
    # names the publisher, and a query an alert refuses is one line naming its position.
    result = run_cli(capsys, "--config", str(config), "search", "apology NOT review")
    assert result.out.splitlines()[0] == "1 document match"
    assert "news      The Local Paper  Parents win apology" in result.out
    result = run_cli(
        capsys, "--config", str(config), "search", "apolog*", "--source", "local-paper"
    )
    assert result.out.splitlines()[0] == "1 document match"
    result = run_cli(capsys, "--config", str(config), "search", '"unclosed')
    assert result.code == 1
    assert result.err == "error: unterminated quote starting at position 0\n"

    result = run_cli(capsys, "--config", str(config), "export", "--kind", "decision")
    [line] = result.out.splitlines()
    row = json.loads(line)
    assert row["reference"] == "25 001 234"
    assert row["extra"] == {"remedies": {"apology": True}}
    assert {"body", "content_hash", "first_seen_at", "outcome"} <= set(row)

    result = run_cli(capsys, "--config", str(config), "export", "--format", "csv")
    lines = result.out.splitlines()
    assert lines[0].startswith("id,kind,source,source_key") and len(lines) == 3


def test_sources_lists_configured_sources(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    result = run_cli(capsys, "--config", str(config), "sources", "--json")
    assert result.code == 0, result.err
    names = [row["name"] for row in json.loads(result.out)]
    # news is listed as its feeds
    assert names == [*(name for name in registry.names() if name != "news"), "local-paper"]


def test_errors_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[http]\nbogus = 1\n")
    result = run_cli(capsys, "--config", str(bad), "sources")
    assert result.code == 1
    assert result.err == f"error: {bad}: unknown key 'http.bogus'\n"

    unreachable = tmp_path / "pg.toml"
    unreachable.write_text('[database]\nurl = "postgresql+psycopg://nobody@127.0.0.1:1/none"\n')
    result = run_cli(capsys, "--config", str(unreachable), "sources")
    assert result.code == 1
    assert result.err.startswith("error: cannot connect to database postgresql+psycopg://")
    assert result.err.count("\n") == 1


def test_unmigrated_database_says_what_to_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "c.toml"
    path.write_text(f'[database]\nurl = "sqlite:///{tmp_path}/new.db"\n')
    result = run_cli(capsys, "--config", str(path), "search", "x")
    assert result.code == 1 and "run `councilwatch db upgrade`" in result.err
    assert run_cli(capsys, "--config", str(path), "db", "upgrade").code == 0
    assert run_cli(capsys, "--config", str(path), "db", "check").code == 0
    assert run_cli(capsys, "--config", str(path), "search", "x").out == "no documents match\n"


def _commands(group: object, prefix: str = "") -> list[tuple[str, object]]:
    import typer.main

    command = typer.main.get_command(group)  # type: ignore[arg-type]
    found = []
    for name, sub in getattr(command, "commands", {}).items():
        if getattr(sub, "commands", None):
            found += [(f"{prefix}{name} {n}", c) for n, c in sub.commands.items()]
        else:
            found.append((prefix + name, sub))
    return found


def test_every_command_has_an_example_and_is_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text()
    commands = _commands(app)
    assert len(commands) >= 5
    for name, command in commands:
        assert "Example: councilwatch" in (command.help or ""), f"{name} help has no example"  # type: ignore[attr-defined]
        assert f"councilwatch {name}" in readme, f"README does not document `councilwatch {name}`"


def test_upgrade_cuts_the_search_keys_of_stored_documents(
    config: Path, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from db import migrate

    engine = make_engine(database_url)
    migrate.downgrade(engine, "0006_match_sets")  # a store from before the keys
    engine.dispose()
    _store(database_url)
    result = run_cli(capsys, "--config", str(config), "db", "upgrade")
    assert result.code == 0, result.err
    assert result.out.endswith("; search keys cut for 2 documents\n")
    result = run_cli(capsys, "--config", str(config), "search", "apolog*")
    assert result.out.splitlines()[0] == "1 document match"
