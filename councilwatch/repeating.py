"""An action repeated from a background thread while a block of work runs."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable


class Repeating:
    """Runs ``action`` every ``every`` seconds in a daemon thread from entering the ``with``
    block until leaving it (or until ``stopping`` is set), and at once after a ``wake()``. A
    failure is logged as a warning with ``failure`` and the next round tries again: what
    repeats here is best effort."""

    def __init__(
        self,
        name: str,
        every: float,
        action: Callable[[], object],
        *,
        failure: str,
        log: logging.Logger,
        stopping: threading.Event | None = None,
    ) -> None:
        self._every, self._action = every, action
        self._failure, self._log, self._stopping = failure, log, stopping
        self._done = threading.Event()
        self._wake = threading.Event()  # set by wake() and on the way out
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)

    def wake(self) -> None:
        """Run the action now rather than at the end of the wait (work is ready for it);
        a wake while it runs makes it run once more straight after."""
        self._wake.set()

    def _loop(self) -> None:
        while True:
            self._wake.wait(self._every)
            self._wake.clear()
            if self._done.is_set():
                return
            if self._stopping is not None and self._stopping.is_set():
                return
            try:
                self._action()
            except Exception:
                self._log.warning(self._failure, exc_info=True)

    def __enter__(self) -> Repeating:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._done.set()
        self._wake.set()
        self._thread.join()
