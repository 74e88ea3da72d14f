"""Title normalisation: a Google News item matches the publisher's own item."""

from __future__ import annotations

from pathlib import Path

import pytest

from scraper.news import normalise_title, parse_feed

FEEDS = Path(__file__).parent / "sources" / "news" / "feeds"


@pytest.mark.parametrize(
    ("google", "publisher"),
    [
        (
            "Council told to pay £2,350 after boy lost school transport - Eastern Daily Press",
            "Council told to pay £2,350 after boy lost school transport",
        ),
        ("Extra £6m for Norfolk pothole repairs - BBC", "Extra £6m for Norfolk pothole repairs"),
        (
            "Council’s ‘bold’ plan for bins approved – The Northern Echo",
            'Council\'s "bold" plan for bins approved',
        ),
        (
            "WIRRAL COUNCIL TO KEEP LEISURE CENTRES OPEN | Liverpool Echo",
            "Wirral Council to keep leisure centres open",
        ),
    ],
)
def test_google_title_matches_publisher_title(google: str, publisher: str) -> None:
    assert normalise_title(google) == normalise_title(publisher)


def test_different_stories_do_not_match() -> None:
    assert normalise_title("Council tax to rise by 4.99%") != normalise_title(
        "Council tax to rise by 2.99%"
    )


def test_a_trailing_clause_in_lower_case_is_not_taken_for_a_publisher() -> None:
    assert normalise_title("Council tax to rise - here's why") == "council tax to rise heres why"


def test_known_publisher_is_stripped_even_when_it_looks_like_a_clause() -> None:
    assert normalise_title("Bin strike ends - at last - inews", publisher="inews") == (
        "bin strike ends at last"
    )
    # a named publisher that is not the suffix leaves the title alone
    assert (
        normalise_title("Bin strike ends - at last", publisher="BBC") == "bin strike ends at last"
    )


def test_google_news_feed_items_match_publisher_feed_titles() -> None:
    google = parse_feed(
        (FEEDS / "google_news.xml").read_bytes(), "https://news.google.com/rss/search?q=x"
    )
    raw_titles = {
        "Council told to pay £2,350 after boy left without school transport - Eastern Daily Press",
        "Extra £6m for Norfolk pothole repairs - BBC",
    }
    keys = {normalise_title(item.title, publisher=item.source_name) for item in google.items}
    assert keys == {normalise_title(t) for t in raw_titles}
