"""A simulated LGSCO site on the local test web: a few hundred invented decisions.

    site = SimulatedLgsco(testweb, today=date(2026, 6, 30), count=300).install()
    ... crawl testweb.url() ...
    site.advance(days=7)  # decisions decided weeks ago are published now, mid-list
    assert site.decision_requests() == ...

Decisions are generated from templates (invented people and sums, real council names). Each is
decided on some day and published days or weeks later; the listing shows only what is
published by ``today``, so advancing ``today`` publishes decisions out of date order, as the
real site does. ``/Decisions/SearchResults`` filters by fd/td, pages 10 at a time, sorts
newest first, and answers conditional requests with real ETags (a hash of the page).
``layout`` is how pages are marked up: "real" (the default) renders as the real site's text
reads - each card's type, outcome, subcategory and date on ONE line separated by spaces, and
the decision header's labelled fields as inline elements with no whitespace between them, so
their text runs together ("...Refuse and recyclingDecision : UpheldDecision date : ...");
"blocks" puts every field in its own block. Faults to switch on: ``mode`` "shell" (the page
shell), "zero" (0 results), "shell-once" (the shell until a warm-up request to "/" and a
Referer), and ``broken`` decision references served in a new layout the parser cannot read.
"""

from __future__ import annotations

import hashlib
import math
import random
import time
from dataclasses import dataclass
from datetime import date, timedelta
from html import escape
from typing import Literal

from tests.testweb import LocalWeb, Reply, Request

LISTING_PATH = "/Decisions/SearchResults"
PAGE_SIZE = 10

ORGANISATIONS = (
    "Norfolk County Council",
    "Leeds City Council",
    "London Borough of Hackney",
    "Cornwall Council",
    "Birmingham City Council",
    "Kent County Council",
    "Wakefield Council",
    "Bristol City Council",
    "Royal Borough of Greenwich",
    "Cumberland Council",
    "Suffolk County Council",
    "Brightwater Care Homes Limited",
)
CATEGORIES = (
    ("Adult care services", "Assessment and care plan"),
    ("Children's care services", "Child protection"),
    ("Education", "Special educational needs"),
    ("Environment and regulation", "Refuse and recycling"),
    ("Housing", "Homelessness"),
    ("Planning", "Planning applications"),
    ("Benefits and tax", "Council tax"),
)
OUTCOMES = ("Upheld", "Not upheld", "Closed after initial enquiries")
PEOPLE = ("Mrs B", "Mr D", "Ms F", "Mr K", "Mrs N", "Miss P", "Mr and Mrs T")
PROBLEMS = (
    "delayed an assessment of her needs",
    "did not respond to repeated emails about missed collections",
    "took too long to decide a housing application",
    "wrongly charged council tax for an empty property",
    "did not tell the family about a change to a care package",
    "failed to consider objections before granting permission",
)

Mode = Literal["normal", "shell", "zero", "shell-once"]
Layout = Literal["real", "blocks"]


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in text.lower().replace("'", "-")).strip("-")


@dataclass
class SimDecision:
    reference: str
    organisation: str
    category: str
    subcategory: str
    outcome: str
    decided: date
    published: date
    person: str
    problem: str
    amount: int  # pounds, 0 for none

    @property
    def path(self) -> str:
        return (
            f"/decisions/{_slug(self.category)}/{_slug(self.subcategory)}/"
            f"{self.reference.replace(' ', '-')}"
        )

    @property
    def summary(self) -> str:
        if self.outcome == "Upheld":
            remedy = f" The Council will apologise and pay {self.person} £{self.amount}."
            return f"{self.person} complained the Council {self.problem}. We found fault.{remedy}"
        if self.outcome == "Not upheld":
            return f"{self.person} complained the Council {self.problem}. We found no fault."
        return f"We will not investigate {self.person}'s complaint that the Council {self.problem}."


