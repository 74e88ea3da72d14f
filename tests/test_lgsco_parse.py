"""Focused cases for the LGSCO parsers: fields, remedies, sanity errors, furniture, encodings."""

from __future__ import annotations

import contextlib
import json
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cwerrors import ParseError
from scraper.sources.lgsco import (
    Outcome,
    canonical_url,
    detect_page_kind,
    listing_url,
    normalise_reference,
    parse_decision,
    parse_listing,
    parse_outcome,
)
from scraper.sources.lgsco.fields import parse_date
from scraper.sources.lgsco.remedies import extract_remedies, payments_in
from scraper.text import parse_html, visible_lines

EXAMPLES = Path(__file__).resolve().parent / "sources" / "lgsco"
SAMPLES = Path(__file__).resolve().parents[1] / ".." / "shared" / "samples"
URL = "https://www.lgo.org.uk/decisions/housing/allocations/24-011-052"
TODAY = date(2025, 6, 30)


def example(name: str) -> bytes:
    return (EXAMPLES / f"{name}.html").read_bytes()


def page(body: str, charset: str | None = "utf-8") -> bytes:
    meta = f'<meta charset="{charset}">' if charset else ""
    return f"<html><head>{meta}<title>t</title></head><body>{body}</body></html>".encode(
        charset or "utf-8"
    )


def decision_page(
    *, title: str = "Torbay Council (24 001 234)", date_line: str = "12 Mar 2024", agreed: str = ""
) -> bytes:
    date_html = f"<p>Decision date : {date_line}</p>" if date_line else ""
    agreed_html = f"<h2>Agreed action</h2><p>{agreed}</p>" if agreed else ""
    return page(
        f"<h1>{title}</h1><p>Category : Housing &gt; Allocations</p><p>Decision : Upheld</p>"
        f"{date_html}<p>Summary: Mrs A complained about her housing banding.</p>"
        f"<h2>The complaint</h2><p>1. Mrs A says the banding was wrong.</p>{agreed_html}"
    )


# --- references, outcomes, dates, URLs -------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("23 018 529", "23 018 529"),
        ("23-018-529", "23 018 529"),
        ("23018529", "23 018 529"),
        ("17-002-402B", "17 002 402b"),
        (" 19 018 519c ", "19 018 519c"),
        ("06/b/16774", "06/B/16774"),
    ],
)
def test_normalise_reference(text: str, expected: str) -> None:
    assert normalise_reference(text) == expected


@pytest.mark.parametrize("text", ["", "2301852", "23 018 529 1", "Norfolk", "23 018 529bc"])
def test_normalise_reference_rejects_non_references(text: str) -> None:
    with pytest.raises(ParseError) as caught:
        normalise_reference(text)
    assert caught.value.field == "reference"


@given(
    st.integers(0, 99),
    st.integers(0, 999),
    st.integers(0, 999),
    st.sampled_from(["", "a", "C"]),
    st.sampled_from([" ", "-", ""]),
)
def test_normalise_reference_is_stable_across_spellings(
    year: int, middle: int, last: int, suffix: str, sep: str
) -> None:
    text = f"{year:02d}{sep}{middle:03d}{sep}{last:03d}{suffix}"
    normalised = normalise_reference(text)
    assert normalised == f"{year:02d} {middle:03d} {last:03d}{suffix.lower()}"
    assert normalise_reference(normalised) == normalised


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Upheld", Outcome.UPHELD),
        ("Upheld: maladministration and injustice", Outcome.UPHELD),
        ("Upheld: maladministration, no injustice", Outcome.UPHELD),
        ("Not upheld", Outcome.NOT_UPHELD),
        ("Not upheld: no maladministration", Outcome.NOT_UPHELD),
        ("not Upheld", Outcome.NOT_UPHELD),
        ("Closed after initial enquiries", Outcome.CLOSED),
        ("Closed after initial enquiries - out of jurisdiction", Outcome.CLOSED),
        ("Closed after initial enquiries \u2013 no further action", Outcome.CLOSED),
        ("Investigation discontinued", Outcome.OTHER),
        ("", Outcome.OTHER),
    ],
)
def test_parse_outcome(text: str, expected: Outcome) -> None:
    assert parse_outcome(text) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("14 Jul 2024", date(2024, 7, 14)),
        ("14 July 2024", date(2024, 7, 14)),
        ("09-Aug-2026", date(2026, 8, 9)),
        ("3 Sept 2019", date(2019, 9, 3)),
        ("14/07/2024", date(2024, 7, 14)),
        ("2024-07-14", date(2024, 7, 14)),
        ("no date here", None),
    ],
)
def test_parse_date(text: str, expected: date | None) -> None:
    assert parse_date(text) == expected


