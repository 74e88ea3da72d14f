"""Sent mail's retention: what the service's daily ``outbox:prune`` job and `councilwatch
outbox prune` run (the SQL is db/outbox_prune.py's)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from councilwatch.runtime import Runtime
    from db.outbox_prune import PruneResult


def _cut_off(runtime: Runtime, days: int | None) -> tuple[int, datetime]:
    """The days kept (default ``mail.sent_retention_days``) and the moment before which a
    finished message's body goes."""
    keep = runtime.settings.mail.sent_retention_days if days is None else days
    return keep, runtime.now() - timedelta(days=keep)


def prune_sent_bodies(runtime: Runtime, *, days: int | None = None) -> PruneResult:
    """Delete the bodies of mail sent or failed for good more than ``days`` ago (default
    ``mail.sent_retention_days``); stops between batches when the service is stopping."""
    from db.outbox_prune import prune_bodies

    _, before = _cut_off(runtime, days)
    return prune_bodies(runtime.migrated_engine(), before=before, stop=runtime.stopping.is_set)


def prunable_bodies(runtime: Runtime, *, days: int | None = None) -> tuple[int, int]:
    """How many bodies :func:`prune_sent_bodies` would delete now, and the days it keeps."""
    from db.outbox_prune import prunable

    keep, before = _cut_off(runtime, days)
    return prunable(runtime.migrated_engine(), before=before), keep
