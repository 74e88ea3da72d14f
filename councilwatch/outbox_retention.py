"""Sent mail's retention: what the service's daily ``outbox:prune`` job and `councilwatch
outbox prune` run (the SQL is db/outbox_prune.py's)."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from councilwatch.runtime import Runtime
    from db.outbox_prune import PruneResult


def prune_sent_bodies(runtime: Runtime, *, days: int | None = None) -> PruneResult:
    """Delete the bodies of mail sent or failed for good more than ``days`` ago (default
    ``mail.sent_retention_days``); stops between batches when the service is stopping."""
    from db.outbox_prune import prune_bodies

    keep = runtime.settings.mail.sent_retention_days if days is None else days
    return prune_bodies(
        runtime.migrated_engine(),
        before=runtime.now() - timedelta(days=keep),
        stop=runtime.stopping.is_set,
    )
