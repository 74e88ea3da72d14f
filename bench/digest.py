"""Build and send digests to a local SMTP sink: throughput and memory, cached vs uncached.

    .venv/bin/python bench/digest.py [--quick] [--count N] [--baseline-count N]

Each digest is the full path the sender takes: sign the manage/unsubscribe tokens, render
text + HTML (with CSS inlining), build the MIME message and send it over one SMTP connection
to an aiosmtpd sink running in a child process. "cached" uses the shared Jinja2 Environment;
the baseline builds a new Environment for every digest (templates recompiled each time), which
is what happens if the renderer is created per message. "stdlib email" is the cached renderer
with the message built the way we did before (``email.message.EmailMessage``, set_content +
add_alternative, ``as_bytes(policy=SMTP)``), so the raw serialiser is measured against it in
the same run. Goal: >= 300 digests/s of CPU cached (issue #17).
Peak memory is traced (tracemalloc) over a separate, shorter pass so tracing does not slow the
timed pass.
"""

from __future__ import annotations

import argparse
import dataclasses
import multiprocessing
import os
import resource
import socket
import statistics
import sys
import time
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from alerts.digest.render import DigestRenderer, make_environment  # noqa: E402
from alerts.digest.sample import SITE, sample_digest  # noqa: E402
from alerts.mail.message import Mail, build_message, make_message_id  # noqa: E402
from alerts.mail.tokens import sign  # noqa: E402
from alerts.mail.transports import SmtpTransport  # noqa: E402

SECRET = b"bench-secret-bench-secret-bench!"
SENT_AT = datetime(2025, 3, 4, 8, 0, tzinfo=UTC)
CACHED = "cached (one Environment)"
STDLIB = "cached + stdlib email (before)"
BASELINE = "baseline (Environment per digest)"


def stdlib_message(**kw: Any) -> Mail:
    """The message as we built it before the raw serialiser (EmailMessage, SMTP policy)."""
    from email.message import EmailMessage
    from email.policy import SMTP
    from email.utils import format_datetime

    msg = EmailMessage()
    msg["From"] = kw["sender"]
    msg["To"] = kw["to"]
    msg["Subject"] = kw["subject"]
    msg["Date"] = format_datetime(kw["date"])
    msg["Message-ID"] = kw["message_id"]
    msg["List-Id"] = "Councilwatch digests <digests.councilwatch.example>"
    msg["List-Unsubscribe"] = f"<{kw['unsubscribe_url']}>, <mailto:{kw['unsubscribe_mailto']}>"
    msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    msg["Auto-Submitted"] = "auto-generated"
    msg["X-Auto-Response-Suppress"] = "All"
    msg.set_content(kw["text"], cte="quoted-printable")
    msg.add_alternative(kw["html"], subtype="html", cte="base64")
    return Mail(
        msg.as_bytes(policy=SMTP),
        envelope_from="alerts@councilwatch.example",
        recipients=(kw["to"],),
    )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _run_sink(port: int, ready: Any, stop: Any, count: Any) -> None:
    from aiosmtpd.controller import Controller

    class Sink:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            with count.get_lock():
                count.value += 1
            return "250 OK"

    controller = Controller(Sink(), hostname="127.0.0.1", port=port)
    controller.start()
    ready.set()
    stop.wait()
    controller.stop()


def send_digests(
    n: int, *, fresh_environment: bool, port: int, stdlib: bool = False
) -> list[float]:
    """Build and send ``n`` digests over one connection; return seconds per digest."""
    timings: list[float] = []
    shared = DigestRenderer()
    with SmtpTransport("127.0.0.1", port, security="none", timeout=30) as smtp:
        for i in range(n):
            start = time.perf_counter()
            renderer = (
                DigestRenderer(environment=make_environment()) if fresh_environment else shared
            )
            token_id = f"subscriber-{i}"
            digest = dataclasses.replace(
                sample_digest(subscriber_email=f"reader{i}@example.org"),
                manage_url=f"{SITE}/manage/{sign(SECRET, 'manage', token_id)}",
                unsubscribe_url=f"{SITE}/unsubscribe/{sign(SECRET, 'unsubscribe', token_id)}",
            )
            rendered = renderer.digest(digest)
            msg = (stdlib_message if stdlib else build_message)(
                sender="Councilwatch <alerts@councilwatch.example>",
                to=digest.subscriber_email,
                subject=rendered.subject,
                text=rendered.text,
                html=rendered.html,
                message_id=make_message_id(f"digest-{i}", "councilwatch.example"),
                unsubscribe_url=digest.unsubscribe_url,
                unsubscribe_mailto=f"unsubscribe+{i}@councilwatch.example",
                date=SENT_AT,
            )
            smtp.send(msg)
            timings.append(time.perf_counter() - start)
    return timings


