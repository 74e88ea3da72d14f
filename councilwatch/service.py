"""The long-running service: APScheduler jobs in one process, stopped cleanly by a signal."""

from __future__ import annotations

import logging
import signal
import threading
from types import FrameType

from councilwatch.runtime import Runtime

log = logging.getLogger("councilwatch.service")


def run_service(runtime: Runtime, *, stop: threading.Event | None = None) -> None:
    from apscheduler.schedulers.background import BackgroundScheduler

    from db.migrate import ensure_current

    engine = runtime.engine
    ensure_current(engine)
    stop = stop or threading.Event()

    def _on_signal(signum: int, _frame: FrameType | None) -> None:
        log.info("received %s, stopping", signal.Signals(signum).name)
        stop.set()

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _on_signal)
        signal.signal(signal.SIGINT, _on_signal)
    scheduler = BackgroundScheduler(timezone=runtime.settings.service.timezone)
    scheduler.start()
    log.info("service started (database %s)", engine.url.render_as_string(hide_password=True))
    stop.wait()
    scheduler.shutdown(wait=True)
    log.info("service stopped")
