"""What a digest run reads and writes: the subscribers and alerts it delivers, the match
sets, documents and ledger rows it describes, and the one transaction that queues an email.

councilwatch/digests.py decides what goes into each digest; every statement it needs is here.
"""

from __future__ import annotations

import functools
import json
import sys
from collections import defaultdict
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from typing import Any, ClassVar

from sqlalchemy import Connection, Engine, Text, case, cast, func, literal, select
from sqlalchemy.dialects import postgresql, sqlite

from db import outbox
from db.alert_log import ALERT_COLUMNS, ActiveAlert
from db.engine import read_connection, write_transaction
from db.id_lists import among, array_of
from db.matches import MatchSetRow, advance, digest_floor, last_set, match_sets, progress
from db.models import Document
from db.outbox import OutgoingMessage
from db.search import StoredDocument
from db.table_statistics import refresh_outgrown
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


_CHUNK = 900  # ids per IN list (old SQLite builds allow 999 bound parameters)


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


@dataclass(frozen=True, slots=True)
class DigestSubscriber:
    """A subscriber as a digest addresses it: plain values from a Core row (validating an ORM
    ``Subscriber`` per digest was a visible share of a run)."""

    id: int
    email: str
    token: str
    created_at: datetime
    confirmed_at: datetime | None


_ADDRESSED = tuple(_SUBS.c[f.name] for f in fields(DigestSubscriber))


def subscribers_by_id(engine: Engine, ids: Sequence[int]) -> list[DigestSubscriber]:
    with read_connection(engine) as connection:
        rows = connection.execute(
            select(*_ADDRESSED).where(among(connection, _SUBS.c.id, ids)).order_by(_SUBS.c.id)
        )
        return [DigestSubscriber(*row) for row in rows]


# The alert columns with the JSON lists CAST to their text, on both databases: a few hundred
# distinct values ("[]" mostly) across all alerts, each decoded once (_json_names) instead of
# once a row (psycopg decoded every JSON value of every row: a third of reading a batch's
# alerts on PostgreSQL; SQLite's CAST of the stored text is the text itself).
_LISTS = ("councils", "counties", "kinds", "outcomes", "categories", "sources")
_ALERT_READ = tuple(cast(c, Text).label(c.name) if c.name in _LISTS else c for c in ALERT_COLUMNS)


@functools.lru_cache(maxsize=4096)
def _json_names(raw: str) -> tuple[str, ...]:
    values = json.loads(raw)
    return tuple(map(sys.intern, values)) if values else ()


def _names(value: str | None) -> tuple[str, ...]:
    return _json_names(value) if value else ()


def _alert(row: Any) -> ActiveAlert:
    """``db.alert_log.active_alert`` for a row of ``_ALERT_READ`` (by position: a row's
    ``_mapping`` per alert was most of reading a batch's alerts)."""
    alert_id, subscriber_id, name, created_at, query, *lists = row
    return ActiveAlert(alert_id, subscriber_id, name, created_at, query, *map(_names, lists))


def live_alerts(
    engine: Engine, subscriber_ids: Sequence[int], frequency: str
) -> dict[int, ActiveAlert]:
    """These subscribers' alerts of ``frequency`` neither deleted nor paused, by id (Core
    rows: validating ORM objects was a tenth of a digest run)."""
    with read_connection(engine) as connection:
        stmt = select(*_ALERT_READ).where(
            among(connection, _ALERTS.c.subscriber_id, subscriber_ids), *_live(frequency)
        )
        alerts = [_alert(row) for row in connection.execute(stmt)]
    return {a.id: a for a in alerts}


def keyword_alerts(
    engine: Engine, alert_ids: Sequence[int], frequency: str
) -> dict[int, ActiveAlert]:
    """Of these alerts, the live ones of ``frequency`` with a query, by id."""
    found: dict[int, ActiveAlert] = {}
    with read_connection(engine) as connection:
        for k in range(0, len(alert_ids), _CHUNK):
            stmt = select(*_ALERT_READ).where(
                among(connection, _ALERTS.c.id, alert_ids[k : k + _CHUNK]),
                _ALERTS.c.query.is_not(None),
                *_live(frequency),
            )
            for row in connection.execute(stmt):
                found[row.id] = _alert(row)
    return found


def story_ids(engine: Engine, document_ids: Sequence[int]) -> set[int]:
    """Of these documents, the ones that are not decisions (news stories)."""
    found: set[int] = set()
    with read_connection(engine) as connection:
        for k in range(0, len(document_ids), _CHUNK):
            stmt = select(_DOCS.c.id).where(
                among(connection, _DOCS.c.id, document_ids[k : k + _CHUNK]),
                _DOCS.c.kind != "decision",
            )
            found.update(connection.execute(stmt).scalars())
    return found


def documents_by_id(engine: Engine, document_ids: Sequence[int]) -> dict[int, DigestDocument]:
    with read_connection(engine) as connection:
        return _documents(connection, among(connection, _DOCS.c.id, document_ids))


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


@dataclass
class DocumentCache:
    """The documents a run has read, and their clusters: every batch of subscribers names
    most of the day's documents again, so each is read once a run, not once a batch.
    Bounded: emptied past ``LIMIT`` documents (a week's window after an outage, say)."""

    LIMIT: ClassVar[int] = 20_000
    documents: dict[int, DigestDocument] = field(default_factory=dict)
    members: dict[str, list[DigestDocument]] = field(default_factory=dict)


