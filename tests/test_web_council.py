"""Council pages and previews on the web: read as a person reads the page (its text), on SQLite
and PostgreSQL."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from db.subscriptions import subscriptions
from tests.test_web_support import (
    WebHarness,
    confirm,
    csrf,
    decision,
    page_text,
    serve,
    store,
    story,
    subscribe,
)


@pytest.fixture
def web(database_url: str, tmp_path: Path) -> Iterator[WebHarness]:
    yield from serve(database_url, tmp_path)


def _norfolk_record(web: WebHarness) -> dict[str, int]:
    return store(
        web,
        decision(
            "25 000 101",
            decided_on=date(2026, 2, 10),
            summary="The council delayed school transport for a disabled pupil.",
            extra={
                "remedies": {
                    "apology": True,
                    "payments": [{"amount_pence": 50000}],
                    "total_pence": 50000,
                }
            },
        ),
        decision(
            "25 000 102",
            decided_on=date(2026, 1, 5),
            outcome="not upheld",
            category="Adult care services",
        ),
        decision(
            "25 000 103",
            decided_on=date(2025, 11, 20),
            summary="The council failed to review an education plan on time.",
            extra={"remedies": {"payments": [{"amount_pence": 120000}], "total_pence": 120000}},
        ),
        decision(
            "25 000 104",
            decided_on=date(2025, 8, 1),
            outcome="closed after initial enquiries",
        ),
        decision(
            "25 000 105",
            organisation="Cumbria County Council",
            decided_on=date(2022, 6, 1),
            summary="Cumbria County Council delayed a care assessment.",
        ),
        story("bus-passes", title="Norfolk County Council apologises over bus passes"),
    )


def test_council_page_shows_the_record_at_a_glance(web: WebHarness) -> None:
    ids = _norfolk_record(web)
    page = web.client.get("/councils/norfolk")
    assert page.status_code == 200
    text = " ".join(page_text(page.text).split())
    assert "Norfolk County Council" in text and "County council" in text
    assert "4 decisions" in text
    # Upheld among investigated decisions: 2 upheld of 3 (closed after enquiries is not one).
    assert "67% upheld of 3 investigated" in text
    assert "2 with a remedy ordered" in text
    assert "£1,700 ordered paid (2 decisions)" in text
    assert "Education: 3" in text and "Adult care services: 1" in text
    assert "Norfolk County Council apologises over bus passes" in text
    # The chart is drawn by the server and describes itself; a bar per outcome per quarter.
    svg = re.search(r"<svg.*?</svg>", page.text, re.S)
    assert svg is not None
    tree = ET.fromstring(svg.group(0))
    titles = [t.text for t in tree.iter("{http://www.w3.org/2000/svg}title")]
    assert "2026 Q1: 1 upheld" in titles and "2026 Q1: 1 not upheld" in titles
    assert "2025 Q4: 1 upheld" in titles and "2025 Q3: 1 closed after initial enquiries" in titles
    assert f'href="/documents/{ids["25 000 101"]}"' in page.text
    link = re.search(r'href="(/subscribe\?[^"]+)">Get alerts for this council', page.text)
    assert link is not None
    assert parse_qs(urlsplit(link.group(1).replace("&amp;", "&")).query) == {
        "council": ["Norfolk County Council"]
    }


def test_abolished_council_explains_its_successors(web: WebHarness) -> None:
    _norfolk_record(web)
    text = " ".join(page_text(web.client.get("/councils/cumbria").text).split())
    assert "Cumbria County Council was abolished on 31 March 2023" in text
    assert "An alert on it follows Cumberland Council and Westmorland and Furness Council" in text
    assert "1 decisions" in text or "1 decision" in text
    assert web.client.get("/councils/no-such-council").status_code == 404


def test_documents_link_to_council_pages_and_offer_alerts(web: WebHarness) -> None:
    ids = _norfolk_record(web)
    page = web.client.get(f"/documents/{ids['25 000 101']}")
    assert 'href="/councils/norfolk"' in page.text
    assert "Get alerts for this" in page.text
    found = web.client.get("/documents", params={"q": "school NOT review"})
    text = " ".join(page_text(found.text).split())
    assert "1 item matches" in text
    link = re.search(r'href="(/subscribe\?[^"]+)">Get alerts for this', found.text)
    assert link is not None
    prefilled = web.client.get(link.group(1).replace("&amp;", "&"))
    assert 'value="school NOT review"' in prefilled.text
    refused = web.client.get("/documents", params={"q": '"school'})
    assert refused.status_code == 400
    assert "unterminated quote starting at position 0" in refused.text


def test_subscribe_form_previews_before_anything_is_stored(web: WebHarness) -> None:
    _norfolk_record(web)
    page = web.client.get("/subscribe", params={"council": "Norfolk County Council"})
    text = " ".join(page_text(page.text).split())
    # Clock: 2 March 2026; the window reaches back to 3 December 2025.
    assert "In the last 90 days this alert would have caught 3 items." in text
    assert "(3 December 2025 to 2 March 2026)" in text
    form = web.client.post(
        "/subscribe",
        data={
            "csrf_token": csrf(page.text),
            "email": "",
            "council": ["Norfolk County Council"],
            "query": "school transport",
            "frequency": "daily",
            "action": "preview",
        },
    )
    assert form.status_code == 200
    assert "would have caught 1 item." in page_text(form.text)
    assert "<mark>school transport</mark>" in form.text
    empty = web.client.post(
        "/subscribe",
        data={
            "csrf_token": csrf(page.text),
            "council": ["Cumbria County Council"],
            "query": "parking",
            "action": "preview",
        },
    )
    assert "alerts on it follow Cumberland" in page_text(empty.text)
    assert not any(v.subscriber.email for v in subscriptions(web.engine))


def test_manage_page_says_why_a_digest_was_quiet_and_the_feed_starts_with_the_preview(
    web: WebHarness,
) -> None:
    _norfolk_record(web)
    assert subscribe(web.client, query="school transport").status_code == 303
    manage = confirm(web, web.client, "mrs.b@example.org")
    page = web.client.get(manage)
    text = " ".join(page_text(page.text).split())
    assert "Last digest sent to you: none yet; with an item from this alert: none yet." in text
    assert "In the last 30 days: 1 stored item matches this alert; 0 arrived while it was on." in (
        text
    )
    assert "Every source is working." in text
    assert "What this alert would have caught in the last 90 days (1)" in text
    # A brand-new alert has matched nothing yet: its feed opens with the preview's items.
    token = re.search(r'href="/alerts/([^"]+)\.atom"', page.text)
    assert token is not None
    feed = ET.fromstring(web.client.get(f"/alerts/{token.group(1)}.atom").content)
    titles = [
        e.findtext("{http://www.w3.org/2005/Atom}title")
        for e in feed.iter("{http://www.w3.org/2005/Atom}entry")
    ]
    assert titles == ["Decision 25 000 101"]


def test_subscribe_form_says_which_papers_cover_the_council(
    database_url: str, tmp_path: Path
) -> None:
    from tests.test_web_support import make_harness

    harness = make_harness(database_url, tmp_path)
    with harness.client:
        page = harness.client.get("/subscribe", params={"council": "Cumberland Council"})
    harness.runtime.close()
    text = " ".join(page_text(page.text).split())
    assert "Local papers that cover this council" in text
    assert "News & Star (not read by this service yet)" in text
    assert "BBC News Cumbria (not read by this service yet)" in text
    assert "Eastern Daily Press" not in text
    # An abolished council: its successors' papers.
    (tmp_path / "followed").mkdir()
    following = make_harness(
        database_url, tmp_path / "followed",
        toml="[sources.news]\nfollow_subscribed_councils = true\n",
    )
    with following.client as client:
        followed = client.get("/subscribe", params={"council": "Allerdale Borough Council"})
    following.runtime.close()
    text = " ".join(page_text(followed.text).split())
    assert "News & Star" in text and "not read by this service yet" not in text
