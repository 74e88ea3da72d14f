import os
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from councilwatch.runtime import Runtime
from councilwatch.schedule import interval, parse_schedule
from councilwatch.service import JobSpec, job_specs, run_service
from cwerrors import StorageError
from db.engine import make_engine
from scraper.sources import registry
from tests.dbfixtures import skip_without_postgres
from tests.runtimes import disable_sources, make_runtime

ROOT = Path(__file__).resolve().parents[1]


def recording_spec(seen: list[tuple[str, str]], lock: threading.Lock) -> JobSpec:
    schedule = interval(1, "Europe/London", jitter=False)

    def work(runtime: Runtime) -> None:
        with lock:
            seen.append((threading.current_thread().name, schedule.slot(runtime.now())))
        time.sleep(0.05)

    return JobSpec("test:tick", schedule, work, "tick", timedelta(seconds=1))


def test_two_services_on_postgres_work_each_slot_once(tmp_path: Path) -> None:
    skip_without_postgres()
    from tests.dbfixtures import fresh_database_url

    for url in fresh_database_url("postgres", tmp_path):
        seen: list[tuple[str, str]] = []
        lock = threading.Lock()
        stops = [threading.Event(), threading.Event()]
        threads = []
        for n, stop in enumerate(stops):
            (tmp_path / f"w{n}").mkdir(exist_ok=True)
            runtime = make_runtime(url, tmp_path / f"w{n}", toml="[web]\nenabled = false\n")
            thread = threading.Thread(
                target=run_service,
                args=(runtime,),
                kwargs={"stop": stop, "specs": [recording_spec(seen, lock)]},
            )
            thread.start()
            threads.append(thread)
        time.sleep(4.5)
        for stop in stops:
            stop.set()
        for thread in threads:
            thread.join(10)
        # The job's body runs a moment after its claim (seconds on a loaded machine), so the
        # slot it works out from the clock can be the next one: count claims, not names.
        # Each claimed slot is one job_runs row, and only a claim's winner works.
        with make_engine(url).connect() as connection:
            claimed = connection.execute(
                text("SELECT count(*) FROM job_runs WHERE job = 'test:tick'")
            ).scalar_one()
        assert claimed >= 3, seen
        assert len(seen) == claimed, (seen, claimed)


def test_a_second_service_on_one_sqlite_database_refuses_to_start(tmp_path: Path) -> None:
    from tests.dbfixtures import fresh_database_url

    for url in fresh_database_url("sqlite", tmp_path):
        first = make_runtime(url, tmp_path, toml="[web]\nenabled = false\n")
        stop, ready = threading.Event(), threading.Event()
        thread = threading.Thread(
            target=run_service, args=(first,), kwargs={"stop": stop, "ready": ready, "specs": []}
        )
        thread.start()
        assert ready.wait(10)
        second = make_runtime(url, tmp_path, toml="[web]\nenabled = false\n")
        with pytest.raises(StorageError, match="already uses this SQLite database"):
            run_service(second, stop=threading.Event(), specs=[])
        stop.set()
        thread.join(10)
        assert not thread.is_alive()


def test_jobs_come_from_config(tmp_path: Path) -> None:
    runtime = make_runtime("sqlite:///unused.db", tmp_path)
    names = [spec.name for spec in job_specs(runtime.settings)]
    assert names == [
        # news has no feed configured here, so no job
        *(f"fetch:{name}" for name in registry.names() if name != "news"),
        "digest:immediate",
        "digest:daily",
        "digest:weekly",
        "outbox:send",
        "outbox:prune",
        "health",
    ]
    daily = next(spec for spec in job_specs(runtime.settings) if spec.name == "digest:daily")
    assert daily.schedule.slot(
        daily.schedule.trigger.get_next_fire_time(None, runtime.now())
    ).startswith("d:")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("every day", "expected 'interval:"),
        ("interval:10s", "under a minute"),
        ("cron:61 * * * *", "invalid cron line"),
    ],
)
def test_bad_schedules_are_config_errors(text: str, message: str) -> None:
    from cwerrors import ConfigError

    with pytest.raises(ConfigError, match=message):
        parse_schedule(text, "Europe/London", key="sources.lgsco.schedule")


def test_sigterm_stops_the_service_cleanly(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    port = _free_port()
    config.write_text(
        f'[database]\nurl = "sqlite:///{tmp_path}/s.db"\n'
        f'[web]\nlisten = "127.0.0.1:{port}"\nenabled = false\n'
        + disable_sources()
        + "[sources.news]\nenabled = false\n"
    )
    env = {**os.environ, "COUNCILWATCH_SECRET_KEY": "k" * 32}
    cli = [sys.executable, "-m", "councilwatch.cli", "--config", str(config)]
    subprocess.run([*cli, "db", "upgrade"], check=True, env=env, capture_output=True)
    process = subprocess.Popen(
        [*cli, "run"], env=env, stderr=subprocess.PIPE, text=True, cwd=tmp_path
    )
    assert process.stderr is not None
    deadline = time.monotonic() + 20
    for line in process.stderr:
        if "service started" in line or time.monotonic() > deadline:
            break
    process.send_signal(signal.SIGTERM)
    assert process.wait(20) == 0
    rest = process.stderr.read()
    assert "service stopped" in rest


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_the_service_serves_the_web_pages_in_process(tmp_path: Path) -> None:
    import httpx

    from tests.dbfixtures import fresh_database_url

    port = _free_port()
    for url in fresh_database_url("sqlite", tmp_path):
        runtime = make_runtime(url, tmp_path, toml=f'[web]\nlisten = "127.0.0.1:{port}"\n')
        stop, ready = threading.Event(), threading.Event()
        thread = threading.Thread(
            target=run_service, args=(runtime,), kwargs={"stop": stop, "ready": ready, "specs": []}
        )
        thread.start()
        try:
            assert ready.wait(20)
            answer = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5)
            assert answer.status_code == 200 and answer.json()["database"]["ok"] is True
        finally:
            stop.set()
            thread.join(20)
        assert not thread.is_alive()
