"""The councils each document names, and the alert matches waiting for a digest.

Matches are kept as one set per document (the alerts it matched, packed) plus, per alert,
the last set its digests have settled: a cycle writes a row per new document, and a digest
a row per alert it settles, instead of a row per alert x document.
"""

from __future__ import annotations

import sys
from array import array
from bisect import bisect_left
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, case, delete, func, insert, literal, select
from sqlalchemy.dialects import postgresql, sqlite

from db.engine import read_connection, write_transaction
from db.id_lists import among, array_of
from db.tables import ALERT_PROGRESS as _PROGRESS
from db.tables import ALERTS as _ALERTS
from db.tables import DOCUMENT_COUNCILS as _TAGS
from db.tables import MATCH_SETS as _SETS
from db.tables import SUBSCRIBERS as _SUBS


@dataclass(frozen=True)
class CouncilTag:
    council_id: str
    matched_text: str
    confidence: float


@dataclass(frozen=True)
class NewMatchSet:
    """The alerts one new document matched."""

    document_id: int
    alert_ids: Sequence[int]
    backfill: bool = False


@dataclass(frozen=True, slots=True)
class MatchSetRow:
    id: int
    document_id: int
    matched_at: datetime
    backfill: bool
    alert_ids: array[int]  # sorted


@dataclass(frozen=True, slots=True)
class PendingMatch:
    """One (alert, document) match not settled by a digest yet."""

    set_id: int
    alert_id: int
    subscriber_id: int
    document_id: int
    matched_at: datetime
    backfill: bool


def pack_ids(ids: Iterable[int]) -> bytes:
    """Alert ids as sorted unsigned 32-bit little-endian integers: 4 bytes a match."""
    packed = array("I", sorted(set(ids)))
    if sys.byteorder != "little":
        packed.byteswap()
    return packed.tobytes()


def unpack_ids(data: bytes) -> array[int]:
    ids = array("I")
    ids.frombytes(data)
    if sys.byteorder != "little":
        ids.byteswap()
    return ids


def set_document_councils(engine: Engine, tags: Mapping[int, Sequence[CouncilTag]]) -> int:
    """Replace the council tags of these documents; returns the number of tags written."""
    if not tags:
        return 0
    rows = [
        {
            "document_id": doc_id,
            "council_id": tag.council_id,
            "matched_text": tag.matched_text[:512],
            "confidence": tag.confidence,
        }
        for doc_id, doc_tags in tags.items()
        for tag in {t.council_id: t for t in doc_tags}.values()
    ]
    with write_transaction(engine) as connection:
        connection.execute(delete(_TAGS).where(_TAGS.c.document_id.in_(list(tags))))
        if rows:
            connection.execute(insert(_TAGS), rows)
    return len(rows)


def document_councils(engine: Engine, document_ids: Sequence[int]) -> dict[int, list[str]]:
    found: dict[int, list[str]] = {doc_id: [] for doc_id in document_ids}
    if not document_ids:
        return found
    with read_connection(engine) as connection:
        for row in connection.execute(
            select(_TAGS.c.document_id, _TAGS.c.council_id)
            .where(among(connection, _TAGS.c.document_id, document_ids))
            .order_by(_TAGS.c.document_id, _TAGS.c.confidence.desc(), _TAGS.c.council_id)
        ):
            found[row.document_id].append(row.council_id)
    return found


def add_match_sets(engine: Engine, sets: Sequence[NewMatchSet], *, now: datetime) -> int:
    """Record each document's matches once (a second call for a document adds nothing);
    returns the (alert, document) matches recorded."""
    rows = [
        {
            "document_id": s.document_id,
            "matched_at": now,
            "backfill": s.backfill,
            "alert_ids": pack_ids(s.alert_ids),
        }
        for s in sets
        if s.alert_ids
    ]
    if not rows:
        return 0
    sizes = {s.document_id: len(set(s.alert_ids)) for s in sets}
    with write_transaction(engine) as connection:
        dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
        stmt = (
            dialect.insert(_SETS)
            .on_conflict_do_nothing(index_elements=["document_id"])
            .returning(_SETS.c.document_id)
        )
        return sum(sizes[doc_id] for doc_id in connection.execute(stmt, rows).scalars())


def last_set(connection: Connection) -> int:
    """The newest match set's id (0: none yet)."""
    return int(connection.execute(select(func.coalesce(func.max(_SETS.c.id), 0))).scalar_one())


def _row(row: Any) -> MatchSetRow:
    return MatchSetRow(
        row.id, row.document_id, row.matched_at, bool(row.backfill), unpack_ids(row.alert_ids)
    )


