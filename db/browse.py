"""Browsing stored documents by date: filters, a sort, and keyset pages.

Documents are ordered by ``dated_at`` (decided on, else published, else first seen) and then
id, newest or oldest first. A page is found from the last row of the page before (its cursor),
through the ``(dated_at, id)`` indexes, so page 500 costs what page 1 does and a link keeps
naming the same place when new documents arrive (OFFSET would make every page shift and scan
all the rows before it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Engine, exists, select, tuple_

from cwerrors import CouncilwatchError
from db.engine import read_connection
from db.models import Document
from db.tables import DOCUMENT_CATEGORIES as _CATEGORIES
from db.tables import DOCUMENT_COUNCILS as _TAGS
from db.tables import DOCUMENTS as _DOCS

SORTS = ("newest", "oldest")
_CURSOR_FORMAT = "%Y%m%dT%H%M%S.%f"


class BadCursor(CouncilwatchError):
    """A page link whose position cannot be read (edited or truncated)."""


@dataclass(frozen=True)
class Cursor:
    """A position in the order: the (dated_at, id) of a row at a page's edge."""

    dated_at: datetime
    id: int

    def token(self) -> str:
        return f"{self.dated_at.astimezone(UTC):{_CURSOR_FORMAT}}_{self.id}"

    @classmethod
    def parse(cls, token: str) -> Cursor:
        moment, _, number = token.partition("_")
        try:
            dated_at = datetime.strptime(moment, _CURSOR_FORMAT).replace(tzinfo=UTC)
            doc_id = int(number)
        except ValueError:
            raise BadCursor(f"not a page position: {token[:40]!r}") from None
        if not 0 < doc_id < 2**31:
            raise BadCursor(f"not a page position: {token[:40]!r}")
        return cls(dated_at, doc_id)


@dataclass(frozen=True)
class BrowseFilters:
    council_id: str | None = None
    kind: str | None = None
    outcome: str | None = None
    category: str | None = None
    date_from: date | None = None
    date_to: date | None = None  # inclusive


@dataclass(frozen=True, slots=True)
class ListedDocument:
    """What a listing shows of a document (and its cursor): not its body, which for a
    decision is 6-14 KB that PostgreSQL keeps out of line (TOAST) and would read, and send,
    for every row of every page; built without validation (the rows are our own)."""

    id: int
    kind: str
    source: str
    title: str | None
    summary: str | None
    outcome: str | None
    category: str | None
    decided_on: date | None
    published_at: datetime | None
    site_name: str | None
    dated_at: datetime


_LISTED = [_DOCS.c[name] for name in ListedDocument.__slots__]


@dataclass(frozen=True)
class BrowsePage:
    documents: list[ListedDocument]
    earlier: Cursor | None  # the cursor of the page before this one in the order, if any
    later: Cursor | None  # the cursor of the page after this one, if any


def _where(stmt: Any, filters: BrowseFilters) -> Any:
    if filters.kind:
        stmt = stmt.where(_DOCS.c.kind == filters.kind)
    if filters.outcome:
        stmt = stmt.where(_DOCS.c.outcome == filters.outcome)
    if filters.category:
        stmt = stmt.where(_DOCS.c.category == filters.category)
    if filters.council_id:
        # EXISTS, not IN: the page walks the date index and probes each row's tag (the
        # primary key), where IN gathers every document of a busy council and sorts them all
        stmt = stmt.where(
            exists().where(
                _TAGS.c.document_id == _DOCS.c.id, _TAGS.c.council_id == filters.council_id
            )
        )
    if filters.date_from:
        stmt = stmt.where(_DOCS.c.dated_at >= datetime.combine(filters.date_from, time.min, UTC))
    if filters.date_to:
        end = datetime.combine(filters.date_to + timedelta(days=1), time.min, UTC)
        stmt = stmt.where(_DOCS.c.dated_at < end)
    return stmt


def browse(
    engine: Engine,
    filters: BrowseFilters,
    *,
    sort: str = "newest",
    after: Cursor | None = None,
    before: Cursor | None = None,
    per_page: int = 20,
) -> BrowsePage:
    """One page in ``sort`` order: the first, or the one after ``after`` / before ``before``."""
    if sort not in SORTS:
        raise ValueError(f"sort must be one of {SORTS}, not {sort!r}")
    newest = sort == "newest"
    key = tuple_(_DOCS.c.dated_at, _DOCS.c.id)
    # walking backwards (towards the start of the order) reverses the scan, then the rows
    backwards = before is not None and after is None
    descending = newest != backwards
    stmt = _where(select(*_LISTED), filters)
    edge = before if backwards else after
    if edge is not None:
        bound = tuple_(edge.dated_at, edge.id)
        stmt = stmt.where(key < bound if descending else key > bound)
    if descending:
        stmt = stmt.order_by(_DOCS.c.dated_at.desc(), _DOCS.c.id.desc())
    else:
        stmt = stmt.order_by(_DOCS.c.dated_at, _DOCS.c.id)
    with read_connection(engine) as connection:
        rows = connection.execute(stmt.limit(per_page + 1)).all()
    docs = [ListedDocument(*row) for row in rows[:per_page]]
    more = len(rows) > per_page
    if backwards:
        docs.reverse()
    first = _cursor(docs[0]) if docs else None
    last = _cursor(docs[-1]) if docs else None
    if backwards:
        return BrowsePage(docs, earlier=first if more else None, later=last)
    return BrowsePage(
        docs, earlier=first if edge is not None else None, later=last if more else None
    )


def _cursor(doc: ListedDocument) -> Cursor:
    moment = doc.dated_at if doc.dated_at.tzinfo else doc.dated_at.replace(tzinfo=UTC)
    return Cursor(moment, doc.id)


def offset_page(
    engine: Engine, filters: BrowseFilters, *, page: int, per_page: int = 20
) -> Sequence[Document]:
    """The same order paged by OFFSET: the benchmark's baseline, not used by the pages."""
    stmt = (
        _where(select(_DOCS), filters)
        .order_by(_DOCS.c.dated_at.desc(), _DOCS.c.id.desc())
        .offset((page - 1) * per_page)
        .limit(per_page + 1)
    )
    with read_connection(engine) as connection:
        rows = connection.execute(stmt).all()
    return [Document.model_validate(dict(row._mapping)) for row in rows[:per_page]]


def categories(engine: Engine) -> list[str]:
    """Every decision category stored (the small table the upsert keeps), sorted."""
    with read_connection(engine) as connection:
        rows = connection.execute(select(_CATEGORIES.c.category)).scalars().all()
    return sorted(rows)
