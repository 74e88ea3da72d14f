"""The Housing Ombudsman parsers on the forms the real pages take (see also the example pages
under tests/sources/housing-ombudsman/, run by test_source_examples)."""

from __future__ import annotations

from datetime import date

import pytest

from cwerrors import ParseError
from scraper.sources.housing_ombudsman import Finding, decision_item, parse_archive, parse_decision
from scraper.sources.housing_ombudsman.fields import amount_pence, parse_date
from tests.housing_ombudsman_site import SimulatedHousingOmbudsman, archive_page, decision_page

TODAY = date(2026, 6, 30)
URL = "https://www.housing-ombudsman.org.uk/decisions/eastbrook-borough-council-202512345/"


class NoWeb:
    """The simulated site's content without serving it."""

    def route(self, *args: object, **kwargs: object) -> None:
        return None

    def url(self, path: str = "") -> str:
        return "https://www.housing-ombudsman.org.uk" + path


def page(fields: str, body: str) -> bytes:
    return f"<html><body><main>{fields}{body}</main></body></html>".encode()


TABLE = (
    "<table><tr><th>Case ID</th><td>202512345</td></tr>"
    "<tr><th>Decision type</th><td>Investigation</td></tr>"
    "<tr><th>Landlord</th><td>Eastbrook Borough Council</td></tr>"
    "<tr><th>Landlord type</th><td>Local Authority / ALMO</td></tr>"
    "<tr><th>Date</th><td>18May 2026</td></tr></table>"
)
DECISION = (
    "<h2>Our decision (determination)</h2>"
    "<table><tr><td>The landlord's handling of repairs</td><td>Service failure</td></tr>"
    "<tr><td>The landlord's complaint handling</td><td>No maladministration</td></tr></table>"
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("18May 2026", date(2026, 5, 18)),
        ("18 May 2026", date(2026, 5, 18)),
        ("2nd September, 2025", date(2025, 9, 2)),
        ("18-Sep-2025", date(2025, 9, 18)),
        ("18/05/2026", date(2026, 5, 18)),
        ("2026-05-18", date(2026, 5, 18)),
        ("31February 2026", None),
        ("Date to be confirmed", None),
    ],
)
def test_dates_as_the_site_prints_them(text: str, expected: date | None) -> None:
    assert parse_date(text) == expected


@pytest.mark.parametrize(
    ("text", "pence"),
    [
        ("Pay the resident £600 compensation.", 60000),
        ("Pay £1,350, comprised of: £1,000 for distress; £150 for time; £200 for delay.", 135000),
        ("Pay £150 for the delay and £100 for its complaint handling.", 25000),
        ("Pay £450. This is in addition to the £300 it offered at stage 2.", 45000),
        ("Pay £87.50 for the cost of heating.", 8750),
        ("Apologise to the resident.", 0),
    ],
)
def test_compensation_amounts(text: str, pence: int) -> None:
    assert amount_pence(text) == pence


def test_the_field_table_run_together_on_one_line_reads_the_same() -> None:
    together = page(
        "<p>Case ID202512345Decision typeInvestigationLandlordEastbrook Borough Council"
        "Landlord typeLocal Authority / ALMODate18May 2026</p>",
        DECISION,
    )
    tabled = page(TABLE, DECISION)
    first, second = (parse_decision(p, URL, today=TODAY) for p in (together, tabled))
    assert first.to_json() == second.to_json()
    assert (first.case_id, first.landlord, first.landlord_type) == (
        "202512345",
        "Eastbrook Borough Council",
        "Local Authority / ALMO",
    )
    assert first.decision_date == date(2026, 5, 18)


def test_the_most_severe_finding_is_the_outcome_and_maps_onto_our_vocabulary() -> None:
    decision = parse_decision(page(TABLE, DECISION), URL, today=TODAY)
    assert [f.finding for f in decision.findings] == [
        Finding.SERVICE_FAILURE,
        Finding.NO_MALADMINISTRATION,
    ]
    assert decision.outcome is Finding.SERVICE_FAILURE
    item = decision_item(decision)
    assert (item.outcome, item.outcome_text) == ("upheld", "Service failure")
    assert item.organisation == "Eastbrook Borough Council" and item.reference == "202512345"
    assert item.extra["ombudsman"] == "Housing Ombudsman"


@pytest.mark.parametrize(
    ("finding", "outcome"),
    [
        ("Severe maladministration", "upheld"),
        ("Maladministration", "upheld"),
        ("Reasonable redress", "not upheld"),
        ("No maladministration", "not upheld"),
        ("Outside jurisdiction", "closed after initial enquiries"),
    ],
)
def test_each_finding_maps_onto_an_outcome(finding: str, outcome: str) -> None:
    body = f"<h2>Our decision</h2><p>Complaint: The landlord's repairs</p><p>Finding: {finding}</p>"
    item = decision_item(parse_decision(page(TABLE, body), URL, today=TODAY))
    assert (item.outcome, item.outcome_text) == (outcome, finding)


