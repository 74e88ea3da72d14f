from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine

from db.jobs import LockBusy, claim_slot, exclusive, finish_slot

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
