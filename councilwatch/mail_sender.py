"""A sender thread for processes that queue mail but are not the service (`councilwatch web`).

The page that queues a confirmation wakes it, so the email leaves within moments; between
wakes it sends whatever is due (retries) every ``every`` seconds. It claims rows with the
outbox's lease like every other sender, so a service running beside it never sends one twice.
"""

from __future__ import annotations

import logging
import threading

from councilwatch.mailer import send_outbox, worker_name
from councilwatch.runtime import Runtime

log = logging.getLogger("councilwatch.mailer")

POLL_SECONDS = 60.0


class MailSender:
    def __init__(self, runtime: Runtime, *, every: float = POLL_SECONDS) -> None:
        self.runtime = runtime
        self.every = every
        self.worker = worker_name()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.passes = 0  # send passes finished (how a test knows the first one is over)

    def start(self) -> MailSender:
        self._thread = threading.Thread(target=self._loop, name="mail-sender", daemon=True)
        self._thread.start()
        return self

    def wake(self) -> None:
        """Mail was queued: send it now rather than at the next poll."""
        self._wake.set()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()  # a wake during the send below triggers another pass at once
            try:
                send_outbox(self.runtime, worker=self.worker)
            except Exception:  # the database or mail server is down: log, try again later
                log.exception("mail sender: sending the outbox failed")
            self.passes += 1
            self._wake.wait(self.every)
