"""Start-up cost of the commands people run by hand: `search`, `status` and `export` load only
what they need. Each runs in a fresh interpreter on a migrated store, then reports which
heavy packages ended up imported (the fetcher's, the scheduler's, the web server's, the mail
renderer's, Alembic's, and for reading documents SQLModel and the model classes), and which
command modules, so a top-level import added anywhere on their path fails here."""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer
import typer.main

from councilwatch import commands
from councilwatch.cli import _command
from db import migrate
from db.engine import make_engine

ROOT = Path(__file__).resolve().parents[1]
NEVER = (
    "trafilatura", "lxml", "bs4", "selectolax", "httpx", "datasketch", "numpy",  # fetching
    "apscheduler.schedulers", "uvicorn", "starlette",  # the service and its web server
    "jinja2", "css_inline", "aiosmtpd",  # digests and mail
    "alembic", "mako",  # migrations: a current schema is checked without them
)  # fmt: skip
# `status` prints the next run of every job, which is the scheduler's trigger arithmetic
ONLY_STATUS = ("apscheduler.triggers",)
# Reading documents, runs and the outbox needs SQLAlchemy Core and db/*_tables.py, not the
# ORM: SQLModel, pydantic models of every table and the mapper cost a few hundred
# milliseconds of start-up.
ORM = (
    "sqlmodel", "sqlalchemy.orm", "db.models", "db.models_delivery", "db.models_service",
    "db.models_search", "db.tables",
)  # fmt: skip
# PostgreSQL's dialect is imported only by a PostgreSQL engine.
POSTGRES = ("sqlalchemy.dialects.postgresql", "psycopg")
# `search` on a SQLite file reads it with sqlite3 alone (db.sqlite_search): SQLAlchemy's import
# was about half of its start-up. export and status still read through Core tables.
SQLALCHEMY = ("sqlalchemy",)
# The configuration reads each source's settings (scraper/sources/settings.py and the sources'
# config modules), not the crawling contract (items, crawls, memory, checks, the fetcher's).
CRAWLING = ("scraper.sources.base", "scraper.fetcher")

PROBE = """
import json, sys
from councilwatch.cli import main
code = main(sys.argv[1:])
print(json.dumps({"code": code, "modules": sorted(sys.modules)}), file=sys.stderr)
"""


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("cli-imports")
    url = f"sqlite:///{tmp / 'cw.db'}"
    engine = make_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    path = tmp / "config.toml"
    path.write_text(f'[database]\nurl = "{url}"\n')
    return path


def imported(config: Path, *args: str) -> set[str]:
    env = {**os.environ, "COUNCILWATCH_SECRET_KEY": "test-secret-key-0123456789-abcdefghij"}
    done = subprocess.run(
        [sys.executable, "-c", PROBE, "-c", str(config), *args],
        capture_output=True, text=True, cwd=ROOT, env=env, timeout=120, check=False,
    )  # fmt: skip
    report = json.loads(done.stderr.strip().splitlines()[-1])
    assert report["code"] == 0, done.stderr
    return set(report["modules"])


def loaded(modules: set[str], packages: tuple[str, ...]) -> list[str]:
    return [p for p in packages if any(m == p or m.startswith(p + ".") for m in modules)]


def command_modules(modules: set[str]) -> set[str]:
    prefix = "councilwatch.commands."
    return {m.removeprefix(prefix) for m in modules if m.startswith(prefix)} - {"common"}


@pytest.mark.parametrize(
    ("args", "allowed", "own"),
    [
        (("search", "school transport"), (), {"documents"}),
        (("search", '"care plan"', "--kind", "news", "--since", "2026-01-01"), (), {"documents"}),
        (("export", "--kind", "decision"), (*SQLALCHEMY,), {"documents"}),
        # status prints each source's health the way `sources` does (its health_line, and the
        # runs each source makes); the runs, health state and outbox it reads are Core tables
        # (db/run_tables.py, db/delivery_tables.py), so it needs no ORM either
        (("status",), (*ONLY_STATUS, *CRAWLING, *SQLALCHEMY), {"status", "sources"}),
    ],
)
def test_command_imports_only_what_it_needs(
    config: Path, args: tuple[str, ...], allowed: tuple[str, ...], own: set[str]
) -> None:
    modules = imported(config, *args)
    assert "sqlite3" in modules  # the probe saw a real run, not an early exit
    every = (*NEVER, *ONLY_STATUS, *ORM, *POSTGRES, *CRAWLING, *SQLALCHEMY)
    forbidden = tuple(p for p in every if p not in allowed)
    assert loaded(modules, forbidden) == []
    assert command_modules(modules) == own  # not every command's module


