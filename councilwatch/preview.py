"""What an alert would have caught: the last 90 days of the store, read as the alert reads them.

Shown before subscribing (the form, `subscribe --preview`, `alerts preview`) and on the manage
page, so nobody waits for a first digest to learn that an alert is too narrow, too wide or
misspelt. An alert that would have caught nothing says why it might be so.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Engine

from alerts.councils import Register
from alerts.councils.recognise import find_councils
from alerts.query import Query, Term, parse_query
from councilwatch.search import Found, find, refresh_keys, term_filter
from cwerrors import CouncilwatchError
from db.search import Scope, count_documents
from db.source_history import SourcePeriod, failing_sources
from db.subscriptions import AlertFields

PREVIEW_DAYS = 90
PREVIEW_ITEMS = 5


@dataclass(frozen=True)
class Preview:
    since: date
    until: date
    total: int
    total_exact: bool
    newest: list[Found]
    troubled: list[SourcePeriod]
    hints: list[str] = field(default_factory=list)

    @property
    def summary(self) -> str:
        many = "" if self.total_exact else "at least "
        items = "item" if self.total == 1 else "items"
        return (
            f"In the last {(self.until - self.since).days + 1} days this alert would have "
            f"caught {many}{self.total} {items}."
        )

    def trouble_lines(self) -> list[str]:
        return [
            f"{p.source}: {p.failed} of {p.runs} runs failed between "
            f"{_day(p.first_failed_at)} and {_day(p.last_failed_at)}"
            + (f" (last error: {p.last_error})" if p.last_error else "")
            + "; items it did not fetch are missing here."
            for p in self.troubled
        ]


def _day(moment: datetime | None) -> str:
    return f"{moment:%d %b %Y}" if moment is not None else "?"


def alert_scope(register: Register, fields: AlertFields, *, since: date | None = None) -> Scope:
    """The store's filters for an alert: its councils with their successors (and a county's
    districts), as the matcher expands them."""
    councils = set(register.expand(fields.councils, county_wide=False))
    if fields.counties:
        councils |= register.expand(fields.counties, county_wide=True)
    return Scope(
        kinds=list(fields.kinds),
        sources=list(fields.sources),
        council_ids=sorted(councils),
        outcomes=list(fields.outcomes),
        categories=list(fields.categories),
        since=since,
    )


def alert_query(fields: AlertFields) -> Query | None:
    if not fields.query:
        return None
    return parse_query(fields.query, allow_only_not=bool(fields.councils or fields.counties))


def preview(
    engine: Engine,
    register: Register,
    fields: AlertFields,
    *,
    today: date,
    days: int = PREVIEW_DAYS,
    items: int = PREVIEW_ITEMS,
) -> Preview:
    """The alert's catch over the ``days`` days ending ``today`` (QueryError if it cannot
    parse), the newest ``items`` of it, and the sources that failed in that time."""
    refresh_keys(engine)
    since = today - timedelta(days=days - 1)
    query = alert_query(fields)
    scope = alert_scope(register, fields, since=since)
    found = find(engine, query, scope, limit=items, refresh=False)
    troubled = failing_sources(engine, since=datetime.combine(since, time.min, tzinfo=UTC))
    hints = _hints(engine, register, fields, query, scope) if not found.total else []
    return Preview(since, today, found.total, found.total_exact, found.found, troubled, hints)


def preview_or_none(
    engine: Engine, register: Register, fields: AlertFields, **options: Any
) -> Preview | None:
    """The preview of a stored alert, or None if it can no longer be read (a query over
    today's limits, a council gone from the register): the page says why elsewhere."""
    try:
        return preview(engine, register, fields, **options)
    except CouncilwatchError:
        return None


def _hints(
    engine: Engine, register: Register, fields: AlertFields, query: Query | None, scope: Scope
) -> list[str]:
    """Why an alert might catch nothing: each a sentence a subscriber can act on."""
    hints: list[str] = []
    for council_id in [*fields.councils, *fields.counties]:
        council = register.get(council_id)
        if council.end is not None:
            successors = [register.get(s).common_name for s in council.successors if s in register]
            follow = f"; alerts on it follow {' and '.join(successors)}" if successors else ""
            hints.append(f"{council.name} was abolished on {council.end:%d %B %Y}{follow}.")
    if query is not None:
        hints += _term_hints(engine, query)
        named = _councils_in_query(register, query, fields)
        if named:
            hints.append(
                "Your keywords name "
                + " and ".join(named)
                + ": choose it as a council instead, so every spelling of its name counts."
            )
    if scope.council_ids and query is not None:
        unscoped = Scope(council_ids=scope.council_ids, since=scope.since, kinds=scope.kinds)
        nearby = count_documents(engine, None, unscoped)
        if nearby:
            hints.append(
                f"{nearby} items named your councils in this time, but none matched the keywords."
            )
    if not hints:
        hints.append(
            "Nothing like this was stored in this time; the alert will still send what comes."
        )
    return hints


def _term_hints(engine: Engine, query: Query) -> list[str]:
    hints = []
    for term in query.terms():
        terms, _ = term_filter(term)
        if terms is None or count_documents(engine, terms):
            continue
        hints.append(_stem_hint(engine, term))
    return hints


def _stem_hint(engine: Engine, term: Term) -> str:
    said = f"No stored item contains {_quoted(term)}"
    atom = term.atoms[-1]
    if len(term.atoms) == 1 and atom.mode != "prefix" and len(atom.text) > 4:
        # The stem less its last letters: "exclusions" (stem "exclus") -> excl*, which
        # finds "excluded" (stem "exclud").
        root = atom.norm if atom.mode == "stem" else atom.text
        stub = root[: max(4, len(root) - 2)]
        wider, _ = term_filter(parse_query(stub + "*").root)
        if wider is not None:
            n = count_documents(engine, wider)
            if n:
                return (
                    f"{said}; {stub}* (words starting “{stub}”) finds {n} "
                    f"item{'s' if n != 1 else ''}."
                )
    if term.quoted:
        return f"{said}; without the quotes each word is matched by its stem."
    return f"{said}: check the spelling, or try a shorter word ending in *."


def _quoted(term: Term) -> str:
    text = str(term)
    return text if text.startswith('"') else f"“{text}”"


def _councils_in_query(register: Register, query: Query, fields: AlertFields) -> list[str]:
    chosen = set(fields.councils) | set(fields.counties)
    words = query.text
    names = []
    for mention in find_councils(words, register, include_places=True):
        if mention.council_id not in chosen:
            names.append(register.get(mention.council_id).common_name)
    return list(dict.fromkeys(names))


def preview_lines(found: Preview) -> Sequence[str]:
    """The preview as text (CLI)."""
    lines = [found.summary]
    for hit in found.newest:
        doc = hit.document
        day = doc.decided_on or (doc.published_at or doc.first_seen_at).date()
        lines.append(f"  {day}  {doc.kind:8}  {doc.reference or hit.source_label}  {doc.title}")
        lines.append(f"              {' '.join(hit.highlighted().split())}")
    lines += [f"Unhealthy: {line}" for line in found.trouble_lines()]
    lines += [f"Why nothing? {hint}" for hint in found.hints]
    return lines
