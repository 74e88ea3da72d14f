from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine

from db.jobs import (
    LockBusy,
    claim_lease,
    claim_slot,
    exclusive,
    finish_slot,
    renew_leases,
    slots_finished,
)

NOW = datetime(2026, 11, 1, 7, tzinfo=UTC)


def test_each_slot_is_claimed_by_exactly_one_worker(engine: Engine) -> None:
    slots = [f"2026-11-01T{h:02d}" for h in range(6)]

    def worker(name: str) -> list[str]:
        return [s for s in slots if claim_slot(engine, "fetch:lgsco", s, worker=name, now=NOW)]

    with ThreadPoolExecutor(3) as pool:
        won = list(pool.map(worker, ["w1", "w2", "w3"]))
    assert sorted(s for mine in won for s in mine) == slots
    finish_slot(engine, "fetch:lgsco", slots[0], ok=True, now=NOW)
    assert not claim_slot(engine, "fetch:lgsco", slots[0], worker="w4", now=NOW)
    assert claim_slot(engine, "digest:daily", slots[0], worker="w4", now=NOW)


def test_exclusive_lock_refuses_a_second_holder(engine: Engine) -> None:
    with exclusive(engine, "fetch lgsco"):
        with (
            pytest.raises(LockBusy, match="fetch lgsco is already running"),
            exclusive(engine, "fetch lgsco"),
        ):
            pass
        with exclusive(engine, "fetch news"):  # other names are independent
            pass
    with exclusive(engine, "fetch lgsco"):  # released
        pass


def test_a_lease_its_holder_stopped_renewing_is_taken_over(engine: Engine) -> None:
    lease = timedelta(seconds=60)
    job = "digest:daily:batch"
    assert claim_lease(engine, job, "d:1:0", worker="dies", now=NOW, lease=lease)
    assert claim_lease(engine, job, "d:1:1", worker="lives", now=NOW, lease=lease)
    assert claim_lease(engine, job, "d:1:2", worker="done", now=NOW, lease=lease)
    finish_slot(engine, job, "d:1:2", ok=True, now=NOW)
    # Within the lease nobody else gets any of them.
    soon = NOW + timedelta(seconds=59)
    assert not any(
        claim_lease(engine, job, slot, worker="other", now=soon, lease=lease)
        for slot in ("d:1:0", "d:1:1", "d:1:2")
    )
    assert renew_leases(engine, job, worker="lives", prefix="d:1:", now=soon) == 1
    later = NOW + timedelta(seconds=90)
    assert claim_lease(engine, job, "d:1:0", worker="other", now=later, lease=lease)  # lapsed
    assert not claim_lease(engine, job, "d:1:1", worker="other", now=later, lease=lease)
    assert not claim_lease(engine, job, "d:1:2", worker="other", now=later, lease=lease)
    assert slots_finished(engine, job, ["d:1:0", "d:1:2", "d:1:9"]) == {
        "d:1:0": False,
        "d:1:2": True,
    }
    # The taker holds it now: the one that lapsed cannot renew it back.
    assert renew_leases(engine, job, worker="dies", prefix="d:1:", now=later) == 0
