"""Several service processes sharing one digest run: subscriber batches held as leases.

The process that wins a digest slot takes the "digest" lock (so `councilwatch digest send` and
runs of the other frequencies keep out, as with one process) and opens the run; every other
process that fired the same slot joins it. Each claims batches (fixed ranges of subscriber ids,
so all agree on them) one at a time: the first claim of a batch wins, and each batch, and so
each digest, is built by one worker. A worker renews its leases from a heartbeat thread while
it works; a batch whose holder died (no renewal for `digest.lease_seconds`, the outbox's lease
too) is taken over by a worker still in the run. Every worker stays until every batch is
finished, so the winner holds the lock until the whole run is done.

What one batch queued is never queued again: a digest's queueing transaction advances its
alerts' marks (and its outbox key is unique), so a batch taken over after a crash builds only
the digests its first holder had not queued.

Leases use the wall clock (shared by the hosts through NTP), not the runtime's clock, which
tests and benches freeze.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine

from councilwatch.repeating import Repeating
from councilwatch.runtime import Runtime
from db.jobs import claim_lease, claim_slot, finish_slot, renew_leases, slots_finished

log = logging.getLogger("councilwatch.digests")

LEASE: timedelta | None = None  # tests shorten it; else digest.lease_seconds (the outbox's)
POLL_SECONDS = 0.5  # how often a worker waiting on others' batches looks again


@dataclass(frozen=True)
class Share:
    """One worker's part in a shared run: the run's slot name, and who this worker is."""

    name: str
    worker: str
    opens: bool = True  # the slot's winner (holding the lock) opens the run; others join it


def _wall() -> datetime:
    return datetime.now(UTC)


def _lease(runtime: Runtime) -> timedelta:
    return LEASE or timedelta(seconds=runtime.settings.digest.lease_seconds)


def batch_job(frequency: str) -> str:
    return f"digest:{frequency}:batch"


def _opened(runtime: Runtime, engine: Engine, frequency: str, share: Share) -> bool:
    """Open the run (the winner) or wait until it is open (a joiner): False when the winner
    closed its slot (the run is over, or it could not take the lock) or never opened it (it
    died first). The marker is a finished row: unfinished rows are batches in progress."""
    job, marker = batch_job(frequency), f"{share.name}:open"
    if share.opens:
        if claim_slot(engine, job, marker, worker=share.worker, now=_wall()):
            finish_slot(engine, job, marker, ok=True, now=_wall())
        return True
    deadline = _wall() + _lease(runtime)
    while not runtime.stopping.is_set() and _wall() < deadline:
        if slots_finished(engine, f"digest:{frequency}", [share.name]).get(share.name):
            return False
        if slots_finished(engine, job, [marker]):
            return True
        runtime.stopping.wait(POLL_SECONDS)
    return False


def shared_batches(
    runtime: Runtime,
    engine: Engine,
    frequency: str,
    share: Share,
    ranges: Mapping[int, list[int]],
) -> Iterator[list[int]]:
    """The subscriber ids of each batch this worker claims, one batch at a time.

    A batch is marked finished when the caller asks for the next one; one the caller was
    working on when it raised stays unfinished, for another worker to take over (the
    generator is closed as the failed run's frame is released, which stops the heartbeat). Returns
    when every batch of the run is finished (waiting on other workers' leases, taking over
    those that lapse), or when the service is stopping.
    """
    if not _opened(runtime, engine, frequency, share):
        log.info("digests %s: run %s was not opened; nothing joined", frequency, share.name)
        return
    job = batch_job(frequency)
    left = {f"{share.name}:{first}": ids for first, ids in ranges.items()}
    took, lease = 0, _lease(runtime)
    def renew() -> object:
        return renew_leases(
            engine, job, worker=share.worker, prefix=f"{share.name}:", now=_wall()
        )

    # This worker's unfinished leases renewed every lease / 4; a failed renewal is tried at the
    # next beat, and a lease lost meanwhile only means another worker takes the batch over.
    with Repeating(
        "digest-lease",
        lease.total_seconds() / 4,
        renew,
        failure="renewing digest batch leases failed",
        log=log,
    ):
        while left:
            for key, ids in list(left.items()):
                if runtime.stopping.is_set():
                    return
                if claim_lease(engine, job, key, worker=share.worker, now=_wall(), lease=lease):
                    took += 1
                    yield ids
                    finish_slot(engine, job, key, ok=True, now=_wall())
                    del left[key]
            # What is left is held by other workers: forget those they finished, wait on the rest.
            for key, finished in slots_finished(engine, job, list(left)).items():
                if finished:
                    del left[key]
            if left:
                runtime.stopping.wait(POLL_SECONDS)
    log.debug("digests %s: %s built %d of %d batches", frequency, share.worker, took, len(ranges))
