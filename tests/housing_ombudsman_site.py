"""A simulated Housing Ombudsman site on the local test web: invented decisions in both layouts.

    site = SimulatedHousingOmbudsman(testweb, today=date(2026, 6, 30), count=45).install()
    ... crawl site.base_url ...
    site.publish(3)  # three new decisions at the top of the archive, the rest move down
    assert site.decision_requests() == ...

Like the real WordPress archive: ``/decisions/`` and ``/decisions/page/N/``, ten a page,
newest *published* first, no dates on the list, 404 past the last page; decision pages at
``/decisions/{landlord-slug}-{case id}/`` open with the field table (its Date cell run
together, "18May 2026", as the real site renders it) and read in the "Investigation" layout
when decided from October 2025, in the older "REPORT" layout before. ``prefix`` puts the
whole site under a path, so it can share one LocalWeb with the simulated LGSCO.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from html import escape

from tests.testweb import LocalWeb, Reply

PAGE_SIZE = 10
MAX_PAGES = 400
INVESTIGATION_FROM = date(2025, 10, 1)

# (landlord, landlord type): councils are landlords too; housing associations are not councils.
LANDLORDS = (
    ("Birmingham City Council", "Local Authority / ALMO"),
    ("Leeds City Council", "Local Authority / ALMO"),
    ("London Borough of Hackney", "Local Authority / ALMO"),
    ("Norfolk County Council", "Local Authority / ALMO"),
    ("Bristol City Council", "Local Authority / ALMO"),
    ("Brookvale Housing Association Limited", "Housing Association"),
    ("Meridian Homes Group", "Housing Association"),
    ("Harbourside Housing Trust", "Housing Association"),
)
OCCUPANCY = ("Secure Tenancy", "Assured Tenancy", "Leaseholder", "Introductory Tenancy")
COMPLAINTS = (
    "reports of damp and mould in the property",
    "reports of a leaking roof",
    "repairs to the kitchen and bathroom",
    "reports of antisocial behaviour by a neighbour",
    "a request for a managed move",
    "service charges for communal cleaning",
    "the associated complaint",
)
FINDINGS = (
    "Severe maladministration",
    "Maladministration",
    "Service failure",
    "Reasonable redress",
    "No maladministration",
    "Outside jurisdiction",
)


def _slug(text: str) -> str:
    return "-".join("".join(c if c.isalnum() else " " for c in text.lower()).split())


@dataclass
class SimHoDecision:
    case_id: str
    landlord: str
    landlord_type: str
    occupancy: str
    decided: date
    findings: list[tuple[str, str]]  # (complaint, finding)
    compensation: int  # pounds ordered, 0 for none
    recommendation: int = 0  # pounds recommended
    extra_paths: list[str] = field(default_factory=list)

    @property
    def path(self) -> str:
        return f"/decisions/{_slug(self.landlord)}-{self.case_id}/"

    @property
    def layout(self) -> str:
        return "investigation" if self.decided >= INVESTIGATION_FROM else "report"


class SimulatedHousingOmbudsman:
    def __init__(
        self,
        web: LocalWeb,
        *,
        today: date,
        count: int = 45,
        days: int = 500,
        seed: int = 7,
        prefix: str = "",
    ) -> None:
        self.web = web
        self.today = today
        self.prefix = prefix.rstrip("/")
        self._rng = random.Random(seed)
        self._days = days
        self._numbers: set[int] = set()
        self.published: list[SimHoDecision] = []  # oldest published first
        for _ in range(count):
            self.add()
        # The archive's order is publication order: sort the initial ones by decision date.
        self.published.sort(key=lambda d: d.decided)

    @property
    def base_url(self) -> str:
        return self.web.url(self.prefix)

    # -- content -----------------------------------------------------------------------------

    def add(self, *, landlord: str | None = None, decided: date | None = None) -> SimHoDecision:
        """A new invented decision, published now (the top of the archive)."""
        rng = self._rng
        number = rng.randint(10_000, 99_999)
        while number in self._numbers:
            number = rng.randint(10_000, 99_999)
        self._numbers.add(number)
        decided = decided or self.today - timedelta(days=rng.randint(0, self._days))
        name, kind = (
            next(
                ((n, k) for n, k in LANDLORDS if n == landlord),
                (landlord, "Local Authority / ALMO"),
            )
            if landlord
            else rng.choice(LANDLORDS)
        )
        complaints = [*rng.sample(COMPLAINTS[:-1], rng.randint(1, 2)), COMPLAINTS[-1]]
        findings = [(complaint, rng.choice(FINDINGS)) for complaint in complaints]
        faulty = any(f in FINDINGS[:3] for _, f in findings)
        decision = SimHoDecision(
            case_id=f"{decided.year - rng.randint(0, 1)}{number:05d}",
            landlord=name,
            landlord_type=kind,
            occupancy=rng.choice(OCCUPANCY),
            decided=decided,
            findings=findings,
            compensation=rng.choice((150, 300, 450, 600, 1100)) if faulty else 0,
            recommendation=rng.choice((0, 50, 100)),
        )
        self.published.append(decision)
        self.web.route(self.prefix + decision.path, handler=lambda _r: decision_page(decision))
        return decision

    def publish(self, k: int, *, landlord: str | None = None) -> list[SimHoDecision]:
        return [self.add(landlord=landlord, decided=self.today) for _ in range(k)]

    def newest_first(self) -> list[SimHoDecision]:
        return list(reversed(self.published))

    # -- serving -----------------------------------------------------------------------------

    def install(self) -> SimulatedHousingOmbudsman:
        self.web.route(self.prefix + "/", body=_page("Home", "<h1>Housing Ombudsman Service</h1>"))
        self.web.route(self.prefix + "/decisions/", handler=lambda r: self._archive(1))
        for page in range(1, MAX_PAGES + 1):
            self.web.route(
                f"{self.prefix}/decisions/page/{page}/",
                handler=lambda r, page=page: self._archive(page),
            )
        return self

    def last_page(self) -> int:
        return max(1, -(-len(self.published) // PAGE_SIZE))

    def _archive(self, page: int) -> Reply:
        if page > self.last_page():
            return Reply(status=404, body=_page("Page not found", "<h1>Page not found</h1>"))
        listed = self.newest_first()[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
        return Reply(body=archive_page(listed, page, self.last_page(), self.prefix))

    # -- what was asked ----------------------------------------------------------------------

    def decision_requests(self) -> dict[str, int]:
        """Requests per decision page path (archive pages excluded)."""
        counts: dict[str, int] = {}
        start = self.prefix + "/decisions/"
        for request in self.web.requests:
            route = request.route
            if route.startswith(start) and not route.startswith(start + "page/") and route != start:
                counts[route] = counts.get(route, 0) + 1
        return counts

    def archive_requests(self) -> list[int]:
        """The archive pages asked for, in order."""
        pages = []
        start = self.prefix + "/decisions/"
        for request in self.web.requests:
            if request.route == start:
                pages.append(1)
            elif request.route.startswith(start + "page/"):
                pages.append(int(request.route.rstrip("/").rsplit("/", 1)[1]))
        return pages


def _page(title: str, main: str) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="en-GB"><head><meta charset="utf-8">'
        f"<title>{escape(title)} - Housing Ombudsman Service</title></head>\n"
        '<body><header class="site-header"><a href="/">Housing Ombudsman Service</a>'
        '<nav><ul><li><a href="/decisions/">Decisions</a></li>'
        '<li><a href="/residents/">Residents</a></li></ul></nav></header>\n'
        f'<main id="main">\n{main}\n</main>\n'
        '<aside class="sidebar"><h2>Recent news</h2><ul><li><a href="/news/">News</a></li>'
        "</ul></aside>\n"
        "<footer><p>&copy; Housing Ombudsman Service</p></footer>"
        '<div id="cookie-notice"><p>We use cookies on this website.</p></div></body></html>\n'
    )


def archive_page(listed: list[SimHoDecision], page: int, last: int, prefix: str = "") -> str:
    cards = "\n".join(
        f'<article class="post type-decisions"><h2 class="entry-title">'
        f'<a href="{prefix}{d.path}">{escape(d.landlord)} ({d.case_id})</a></h2>'
        f'<div class="entry-summary"><p>{escape(d.landlord_type)}</p></div></article>'
        for d in listed
    )
    links = []
    if page > 1:
        previous = f"{prefix}/decisions/" if page == 2 else f"{prefix}/decisions/page/{page - 1}/"
        links.append(f'<a class="prev page-numbers" href="{previous}">Newer</a>')
    for number in sorted({1, page, last} | {page + 1} if page < last else {1, page, last}):
        href = f"{prefix}/decisions/" if number == 1 else f"{prefix}/decisions/page/{number}/"
        links.append(f'<a class="page-numbers" href="{href}">{number}</a>')
    if page < last:
        links.append(
            f'<a class="next page-numbers" href="{prefix}/decisions/page/{page + 1}/">Older</a>'
        )
    return _page(
        "Decisions",
        f'<h1>Decisions</h1><div class="decisions-list">{cards}</div>'
        f'<nav class="navigation pagination">{" ".join(links)}</nav>',
    )


def _meta(d: SimHoDecision) -> str:
    rows = (
        ("Case ID", d.case_id),
        ("Decision type", "Investigation"),
        ("Jurisdiction", "Housing Ombudsman Scheme"),
        ("Landlord", d.landlord),
        ("Landlord type", d.landlord_type),
        ("Occupancy", d.occupancy),
        # The real site's table runs the day into the month: "18May 2026".
        ("Date", f"{d.decided.day}{d.decided:%B %Y}"),
    )
    cells = "".join(f"<tr><th>{k}</th><td>{escape(v)}</td></tr>" for k, v in rows)
    return f'<table class="decision-meta"><tbody>{cells}</tbody></table>'


def decision_page(d: SimHoDecision) -> str:
    body = _investigation(d) if d.layout == "investigation" else _report(d)
    title = f"{d.landlord} ({d.case_id})"
    return _page(title, f'<h1 class="entry-title">{escape(title)}</h1>{_meta(d)}{body}')


def _orders(d: SimHoDecision) -> list[str]:
    orders = []
    if d.compensation:
        orders.append(
            f"Pay the resident £{d.compensation} compensation for the distress and "
            "inconvenience caused by its failings."
        )
        orders.append("Apologise to the resident in writing.")
    return orders


def _investigation(d: SimHoDecision) -> str:
    rows = "".join(
        f"<tr><td>The landlord's handling of {escape(c)}</td><td>{f}</td></tr>"
        for c, f in d.findings
    )
    orders = "".join(f"<li>{escape(o)}</li>" for o in _orders(d))
    recommendation = (
        f"<h3>Recommendations</h3><ol><li>We recommend the landlord pays the resident the "
        f"£{d.recommendation} it offered at stage 2 of its complaints process.</li></ol>"
        if d.recommendation
        else ""
    )
    return (
        "<h2>Background</h2><ol><li>The resident lives in a two-bedroom flat let by the "
        "landlord.</li></ol>"
        '<h2>What the complaint is about</h2><ol start="2"><li>The complaint is about the '
        f"landlord's handling of {escape(d.findings[0][0])}.</li></ol>"
        "<h2>Our decision (determination)</h2>"
        f"<table><thead><tr><th>Complaint</th><th>Finding</th></tr></thead><tbody>{rows}"
        "</tbody></table>"
        '<h2>Summary of reasons</h2><ol start="3"><li>We looked at the landlord\'s records and '
        "what it told the resident at each stage.</li></ol>"
        + (f"<h2>Putting things right</h2><h3>Orders</h3><ol>{orders}</ol>" if orders else "")
        + recommendation
    )


def _report(d: SimHoDecision) -> str:
    sentences = []
    for complaint, finding in d.findings:
        if finding == "Outside jurisdiction":
            sentences.append(
                f"In accordance with paragraph 42.a of the Scheme, the complaint about "
                f"{escape(complaint)} is outside the Ombudsman's jurisdiction."
            )
        else:
            sentences.append(
                f"In accordance with paragraph 52 of the Housing Ombudsman Scheme, there was "
                f"{finding.lower()} by the landlord in respect of its handling of "
                f"{escape(complaint)}."
            )
    determination = "".join(f"<p>{s}</p>" for s in sentences)
    orders = "".join(f"<p>{escape(o)}</p>" for o in _orders(d))
    return (
        f"<p><strong>REPORT</strong></p><p><strong>COMPLAINT {d.case_id}</strong></p>"
        f"<p>{escape(d.landlord)}</p><p>{d.decided.day} {d.decided:%B %Y}</p>"
        "<h2>Our approach</h2><p>The Ombudsman's approach to investigating and determining "
        "complaints is to decide what is fair in all the circumstances of the case.</p>"
        "<h2>The complaint</h2><p>1. The complaint is about the landlord's handling of "
        f"{escape(d.findings[0][0])}.</p>"
        "<h2>Background</h2><p>2. The resident holds a tenancy of a house owned by the "
        "landlord.</p>"
        f"<h2>Determination (decision)</h2>{determination}"
        + (f"<h2>Orders and recommendations</h2><h3>Orders</h3>{orders}" if orders else "")
    )


class HousingOmbudsmanDemo:
    """The simulated Housing Ombudsman in `make demo`, beside the LGSCO under its own prefix:
    one decision a round on the council as landlord."""

    PREFIX = "/housing-ombudsman"

    def __init__(self, web: LocalWeb, today: date) -> None:
        self.web = web
        self.site = SimulatedHousingOmbudsman(
            web, today=today, count=60, prefix=self.PREFIX
        ).install()

    def config(self) -> str:
        return (
            f'[sources.housing_ombudsman]\nbase_url = "{self.web.url(self.PREFIX)}"\n'
            'schedule = "interval:5m"\n'
        )

    def publish(self, council: str, today: date, mentions: list[str]) -> list[str]:
        self.site.today = today
        return [decision.case_id for decision in self.site.publish(1, landlord=council)]


def demo_site(web: LocalWeb, today: date) -> HousingOmbudsmanDemo:
    return HousingOmbudsmanDemo(web, today)
