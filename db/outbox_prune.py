"""Retention of sent mail: the bodies of finished outbox rows are deleted after a while.

Every email's rendered bytes stay in ``outbox_bodies`` until deleted here (~57 KB a digest:
~5.7 GB a day at 100,000 daily digests). A row is finished when it was sent (``sent_at``) or
failed for good (status ``failed``; its last attempt was due at ``next_attempt_at``). Its
body goes once that moment is older than the cut-off; the ``outbox`` row itself stays
(status, recipient, times), so history, bounce counting and `councilwatch status` are
unchanged. Pending rows keep their bodies whatever their age.

Deletes are batched, each batch its own short transaction: on SQLite a delete holds the one
writer's lock, and one statement over a day's mail would hold it while every sender and the
ingest waited. The walk goes through the bodies in id order and stops at the first batch
holding a row created after the cut-off (ids grow with ``created_at``, and a row cannot have
finished before it was created), so a run reads what it deletes plus one batch, never the
bodies it keeps.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, bindparam, delete, func, select

from db.delivery_tables import OUTBOX as _OUTBOX
from db.delivery_tables import OUTBOX_BODIES as _BODIES
from db.engine import read_connection, write_transaction

# Bodies deleted per transaction (~5.7 MB of digests): SQLite's writer is held for one batch
# (bench/outbox_prune.py: up to 1.9 s with 500 at load 11 on 100,000 rows, see the commit).
PRUNE_BATCH = 100
FINISHED = ("sent", "failed")


@dataclass(frozen=True)
class PruneResult:
    deleted: int
    batches: int

    def line(self) -> str:
        noun = "body" if self.deleted == 1 else "bodies"
        return f"{self.deleted} sent or failed messages' {noun} deleted"


def _finished_before(before: datetime) -> Any:
    return (
        select(_OUTBOX.c.id)
        .where(
            _OUTBOX.c.id.in_(bindparam("ids", expanding=True)),
            _OUTBOX.c.status.in_(FINISHED),
            func.coalesce(_OUTBOX.c.sent_at, _OUTBOX.c.next_attempt_at) < before,
        )
        .scalar_subquery()
    )


def prune_bodies(
    engine: Engine,
    *,
    before: datetime,
    batch: int = PRUNE_BATCH,
    stop: Callable[[], bool] = lambda: False,
) -> PruneResult:
    """Delete the bodies of rows sent or failed for good before ``before``, ``batch`` at a
    time; ``stop`` is asked between batches (the service's shutdown)."""
    after, deleted, batches = 0, 0, 0
    while not stop():
        with read_connection(engine) as connection:
            page = connection.execute(
                select(_BODIES.c.outbox_id, (_OUTBOX.c.created_at >= before).label("newer"))
                .join(_OUTBOX, _OUTBOX.c.id == _BODIES.c.outbox_id)
                .where(_BODIES.c.outbox_id > after)
                .order_by(_BODIES.c.outbox_id)
                .limit(batch)
            ).all()
        if not page:
            break
        ids = [row.outbox_id for row in page]
        # The status is checked again as the delete runs: a failed row may have been queued
        # again (`outbox --retry`) since the page was read.
        with write_transaction(engine) as connection:
            done = connection.execute(
                delete(_BODIES).where(_BODIES.c.outbox_id.in_(_finished_before(before))),
                {"ids": ids},
            ).rowcount
        deleted += int(done)
        batches += 1
        after = ids[-1]
        if len(page) < batch or any(row.newer for row in page):
            break
    return PruneResult(deleted, batches)


def prunable(engine: Engine, *, before: datetime) -> int:
    """How many bodies :func:`prune_bodies` would delete now (for a dry run)."""
    with read_connection(engine) as connection:
        return int(
            connection.execute(
                select(func.count())
                .select_from(_BODIES)
                .join(_OUTBOX, _OUTBOX.c.id == _BODIES.c.outbox_id)
                .where(
                    _OUTBOX.c.status.in_(FINISHED),
                    func.coalesce(_OUTBOX.c.sent_at, _OUTBOX.c.next_attempt_at) < before,
                )
            ).scalar_one()
        )
