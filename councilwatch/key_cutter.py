"""Search keys cut in a worker process while this one writes the ones cut before.

Storing a batch of keys is SQLite's work (the full-text index); cutting the next batch is
Python's (tokens, stems, the key text). In one process they take turns: at 100,000
documents ~33 s of cutting beside ~45 s of writing. Cut in a second process they overlap
on the second core.

Not a thread: the writer takes the GIL back after each row it binds, and a thread busy in
Python keeps it for the switch interval (5 ms) each time; the writer was three times slower
in wall time. Not multiprocessing either: its spawn and forkserver children run the
parent's main script again (an unguarded script that ingests would ingest twice), and a
forked child copies a process that runs threads. The worker is ``python -m
councilwatch.key_cutter``: batches go in on its stdin and key texts come back on its
stdout, pickled, one batch in flight (two would deadlock the pipes: each side blocked
writing what the other is not yet reading).

One worker per process, started on first use and kept, so its stem cache stays warm across
fetch runs. A single batch is cut in line (nothing to overlap: a small fetch run or a web
request starts no process), and so is every batch when the worker cannot start, dies, or is
busy with another thread's batches: keys are never lost to it.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import pickle
import subprocess
import sys
import threading
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import IO, Any, NamedTuple

try:
    import fcntl
except ImportError:  # not on Windows
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger(__name__)

# A document's text as its keys are cut from it: title, summary, body.
Texts = tuple[str, str, str]


class Cut(NamedTuple):
    """A batch's keys: each document's key text (councilwatch.search.key_text), and the
    batch's words whose stem is another word, with their stems (changed_stems), which are
    stored with the keys."""

    keys: list[str]
    stems: dict[str, str]


def cut_texts(texts: Sequence[Texts]) -> Cut:
    """A batch's :class:`Cut`; what the worker runs."""
    from councilwatch.search import cut_batch

    return Cut(*cut_batch(texts))


