"""Browsing documents, one document's page, and the Atom feed of an alert."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import UTC, date, datetime
from html import unescape
from pathlib import Path

import pytest

from alerts.mail.tokens import sign
from councilwatch.web import document_pages
from councilwatch.web.links import atom_token
from db.matches import NewMatchSet, add_match_sets
from db.subscriptions import find_subscriber, subscriptions
from tests.runtimes import SECRET
from tests.test_web_support import (
    WebHarness,
    confirm,
    csrf,
    decision,
    page_text,
    serve,
    set_cluster,
    store,
    story,
    subscribe,
)

ATOM = "{http://www.w3.org/2005/Atom}"
_NEXT = re.compile(r'<a class="button button-secondary" href="([^"]+)" rel="next">')
_TITLE = re.compile(r'<h2 class="card-title"><a href="/documents/\d+">([^<]*)</a>')


@pytest.fixture
def web(database_url: str, tmp_path: Path) -> Iterator[WebHarness]:
    yield from serve(database_url, tmp_path)


def titles(html: str) -> list[str]:
    return [unescape(t) for t in _TITLE.findall(html)]


@pytest.fixture
def library(web: WebHarness) -> dict[str, int]:
    ids = store(
        web,
        decision("24 001 001", title="Council delayed an EHC plan for Master C"),
        decision(
            "24 001 002",
            title="Care charges for Mr D",
            organisation="Breckland Council",
            category="Adult care services",
            outcome="not upheld",
        ),
        decision(
            "24 001 003",
            title="Home to school transport refused",
            summary="The council refused transport to Miss E's school without reasons.",
            extra={"remedies": {"apology": True, "payments": [{"amount_pence": 30000}]}},
        ),
    )
    web.clock.advance(hours=1)
    ids |= store(
        web,
        story("bus-passes", title="Bus passes late for Breckland pupils"),
        story("bus-passes-2", title="Pupils wait weeks for bus passes", site_name="BBC News"),
    )
    set_cluster(web, "bus-passes", ids["bus-passes"], ids["bus-passes-2"])
    return ids


def test_documents_newest_first_with_filters(web: WebHarness, library: dict[str, int]) -> None:
    page = web.client.get("/documents")
    assert page.status_code == 200
    shown = titles(page.text)
    assert len(shown) == 5
    assert set(shown[:2]) == {
        "Bus passes late for Breckland pupils",
        "Pupils wait weeks for bus passes",
    }
    assert titles(web.client.get("/documents?kind=news").text) == shown[:2]
    assert titles(web.client.get("/documents", params={"outcome": "not upheld"}).text) == [
        "Care charges for Mr D"
    ]
    by_category = web.client.get("/documents", params={"category": "Adult care services"})
    assert titles(by_category.text) == ["Care charges for Mr D"]
    by_council = titles(web.client.get("/documents", params={"council": "Breckland"}).text)
    assert "Care charges for Mr D" in by_council
    assert "Council delayed an EHC plan for Master C" not in by_council
    searched = titles(web.client.get("/documents", params={"q": "transport"}).text)
    assert searched == ["Home to school transport refused"]
    both = web.client.get("/documents", params={"q": "transport", "kind": "news"})
    assert titles(both.text) == []


def test_documents_bad_filters_are_explained(web: WebHarness, library: dict[str, int]) -> None:
    response = web.client.get("/documents", params={"council": "Norfok County Council"})
    assert response.status_code == 400
    assert "Did you mean Norfolk County Council" in page_text(response.text)
    response = web.client.get("/documents", params={"q": "-transport"})
    assert response.status_code == 400
    assert "The search did not make sense" in page_text(response.text)
    # Unknown kinds and outcomes are ignored rather than failing.
    assert len(titles(web.client.get("/documents?kind=poem&page=abc").text)) == 5


def walk(web: WebHarness, url: str, rel: str = "next") -> list[list[str]]:
    """Titles page by page, following the pager's ``rel`` links from ``url``."""
    link = re.compile(rf'<a class="button button-secondary" href="([^"]+)" rel="{rel}">')
    pages = []
    while url:
        page = web.client.get(url)
        assert page.status_code == 200
        pages.append(titles(page.text))
        found = link.search(page.text)
        url = unescape(found.group(1)) if found else ""
        assert len(pages) < 10, "pagination does not end"
    return pages