@pytest.mark.parametrize("text", ["31 Feb 2024", "14 Foo 2024", "31/04/2024"])
def test_parse_date_rejects_dates_that_do_not_exist(text: str) -> None:
    with pytest.raises(ValueError):
        parse_date(text)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "https://www.lgo.org.uk/decisions/housing/x/24-011-052?chapter=0",
            "https://www.lgo.org.uk/decisions/housing/x/24-011-052",
        ),
        (
            "http://lgo.org.uk/decisions/housing/x/24-011-052/?displaypref=1#top",
            "https://www.lgo.org.uk/decisions/housing/x/24-011-052",
        ),
        (
            "http://127.0.0.1:8123/decisions/housing/x/24-011-052?chapter=2",
            "http://127.0.0.1:8123/decisions/housing/x/24-011-052",
        ),
    ],
)
def test_canonical_url(url: str, expected: str) -> None:
    assert canonical_url(url) == expected


def test_listing_url() -> None:
    url = listing_url(
        "https://www.lgo.org.uk/", date_from=date(2024, 1, 1), date_to=date(2024, 1, 31), page=3
    )
    assert url == (
        "https://www.lgo.org.uk/Decisions/SearchResults"
        "?fd=2024-01-01&td=2024-01-31&page=3&sortOrder=descending"
    )


@pytest.mark.parametrize(
    ("date_from", "date_to", "page_number"),
    [(date(2024, 1, 1), date(2024, 1, 31), 0), (date(2024, 2, 1), date(2024, 1, 31), 1)],
)
def test_listing_url_rejects_impossible_requests(
    date_from: date, date_to: date, page_number: int
) -> None:
    with pytest.raises(ValueError):
        listing_url(
            "https://www.lgo.org.uk", date_from=date_from, date_to=date_to, page=page_number
        )


# --- remedies ----------------------------------------------------------------------------------


def test_payments_with_recipients_before_and_after_the_amount() -> None:
    sentence = "The Council will pay Mr Q GBP 700 and GBP 200 to each daughter."
    assert [(p.amount_pence, p.recipient) for p in payments_in(sentence)] == [
        (70000, "Mr Q"),
        (20000, "each daughter"),
    ]


def test_later_amounts_inherit_the_recipient_and_pence_are_kept() -> None:
    sentence = "It will pay Mrs B a further £1,234.56 for her losses and £150 for her time."
    assert [(p.amount_pence, p.recipient) for p in payments_in(sentence)] == [
        (123456, "Mrs B"),
        (15000, "Mrs B"),
    ]


def test_amounts_without_a_payment_are_not_payments() -> None:
    assert payments_in("The Council will cancel the invoice of £3,480.") == []


def test_payment_without_a_named_recipient() -> None:
    [payment] = payments_in("The Council has agreed to make a payment of £300 to recognise delay.")
    assert (payment.amount_pence, payment.recipient) == (30000, None)


