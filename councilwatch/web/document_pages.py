"""Browsing what has been collected: the list with filters, and one document."""

from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import Engine
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from alerts.validity import control_character
from councilwatch.search import Results, search
from councilwatch.web.context import InvalidLink
from councilwatch.web.forms import KINDS, OUTCOMES
from councilwatch.web.subscribe_pages import council_choices, web
from cwerrors import QueryError, UnknownCouncilError
from cwerrors.numbers import ascii_int
from db.browse import SORTS, BadCursor, BrowseFilters, Cursor, browse, categories
from db.links import StoredLink, links_of
from db.matches import document_councils
from db.pages import DocumentFilters, cluster, get_document
from db.search import Scope

PER_PAGE = 20
# A phrase's candidates are confirmed one by one: past the page, the page counts this many of
# them at most and says "at least" (councilwatch.search.find). A common phrase's page on
# 200,000 documents: 72 ms of CPU, not 133; the command line counts up to CONFIRM_LIMIT.
PAGE_COUNT_UP_TO = 1000
MAX_PAGE = 500
MAX_ID = 2**31  # larger ids cannot exist, and PostgreSQL would refuse to compare them


def _page_number(raw: str | None) -> int:
    page = ascii_int(raw, minimum=1)
    return min(page, MAX_PAGE) if page is not None else 1


def _day(raw: str, label: str, problems: dict[str, str], field: str) -> date | None:
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        problems[field] = f"The {label} date should look like 2025-03-31, not “{raw[:20]}”."
        return None


def _cursor(raw: str | None) -> Cursor | None:
    if not raw:
        return None
    try:
        return Cursor.parse(raw)
    except BadCursor:
        raise InvalidLink from None


def documents_page(request: Request) -> Response:
    context = web(request)
    params = request.query_params
    chosen = {
        key: (params.get(key) or "").strip()[:200]
        for key in ("council", "kind", "outcome", "category", "q", "date_from", "date_to", "sort")
    }
    problems: dict[str, str] = {}
    for key, value in chosen.items():
        if (at := control_character(value)) is not None:
            chosen[key] = ""  # neither searched for nor shown again
            if key in ("q", "council"):  # the menus' values come from a hand-made URL
                problems[key] = f"Type plain text: a control character is at position {at + 1}."
    council_id = None
    if chosen["council"]:
        try:
            council = context.register.lookup(chosen["council"])
        except UnknownCouncilError as exc:
            hint = f" Did you mean {' or '.join(exc.suggestions)}?" if exc.suggestions else ""
            problems["council"] = f"We do not know a council called “{chosen['council']}”.{hint}"
        else:
            council_id = council.id
            chosen["council"] = council.common_name  # a link by id shows the council's name
    date_from = _day(chosen["date_from"], "from", problems, "date_from")
    date_to = _day(chosen["date_to"], "to", problems, "date_to")
    if date_from and date_to and date_from > date_to:
        problems["date_to"] = "The to date is before the from date."
    sort = chosen["sort"] if chosen["sort"] in SORTS else SORTS[0]
    chosen["sort"] = sort
    filters = DocumentFilters(
        council_id=council_id,
        kind=chosen["kind"] if chosen["kind"] in KINDS else None,
        outcome=chosen["outcome"] if chosen["outcome"] in OUTCOMES else None,
        category=chosen["category"] or None,
        q=chosen["q"] or None,
    )
    page = _page_number(params.get("page"))
    docs: list[Any] = []
    kept = {k: v for k, v in chosen.items() if v and not (k == "sort" and v == SORTS[0])}
    previous_url = next_url = ""
    total: int | None = None
    total_exact = True
    if not problems and filters.q:
        try:
            # The alert language (councilwatch.search): the same documents as an alert.
            searched = _search(context.engine, filters, page, date_from, date_to)
            docs, total = [f.document for f in searched.found], searched.total
            total_exact = searched.total_exact
            more = total > page * PER_PAGE or not total_exact
        except QueryError as exc:
            problems["q"] = f"The search did not make sense: {exc}."
        else:
            if page > 1:
                previous_url = f"/documents?{urlencode({**kept, 'page': page - 1})}"
            if more:
                next_url = f"/documents?{urlencode({**kept, 'page': page + 1})}"
    elif not problems:
        # browsing pages by position in the order (keyset), the page number only shown
        found = browse(
            context.engine,
            BrowseFilters(
                council_id=filters.council_id,
                kind=filters.kind,
                outcome=filters.outcome,
                category=filters.category,
                date_from=date_from,
                date_to=date_to,
            ),
            sort=sort,
            after=_cursor(params.get("after")),
            before=_cursor(params.get("before")),
            per_page=PER_PAGE,
        )
        docs = found.documents
        if found.earlier is not None:
            back = {"before": found.earlier.token(), "page": page - 1} if page > 2 else {}
            previous_url = f"/documents?{urlencode({**kept, **back})}"
        if found.later is not None:
            onward = {"after": found.later.token(), "page": page + 1}
            next_url = f"/documents?{urlencode({**kept, **onward})}"
    tags = document_councils(context.engine, [d.id for d in docs if d.id is not None])
    register = context.register

    def council_name(council_id: str) -> str:
        return register.get(council_id).common_name if council_id in register else council_id

    alert_url = ""
    if filters.q and not problems:
        named = [register.get(council_id).name] if council_id and council_id in register else []
        alert_url = _alert_url(named, filters.q)
    return context.render(
        request,
        "documents.html",
        title=f"Decisions and news: {chosen['council']}" if council_id else "Decisions and news",
        documents=[
            {"doc": d, "councils": [council_name(c) for c in tags.get(d.id or 0, [])][:4]}
            for d in docs
        ],
        chosen=chosen,
        problems=problems,
        kinds=KINDS,
        outcomes=OUTCOMES,
        sorts={"newest": "Newest first", "oldest": "Oldest first"},
        categories=categories(context.engine),
        council_names=council_choices(context),
        page=page,
        alert_url=alert_url,
        total=total,
        total_exact=total_exact,
        previous_url=previous_url,
        next_url=next_url,
        status_code=400 if problems else 200,
    )