def match_sets(connection: Connection, *, after: int, through: int) -> list[MatchSetRow]:
    """The sets with ``after`` < id <= ``through``, oldest first."""
    stmt = select(_SETS).where(_SETS.c.id > after, _SETS.c.id <= through).order_by(_SETS.c.id)
    return [_row(row) for row in connection.execute(stmt)]


def recent_sets_of(
    engine: Engine, alert_id: int, *, limit: int, scan: int = 5_000
) -> list[MatchSetRow]:
    """The newest sets (of the last ``scan``) holding ``alert_id``, newest first."""
    found: list[MatchSetRow] = []
    with read_connection(engine) as connection:
        rows = connection.execute(select(_SETS).order_by(_SETS.c.id.desc()).limit(scan))
        for row in rows:
            ids = unpack_ids(row.alert_ids)
            at = bisect_left(ids, alert_id)
            if at < len(ids) and ids[at] == alert_id:
                found.append(_row(row))
                if len(found) >= limit:
                    break
    return found


def progress(connection: Connection, alert_ids: Collection[int] | None = None) -> dict[int, int]:
    """Each alert's settled-through set id (alerts without a row are at 0)."""
    stmt = select(_PROGRESS.c.alert_id, _PROGRESS.c.through)
    if alert_ids is None:
        return {row.alert_id: row.through for row in connection.execute(stmt)}
    ids = sorted(alert_ids)
    found: dict[int, int] = {}
    for k in range(0, len(ids), 900):
        chunk = stmt.where(among(connection, _PROGRESS.c.alert_id, ids[k : k + 900]))
        found.update({row.alert_id: row.through for row in connection.execute(chunk)})
    return found


def advance(connection: Connection, alert_ids: Collection[int], through: int) -> None:
    """Settle these alerts' matches up to set ``through`` (never moves an alert back)."""
    if not alert_ids:
        return
    ids = sorted(alert_ids)
    postgres = connection.dialect.name == "postgresql"
    stmt = (postgresql if postgres else sqlite).insert(_PROGRESS)
    if postgres:  # one statement from an array, not one per alert (an executemany)
        given = func.unnest(array_of(connection, ids, _PROGRESS.c.alert_id))
        stmt = stmt.from_select(
            ["alert_id", "through"], select(given, literal(through, _PROGRESS.c.through.type))
        )
    stmt = stmt.on_conflict_do_update(
        index_elements=["alert_id"],
        set_={
            "through": case(
                (stmt.excluded.through > _PROGRESS.c.through, stmt.excluded.through),
                else_=_PROGRESS.c.through,
            )
        },
    )
    if postgres:
        connection.execute(stmt)
        return
    for k in range(0, len(ids), 5_000):
        connection.execute(stmt, [{"alert_id": a, "through": through} for a in ids[k : k + 5_000]])


def pending_matches(
    engine: Engine, subscriber_ids: Sequence[int] | None = None
) -> list[PendingMatch]:
    """Matches of alerts not deleted that no digest has settled, oldest first (by set, then
    alert). A deleted alert's matches are never sent, so they are not waiting: leaving them
    out also keeps the sets read to those above the lowest mark of the live alerts."""
    wanted = set(subscriber_ids) if subscriber_ids is not None else None
    with read_connection(engine) as connection:
        owners = dict(
            connection.execute(
                select(_ALERTS.c.id, _ALERTS.c.subscriber_id).where(_ALERTS.c.deleted_at.is_(None))
            ).all()
        )
        marks = progress(connection)
        floor = min((marks.get(a, 0) for a in owners), default=0)
        sets = match_sets(connection, after=floor, through=last_set(connection))
    found = []
    for s in sets:
        for alert_id in s.alert_ids:
            owner = owners.get(alert_id)
            if owner is None or marks.get(alert_id, 0) >= s.id:
                continue
            if wanted is None or owner in wanted:
                found.append(
                    PendingMatch(s.id, alert_id, owner, s.document_id, s.matched_at, s.backfill)
                )
    return found


def digest_floor(connection: Connection, frequency: str) -> int:
    """The lowest settled-through mark among the alerts a ``frequency`` run delivers: sets
    above it may hold matches for that run."""
    stmt = (
        select(func.min(func.coalesce(_PROGRESS.c.through, 0)))
        .select_from(_ALERTS)
        .join(_SUBS, _SUBS.c.id == _ALERTS.c.subscriber_id)
        .outerjoin(_PROGRESS, _PROGRESS.c.alert_id == _ALERTS.c.id)
        .where(
            _ALERTS.c.frequency == frequency,
            _ALERTS.c.deleted_at.is_(None),
            _ALERTS.c.paused.is_(False),
            _SUBS.c.status == "active",
        )
    )
    return int(connection.execute(stmt).scalar_one() or 0)