def run_variant(fresh: bool, n: int, port: int, stdlib: bool = False) -> dict[str, float]:
    start, cpu_start = time.perf_counter(), time.process_time()
    timings = send_digests(n, fresh_environment=fresh, port=port, stdlib=stdlib)
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    # CPU ms per digest is this process only (the sink runs in another): on a shared machine it
    # moves far less with other people's load than the wall-clock rate does.
    return {
        "n": n,
        "median_ms": statistics.median(timings) * 1000,
        "cpu_ms": cpu / n * 1000,
        "per_s": n / wall,
    }


def peak_traced_mb(fresh: bool, n: int, port: int, stdlib: bool = False) -> float:
    tracemalloc.start()
    try:
        send_digests(n, fresh_environment=fresh, port=port, stdlib=stdlib)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description="digest build+send benchmark")
    parser.add_argument("--quick", action="store_true", help="1,000 digests, 100 baseline")
    parser.add_argument("--count", type=int, default=None)
    parser.add_argument("--baseline-count", type=int, default=None)
    args = parser.parse_args()
    count = args.count or (1_000 if args.quick else 10_000)
    baseline_count = args.baseline_count or (100 if args.quick else 500)

    port = _free_port()
    ctx = multiprocessing.get_context("spawn")
    ready, stop, received = ctx.Event(), ctx.Event(), ctx.Value("l", 0)
    sink = ctx.Process(target=_run_sink, args=(port, ready, stop, received), daemon=True)
    sink.start()
    if not ready.wait(30):
        raise SystemExit("SMTP sink did not start")
    try:
        send_digests(20, fresh_environment=False, port=port)  # warm imports and compile
        results = {
            CACHED: run_variant(False, count, port),
            STDLIB: run_variant(False, max(count // 4, 100), port, stdlib=True),
            BASELINE: run_variant(True, baseline_count, port),
        }
        memory = {
            CACHED: peak_traced_mb(False, 100, port),
            STDLIB: peak_traced_mb(False, 100, port, stdlib=True),
            BASELINE: peak_traced_mb(True, 20, port),
        }
    finally:
        stop.set()
        sink.join(10)
    base = results[BASELINE]["per_s"]
    print(
        f"{'variant':<36} {'digests':>8} {'median ms':>10} {'cpu ms':>7} {'digests/s':>10} "
        f"{'peak MB':>8} {'vs base':>8}"
    )
    for name, row in results.items():
        print(
            f"{name:<36} {row['n']:>8.0f} {row['median_ms']:>10.2f} {row['cpu_ms']:>7.2f} "
            f"{row['per_s']:>10.1f} "
            f"{memory[name]:>8.1f} {row['per_s'] / base:>7.1f}x"
        )
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    load = os.getloadavg()[0]
    print(
        f"sink received {received.value} messages; process max RSS {rss_mb:.0f} MB; "
        f"load average {load:.1f} on {os.cpu_count()} CPUs"
    )
    cpu_rate = 1000 / results[CACHED]["cpu_ms"]
    print(
        f"cached: {cpu_rate:.0f} digests per CPU-second; stdlib email costs "
        f"{results[STDLIB]['cpu_ms'] / results[CACHED]['cpu_ms']:.2f}x the CPU of the raw "
        f"serialiser; goal >= 300/s of CPU: {'met' if cpu_rate >= 300 else 'NOT met'}"
    )


if __name__ == "__main__":
    main()