def test_remedies_keep_the_sentence_each_came_from() -> None:
    remedies = extract_remedies(
        [
            "The Council will apologise to Ms C. It will pay Ms C £250.",
            "It will reconsider her application and remind its officers of the policy.",
            "It will send us evidence of this.",
        ]
    )
    assert remedies.apology and remedies.service_improvements and remedies.reconsideration
    assert remedies.total_pence == 25000
    assert remedies.payments[0].sentence == "It will pay Ms C £250."
    assert remedies.sentences == (
        "The Council will apologise to Ms C.",
        "It will pay Ms C £250.",
        "It will reconsider her application and remind its officers of the policy.",
    )


def test_remedies_come_from_agreed_action_not_from_the_complaint() -> None:
    decision = parse_decision(example("decision-not-upheld"), URL, today=TODAY)
    assert "apologise" in decision.body_text()  # Mrs C asked for one in "The complaint"
    assert not decision.remedies.apology
    assert decision.remedies.payments == ()


def test_short_upheld_statement_takes_its_remedy_from_the_summary() -> None:
    content = page(
        "<h1>Torbay Council (24 001 234)</h1><p>Decision : Upheld</p>"
        "<p>Decision date : 12 Mar 2024</p><p>Summary: The Council delayed. It has agreed to "
        "apologise and pay Mrs A £100.</p><h2>Final decision</h2><p>I have completed my work.</p>"
    )
    remedies = parse_decision(content, URL).remedies
    assert remedies.apology
    assert [(p.amount_pence, p.recipient) for p in remedies.payments] == [(10000, "Mrs A")]


# --- sanity errors ------------------------------------------------------------------------------


def test_missing_title_line_is_a_parse_error_naming_url_and_field() -> None:
    with pytest.raises(ParseError) as caught:
        parse_decision(page("<h1>Page not found</h1><p>Sorry.</p>"), URL)
    assert (caught.value.url, caught.value.field) == (URL, "reference")
    assert URL in str(caught.value)


def test_title_falls_back_to_the_document_title() -> None:
    content = (
        b"<html><head><title>Torbay Council (24 001 234) - Local Government and Social Care "
        b"Ombudsman</title></head><body><p>Decision date : 12 Mar 2024</p></body></html>"
    )
    decision = parse_decision(content, URL)
    assert (decision.organisation, decision.reference) == ("Torbay Council", "24 001 234")


@pytest.mark.parametrize(
    ("date_line", "message"),
    [
        ("", "no decision date"),
        ("31 Feb 2024", "not a real date"),
        ("12 Mar 2031", "in the future"),
        ("12 Mar 1962", "before the Ombudsman"),
    ],
)
def test_bad_decision_dates_are_parse_errors(date_line: str, message: str) -> None:
    with pytest.raises(ParseError, match=message) as caught:
        parse_decision(decision_page(date_line=date_line), URL, today=TODAY)
    assert caught.value.field == "decision_date"


def test_future_check_needs_an_injected_today() -> None:
    # Parsing reads no clock: without today a future date is not judged.
    assert parse_decision(decision_page(date_line="12 Mar 2031"), URL).decision_date.year == 2031


@given(st.binary(max_size=300))
@settings(max_examples=60, deadline=None)
def test_arbitrary_bytes_raise_only_parse_error(content: bytes) -> None:
    # Whatever the bytes, the caller sees a decision or a ParseError, never an lxml error.
    with contextlib.suppress(ParseError):
        parse_decision(content, URL, today=TODAY)


# --- layout: furniture, markup variants, encodings ---------------------------------------------


def test_markup_variants_give_identical_results() -> None:
    results = [
        parse_decision(example(name), URL, today=TODAY).to_json()
        for name in (
            "decision-variant-label-spans",
            "decision-variant-dl",
            "decision-variant-table",
        )
    ]
    for result in results:
        result.pop("url")
    assert results[0] == results[1] == results[2]


@pytest.mark.parametrize("name", sorted(p.stem for p in EXAMPLES.glob("decision-*.html")))
def test_furniture_never_reaches_the_body(name: str) -> None:
    body = parse_decision(example(name), URL, today=TODAY).body_text().lower()
    for furniture in (
        "back to top",
        "cookie",
        "print this page",
        "make a complaint",
        "skip to main content",
        "on behalf of the ombudsman",
        "coventry",
    ):
        assert furniture not in body, furniture


