"""A council's page: who it is (and was), its ombudsman record at a glance, the latest decisions
and news naming it, and "Get alerts for this council"."""

from __future__ import annotations

from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from councilwatch.web.charts import OUTCOME_STYLES, outcome_style, quarter_chart
from councilwatch.web.context import InvalidLink
from councilwatch.web.subscribe_pages import web
from db.council_record import council_record


def subscribe_url(council_name: str, query: str = "") -> str:
    """The subscribe form filled in with this alert (and its preview shown)."""
    values = {"council": council_name, **({"query": query} if query else {})}
    return "/subscribe?" + urlencode(values) + "#preview"


def council_page(request: Request) -> Response:
    context = web(request)
    register = context.register
    council_id = request.path_params["council_id"]
    if council_id not in register:
        raise InvalidLink
    council = register.get(council_id)
    record = council_record(context.engine, [council.id], today=context.runtime.now().date())
    successors = [register.get(s) for s in council.successors if s in register]
    follows = [
        register.get(c)
        for c in sorted(register.expand([council.id], county_wide=False))
        if c != council.id and c in register
    ]
    county = register.get(council.county) if council.county and council.county in register else None
    outcomes = [
        (outcome_style(o)[0], outcome_style(o)[1], n)
        for o, n in sorted(
            record.outcomes.items(),
            key=lambda item: (
                list(OUTCOME_STYLES).index(item[0]) if item[0] in OUTCOME_STYLES else 99,
                item[0],
            ),
        )
    ]
    return context.render(
        request,
        "council.html",
        title=council.name,
        council=council,
        county=county,
        successors=successors,
        predecessors=[register.get(p) for p in sorted(register.predecessors(council.id))],
        follows=follows,
        record=record,
        chart=quarter_chart(
            record.quarters, title=f"{council.name}: ombudsman decisions per quarter by outcome"
        ),
        outcomes=outcomes,
        subscribe_url=subscribe_url(council.name),
    )


routes = [Route("/councils/{council_id}", council_page, methods=["GET"])]
