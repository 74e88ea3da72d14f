"""Links between news stories and the decisions they report: the candidates a link is judged
among, and the links kept (one per story at most, replaced when a better one is found)."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, case, delete, func, insert, or_, select

from db.document_tables import DOCUMENT_COUNCILS as _COUNCILS
from db.document_tables import DOCUMENT_LINKS as _LINKS
from db.document_tables import DOCUMENTS as _DOCS
from db.engine import read_connection, write_transaction
from db.id_lists import among

# Complainants are named in a decision's summary and first paragraphs; reading whole 50 KB
# statements for every candidate buys nothing.
DECISION_TEXT_CHARS = 4000
STORY_TEXT_CHARS = 20_000
_CHUNK = 500


@dataclass(frozen=True)
class LinkDocument:
    """A stored decision or story as linking reads it."""

    id: int
    kind: str
    councils: frozenset[str]
    day: date | None  # decided_on for a decision, publication (or first-seen) day for a story
    reference: str | None
    outcome: str | None
    category: str
    text: str
    extra: Mapping[str, Any]


@dataclass(frozen=True)
class StoredLink:
    story_id: int
    decision_id: int
    score: float
    reasons: tuple[str, ...]
    # the other side, for display
    other_title: str
    other_url: str
    other_reference: str | None
    other_outcome: str | None
    other_extra: Mapping[str, Any]
    other_site_name: str | None = None


def documents(engine: Engine, ids: Collection[int]) -> list[LinkDocument]:
    """The decisions and stories among ``ids``, with their councils."""
    return _load(engine, [_DOCS.c.id.in_(chunk) for chunk in _chunks(sorted(ids))])


def decisions_near(
    engine: Engine, councils: Collection[str], *, first: date, last: date
) -> list[LinkDocument]:
    """Decisions about any of ``councils`` decided between ``first`` and ``last``."""
    if not councils:
        return []
    tagged = select(_COUNCILS.c.document_id).where(_COUNCILS.c.council_id.in_(sorted(councils)))
    return _load(
        engine,
        [
            (_DOCS.c.kind == "decision")
            & _DOCS.c.id.in_(tagged)
            & (_DOCS.c.decided_on >= first)
            & (_DOCS.c.decided_on <= last)
            # the same days as dated_at (a decision's is its decided_on, at midnight UTC), so
            # the (kind, dated_at) index finds them: by kind alone it walked every decision
            & (_DOCS.c.dated_at >= _midnight(first))
            & (_DOCS.c.dated_at <= _midnight(last))
        ],
    )


def stories_near(
    engine: Engine,
    councils: Collection[str],
    *,
    first: date,
    last: date,
    containing: Sequence[str] = (),
) -> list[LinkDocument]:
    """News about any of ``councils`` published between ``first`` and ``last``; with
    ``containing``, only stories whose title, summary or body holds one of those words (any
    case). The caller's own test of the text decides; this only spares reading the rest: a
    decision has hundreds of stories about its councils in the window, few name an ombudsman."""
    if not councils:
        return []
    tagged = select(_COUNCILS.c.document_id).where(_COUNCILS.c.council_id.in_(sorted(councils)))
    # A story's dated_at is its publication, else when it was first seen (db.document_tables.
    # dated): ranged on it, the (kind, dated_at) index finds the window, where by kind alone
    # every stored story was walked for each new decision.
    condition = (
        (_DOCS.c.kind == "news")
        & _DOCS.c.id.in_(tagged)
        & (_DOCS.c.dated_at >= _midnight(first))
        & (_DOCS.c.dated_at < _midnight(last) + timedelta(days=1))
    )
    if containing:
        condition &= or_(
            *(
                column.ilike(f"%{word}%")
                for word in containing
                for column in (_DOCS.c.title, _DOCS.c.summary, _DOCS.c.body)
            )
        )
    return _load(engine, [condition])


def replace_links(
    engine: Engine,
    links: Mapping[int, tuple[int, float, Sequence[str]] | None],
    *,
    now: datetime,
) -> int:
    """Set each story's link (decision id, score, reasons), or clear it with None."""
    if not links:
        return 0
    rows = [
        {"story_id": story, "decision_id": link[0], "score": link[1], "reasons": list(link[2]),
         "linked_at": now}
        for story, link in links.items()
        if link is not None
    ]
    with write_transaction(engine) as connection:
        for chunk in _chunks(sorted(links)):
            connection.execute(delete(_LINKS).where(_LINKS.c.story_id.in_(chunk)))
        if rows:
            connection.execute(insert(_LINKS), rows)
    return len(rows)