def digest_documents(
    engine: Engine,
    document_ids: Sequence[int],
    subscriber_ids: Sequence[int],
    *,
    clustered: Callable[[DigestDocument], bool],
    cache: DocumentCache | None = None,
) -> DigestDocuments:
    """``clustered(document)`` says whether a document's item is its whole cluster; with
    ``cache`` the documents and clusters read before are not read again (the ledger is).

    A decision's body is not read (it comes back empty): a digest shows its summary, and
    explains only stories' matches. Decisions are 6-14 KB each, and every batch of
    subscribers reads most of the day's documents again."""
    cache = DocumentCache() if cache is None else cache
    if len(cache.documents) > cache.LIMIT:
        cache.documents.clear()
        cache.members.clear()
    known = cache.documents
    with read_connection(engine) as connection:
        missing = [doc_id for doc_id in document_ids if doc_id not in known]
        if missing:
            known.update(
                _documents(connection, among(connection, _DOCS.c.id, missing), _SHOWN_IN_DIGEST)
            )
        documents = {doc_id: known[doc_id] for doc_id in document_ids if doc_id in known}
        keys = sorted({d.cluster_key or "" for d in documents.values() if clustered(d)})
        new_keys = [key for key in keys if key not in cache.members]
        if new_keys:
            found = _documents(
                connection, among(connection, _DOCS.c.cluster_key, new_keys), _SHOWN_IN_DIGEST
            )
            for key in new_keys:
                cache.members[key] = []
            for doc in found.values():  # in id order, as before
                cache.members[doc.cluster_key or ""].append(doc)
        members = {key: cache.members[key] for key in keys}
        all_ids = sorted(set(document_ids) | {d.id or 0 for ms in members.values() for d in ms})
        sent: dict[int, set[int]] = defaultdict(set)
        for row in connection.execute(
            select(_LEDGER.c.subscriber_id, _LEDGER.c.document_id).where(
                among(connection, _LEDGER.c.subscriber_id, subscriber_ids),
                among(connection, _LEDGER.c.document_id, all_ids),
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
_SHOWN_IN_DIGEST = tuple(
    case((_DOCS.c.kind == "decision", literal("")), else_=c).label("body")
    if c.name == "body"
    else c
    for c in _SHOWN
)


def _documents(
    connection: Connection, condition: Any, columns: tuple[Any, ...] = _SHOWN
) -> dict[int, DigestDocument]:
    rows = connection.execute(select(*columns).where(condition).order_by(_DOCS.c.id))
    return {row.id: DigestDocument(*row) for row in rows}


# The tables a digest run writes to, and the columns its look-ups and foreign keys read.
_GROWN_BY_A_RUN = {
    "outbox": ("id",),
    "outbox_bodies": ("outbox_id",),
    "sent_items": ("subscriber_id", "document_id"),
    "alert_progress": ("alert_id",),
}


@dataclass(frozen=True)
class QueuedDigest:
    """One digest for ``queue_digests``: its email and the documents its ledger rows record."""

    message: OutgoingMessage
    document_ids: Sequence[int]


def queue_digests(
    engine: Engine,
    digests: Sequence[QueuedDigest],
    *,
    alert_ids: Collection[int],
    through: int,
    now: datetime,
) -> set[str]:
    """A batch of digests in one transaction: outbox rows, ledger rows and the settled
    matches of ``alert_ids``, so a crash leaves all of the batch or none of it. Returns the
    idempotency keys queued now (a key queued before writes nothing, its alerts still settle).

    One transaction and a few multi-row statements per batch, where a transaction per digest
    was a quarter of a digest run on SQLite. Its checkpoint is left to the job's sending
    thread (``defer_checkpoint``): a batch is megabytes of emails.
    """
    # A run grows these tables by a batch each time, and the foreign key checks and look-ups
    # on them keep the plans made while they were small (db.table_statistics).
    refresh_outgrown(engine, _GROWN_BY_A_RUN)
    with write_transaction(engine, defer_checkpoint=True) as connection:
        queued = outbox.enqueue_many(connection, [d.message for d in digests], now=now)
        rows = [
            {
                "subscriber_id": d.message.subscriber_id,
                "document_id": doc_id,
                "outbox_id": queued[d.message.idempotency_key],
                "queued_at": now,
            }
            for d in digests
            if d.message.idempotency_key in queued
            for doc_id in d.document_ids
        ]
        if rows and connection.dialect.name == "postgresql":
            connection.execute(_ledger_from_arrays(connection, rows))
        elif rows:
            connection.execute(
                sqlite.insert(_LEDGER).on_conflict_do_nothing(
                    index_elements=["subscriber_id", "document_id"]
                ),
                rows,
            )
        advance(connection, alert_ids, through)
    return set(queued)


def _ledger_from_arrays(connection: Connection, rows: list[dict[str, Any]]) -> Any:
    """PostgreSQL: the ledger rows as one INSERT from three arrays (``unnest``), where an
    executemany ran one statement per row (~6 a digest), each parsed, checked and answered."""
    columns = ("subscriber_id", "document_id", "outbox_id")
    arrays = [array_of(connection, [r[c] for r in rows], _LEDGER.c[c]) for c in columns]
    given = func.unnest(*arrays).table_valued(*columns).render_derived()
    now = rows[0]["queued_at"]  # one transaction, one time
    stmt = postgresql.insert(_LEDGER).from_select(
        [*columns, "queued_at"],
        select(*(given.c[c] for c in columns), literal(now, _LEDGER.c.queued_at.type)),
    )
    return stmt.on_conflict_do_nothing(index_elements=["subscriber_id", "document_id"])


def settle(engine: Engine, alert_ids: Collection[int], through: int) -> None:
    """Mark these alerts' matches up to set ``through`` as digested."""
    if alert_ids:
        with write_transaction(engine) as connection:
            advance(connection, alert_ids, through)