def test_paragraph_numbers_and_bullets_are_dropped() -> None:
    decision = parse_decision(decision_page(), URL)
    assert decision.sections[0].paragraphs == ("Mrs A says the banding was wrong.",)


def test_cp1252_page_decodes_pounds() -> None:
    decision = parse_decision(example("decision-old-style-long-outcome"), URL, today=TODAY)
    assert decision.remedies.payments[0].amount_pence == 25000
    assert "£250" in decision.summary


def test_undeclared_utf8_is_not_read_as_latin1() -> None:
    lines = visible_lines(parse_html(page("<p>Pay Mrs A £100 \u2013 now</p>", charset=None)))
    assert [line.text for line in lines] == ["Pay Mrs A £100 \u2013 now"]


def test_visible_lines_skip_hidden_and_split_blocks() -> None:
    root = parse_html(
        page(
            "<div>One <b>line</b><br>two</div><script>var x = 1;</script>"
            "<p hidden>secret</p><p style='display: none'>gone</p><dl><dt>A</dt><dd>B</dd></dl>"
        )
    )
    assert [(line.text, line.tag) for line in visible_lines(root)] == [
        ("One line", "div"),
        ("two", "div"),
        ("A", "dt"),
        ("B", "dd"),
    ]


def test_header_label_alone_with_value_on_the_next_line() -> None:
    content = page(
        "<h1>Torbay Council (24 001 234)</h1><table><tr><th>Decision</th><td>Not upheld</td></tr>"
        "<tr><th>Decision date</th><td>12 Mar 2024</td></tr></table>"
        "<p>Summary</p><p>No fault was found.</p><h2>Decision</h2><p>No fault.</p>"
    )
    decision = parse_decision(content, URL)
    assert (decision.outcome, decision.summary) == (Outcome.NOT_UPHELD, "No fault was found.")
    assert [section.heading for section in decision.sections] == ["Decision"]


# --- page kinds and listings ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("decision-care-provider", "decision"),
        ("decision-old-style-long-outcome", "decision"),
        ("listing-first", "listing"),
        ("listing-empty", "listing"),
        ("listing-shell", "listing"),
    ],
)
def test_detect_page_kind(name: str, kind: str) -> None:
    assert detect_page_kind(example(name)) == kind


def test_unrelated_page_is_unknown() -> None:
    assert detect_page_kind(page("<h1>Annual review letters</h1><p>Read ours.</p>")) == "unknown"


def test_empty_listing_and_shell_are_told_apart() -> None:
    empty = parse_listing(example("listing-empty"), "https://www.lgo.org.uk/x?page=1")
    shell = parse_listing(example("listing-shell"), "https://www.lgo.org.uk/x?page=1")
    assert (empty.total, empty.is_shell, empty.entries) == (0, False, [])
    assert (shell.total, shell.is_shell, shell.entries) == (None, True, [])


def test_listing_that_announces_results_but_shows_none_is_an_error() -> None:
    content = page("<p>Your search has 12 results</p><div class='new-layout'>cards</div>")
    with pytest.raises(ParseError) as caught:
        parse_listing(content, "https://www.lgo.org.uk/x?page=1")
    assert caught.value.field == "entries"


def test_a_card_dated_in_the_future_loses_the_date_not_the_page() -> None:
    # A card degrades, a page does not: the decision page has the date (and checks it).
    listing = parse_listing(
        example("listing-first"), "https://www.lgo.org.uk/x?page=1", today=date(2024, 12, 18)
    )
    assert len(listing.entries) == 10
    assert listing.entries[0].decision_date is None
    assert listing.problems == [
        "24 009 118: decision date 2024-12-19 is in the future",
        "24 009 118: no decision date",
    ]