def links_of(engine: Engine, ids: Collection[int]) -> dict[int, list[StoredLink]]:
    """For each of ``ids``, its links: a story's decision, or a decision's reporting stories."""
    out: dict[int, list[StoredLink]] = {}
    if not ids:
        return out
    with read_connection(engine) as connection:
        for chunk in _chunks(sorted(ids)):
            rows = connection.execute(
                select(_LINKS, _DOCS.c.id.label("other_id"), _DOCS.c.title, _DOCS.c.url,
                       _DOCS.c.reference, _DOCS.c.outcome, _DOCS.c.extra, _DOCS.c.site_name)
                .join(
                    _DOCS,
                    (among(connection, _LINKS.c.story_id, chunk)
                     & (_DOCS.c.id == _LINKS.c.decision_id))
                    | (among(connection, _LINKS.c.decision_id, chunk)
                       & (_DOCS.c.id == _LINKS.c.story_id)),
                )
                .order_by(_LINKS.c.score.desc(), _DOCS.c.id)
            ).all()
            for row in rows:
                link = StoredLink(
                    row.story_id, row.decision_id, row.score, tuple(row.reasons or ()),
                    row.title, row.url, row.reference, row.outcome, row.extra or {},
                    row.site_name,
                )
                owner = row.story_id if row.other_id == row.decision_id else row.decision_id
                out.setdefault(owner, []).append(link)
    return out


# A body as linking reads it: a decision's first DECISION_TEXT_CHARS, a story's first
# STORY_TEXT_CHARS, cut in the query (characters on both databases), which spares PostgreSQL
# detoasting the rest of a long statement.
_text_chars = case((_DOCS.c.kind == "decision", DECISION_TEXT_CHARS), else_=STORY_TEXT_CHARS)


def _load(engine: Engine, conditions: Iterable[Any]) -> list[LinkDocument]:
    found: dict[int, LinkDocument] = {}
    with read_connection(engine) as connection:
        for condition in conditions:
            rows = connection.execute(
                select(
                    _DOCS.c.id, _DOCS.c.kind, _DOCS.c.decided_on, _DOCS.c.published_at,
                    _DOCS.c.first_seen_at, _DOCS.c.reference, _DOCS.c.outcome,
                    _DOCS.c.category, _DOCS.c.subcategory, _DOCS.c.title, _DOCS.c.summary,
                    func.substr(_DOCS.c.body, 1, _text_chars).label("body"), _DOCS.c.extra,
                ).where(condition)
            ).all()
            if not rows:
                continue
            councils: dict[int, set[str]] = {}
            for chunk in _chunks([row.id for row in rows]):
                for doc_id, council in connection.execute(
                    select(_COUNCILS.c.document_id, _COUNCILS.c.council_id).where(
                        _COUNCILS.c.document_id.in_(chunk)
                    )
                ):
                    councils.setdefault(doc_id, set()).add(council)
            for row in rows:
                is_decision = row.kind == "decision"
                seen = row.published_at or row.first_seen_at
                text = "\n".join(part for part in (row.title, row.summary, row.body) if part)
                found[row.id] = LinkDocument(
                    id=row.id,
                    kind=row.kind,
                    councils=frozenset(councils.get(row.id, ())),
                    day=row.decided_on if is_decision else (_utc_day(seen) if seen else None),
                    reference=row.reference,
                    outcome=row.outcome,
                    category=" > ".join(p for p in (row.category, row.subcategory) if p),
                    text=text,
                    extra=row.extra or {},
                )
    return list(found.values())


def _utc_day(moment: datetime) -> date:
    """The UTC day of a stored time, as the dated_at ranges above count days (PostgreSQL
    hands back timestamps in the session's time zone, SQLite as stored, in UTC)."""
    return (moment if moment.tzinfo is None else moment.astimezone(UTC)).date()


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def _chunks(values: Sequence[int]) -> Iterable[list[int]]:
    for start in range(0, len(values), _CHUNK):
        yield list(values[start : start + _CHUNK])