def document_page(request: Request) -> Response:
    context = web(request)
    wanted = request.path_params["document_id"]
    document = get_document(context.engine, wanted) if wanted < MAX_ID else None
    if document is None or document.id is None:
        raise InvalidLink
    register = context.register
    councils = [
        register.get(c)
        for c in document_councils(context.engine, [document.id])[document.id]
        if c in register
    ]
    remedies = document.extra.get("remedies") if isinstance(document.extra, dict) else None
    return context.render(
        request,
        "document.html",
        title=document.title or "Untitled",
        doc=document,
        councils=councils,
        remedies=remedies if isinstance(remedies, dict) else None,
        outcomes=OUTCOMES,
        related=cluster(context.engine, document),
        alert_url=_alert_url([c.name for c in councils[:3]]),
        links=[
            _link_view(document.id, link)
            for link in links_of(context.engine, [document.id]).get(document.id, [])
        ],
    )


def _search(
    engine: Engine,
    filters: DocumentFilters,
    page: int,
    date_from: date | None,
    date_to: date | None,
) -> Results:
    """A search in the alert language (councilwatch.search), with the page's filters."""
    return search(
        engine,
        filters.q or "",
        Scope(
            kinds=[filters.kind] if filters.kind else [],
            council_ids=[filters.council_id] if filters.council_id else [],
            outcomes=[filters.outcome] if filters.outcome else [],
            categories=[filters.category] if filters.category else [],
            since=date_from,
            until=date_to,
        ),
        limit=PER_PAGE,
        offset=(page - 1) * PER_PAGE,
        count_up_to=PAGE_COUNT_UP_TO,
    )


def _alert_url(councils: list[str], query: str = "") -> str:
    """The subscribe form filled in for "more like this": its councils (and keywords)."""
    values: list[tuple[str, str]] = [("council", name) for name in councils]
    if query:
        values.append(("query", query))
    return "/subscribe?" + urlencode(values) + "#preview" if values else ""


def _link_view(owner: int, link: StoredLink) -> dict[str, Any]:
    """One link as the page shows it: "Reports decision 25 002 118 (Upheld, £900)"."""
    reports = owner == link.story_id
    remedies = link.other_extra.get("remedies") if isinstance(link.other_extra, dict) else None
    total = remedies.get("total_pence") if isinstance(remedies, dict) else None
    details = [link.other_outcome.capitalize()] if link.other_outcome else []
    if isinstance(total, int) and total > 0:
        details.append(f"£{total / 100:,.0f}" if total % 100 == 0 else f"£{total / 100:,.2f}")
    return {
        "reports": reports,
        "id": link.decision_id if reports else link.story_id,
        "title": link.other_title,
        "reference": link.other_reference,
        "details": ", ".join(details),
        "reasons": ", ".join(link.reasons),
    }


routes = [
    Route("/documents", documents_page, methods=["GET"]),
    Route("/documents/{document_id:int}", document_page, methods=["GET"]),
]
