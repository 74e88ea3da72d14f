"""What a digest run reads and writes: the subscribers and alerts it delivers, the match
sets, documents and ledger rows it describes, and the one transaction that queues an email.

councilwatch/digests.py decides what goes into each digest; every statement it needs is here.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, fields
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, Engine, select
from sqlalchemy.dialects import postgresql, sqlite

from db import outbox
from db.alert_log import ALERT_COLUMNS, ActiveAlert, active_alert
from db.engine import read_connection, write_transaction
from db.matches import MatchSetRow, advance, digest_floor, last_set, match_sets, progress
from db.models import Document
from db.models_delivery import Subscriber
from db.outbox import OutgoingMessage
from db.search import StoredDocument
from db.tables import ALERTS as _ALERTS
from db.tables import DOCUMENTS as _DOCS
from db.tables import SENT_ITEMS as _LEDGER
from db.tables import SUBSCRIBERS as _SUBS


@dataclass(frozen=True)
class DigestWindow:
    """The match sets a run reads: above the lowest mark of its alerts, up to the newest set
    when it started (``through``)."""

    through: int
    sets: list[MatchSetRow]


def digest_window(engine: Engine, frequency: str) -> DigestWindow:
    with read_connection(engine) as connection:
        through = last_set(connection)
        floor = digest_floor(connection, frequency)
        return DigestWindow(through, match_sets(connection, after=floor, through=through))


def _live(frequency: str) -> list[Any]:
    return [
        _ALERTS.c.frequency == frequency,
        _ALERTS.c.deleted_at.is_(None),
        _ALERTS.c.paused.is_(False),
    ]


def digest_subscriber_ids(engine: Engine, frequency: str) -> list[int]:
    """Confirmed subscribers with a live alert of ``frequency``, by id; unconfirmed,
    unsubscribed and bouncing addresses never get a digest."""
    eligible = (
        select(_SUBS.c.id)
        .where(
            _SUBS.c.status == "active",
            _SUBS.c.id.in_(select(_ALERTS.c.subscriber_id).where(*_live(frequency))),
        )
        .order_by(_SUBS.c.id)
    )
    with read_connection(engine) as connection:
        return list(connection.execute(eligible).scalars())


def subscribers_by_id(engine: Engine, ids: Sequence[int]) -> list[Subscriber]:
    with read_connection(engine) as connection:
        rows = connection.execute(select(_SUBS).where(_SUBS.c.id.in_(ids)).order_by(_SUBS.c.id))
        return [Subscriber.model_validate(dict(r._mapping)) for r in rows]


def live_alerts(
    engine: Engine, subscriber_ids: Sequence[int], frequency: str
) -> dict[int, ActiveAlert]:
    """These subscribers' alerts of ``frequency`` neither deleted nor paused, by id (Core
    rows: validating ORM objects was a tenth of a digest run)."""
    stmt = select(*ALERT_COLUMNS).where(
        _ALERTS.c.subscriber_id.in_(subscriber_ids), *_live(frequency)
    )
    with read_connection(engine) as connection:
        alerts = [active_alert(row) for row in connection.execute(stmt)]
    return {a.id: a for a in alerts}


def alert_marks(engine: Engine, alert_ids: Collection[int]) -> dict[int, int]:
    """Each alert's settled-through set id (alerts without a mark are at 0)."""
    with read_connection(engine) as connection:
        return progress(connection, list(alert_ids))


@dataclass(frozen=True)
class DigestDocuments:
    """The documents a batch's matches name, every stored copy of their story clusters, and
    what each subscriber was already sent of them."""

    documents: dict[int, DigestDocument]
    cluster_members: dict[str, list[DigestDocument]]
    sent: dict[int, set[int]]  # subscriber id -> document ids in their ledger


def digest_documents(
    engine: Engine,
    document_ids: Sequence[int],
    subscriber_ids: Sequence[int],
    *,
    clustered: Callable[[DigestDocument], bool],
) -> DigestDocuments:
    """``clustered(document)`` says whether a document's item is its whole cluster."""
    with read_connection(engine) as connection:
        documents = _documents(connection, _DOCS.c.id.in_(document_ids))
        keys = sorted({d.cluster_key or "" for d in documents.values() if clustered(d)})
        members: dict[str, list[DigestDocument]] = defaultdict(list)
        if keys:
            for doc in _documents(connection, _DOCS.c.cluster_key.in_(keys)).values():
                members[doc.cluster_key or ""].append(doc)
        all_ids = sorted(set(document_ids) | {d.id or 0 for ms in members.values() for d in ms})
        sent: dict[int, set[int]] = defaultdict(set)
        for row in connection.execute(
            select(_LEDGER.c.subscriber_id, _LEDGER.c.document_id).where(
                _LEDGER.c.subscriber_id.in_(subscriber_ids), _LEDGER.c.document_id.in_(all_ids)
            )
        ):
            sent[row.subscriber_id].add(row.document_id)
    return DigestDocuments(documents, members, sent)


@dataclass(frozen=True, slots=True)
class DigestDocument:
    """A stored document as a digest shows it: plain values from a Core row. Validating an
    ORM ``Document`` per row cost several times reading it (the bodies are kilobytes)."""

    id: int
    kind: str
    source: str
    source_key: str
    url: str
    title: str
    summary: str
    body: str
    published_at: datetime | None
    decided_on: date | None
    first_seen_at: datetime
    reference: str | None
    organisation: str | None
    category: str | None
    subcategory: str | None
    outcome: str | None
    outcome_text: str | None
    site_name: str | None
    cluster_key: str | None
    extra: dict[str, Any]


# A document as digests, feeds and the matcher's explainer read it (a feed's search hits
# are StoredDocuments).
ShownDocument = Document | DigestDocument | StoredDocument

_SHOWN = tuple(_DOCS.c[f.name] for f in fields(DigestDocument))


def _documents(connection: Connection, condition: Any) -> dict[int, DigestDocument]:
    rows = connection.execute(select(*_SHOWN).where(condition).order_by(_DOCS.c.id))
    return {row.id: DigestDocument(*row) for row in rows}


def queue_digest(
    engine: Engine,
    message: OutgoingMessage,
    *,
    document_ids: Sequence[int],
    alert_ids: Collection[int],
    through: int,
    now: datetime,
) -> bool:
    """Outbox row, ledger rows and settled matches in one transaction, so a crash leaves all
    of it or none; False when the same key was queued before (nothing new is written but the
    alerts are settled)."""
    with write_transaction(engine) as connection:
        outbox_id = outbox.enqueue(connection, message, now=now)
        if outbox_id is not None and document_ids:
            dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
            connection.execute(
                dialect.insert(_LEDGER).on_conflict_do_nothing(
                    index_elements=["subscriber_id", "document_id"]
                ),
                [
                    {
                        "subscriber_id": message.subscriber_id,
                        "document_id": doc_id,
                        "outbox_id": outbox_id,
                        "queued_at": now,
                    }
                    for doc_id in document_ids
                ],
            )
        advance(connection, alert_ids, through)
    return outbox_id is not None


def settle(engine: Engine, alert_ids: Collection[int], through: int) -> None:
    """Mark these alerts' matches up to set ``through`` as digested."""
    if alert_ids:
        with write_transaction(engine) as connection:
            advance(connection, alert_ids, through)