def test_report_style_determination_sentences() -> None:
    body = (
        "<p>REPORT</p><p>COMPLAINT 202512345</p><h2>Determination (decision)</h2>"
        "<p>In accordance with paragraph 52 of the Scheme, there was no maladministration by "
        "the landlord in respect of its handling of the resident's reports of noise.</p>"
        "<p>In accordance with paragraph 52 of the Scheme, there was severe maladministration "
        "by the landlord in respect of its response to reports of a gas leak.</p>"
    )
    decision = parse_decision(page(TABLE, body), URL, today=TODAY)
    assert decision.layout == "report"
    assert [(f.finding, f.complaint) for f in decision.findings] == [
        (
            Finding.NO_MALADMINISTRATION,
            "The landlord's handling of the resident's reports of noise",
        ),
        (Finding.SEVERE, "The landlord's response to reports of a gas leak"),
    ]


@pytest.mark.parametrize(
    ("fields", "body", "problem"),
    [
        ("<p>Landlord: Eastbrook Borough Council</p>", DECISION, "no 'Case ID' field"),
        (TABLE.replace("18May 2026", "to follow"), DECISION, "no decision date"),
        (TABLE.replace("18May 2026", "18 May 2027"), DECISION, "in the future"),
        (TABLE, "<h2>Background</h2><p>The resident rents a flat.</p>", "no finding"),
    ],
)
def test_a_page_that_is_not_a_decision_fails_loudly(fields: str, body: str, problem: str) -> None:
    with pytest.raises(ParseError, match=problem):
        parse_decision(page(fields, body), URL, today=TODAY)


def test_every_simulated_decision_parses_back_to_what_the_site_generated() -> None:
    site = SimulatedHousingOmbudsman(NoWeb(), today=TODAY, count=80, days=700)  # type: ignore[arg-type]
    layouts = set()
    for sim in site.published:
        decision = parse_decision(
            decision_page(sim).encode(),
            "https://www.housing-ombudsman.org.uk" + sim.path,
            today=TODAY,
        )
        layouts.add(decision.layout)
        assert decision.layout == sim.layout
        assert (decision.case_id, decision.landlord, decision.decision_date) == (
            sim.case_id,
            sim.landlord,
            sim.decided,
        )
        assert [f.finding.value for f in decision.findings] == [f.lower() for _, f in sim.findings]
        assert decision.compensation_pence == sim.compensation * 100
    assert layouts == {"investigation", "report"}


def test_the_archive_lists_entries_not_sidebar_links_and_reads_its_pagination() -> None:
    site = SimulatedHousingOmbudsman(NoWeb(), today=TODAY, count=25)  # type: ignore[arg-type]
    listed = site.newest_first()[10:20]
    html = archive_page(listed, 2, 3).replace(
        "<h2>Recent news</h2>",
        '<h2>Recent news</h2><a href="/decisions/other-landlord-202100001/">Other (202100001)</a>',
    )
    archive = parse_archive(html.encode(), "https://www.housing-ombudsman.org.uk/decisions/page/2/")
    assert [e.case_id for e in archive.entries] == [d.case_id for d in listed]
    assert (archive.page, archive.has_next, archive.last_page) == (2, True, 3)


@pytest.mark.parametrize(
    ("sentence", "finding", "complaint"),
    [
        (
            "In accordance with paragraph 53.b of the Scheme, the landlord has made an offer of "
            "redress to the resident prior to investigation which, in the Ombudsman's opinion, "
            "resolves the complaint about its handling of the boiler repairs satisfactorily.",
            Finding.REASONABLE_REDRESS,
            "The landlord's handling of the boiler repairs",
        ),
        (
            "In accordance with paragraph 42.a of the Scheme, the complaint about the rent "
            "increase is not one that the Ombudsman can consider.",
            Finding.OUTSIDE_JURISDICTION,
            "The rent increase",
        ),
        (
            "a. Maladministration in the landlord's handling of the resident's reports of a leak.",
            Finding.MALADMINISTRATION,
            "The landlord's handling of the resident's reports of a leak",
        ),
    ],
)
def test_other_ways_a_determination_is_written(
    sentence: str, finding: Finding, complaint: str
) -> None:
    body = f"<h2>Determination</h2><p>{sentence}</p>"
    [found] = parse_decision(page(TABLE, body), URL, today=TODAY).findings
    assert (found.finding, found.complaint) == (finding, complaint)


def test_field_labels_by_other_names() -> None:
    fields = TABLE.replace("Case ID", "Case reference").replace(">Date<", ">Decision date<")
    decision = parse_decision(page(fields, DECISION), URL, today=TODAY)
    assert (decision.case_id, decision.decision_date) == ("202512345", date(2026, 5, 18))