def test_listing_pages_together_hold_every_result_once() -> None:
    references: list[str] = []
    for name in ("listing-first", "listing-middle", "listing-last"):
        listing = parse_listing(example(name), f"https://www.lgo.org.uk/x?page={name}")
        references += [entry.reference for entry in listing.entries]
        assert listing.total == 23
    assert len(references) == len(set(references)) == 23


# --- the real layout (read-only samples beside the repository) ---------------------------------


def _sample_as_html(name: str) -> bytes:
    path = SAMPLES / name
    if not path.exists():
        pytest.skip(f"{path} not present (../shared is only beside the development checkout)")
    paragraphs = "".join(
        f"<p>{line.strip()}</p>" for line in path.read_text(encoding="utf-8").splitlines()
    )
    return page(paragraphs)


def test_real_statement_layout_parses() -> None:
    decision = parse_decision(_sample_as_html("lgsco-decision-23-018-529.txt"), URL, today=TODAY)
    assert (decision.reference, decision.organisation) == ("23 018 529", "Norfolk County Council")
    assert (decision.category, decision.subcategory) == ("Children's care services", "Other")
    assert (decision.outcome, decision.decision_date) == (Outcome.NOT_UPHELD, date(2024, 7, 14))
    assert decision.summary.startswith("There was no fault")
    headings = [section.heading for section in decision.sections]
    assert headings[0] == "The complaint" and headings[-1] == "Final decision"
    assert "cookies" not in json.dumps(decision.to_json()).lower()


def test_real_statement_without_header_fields_is_refused() -> None:
    with pytest.raises(ParseError) as caught:
        parse_decision(_sample_as_html("lgsco-decision-24-009-894.txt"), URL, today=TODAY)
    assert caught.value.field == "decision_date"


# --- cards and headers in every wrapping --------------------------------------------------------

_CARD_TITLE = (
    '<h3><a href="/decisions/environment-and-regulation/parking/26-002-445">'
    "Westmorland and Furness Council (26 002 445)</a></h3>"
)
_CARD_SUMMARY = "<p><strong>Summary:</strong> We will not investigate Mr X's parking fine.</p>"
_CARD_FIELDS = (
    "Statement",
    "Closed after initial enquiries",
    "Parking and other penalties",
    "09-Aug-2026",
)
_CARD_WRAPPINGS = {
    "blocks": "".join(f"<p>{field}</p>" for field in _CARD_FIELDS),
    "one line, spaces (the real site)": "<p>" + " ".join(_CARD_FIELDS) + "</p>",
    "spans with spaces": "<p>" + " ".join(f"<span>{f}</span>" for f in _CARD_FIELDS) + "</p>",
    "spans without whitespace": "<div>"
    + "".join(f"<span>{f}</span>" for f in _CARD_FIELDS)
    + "</div>",
    "middle dots": "<p>" + " \u00b7 ".join(_CARD_FIELDS) + "</p>",
    "bars": "<p>" + " | ".join(_CARD_FIELDS) + "</p>",
    "commas": "<p>" + ", ".join(_CARD_FIELDS) + "</p>",
    "table row": "<table><tr>" + "".join(f"<td>{f}</td>" for f in _CARD_FIELDS) + "</tr></table>",
    "inline labels": "<p>Type: Statement Decision: Closed after initial enquiries Category: "
    "Parking and other penalties Decision date: 09-Aug-2026</p>",
    "labels run together": "<div><span>Statement</span><span>Decision: </span><span>Closed "
    "after initial enquiries</span><span>Category: </span><span>Parking and other penalties"
    "</span><span>Decision date: </span><span>09-Aug-2026</span></div>",
    "labels in a definition list": "<dl><dt>Type</dt><dd>Statement</dd><dt>Decision</dt><dd>"
    "Closed after initial enquiries</dd><dt>Category</dt><dd>Parking and other penalties</dd>"
    "<dt>Decision date</dt><dd>09-Aug-2026</dd></dl>",
}


def _one_card_listing(
    fields: str, *, title: str = _CARD_TITLE, summary: str = _CARD_SUMMARY
) -> bytes:
    return page(f"<p>Your search has 1 results</p><div>{title}{fields}{summary}</div>")


