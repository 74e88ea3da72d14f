"""The service: resident memory idle and during a 1,000-decision LGSCO run; CLI start-up time.

    .venv/bin/python bench/service.py [--quick]

Part 1 - start-up. `councilwatch --help` (the installed console script) beside
`python -c pass`, median of 10 runs each (5 with --quick), measured in the same run.
Goal: under 0.5 s.

Part 2 - memory. VmRSS from /proc/<pid>/status, sampled every 0.1 s, of real
`councilwatch run` processes on a scratch SQLite database with the web app on:
- idle: no sources enabled, sampled after "service started";
- busy: LGSCO enabled against the simulated LGSCO site of tests/lgsco_site.py, served by this
  script on the local test web with 1,000 invented decisions (300 with --quick) and a window
  that covers them all, so the service's first scheduled LGSCO run fetches, parses, ingests
  and tags every one of them. The job fires on the minute (schedule "interval:1m", the
  shortest allowed), so the script may wait up to a minute for it; the samples before it fires
  are the busy process's own idle figure.
Baseline: a bare `python -c "import time; time.sleep(...)"`, measured in the same run.
Goal: under 150 MB idle, and flat during the run (last quarter vs first quarter of samples).
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import print_table  # noqa: E402
from tests.lgsco_site import SimulatedLgsco  # noqa: E402
from tests.testweb import LocalWeb  # noqa: E402

SAMPLE_EVERY = 0.1
MB = 1024 * 1024
CLI = Path(sys.executable).parent / "councilwatch"


# -- start-up ----------------------------------------------------------------------------------


def median_run_seconds(command: list[str], repeat: int) -> float:
    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        timings.append(time.perf_counter() - started)
    return statistics.median(timings)


def startup(repeat: int) -> None:
    baseline = median_run_seconds([sys.executable, "-c", "pass"], repeat)
    ours = median_run_seconds([str(CLI), "--help"], repeat)
    print_table(
        f"CLI start-up, median of {repeat} runs (goal: councilwatch --help < 0.5 s)",
        ["command", "median s", "ratio"],
        [
            ["python -c pass (baseline)", f"{baseline:.3f}", "1.00"],
            ["councilwatch --help", f"{ours:.3f}", f"{ours / baseline:.2f}"],
        ],
    )


# -- memory ------------------------------------------------------------------------------------


def rss_bytes(pid: int) -> int | None:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    match = re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE)
    return int(match.group(1)) * 1024 if match else None


class Sampler:
    """VmRSS of one process every SAMPLE_EVERY seconds, each sample tagged with a phase."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.phase = "start"
        self.samples: list[tuple[str, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(SAMPLE_EVERY):
            value = rss_bytes(self.pid)
            if value is not None:
                self.samples.append((self.phase, value))

    def of(self, phase: str) -> list[int]:
        return [value for found, value in self.samples if found == phase]


class Service:
    """A `councilwatch run` subprocess whose stderr lines are watched for markers."""

    def __init__(self, config: Path, workdir: Path) -> None:
        env = {**os.environ, "COUNCILWATCH_SECRET_KEY": "bench-secret-key-0123456789-abcdef"}
        env.pop("COUNCILWATCH_DATABASE_URL", None)
        cli = [sys.executable, "-m", "councilwatch.cli", "--config", str(config)]
        subprocess.run([*cli, "db", "upgrade"], check=True, env=env, capture_output=True)
        self.process = subprocess.Popen(
            [*cli, "run"], env=env, cwd=workdir, stderr=subprocess.PIPE, text=True
        )
        self.lines: list[str] = []
        self._changed = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            with self._changed:
                self.lines.append(line)
                self._changed.notify_all()

    def wait_for(self, pattern: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        with self._changed:
            while not any(re.search(pattern, line) for line in self.lines):
                left = deadline - time.monotonic()
                if left <= 0 or self.process.poll() is not None:
                    tail = "".join(self.lines[-20:])
                    raise SystemExit(f"service: no line matching {pattern!r}:\n{tail}")
                self._changed.wait(min(left, 1.0))

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(60)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def write_config(directory: Path, lgsco: str) -> Path:
    config = directory / "config.toml"
    config.write_text(
        f'[database]\nurl = "sqlite:///{directory / "bench.db"}"\n'
        "[http]\nmin_interval_seconds = 0\nmax_attempts = 1\n"
        f"[sources.lgsco]\n{lgsco}\n"
        "[sources.news]\nenabled = false\n"
        f'[mail]\noutbox_dir = "{directory / "outbox"}"\n'
        f'[councils]\nregister_file = "{directory / "councils.json"}"\n'
        f'[web]\nlisten = "127.0.0.1:{free_port()}"\nenabled = true\n'
    )
    return config


def baseline_rss(seconds: float) -> list[int]:
    process = subprocess.Popen([sys.executable, "-c", f"import time; time.sleep({seconds + 1})"])
    with Sampler(process.pid) as sampler:
        time.sleep(seconds)
    process.wait()
    return sampler.of("start")


def idle(seconds: float) -> list[int]:
    with tempfile.TemporaryDirectory(prefix="bench-service-") as scratch:
        directory = Path(scratch)
        service = Service(write_config(directory, "enabled = false"), directory)
        try:
            service.wait_for("service started", 60)
            with Sampler(service.process.pid) as sampler:
                sampler.phase = "idle"
                time.sleep(seconds)
        finally:
            service.stop()
    return sampler.of("idle")


def wait_for_a_fresh_minute(margin: float) -> None:
    """Start well before the next whole minute, so that start-up is not inside the job."""
    left = 60 - time.time() % 60
    if left < margin:
        time.sleep(left + 1)


def busy(decisions: int) -> tuple[list[int], list[int], list[int], int, float]:
    """(RSS before the LGSCO job, during it, 3 s after it, decision pages served, seconds)."""
    web = LocalWeb().start()
    try:
        today = datetime.now(ZoneInfo("Europe/London")).date()
        site = SimulatedLgsco(web, today=today, count=decisions, days=700, seed=9).install()
        # A few generated decisions are published after today; publish that many more now so
        # that exactly ``decisions`` are listed.
        site.publish_mid_window(decisions - len(site.visible()), window_days=700)
        with tempfile.TemporaryDirectory(prefix="bench-service-") as scratch:
            directory = Path(scratch)
            lgsco = (
                f'enabled = true\nbase_url = "{web.url()}"\n'
                'window_days = 760\nschedule = "interval:1m"\n'
            )
            config = write_config(directory, lgsco)
            wait_for_a_fresh_minute(margin=15)
            service = Service(config, directory)
            try:
                with Sampler(service.process.pid) as sampler:
                    service.wait_for("service started", 60)
                    sampler.phase = "before"
                    service.wait_for(r"job fetch:lgsco \(.*\) started", 90)
                    sampler.phase = "during"
                    started = time.perf_counter()
                    service.wait_for(r"job fetch:lgsco \(.*\) finished", 900)
                    seconds = time.perf_counter() - started
                    sampler.phase = "after"
                    time.sleep(3)  # does memory stay where the run left it?
                finished = next(
                    line for line in service.lines if "fetch:lgsco" in line and "finished" in line
                )
                print(f"\n{finished.strip()}")
            finally:
                service.stop()
        served = sum(site.decision_requests().values())
    finally:
        web.stop()
    return sampler.of("before"), sampler.of("during"), sampler.of("after"), served, seconds


def mb(values: list[int], pick: Callable[[list[int]], float] = statistics.median) -> str:
    return f"{pick(values) / MB:.1f}" if values else "-"


def memory(decisions: int, idle_seconds: float) -> None:
    base = baseline_rss(3)
    quiet = idle(idle_seconds)
    before, during, after, served, seconds = busy(decisions)
    quarter = max(1, len(during) // 4)
    first, last = during[:quarter], during[-quarter:]
    reference = statistics.median(base)

    def row(name: str, values: list[int]) -> list[str]:
        ratio = f"{statistics.median(values) / reference:.2f}" if values else "-"
        return [name, str(len(values)), mb(values), mb(values, max), ratio]

    print_table(
        "Resident memory (VmRSS, MB; goal: idle < 150 MB, flat during the run)",
        ["process", "samples", "median", "max", "ratio to bare python"],
        [
            row("bare python (baseline)", base),
            row("councilwatch run, idle (no sources)", quiet),
            row("councilwatch run, LGSCO on, before its job", before),
            row("  during the LGSCO run: first quarter", first),
            row("  during the LGSCO run: last quarter", last),
            row("  during the LGSCO run: all", during),
            row("  3 s after the LGSCO run", after),
        ],
    )
    growth = (statistics.median(last) - statistics.median(first)) / MB if during else 0.0
    print(
        f"LGSCO run: {served} decision pages served in {seconds:.1f} s; RSS last quarter minus "
        f"first quarter: {growth:+.1f} MB"
    )


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--quick", action="store_true", help="fewer runs and decisions")
    args = options.parse_args()
    startup(repeat=5 if args.quick else 10)
    memory(decisions=300 if args.quick else 1000, idle_seconds=4 if args.quick else 10)


if __name__ == "__main__":
    main()
