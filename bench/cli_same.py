"""Every command's --help, usage and config errors, and the outputs of search, export and
status: main's code (or --baseline-rev) against this tree's, byte for byte, each a fresh process.

    .venv/bin/python bench/cli_same.py                  # on bench/cli.py's cached 200,000 store
    .venv/bin/python bench/cli_same.py --quick -v       # 10,000; print every case's digest

`status --json` prints the next runs with the scheduler's jitter (seconds differ between two
runs of one tree), so its seconds are masked before comparing.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(HERE))

from bench.cli import SECRET, baseline_tree, rare_word, sqlite_store, write_config  # noqa: E402
from db import migrate  # noqa: E402
from db.engine import make_engine  # noqa: E402

PROGRAM = "import sys; from councilwatch.cli import main; sys.exit(main())"
_JITTER = re.compile(rb":\d{2}\.\d+\+00:00")


def cases(
    main_tree: Path, work: Path, big: str, tiny: str
) -> list[tuple[dict[str, str], list[str]]]:
    (work / "bad.toml").write_text("[database\nurl=1")
    (work / "unknown.toml").write_text(
        '[database]\nurl = "sqlite:///x.db"\nfoo = 1\n[http]\nmax_attempts = 99\n'
    )
    (work / "secrets.toml").write_text('[secrets]\nsecret_key = "x"\n')
    (work / "nodb.toml").write_text(f'[database]\nurl = "sqlite:///{work}/none/x.db"\n')
    (work / "badsrc.toml").write_text('[sources.lgsco]\nbase_url = "ftp://x"\nwindow_days = 0\n')
    (work / "latin1.toml").write_bytes(b"# caf\xe9\n")
    walk = subprocess.run(
        [sys.executable, "-c", (
            "import json, typer.main\n"
            "from councilwatch.cli import app\n"
            "def paths(cmd, prefix):\n"
            "    yield prefix\n"
            "    for name, sub in getattr(cmd, 'commands', {}).items():\n"
            "        yield from paths(sub, prefix + [name])\n"
            "print(json.dumps(list(paths(typer.main.get_command(app), []))))\n"
        )],
        capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(main_tree)},
        cwd=work, check=True,
    )  # fmt: skip
    found: list[list[str]] = [[*p, "--help"] for p in json.loads(walk.stdout)]
    found += [
        [], ["-h"], ["--version"], ["serch", "x"], ["db"], ["search"], ["nosuch"],
        ["search", "x", "--limit", "0"], ["search", "x", "--kind", "foo"],
        ["export", "--format", "xml"], ["--log-format", "xml", "search", "x"],
        ["search", "x", "--since", "2026-13-01"], ["subscriptions"], ["digest"],
    ]  # fmt: skip
    for query in (
        ["council"], ["school transport"], [rare_word()], ['"care plan"'],
        ["housing", "--kind", "decision"], ["council", "--json", "--limit", "3"],
        ["council AND"], ["(school"], ["zzzqqq"],
        ["transport", "--source", "lgsco", "--since", "2026-01-01"],
        ["school*", "--kind", "news"], ["council NOT school", "--limit", "5"],
    ):  # fmt: skip
        found.append(["-c", big, "search", *query])
    found += [
        ["-c", big, "export", "--kind", "decision", "--since", "2026-12-01"],
        ["-c", big, "export", "--kind", "news", "--format", "csv"],
        ["-c", big, "status"], ["-c", tiny, "status"], ["-c", tiny, "status", "--json"],
        ["-c", tiny, "sources"], ["-c", tiny, "db", "check"],
    ]  # fmt: skip
    for bad in ("bad", "unknown", "secrets", "nodb", "badsrc", "latin1", "missing"):
        for command in (["search", "x"], ["status"], ["export"]):
            found.append(["-c", str(work / f"{bad}.toml"), *command])
    out: list[tuple[dict[str, str], list[str]]] = [({}, args) for args in found]
    out += [
        ({"COUNCILWATCH_HTTP__MAX_ATTEMPTS": "0"}, ["-c", tiny, "search", "x"]),
        ({"COUNCILWATCH_DATABASE_URL": "mysql://x"}, ["status"]),
        ({"COUNCILWATCH_SECRET_KEY": "short"}, ["-c", tiny, "search", "x"]),
        ({"COUNCILWATCH_SECRET_KEY_FILE": "/nonexistent"}, ["-c", tiny, "export"]),
    ]
    return out


def run(tree: Path, work: Path, args: list[str], extra: dict[str, str]) -> tuple[int, bytes, bytes]:
    env = {**os.environ, "PYTHONPATH": str(tree), "COUNCILWATCH_SECRET_KEY": SECRET, **extra}
    if "COUNCILWATCH_SECRET_KEY_FILE" in extra:
        env.pop("COUNCILWATCH_SECRET_KEY")
    done = subprocess.run(
        [sys.executable, "-c", PROGRAM, *args], capture_output=True, env=env, cwd=work
    )  # fmt: skip
    out = done.stdout
    if "status" in args and "--json" in args:
        out = _JITTER.sub(b":SS+00:00", out)
    return done.returncode, out, done.stderr


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10,000 documents")
    parser.add_argument("--baseline-rev", default="main")
    parser.add_argument("-v", action="store_true", help="print each case's exit code and digest")
    args = parser.parse_args()
    big = str(write_config(sqlite_store(10_000 if args.quick else 200_000), "sqlite"))
    work = Path(tempfile.mkdtemp())
    empty = f"sqlite:///{work / 'empty.db'}"
    engine = make_engine(empty)
    migrate.upgrade(engine)
    engine.dispose()
    (work / "tiny.toml").write_text(f'[database]\nurl = "{empty}"\n')
    tiny = str(work / "tiny.toml")
    base = baseline_tree(args.baseline_rev)
    same = differ = 0
    for extra, argv in cases(base, work, big, tiny):
        a, b = run(base, work, argv, extra), run(HERE, work, argv, extra)
        if a != b and "status" in argv:  # the next runs of two processes a minute apart
            a, b = run(base, work, argv, extra), run(HERE, work, argv, extra)
        if a == b:
            same += 1
        else:
            differ += 1
            print("DIFFER", extra or "", argv, a[0], b[0])
            print("  baseline:", a[1][-300:], a[2][-300:])
            print("  this:    ", b[1][-300:], b[2][-300:])
        if args.v:
            print(a[0], argv, hashlib.sha256(a[1] + a[2]).hexdigest()[:10], len(a[1]), a[2][:100])
    print(f"{same} cases identical, {differ} differ (baseline {args.baseline_rev} = {base.name})")
    sys.exit(1 if differ else 0)


if __name__ == "__main__":
    main()