@pytest.mark.parametrize("wrapping", sorted(_CARD_WRAPPINGS))
def test_a_card_reads_the_same_in_every_wrapping(wrapping: str) -> None:
    listing = parse_listing(
        _one_card_listing(_CARD_WRAPPINGS[wrapping]),
        "https://www.lgo.org.uk/x?page=1",
        today=date(2026, 9, 1),
    )
    [entry] = listing.entries
    assert listing.problems == []
    assert (entry.reference, entry.organisation) == (
        "26 002 445",
        "Westmorland and Furness Council",
    )
    assert (entry.document_type, entry.outcome, entry.outcome_text) == (
        "Statement",
        Outcome.CLOSED,
        "Closed after initial enquiries",
    )
    assert (entry.subcategory, entry.decision_date) == (
        "Parking and other penalties",
        date(2026, 8, 9),
    )
    assert entry.summary == "We will not investigate Mr X's parking fine."


@pytest.mark.parametrize(
    ("line", "outcome_text", "subcategory"),
    [
        (
            "Statement Upheld: maladministration and injustice Planning applications 22-Dec-2016",
            "Upheld: maladministration and injustice",
            "Planning applications",
        ),
        ("Report Not upheld Not upheld schools 09-Aug-2026", "Not upheld", "Not upheld schools"),
        ("StatementNot upheldCouncil tax3 September 2024", "Not upheld", "Council tax"),
        (
            "Statement Closed after initial enquiries - out of jurisdiction Other 2024-07-14",
            "Closed after initial enquiries - out of jurisdiction",
            "Other",
        ),
        ("Statement Upheld Housing > Allocations 14/07/2024", "Upheld", "Allocations"),
    ],
)
def test_one_line_split_takes_the_longest_known_outcome_and_the_date_last(
    line: str, outcome_text: str, subcategory: str
) -> None:
    [entry] = parse_listing(_one_card_listing(f"<p>{line}</p>"), "https://x/y?page=1").entries
    assert (entry.outcome_text, entry.subcategory) == (outcome_text, subcategory)
    assert entry.decision_date is not None


def test_a_card_with_only_its_title_link_is_kept_with_its_missing_hints_named() -> None:
    listing = parse_listing(_one_card_listing("", summary=""), "https://x/y?page=1")
    [entry] = listing.entries
    assert entry.url == "https://x/decisions/environment-and-regulation/parking/26-002-445"
    assert (entry.decision_date, entry.outcome, entry.subcategory) == (None, Outcome.OTHER, None)
    assert listing.problems == [
        "26 002 445: no type",
        "26 002 445: no outcome",
        "26 002 445: no subcategory",
        "26 002 445: no decision date",
    ]


def test_a_title_whose_link_is_elsewhere_in_the_card_still_counts() -> None:
    title = "<h3>Westmorland and Furness Council (26 002 445)</h3>"
    link = '<p><a href="/decisions/x/y/26-002-445">Read the decision</a></p>'
    [entry] = parse_listing(
        _one_card_listing(_CARD_WRAPPINGS["blocks"] + link, title=title), "https://x/y?page=1"
    ).entries
    assert entry.url == "https://x/decisions/x/y/26-002-445"
    assert entry.subcategory == "Parking and other penalties"


def test_results_without_any_linked_card_are_an_error_naming_why() -> None:
    title = "<h3>Westmorland and Furness Council (26 002 445)</h3>"
    with pytest.raises(ParseError, match="no link to its decision") as caught:
        parse_listing(
            _one_card_listing(_CARD_WRAPPINGS["blocks"], title=title), "https://x/y?page=1"
        )
    assert caught.value.field == "entries"