class _Worker:
    """The worker process and its two pipes."""

    def __init__(self) -> None:
        # The councilwatch this process runs, whatever sys.path made it importable here.
        root = str(Path(__file__).resolve().parents[1])
        path = os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH")) if p)
        # Started in that root as well: ``-m`` puts the working directory first on sys.path,
        # where another checkout's councilwatch would win over PYTHONPATH's.
        self.process = subprocess.Popen(
            [sys.executable, "-m", "councilwatch.key_cutter"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env={**os.environ, "PYTHONPATH": path},
            cwd=root,
        )
        assert self.process.stdin is not None and self.process.stdout is not None
        self.to_worker: IO[bytes] = self.process.stdin
        self.from_worker: IO[bytes] = self.process.stdout
        for pipe in (self.to_worker, self.from_worker):
            _widen(pipe)

    def send(self, texts: Sequence[Texts]) -> None:
        pickle.dump(list(texts), self.to_worker, pickle.HIGHEST_PROTOCOL)
        self.to_worker.flush()

    def receive(self) -> Cut:
        ok, value = pickle.load(self.from_worker)
        if not ok:
            raise value  # the cutting's own error, as it would be raised cutting in line
        return Cut(*value)

    def close(self) -> None:
        try:
            self.to_worker.close()  # the worker ends at the end of its input
            self.process.wait(timeout=5)
        except (OSError, subprocess.TimeoutExpired):
            self.process.kill()


# A batch's texts or keys are ~2.5 MB: through a pipe of 64 KB (Linux's default) each took
# ~40 switches between the two processes. Linux only; the most an unprivileged one may ask.
_PIPE_SIZE = 1 << 20
_SETPIPE_SZ = getattr(fcntl, "F_SETPIPE_SZ", 1031) if fcntl is not None else None


def _widen(pipe: IO[bytes]) -> None:
    if fcntl is not None and sys.platform == "linux":
        # A lower limit set here (pipe-max-size): the default works, more slowly.
        with contextlib.suppress(OSError):
            fcntl.fcntl(pipe.fileno(), _SETPIPE_SZ, _PIPE_SIZE)


_worker: _Worker | None = None
_in_use = threading.Lock()  # one caller's batches at a time through the pipes


def _started() -> _Worker | None:
    global _worker
    if _worker is None or _worker.process.poll() is not None:
        try:
            _worker = _Worker()
        except OSError:  # no processes here (a sandbox): cut in line
            log.warning("search keys are cut in line: no worker process", exc_info=True)
            return None
    return _worker


def _forget(worker: _Worker) -> None:
    global _worker
    log.warning("the search key worker stopped: cutting in line")
    worker.process.kill()
    if _worker is worker:
        _worker = None


@atexit.register
def _stop() -> None:
    if _worker is not None:
        _worker.close()


def worker_pids() -> list[int]:
    """The worker's process id, if it runs (for benchmarks counting its CPU time)."""
    return [_worker.process.pid] if _worker is not None else []


class Cutting:
    """Batches handed in as they come (:meth:`add`), their key texts taken back in order
    (:meth:`take`), cut in the worker while the caller does other work.

    ``many``: more than one batch is coming, so the first goes to the worker at once;
    otherwise the worker is started for a second batch, never for one alone.
    """

    def __init__(self, *, many: bool = False) -> None:
        self._many = many
        self._waiting: deque[Sequence[Texts]] = deque()  # not yet sent
        self._sent: Sequence[Texts] | None = None  # being cut
        self._worker: _Worker | None = None
        self._tried = False

    def __enter__(self) -> Cutting:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def add(self, texts: Sequence[Texts]) -> None:
        """Hand in a batch: sent to the worker now if it is idle, else when it is."""
        if not texts:
            return
        self._waiting.append(texts)
        if self._sent is None and (self._many or self._worker or len(self._waiting) > 1):
            self._send_next()

    def pending(self) -> int:
        return len(self._waiting) + (self._sent is not None)

    def take(self) -> Cut:
        """The keys of the oldest batch handed in; the next one goes to the worker."""
        sent = self._sent
        if sent is None:  # one batch alone, or no worker
            return cut_texts(self._waiting.popleft())
        self._sent = None
        worker = self._worker
        assert worker is not None
        try:
            keys = worker.receive()
        except (OSError, EOFError, pickle.UnpicklingError):
            self._drop()
            keys = cut_texts(sent)
        if self._waiting:
            self._send_next()
        return keys

    def close(self) -> None:
        if self._sent is not None:  # left unread: the pipes' state is unknown
            self._drop()
        if self._worker is not None:
            self._worker = None
            _in_use.release()

    def _send_next(self) -> None:
        worker = self._worker or self._acquire()
        if worker is None:
            return  # cut in line by take()
        texts = self._waiting.popleft()
        try:
            worker.send(texts)
        except OSError:
            self._drop()
            self._waiting.appendleft(texts)
            return
        self._sent = texts

    def _acquire(self) -> _Worker | None:
        if self._tried:
            return None
        self._tried = True
        if not _in_use.acquire(blocking=False):
            return None  # another thread's batches are being cut
        self._worker = _started()
        if self._worker is None:
            _in_use.release()
        return self._worker

    def _drop(self) -> None:
        worker, self._worker, self._sent = self._worker, None, None
        if worker is not None:
            _forget(worker)
            _in_use.release()


def cut_ahead(batches: Iterable[Sequence[Texts]]) -> Iterator[Cut]:
    """The keys of each batch, in order, each cut in the worker while the caller uses
    the one before. A batch is taken from ``batches`` (a read of the store, say) just before
    the result before it is handed on, so at most two are held."""
    source = iter(batches)
    first = next(source, None)
    if first is None:
        return
    second = next(source, None)
    if second is None:  # nothing to overlap
        yield cut_texts(first)
        return
    with Cutting(many=True) as cutting:
        cutting.add(first)
        cutting.add(second)
        while cutting.pending():
            keys = cutting.take()
            following = next(source, None)
            if following is not None:
                cutting.add(following)
            yield keys


def _serve(requests: IO[bytes], replies: IO[bytes]) -> None:
    while True:
        try:
            texts = pickle.load(requests)
        except EOFError:
            return
        reply: tuple[bool, Any]
        try:
            # As a plain tuple: run as __main__, this module's Cut is not the caller's.
            reply = (True, tuple(cut_texts(texts)))
        except Exception as exc:  # handed back: the caller raises it
            reply = (False, exc)
        pickle.dump(reply, replies, pickle.HIGHEST_PROTOCOL)
        replies.flush()


if __name__ == "__main__":
    replies = sys.stdout.buffer
    sys.stdout = sys.stderr  # nothing printed here may end up in the replies
    _serve(sys.stdin.buffer, replies)
