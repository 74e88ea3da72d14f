"""News feeds: three publisher families, Atom, RSS 1.0/0.91, Google News, sitemaps, robots."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime
from pathlib import Path

import pytest

from cwerrors import ParseError
from scraper.news import parse_feed, sitemaps_from_robots

FEEDS = Path(__file__).parent / "sources" / "news" / "feeds"


def read(name: str) -> bytes:
    return (FEEDS / name).read_bytes()


def test_newsquest_rss_items_are_canonical_and_dated() -> None:
    feed = parse_feed(read("newsquest_rss.xml"), "https://www.oxfordmail.co.uk/news/rss/")
    assert feed.kind == "rss"
    assert feed.title == "Oxford Mail | News"
    assert feed.warnings == []
    first, _, third = feed.items
    assert first.url == (
        "https://www.oxfordmail.co.uk/news/24567812."
        "oxfordshire-county-council-apologises-lost-care-assessment/"
    )
    assert first.published == datetime(2024, 3, 5, 9, 30, tzinfo=UTC)
    assert first.author == "Tom Hadley, Local Democracy Reporter"
    # HTML in the description is reduced to text
    assert first.summary == "A family waited eight months for a decision on care for their father."
    assert not first.discovery_only
    # the fragment on the third link is dropped
    assert third.url.endswith("/24566119.library-opening-hours-cut-three-branches/")
    assert third.author is None


def test_reach_rss_drops_tracking_and_maps_amp_links() -> None:
    feed = parse_feed(
        read("reach_rss.xml"), "https://www.manchestereveningnews.co.uk/news/?service=rss"
    )
    urls = [item.url for item in feed.items]
    assert urls == [
        "https://www.manchestereveningnews.co.uk/news/greater-manchester-news/"
        "council-tenants-left-without-heating-28765432",
        "https://www.manchestereveningnews.co.uk/news/greater-manchester-news/"
        "plans-300-homes-near-wigan-28764100",
    ]
    assert feed.items[0].guid == "manchestereveningnews-28765432"
    assert feed.items[1].published == datetime(2024, 3, 6, 11, 0, tzinfo=UTC)


def test_bbc_rss_ttl_and_at_parameters() -> None:
    feed = parse_feed(read("bbc_rss.xml"), "https://feeds.bbci.co.uk/news/england/cumbria/rss.xml")
    assert feed.ttl_minutes == 15
    assert feed.title == "BBC News - Cumbria"
    assert [item.url for item in feed.items] == [
        "https://www.bbc.co.uk/news/articles/c4nn2x7yk8zo",
        "https://www.bbc.co.uk/news/uk-england-cumbria-68431207",
    ]
    # the guid is kept as given: it is the publisher's identity for the item, not a URL to use
    assert feed.items[0].guid == "https://www.bbc.co.uk/news/articles/c4nn2x7yk8zo#0"


def test_atom_feed_resolves_relative_links_and_converts_offsets_to_utc() -> None:
    feed = parse_feed(read("atom.xml"), "https://civic.example.org/atom.xml")
    assert feed.kind == "atom"
    first, second = feed.items
    assert first.url == "https://civic.example.org/2024/03/07/housing-waiting-list/"
    assert first.title == "Bristol City Council & the housing waiting list"
    assert first.author == "Grace Whitfield"
    assert first.summary == "More than 20,000 households are now on the list."
    # no <published>: the <updated> time, +01:00 converted to UTC
    assert second.published == datetime(2024, 3, 6, 16, 30, tzinfo=UTC)
    assert feed.ttl_minutes is None


def test_rss_1_0_with_syndication_module_update_period() -> None:
    feed = parse_feed(read("rss10.rdf"), "https://www.parishnews.example/rss")
    assert feed.kind == "rss"
    assert feed.ttl_minutes == 30  # hourly, twice
    (item,) = feed.items
    assert item.published == datetime(2024, 3, 2, 10, 0, tzinfo=UTC)
    assert item.author == "Parish Clerk"


def test_rss_0_91_in_latin_1_without_dates() -> None:
    feed = parse_feed(read("rss091.xml"), "http://www.wyreweekly.example/rss.xml")
    (item,) = feed.items
    assert item.summary == "A band D home will pay about £90 more."
    assert item.url == "http://www.wyreweekly.example/news/council-tax-rise.html"
    assert item.published is None


def test_google_news_items_are_discovery_only_with_source_and_clean_title() -> None:
    url = "https://news.google.com/rss/search?q=%22Norfolk+County+Council%22&hl=en-GB&gl=GB&ceid=GB:en"
    feed = parse_feed(read("google_news.xml"), url)
    assert feed.kind == "google-news"
    assert all(item.discovery_only for item in feed.items)
    first, second = feed.items
    assert first.title == "Council told to pay £2,350 after boy left without school transport"
    assert first.source_name == "Eastern Daily Press"
    assert first.published == datetime(2024, 3, 8, 7, 12, tzinfo=UTC)
    assert second.source_name == "BBC"
    assert second.title == "Extra £6m for Norfolk pothole repairs"


def test_google_news_kind_is_recognised_from_item_links_and_can_be_forced() -> None:
    from_links = parse_feed(read("google_news.xml"), "https://mirror.example/feed.xml")
    assert from_links.kind == "google-news"
    forced = parse_feed(read("bbc_rss.xml"), "https://feeds.example/x", kind="google-news")
    assert forced.kind == "google-news"
    assert all(item.discovery_only for item in forced.items)


def test_malformed_feed_yields_what_can_be_read_and_warns() -> None:
    feed = parse_feed(read("malformed.xml"), "https://www.hampshirechronicle.co.uk/news/rss/")
    titles = [item.title for item in feed.items]
    assert titles == [
        "Winchester City Council approves new car park charges",
        "Fish & chip shop plans turned down by Test Valley Borough Council",
        "Eastleigh Borough Council leader to step down",
    ]
    assert any(w.startswith("malformed feed") for w in feed.warnings)
    assert "item 3 has no link; skipped" in feed.warnings


@pytest.mark.parametrize(
    "content",
    [b"", b"<html><body><p>Service unavailable</p></body></html>", b"\x00\x01garbage"],
)
def test_input_that_is_no_feed_at_all_raises_parse_error(content: bytes) -> None:
    with pytest.raises(ParseError) as caught:
        parse_feed(content, "https://news.example/feed")
    assert caught.value.url == "https://news.example/feed"


def test_content_that_looks_like_a_url_is_parsed_never_fetched() -> None:
    # feedparser fetches a str that looks like a URL; we always hand it a stream of bytes
    with pytest.raises(ParseError):
        parse_feed(b"https://feeds.example/rss.xml", "https://feeds.example/rss.xml")


def test_unknown_kind_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="unknown feed kind"):
        parse_feed(read("atom.xml"), "https://civic.example.org/atom.xml", kind="json")


def test_news_sitemap_items() -> None:
    feed = parse_feed(read("news_sitemap.xml"), "https://www.liverpoolecho.co.uk/map_news.xml")
    assert feed.kind == "sitemap"
    assert feed.title == "Liverpool Echo"
    first, amp, undated = feed.items
    assert first.title == "Liverpool City Council housing repairs backlog tops 5,000"
    assert first.published == datetime(2024, 3, 8, 6, 30, tzinfo=UTC)
    assert first.source_name == "Liverpool Echo"
    assert amp.url.endswith("/wirral-council-leisure-centres-28769540")
    assert amp.published == datetime(2024, 3, 7, 20, 15, tzinfo=UTC)
    # an unreadable news date is reported, not guessed
    assert undated.published is None
    assert feed.warnings == ["url 3: unreadable date 'yesterday'"]


def test_gzipped_sitemap_index_lists_child_sitemaps() -> None:
    content = gzip.compress(read("sitemap_index.xml"))
    feed = parse_feed(content, "https://www.liverpoolecho.co.uk/map_sitemap_index.xml.gz")
    assert feed.items == []
    assert feed.sitemaps == [
        "https://www.liverpoolecho.co.uk/map_news.xml",
        "https://www.liverpoolecho.co.uk/map_news_1.xml",
    ]


def test_sitemap_kind_on_non_sitemap_raises() -> None:
    with pytest.raises(ParseError, match="not a sitemap"):
        parse_feed(read("atom.xml"), "https://civic.example.org/atom.xml", kind="sitemap")


def test_broken_gzip_raises_parse_error() -> None:
    with pytest.raises(ParseError, match="broken gzip"):
        parse_feed(b"\x1f\x8b\x08\x00broken", "https://news.example/sitemap.xml.gz")


def test_sitemaps_from_robots() -> None:
    robots = (FEEDS / "robots.txt").read_text()
    assert sitemaps_from_robots(robots) == [
        "https://www.liverpoolecho.co.uk/map_news.xml",
        "https://www.liverpoolecho.co.uk/map_sitemap_index.xml",
    ]
    assert sitemaps_from_robots("User-agent: *\nDisallow:\n") == []