_RUN_TOGETHER = (
    "<h1>Stockton-on-Tees Borough Council (21 004 118)</h1>"
    "<div><span>Category : </span><span>Other categories &gt; Councillor conduct and standards"
    "</span><span>Decision : </span><span>Closed after initial enquiries</span>"
    "<span>Decision date : </span><span>13 Sep 2021</span></div>"
    "<p><strong>The Ombudsman's final decision:</strong></p>"
    "<p><strong>Summary:</strong> We will not investigate this complaint about a councillor.</p>"
    "<h2>The complaint</h2><p>1. Mr B complains about what a councillor said.</p>"
)


@pytest.mark.parametrize(
    "header",
    [
        _RUN_TOGETHER,
        # the title too runs into the header, and the summary into the final-decision line
        _RUN_TOGETHER.replace("</h1><div>", "")
        .replace("<h1>", "<div>")
        .replace("</p><p><strong>Summary", "<strong>Summary"),
        _RUN_TOGETHER.replace("</span><span>Decision", "</span> \u00b7 <span>Decision"),
        _RUN_TOGETHER.replace("<span>Category : </span>", "<span>Category</span>")
        .replace("<span>Decision : </span>", "<span>Decision</span>")
        .replace("<span>Decision date : </span>", "<span>Decision date</span>"),
    ],
    ids=["run-together", "title and summary run in", "middle dots", "no colons"],
)
def test_a_decision_header_with_run_together_fields_parses_fully(header: str) -> None:
    decision = parse_decision(page(header), URL, today=TODAY)
    assert (decision.organisation, decision.reference) == (
        "Stockton-on-Tees Borough Council",
        "21 004 118",
    )
    assert (decision.category, decision.subcategory) == (
        "Other categories",
        "Councillor conduct and standards",
    )
    assert (decision.outcome, decision.outcome_text) == (
        Outcome.CLOSED,
        "Closed after initial enquiries",
    )
    assert decision.decision_date == date(2021, 9, 13)
    assert decision.summary == "We will not investigate this complaint about a councillor."
    assert [section.heading for section in decision.sections] == ["The complaint"]
    assert detect_page_kind(page(header)) == "decision"


_SUBCATEGORIES = (
    "Parking and other penalties",
    "Council tax",
    "Special educational needs",
    "Councillor conduct and standards",
    "Other",
    "Noise",
    "Antisocial behaviour",
    "Child protection",
    "Disabled facilities grants",
    "Assessment and care plan",
    "Enforcement",
    "Refuse and recycling",
    "Homelessness",
    "Charging",
)
_OUTCOMES = (
    "Upheld",
    "Not upheld",
    "Closed after initial enquiries",
    "Upheld: maladministration and injustice",
    "Upheld: maladministration, no injustice",
    "Not upheld: no maladministration",
    "Closed after initial enquiries - out of jurisdiction",
)


@given(
    st.sampled_from(("Statement", "Report")),
    st.sampled_from(_OUTCOMES),
    st.sampled_from(_SUBCATEGORIES),
    st.dates(min_value=date(2009, 1, 1), max_value=date(2026, 8, 31)),
    st.sampled_from(("%d-%b-%Y", "%d %B %Y", "%d %b %Y", "%d/%m/%Y", "%Y-%m-%d")),
    st.sampled_from(("", " ", " \u00b7 ", " | ", ", ", "; ")),
    st.sampled_from(("p", "span", "td", "li", "div")),
)
@settings(max_examples=60, deadline=None)
def test_any_card_line_splits_back_into_its_fields(
    kind: str,
    outcome: str,
    subcategory: str,
    decided: date,
    date_format: str,
    joiner: str,
    element: str,
) -> None:
    fields = (kind, outcome, subcategory, decided.strftime(date_format))
    inner = joiner.join(f"<{element}>{field}</{element}>" for field in fields)
    wrapped = f"<table><tr>{inner}</tr></table>" if element == "td" else f"<div>{inner}</div>"
    [entry] = parse_listing(_one_card_listing(wrapped), "https://x/y?page=1").entries
    assert (entry.document_type, entry.outcome_text, entry.subcategory, entry.decision_date) == (
        kind,
        outcome,
        subcategory,
        decided,
    )