def _whole_app() -> typer.Typer:
    app = typer.Typer()
    commands.register_all(app)
    return app


def test_the_command_table_names_every_command_of_every_module_in_help_order() -> None:
    registered = {}
    for module in commands.MODULES:
        part = typer.Typer()
        commands.register(part, module)
        registered.update(dict.fromkeys(typer.main.get_group(part).commands, module))
    assert registered == commands.COMMANDS
    assert list(commands.COMMANDS) == list(typer.main.get_group(_whole_app()).commands)


def test_the_root_group_lists_every_command_as_the_whole_app_does() -> None:
    root = _command()
    whole = typer.main.get_group(_whole_app())
    with typer.Context(root) as ctx:
        assert root.list_commands(ctx) == list(whole.commands)
        for name, command in whole.commands.items():
            found = root.get_command(ctx, name)
            assert found is not None and found.help == command.help, name


def test_the_collector_is_paused_through_a_short_command_and_back_after(
    config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """search, export and status run with the cyclic collector paused (their start-up is
    most of their time); other commands get it back before their own work; and `main` leaves
    it as it found it."""
    import councilwatch.search
    from councilwatch.cli import main
    from db import migrate

    seen: dict[str, bool] = {}
    search, check = councilwatch.search.search, migrate.check

    def searching(*args: Any, **kwargs: Any) -> Any:
        seen["search"] = gc.isenabled()
        return search(*args, **kwargs)

    def checking(*args: Any, **kwargs: Any) -> Any:
        seen["db check"] = gc.isenabled()
        return check(*args, **kwargs)

    monkeypatch.setattr(councilwatch.search, "search", searching)
    monkeypatch.setattr(migrate, "check", checking)
    monkeypatch.setenv("COUNCILWATCH_SECRET_KEY", "test-secret-key-0123456789-abcdefghij")
    assert gc.isenabled()
    assert main(["-c", str(config), "search", "council"]) == 0
    assert gc.isenabled()
    assert main(["-c", str(config), "db", "check"]) == 0
    assert gc.isenabled()
    assert seen == {"search": False, "db check": True}
    gc.disable()  # a caller that had it off finds it off
    try:
        assert main(["-c", str(config), "search", "council"]) == 0
        assert not gc.isenabled()
    finally:
        gc.enable()


PLUGINS_PROBE = """
import json, os, sys
from councilwatch.cli import main
code = main(sys.argv[1:])
from pydantic.plugin import _loader
print(json.dumps({"code": code, "scanned": _loader._plugins is not None,
                  "left": os.environ.get("PYDANTIC_DISABLE_PLUGINS")}), file=sys.stderr)
"""


@pytest.mark.parametrize("args", [("search", "school"), ("status",), ("export",)])
def test_the_short_commands_do_not_look_for_pydantic_plugins(
    config: Path, args: tuple[str, ...]
) -> None:
    """The configuration is validated without pydantic plugins (none is councilwatch's; the
    look-up reads every installed distribution's entry points, and a plugin would see the
    signing key): search, status and export never scan for them (commands that build
    SQLModel's models later still do), and the variable that says so is not left behind."""
    env = {**os.environ, "COUNCILWATCH_SECRET_KEY": "test-secret-key-0123456789-abcdefghij"}
    env.pop("PYDANTIC_DISABLE_PLUGINS", None)
    done = subprocess.run(
        [sys.executable, "-c", PLUGINS_PROBE, "-c", str(config), *args],
        capture_output=True, text=True, cwd=ROOT, env=env, timeout=120, check=False,
    )  # fmt: skip
    report = json.loads(done.stderr.strip().splitlines()[-1])
    assert report == {"code": 0, "scanned": False, "left": None}