class SimulatedLgsco:
    def __init__(
        self,
        web: LocalWeb,
        *,
        today: date,
        count: int = 300,
        days: int = 600,
        seed: int = 4,
        layout: Layout = "real",
    ) -> None:
        self.web = web
        self.layout: Layout = layout
        self.today = today
        self.mode: Mode = "normal"
        self.delay = 0.0  # seconds each decision page takes to answer (a slow site)
        self.broken: set[str] = set()
        self._rng = random.Random(seed)
        self._warmed = False
        self._numbers: set[int] = set()
        self.decisions: list[SimDecision] = []
        for _ in range(count):
            decided = today - timedelta(days=self._rng.randint(1, days))
            self.add(decided, published=decided + timedelta(days=self._rng.randint(2, 40)))

    # -- content -----------------------------------------------------------------------------

    def add(
        self, decided: date, *, published: date, organisation: str | None = None
    ) -> SimDecision:
        """A new invented decision, served at once (listed once ``published``)."""
        rng = self._rng
        number = rng.randint(100_000, 999_999)
        while number in self._numbers:
            number = rng.randint(100_000, 999_999)
        self._numbers.add(number)
        category, subcategory = rng.choice(CATEGORIES)
        outcome = rng.choice(OUTCOMES)
        decision = SimDecision(
            reference=f"{(decided.year - 1) % 100:02d} {number // 1000:03d} {number % 1000:03d}",
            organisation=organisation or rng.choice(ORGANISATIONS),
            category=category,
            subcategory=subcategory,
            outcome=outcome,
            decided=decided,
            published=published,
            person=rng.choice(PEOPLE),
            problem=rng.choice(PROBLEMS),
            amount=rng.choice((150, 250, 300, 500, 750, 1200)) if outcome == "Upheld" else 0,
        )
        self.decisions.append(decision)
        self._route(decision)
        return decision

    def publish_mid_window(self, k: int, *, window_days: int) -> list[SimDecision]:
        """``k`` decisions decided inside the window, published today (mid-list)."""
        added = []
        for index in range(k):
            # Three weeks back or more: below decisions already listed, never at the top.
            decided = self.today - timedelta(days=21 + (index * 29) % max(window_days - 22, 1))
            added.append(self.add(decided, published=self.today))
        return added

    def advance(self, days: int) -> None:
        self.today += timedelta(days=days)

    def visible(self, date_from: date = date.min, date_to: date = date.max) -> list[SimDecision]:
        found = [
            d
            for d in self.decisions
            if d.published <= self.today and date_from <= d.decided <= date_to
        ]
        return sorted(found, key=lambda d: (d.decided, d.reference), reverse=True)

    def by_reference(self, reference: str) -> SimDecision:
        return next(d for d in self.decisions if d.reference == reference)

    # -- serving -----------------------------------------------------------------------------

    def install(self) -> SimulatedLgsco:
        home = _page("Home", "<h1>Local Government and Social Care Ombudsman</h1>")
        self.web.route("/", body=home)
        self.web.route(LISTING_PATH, handler=self._listing)
        return self

    def _route(self, decision: SimDecision) -> None:
        self.web.route(decision.path, handler=lambda request: self._decision(decision))

    def _listing(self, request: Request) -> Reply:
        query = request.query
        try:
            date_from = date.fromisoformat(query["fd"])
            date_to = date.fromisoformat(query["td"])
            page = int(query.get("page", "1"))
        except (KeyError, ValueError):
            return Reply(body=_shell(), headers=_etag(_shell()))
        if self.mode == "shell-once" and not self._warmed:
            warmed = any(r.route == "/" for r in self.web.requests)
            if not (warmed and request.headers.get("Referer")):
                return Reply(body=_shell())
            self._warmed = True
        if self.mode == "shell":
            return Reply(body=_shell())
        found = [] if self.mode == "zero" else self.visible(date_from, date_to)
        body = listing_page(found, page, layout=self.layout)
        headers = _etag(body)
        if request.headers.get("If-None-Match") == headers["ETag"]:
            return Reply(status=304, body=b"", headers=headers)
        return Reply(body=body, headers=headers)

    def _decision(self, decision: SimDecision) -> Reply:
        if self.delay:
            time.sleep(self.delay)
        if decision.published > self.today:
            return Reply(status=404, body="not found", content_type="text/plain")
        if decision.reference in self.broken:
            return Reply(body=_redesigned_page(decision))
        return Reply(body=decision_page(decision, layout=self.layout))

    # -- what was asked ----------------------------------------------------------------------

    def listing_requests(self) -> int:
        return self.web.count(LISTING_PATH)

    def decision_requests(self) -> dict[str, int]:
        """Requests per decision path."""
        counts: dict[str, int] = {}
        for request in self.web.requests:
            if request.route.startswith("/decisions/"):
                counts[request.route] = counts.get(request.route, 0) + 1
        return counts


def _etag(body: str) -> dict[str, str]:
    return {"ETag": '"' + hashlib.sha256(body.encode()).hexdigest()[:20] + '"'}


def _page(title: str, main: str) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="en-GB"><head><meta charset="utf-8">'
        f"<title>{escape(title)} - Local Government and Social Care Ombudsman</title></head>\n"
        '<body><div id="cookie-banner"><p>We use cookies to make this site work.</p></div>\n'
        '<nav class="primary-nav"><ul><li><a href="/">Home</a></li>'
        '<li><a href="/decisions">Decisions</a></li></ul></nav>\n'
        f'<main id="main">\n{main}\n</main>\n'
        '<footer class="site-footer"><p>&copy; Local Government and Social Care Ombudsman</p>'
        "</footer></body></html>\n"
    )


_SEARCH_FORM = (
    '<form class="decision-search" action="/decisionsnew/newsearchpost" method="post">'
    '<label for="fd">Decision date from</label> <input id="fd" name="fd" type="date">'
    '<label for="td">Decision date to</label> <input id="td" name="td" type="date">'
    '<button type="submit">Search</button></form>'
)


def _shell() -> str:
    return _page("Decisions", f"<h1>Decisions</h1><p>Search our decisions.</p>{_SEARCH_FORM}")


