"""Start-up cost of the commands people run by hand: `search`, `status` and `export` load only
what they need. Each runs in a fresh interpreter on a migrated store, then reports which
heavy packages ended up imported (the fetcher's, the scheduler's, the web server's, the mail
renderer's, Alembic's), so a top-level import added anywhere on their path fails here."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

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


@pytest.mark.parametrize(
    ("args", "allowed"),
    [
        (("search", "school transport"), ()),
        (("export", "--kind", "decision"), ()),
        (("status",), ONLY_STATUS),
    ],
)
def test_command_imports_only_what_it_needs(
    config: Path, args: tuple[str, ...], allowed: tuple[str, ...]
) -> None:
    modules = imported(config, *args)
    assert "sqlalchemy" in modules  # the probe saw a real run, not an early exit
    forbidden = tuple(p for p in (*NEVER, *ONLY_STATUS) if p not in allowed)
    assert loaded(modules, forbidden) == []