def test_documents_pagination(
    web: WebHarness, library: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(document_pages, "PER_PAGE", 2)
    pages = walk(web, "/documents?kind=decision")
    assert [len(p) for p in pages] == [2, 1]
    assert len({t for p in pages for t in p}) == 3  # nothing twice, nothing lost
    second = web.client.get("/documents?kind=decision")
    later = unescape(_NEXT.search(second.text).group(1))  # type: ignore[union-attr]
    assert "after=" in later and "kind=decision" in later
    back = web.client.get(later)
    assert 'rel="prev"' in back.text and "kind=decision" in back.text
    # back from the last page, then forward again: the same pages both ways
    last = walk(web, "/documents")
    everything = [t for p in last for t in p]
    assert len(everything) == 5 and len(set(everything)) == 5
    end = web.client.get("/documents")
    url = ""
    for _ in range(2):
        found = _NEXT.search(end.text if not url else web.client.get(url).text)
        url = unescape(found.group(1)) if found else url
    backwards = walk(web, url, rel="prev")
    assert [t for p in reversed(backwards) for t in p] == everything


def test_page_links_stay_put_when_documents_arrive(
    web: WebHarness, library: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(document_pages, "PER_PAGE", 2)
    first = web.client.get("/documents")
    second_url = unescape(_NEXT.search(first.text).group(1))  # type: ignore[union-attr]
    before = titles(web.client.get(second_url).text)
    store(web, story("late", title="A newer story", published_at=datetime(2026, 3, 1, tzinfo=UTC)))
    assert titles(web.client.get("/documents").text)[0] == "A newer story"
    assert titles(web.client.get(second_url).text) == before  # OFFSET would have shifted it
    assert web.client.get("/documents?after=garbage_1").status_code == 404
    assert web.client.get("/documents?before=20260101T000000.000000_x").status_code == 404


def test_browse_orders_by_the_documents_own_dates(web: WebHarness) -> None:
    # a backfill stores the oldest decision last: the page still shows it last
    store(
        web,
        story(
            "new-story",
            title="Story of 20 March",
            published_at=datetime(2026, 3, 20, 9, tzinfo=UTC),
        ),
    )
    web.clock.advance(hours=1)
    store(web, decision("25 000 001", title="Decided 1 March", decided_on=date(2026, 3, 1)))
    web.clock.advance(hours=1)
    store(web, decision("19 000 001", title="Decided in 2019", decided_on=date(2019, 5, 2)))
    web.clock.advance(hours=1)
    store(web, decision("25 000 002", title="Decided 25 March", decided_on=date(2026, 3, 25)))
    newest = ["Decided 25 March", "Story of 20 March", "Decided 1 March", "Decided in 2019"]
    assert titles(web.client.get("/documents").text) == newest
    assert titles(web.client.get("/documents?sort=oldest").text) == newest[::-1]
    march = {"date_from": "2026-03-01", "date_to": "2026-03-20"}
    assert titles(web.client.get("/documents", params=march).text) == newest[1:3]
    older = titles(web.client.get("/documents", params={"date_to": "2026-02-28"}).text)
    assert older == ["Decided in 2019"]
    bad = web.client.get("/documents", params={"date_from": "31/03/2026"})
    assert bad.status_code == 400 and "should look like 2025-03-31" in page_text(bad.text)
    swapped = web.client.get(
        "/documents", params={"date_from": "2026-03-02", "date_to": "2026-03-01"}
    )
    assert swapped.status_code == 400 and "before the from date" in page_text(swapped.text)


def test_council_link_by_id_shows_the_councils_name(
    web: WebHarness, library: dict[str, int]
) -> None:
    council = web.runtime.register.lookup("Breckland")
    page = web.client.get("/documents", params={"council": council.id})
    assert page.status_code == 200
    assert f'value="{council.common_name}"' in page.text
    assert f"naming {council.common_name}" in page_text(page.text)
    assert "Care charges for Mr D" in titles(page.text)


def test_subject_menu_lists_stored_categories(web: WebHarness, library: dict[str, int]) -> None:
    menu = re.findall(r'<option value="([^"]*)"', web.client.get("/documents").text)
    assert "Adult care services" in menu and "Education" in menu
    store(web, decision("24 009 009", category="Planning and development"))
    menu = re.findall(r'<option value="([^"]*)"', web.client.get("/documents").text)
    assert "Planning and development" in menu


def test_one_document_with_councils_remedies_and_source(
    web: WebHarness, library: dict[str, int]
) -> None:
    page = web.client.get(f"/documents/{library['24 001 003']}")
    assert page.status_code == 200
    text = page_text(page.text)
    assert "Home to school transport refused" in text
    assert "Norfolk County Council" in text
    assert "Apologise" in text and "£300.00" in text
    assert 'href="https://www.lgo.org.uk/decisions/24 001 003"' in page.text
    story_page = web.client.get(f"/documents/{library['bus-passes']}")
    assert "The same story elsewhere" in story_page.text
    assert f"/documents/{library['bus-passes-2']}" in story_page.text
    assert web.client.get("/documents/999999").status_code == 404
    assert web.client.get("/documents/99999999999999999999").status_code == 404
    assert web.client.get("/documents/abc").status_code == 404


def test_hostile_document_text_is_escaped(web: WebHarness) -> None:
    ids = store(web, story("x", title='<img src=x onerror="alert(1)">', summary="<b>bold</b>"))
    for path in ("/documents", f"/documents/{ids['x']}"):
        page = web.client.get(path)
        assert "<img src=x" not in page.text and "<b>bold</b>" not in page.text
        assert "&lt;img src=x" in page.text


def feed_setup(web: WebHarness, library: dict[str, int]) -> tuple[str, int]:
    subscribe(web.client, "mrs.b@example.org")
    confirm(web, web.client, "mrs.b@example.org")
    subscriber = find_subscriber(web.engine, email="mrs.b@example.org")
    assert subscriber is not None
    [alert] = [a for v in subscriptions(web.engine) for a in v.alerts]
    web.clock.advance(hours=1)
    add_match_sets(
        web.engine,
        [
            NewMatchSet(library["24 001 003"], [alert.id or 0]),
            NewMatchSet(library["24 001 001"], [alert.id or 0]),
        ],
        now=datetime(2026, 3, 3, 7, tzinfo=UTC),
    )
    return atom_token(web.runtime.settings, alert, subscriber), alert.id or 0


def test_atom_feed_of_an_alert(web: WebHarness, library: dict[str, int]) -> None:
    token, _ = feed_setup(web, library)
    assert f"/alerts/{token}.atom" in web.client.get(confirm_manage_path(web)).text
    response = web.client.get(f"/alerts/{token}.atom")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/atom+xml")
    feed = ET.fromstring(response.content)
    assert feed.tag == f"{ATOM}feed"
    entries = feed.findall(f"{ATOM}entry")
    assert sorted(e.findtext(f"{ATOM}title") for e in entries) == [
        "Council delayed an EHC plan for Master C",
        "Home to school transport refused",
    ]
    updated = feed.findtext(f"{ATOM}updated") or ""
    assert updated.startswith("2026-03-03T07:00:00") and updated.endswith("+00:00")
    link = entries[0].find(f"{ATOM}link[@rel='alternate']")
    assert link is not None and link.get("href", "").startswith("http://127.0.0.1:8080/documents/")


def test_atom_summary_falls_back_to_the_matched_passage_as_plain_text(
    web: WebHarness, library: dict[str, int]
) -> None:
    token, alert_id = feed_setup(web, library)
    subscriber = find_subscriber(web.engine, email="mrs.b@example.org")
    assert subscriber is not None
    body = "Parents in Norfolk say the school transport <budget> row goes on."
    ids = store(web, story("no-summary", title="Bus passes", summary="", body=body))
    add_match_sets(
        web.engine,
        [NewMatchSet(ids["no-summary"], [alert_id])],
        now=datetime(2026, 3, 4, 7, tzinfo=UTC),
    )
    feed = ET.fromstring(web.client.get(f"/alerts/{token}.atom").content)
    summaries = [e.findtext(f"{ATOM}summary") for e in feed.findall(f"{ATOM}entry")]
    # The passage the alert matched (a council alert: the opening), markup kept as text.
    assert "Parents in Norfolk say the school transport <budget> row goes on" in summaries


def test_atom_feed_tokens_are_checked(web: WebHarness, library: dict[str, int]) -> None:
    token, alert_id = feed_setup(web, library)
    value = token.split(".")[0]
    assert web.client.get(f"/alerts/{value}.AAAA.atom").status_code == 404
    assert web.client.get("/alerts/nonsense.atom").status_code == 404
    # A correctly signed token for an alert that is not the subscriber's own.
    subscriber = find_subscriber(web.engine, email="mrs.b@example.org")
    assert subscriber is not None
    other = sign(SECRET.encode(), "atom", f"{alert_id + 1}.{subscriber.id}.{subscriber.token}")
    assert web.client.get(f"/alerts/{other}.atom").status_code == 404
    # Deleting the alert retires its feed.
    manage = confirm_manage_path(web)
    page = web.client.get(manage)
    web.client.post(
        f"{manage}/alerts/{alert_id}", data={"csrf_token": csrf(page.text), "action": "delete"}
    )
    assert web.client.get(f"/alerts/{token}.atom").status_code == 404


def confirm_manage_path(web: WebHarness) -> str:
    from councilwatch.mailer import link_token

    subscriber = find_subscriber(web.engine, email="mrs.b@example.org")
    assert subscriber is not None
    return f"/manage/{link_token(web.runtime.settings, 'manage', subscriber)}"


def test_date_filter_shows_decision_dates(web: WebHarness, library: dict[str, int]) -> None:
    page = web.client.get(f"/documents/{library['24 001 001']}")
    assert f"{date(2026, 2, 10):%-d %B %Y}" in page.text


def test_a_phrase_search_counts_past_its_page_only_so_far(
    web: WebHarness, library: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Its candidates are confirmed one by one: past the page the count stops early and says
    # so, and the pager still leads to every match.
    monkeypatch.setattr(document_pages, "PER_PAGE", 1)
    monkeypatch.setattr(document_pages, "PAGE_COUNT_UP_TO", 1)
    first = web.client.get('/documents?q="bus passes"')
    assert "At least 1 item matches" in page_text(first.text)
    pages = walk(web, '/documents?q="bus passes"')
    assert sorted(t for p in pages for t in p) == [
        "Bus passes late for Breckland pupils",
        "Pupils wait weeks for bus passes",
    ]
    assert [len(p) for p in pages] == [1, 1]
    last = web.client.get('/documents?q="bus passes"&page=2')
    assert "2 items match" in page_text(last.text)
    assert "At least" not in page_text(last.text)
    monkeypatch.setattr(document_pages, "PAGE_COUNT_UP_TO", 1000)
    exact = web.client.get('/documents?q="bus passes"')
    assert "2 items match" in page_text(exact.text) and 'rel="next"' in exact.text