def _card(d: SimDecision, layout: Layout) -> str:
    title = f'<h3><a href="{d.path}">{escape(d.organisation)} ({d.reference})</a></h3>'
    summary = f'<p class="result-summary"><strong>Summary:</strong> {escape(d.summary)}</p>'
    decided = d.decided.strftime("%d-%b-%Y")
    if layout == "blocks":
        fields = (
            f'<p class="result-type">Statement</p><p class="result-decision">{d.outcome}</p>'
            f'<p class="result-category">{escape(d.subcategory)}</p>'
            f'<p class="result-date">{decided}</p>'
        )
    else:  # the real site: one line of text, fields separated only by spaces
        fields = (
            f'<p class="result-meta"><span>Statement</span> <span>{d.outcome}</span> '
            f"<span>{escape(d.subcategory)}</span> <span>{decided}</span></p>"
        )
    return f'<div class="search-result">{title}{fields}{summary}</div>'


def listing_page(found: list[SimDecision], page: int, *, layout: Layout = "real") -> str:
    pages = max(1, math.ceil(len(found) / PAGE_SIZE))
    cards = [_card(d, layout) for d in found[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]]
    count = f'<p class="result-count">Your search has {len(found)} results</p>'
    footer = f'<p class="page-count">Page {page} of {pages}</p>' if found else ""
    results = "\n".join(cards) if found else "<p>No decisions match your search.</p>"
    return _page(
        "Decision search results",
        f'<h1>Decision search results</h1>{_SEARCH_FORM}<div id="search-results">{count}\n'
        f"{results}\n{footer}</div>",
    )


def decision_page(d: SimDecision, *, layout: Layout = "real") -> str:
    found = {
        "Upheld": "The Council was at fault and this caused avoidable distress.",
        "Not upheld": "The Council followed its procedures and I found no fault.",
    }.get(d.outcome, "The complaint is not one we should investigate.")
    action = (
        f'<h2>Agreed action</h2><ol start="5"><li>Within one month the Council will apologise '
        f"to {d.person} and pay £{d.amount} for the distress caused.</li></ol>"
        if d.amount
        else ""
    )
    article = (
        "<p><strong>The Ombudsman's final decision:</strong></p>"
        f"<p><strong>Summary:</strong> {escape(d.summary)}</p>"
        f'<h2>The complaint</h2><ol start="1"><li>{d.person} says the Council '
        f"{escape(d.problem)}.</li></ol>"
        '<p class="back-to-top"><a href="#main">Back to top</a></p>'
        f'<h2>What I found</h2><ol start="2"><li>I read the records the Council sent.</li>'
        f"<li>{found}</li></ol>{action}"
        f'<h2>Final decision</h2><ol start="9"><li>I have completed my investigation.</li></ol>'
        "<p><em>Investigator's decision on behalf of the Ombudsman</em></p>"
    )
    decided = d.decided.strftime("%d %b %Y")
    if layout == "blocks":
        header = (
            f'<dl class="decision-details"><dt>Category</dt>'
            f"<dd>{escape(d.category)} &gt; {escape(d.subcategory)}</dd>"
            f"<dt>Decision</dt><dd>{d.outcome}</dd>"
            f"<dt>Decision date</dt><dd>{decided}</dd></dl>"
        )
    else:  # the real site: label and value spans, no whitespace between them
        header = (
            '<div class="decision-meta">'
            '<span class="label">Category : </span>'
            f'<span class="value">{escape(d.category)} &gt; {escape(d.subcategory)}</span>'
            f'<span class="label">Decision : </span><span class="value">{d.outcome}</span>'
            f'<span class="label">Decision date : </span><span class="value">{decided}</span>'
            "</div>"
        )
    main = (
        f'<h1 class="decision-title">{escape(d.organisation)} ({d.reference})</h1>'
        f'{header}<article id="article">{article}</article>'
    )
    return _page(f"{d.organisation} ({d.reference})", main)


def _redesigned_page(d: SimDecision) -> str:
    """A layout the parser has never seen: no title line, no labelled header."""
    main = (
        f'<div class="case-card"><span>Case {d.reference.replace(" ", "")}</span>'
        f"<span>{escape(d.organisation)}</span></div>"
        f"<section><p>{escape(d.summary)}</p></section>"
    )
    return _page("Decision", main)


class LgscoDemo:
    """The simulated LGSCO in `make demo` (tests/demo_world.py): one new decision a round."""

    def __init__(self, web: LocalWeb, today: date) -> None:
        self.web = web
        self.site = SimulatedLgsco(web, today=today, count=150, days=120).install()

    def config(self) -> str:
        return f'[sources.lgsco]\nbase_url = "{self.web.url("")}"\nschedule = "interval:5m"\n'

    def publish(self, council: str, today: date, mentions: list[str]) -> list[str]:
        decision = self.site.add(today - timedelta(days=21), published=today, organisation=council)
        return [decision.reference]


def demo_site(web: LocalWeb, today: date) -> LgscoDemo:
    return LgscoDemo(web, today)
