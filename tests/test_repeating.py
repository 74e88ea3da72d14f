"""councilwatch.repeating: an action repeated from a thread while a block runs."""

from __future__ import annotations

import logging
import threading

from councilwatch.repeating import Repeating

log = logging.getLogger("test")


def test_a_wake_runs_the_action_without_waiting_for_the_interval() -> None:
    ran = threading.Semaphore(0)
    with Repeating("r", 3600.0, ran.release, failure="failed", log=log) as repeating:
        repeating.wake()
        assert ran.acquire(timeout=10)
        repeating.wake()
        assert ran.acquire(timeout=10)  # every wake, not only the first


def test_a_wake_while_the_action_runs_runs_it_once_more_after() -> None:
    started, release, runs = threading.Event(), threading.Event(), []

    def action() -> None:
        runs.append(1)
        started.set()
        release.wait(10)

    with Repeating("r", 3600.0, action, failure="failed", log=log) as repeating:
        repeating.wake()
        assert started.wait(10)
        started.clear()
        repeating.wake()  # while the first run goes on
        release.set()
        assert started.wait(10)
    assert len(runs) == 2


def test_leaving_the_block_does_not_wait_for_the_interval_or_run_the_action() -> None:
    runs: list[int] = []
    with Repeating("r", 3600.0, lambda: runs.append(1), failure="failed", log=log):
        pass
    assert runs == []
