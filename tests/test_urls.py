"""Canonical URLs: tracking parameters, AMP forms, host and port, the page's own canonical."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scraper.urls import canonical_url, clean_url


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        # BBC feed links carry at_* campaign parameters
        (
            "https://www.bbc.co.uk/news/articles/c4nn2x7yk8zo?at_medium=RSS&at_campaign=rss",
            "https://www.bbc.co.uk/news/articles/c4nn2x7yk8zo",
        ),
        # utm_* and the click ids, in any case, between parameters that stay in order
        (
            "https://Example.CO.UK/news/story?page=2&utm_source=fb&FBCLID=x1&gclid=g&sort=new",
            "https://example.co.uk/news/story?page=2&sort=new",
        ),
        (
            "https://site.example/a?mc_cid=1&mc_eid=2&_ga=3&ocid=4&cmpid=5&ito=6&CMP=7&id=9",
            "https://site.example/a?id=9",
        ),
        # fragment and default ports go; other ports stay
        (
            "http://www.wyreweekly.example:80/news/x.html#comments",
            "http://www.wyreweekly.example/news/x.html",
        ),
        ("https://site.example:443/a", "https://site.example/a"),
        ("https://site.example:8443/a", "https://site.example:8443/a"),
        # Reach-style AMP copy: the article URL plus .amp
        (
            "https://www.manchestereveningnews.co.uk/news/greater-manchester-news/heating-28765432.amp",
            "https://www.manchestereveningnews.co.uk/news/greater-manchester-news/heating-28765432",
        ),
        # /amp/ path segment (Newsquest, WordPress) and BBC /news/amp/<id>
        (
            "https://www.oxfordmail.co.uk/news/amp/24567812.county-council-apologises/",
            "https://www.oxfordmail.co.uk/news/24567812.county-council-apologises/",
        ),
        (
            "https://www.bbc.co.uk/news/amp/uk-england-cumbria-68431207",
            "https://www.bbc.co.uk/news/uk-england-cumbria-68431207",
        ),
        ("https://blog.example/2024/03/story/amp/", "https://blog.example/2024/03/story/"),
        # ?amp, ?amp=1 and outputType=amp switches
        ("https://news.example/story-123?amp", "https://news.example/story-123"),
        ("https://news.example/story-123?amp=1&x=2", "https://news.example/story-123?x=2"),
        ("https://news.example/story-123?outputType=amp", "https://news.example/story-123"),
        # an outputType that is not AMP is content, and so is amp=some-id
        ("https://news.example/s?outputType=print", "https://news.example/s?outputType=print"),
        ("https://news.example/s?amp=chart", "https://news.example/s?amp=chart"),
        # empty path becomes "/"; encoded parameters are kept byte for byte
        ("HTTPS://NEWS.EXAMPLE", "https://news.example/"),
        (
            "https://news.example/search?q=council%20tax&utm_term=x",
            "https://news.example/search?q=council%20tax",
        ),
        # a parameter that merely starts with a tracking name stays
        (
            "https://news.example/a?reference=7&atlas=1",
            "https://news.example/a?reference=7&atlas=1",
        ),
    ],
)
def test_clean_url(url: str, expected: str) -> None:
    assert canonical_url(url) == expected


def test_page_canonical_wins_over_the_fetched_url() -> None:
    fetched = "https://www.oxfordmail.co.uk/news/amp/24567812.slug/?ref=rss"
    given_canonical = "https://www.oxfordmail.co.uk/news/24567812.county-council-apologises/"
    assert canonical_url(fetched, page_canonical=given_canonical) == given_canonical


def test_page_canonical_is_itself_cleaned_and_resolved() -> None:
    assert (
        canonical_url(
            "https://www.bbc.co.uk/news/amp/x-1", page_canonical="/news/x-1?at_medium=RSS"
        )
        == "https://www.bbc.co.uk/news/x-1"
    )


def test_page_canonical_pointing_at_the_front_page_is_ignored() -> None:
    fetched = "https://news.example/news/council-story-28765432?utm_source=rss"
    assert canonical_url(fetched, page_canonical="https://news.example/") == (
        "https://news.example/news/council-story-28765432"
    )


@pytest.mark.parametrize("bad", ["", "   ", "javascript:void(0)", "mailto:desk@news.example"])
def test_unusable_page_canonical_falls_back_to_the_cleaned_url(bad: str) -> None:
    assert canonical_url("https://news.example/a?utm_source=x", page_canonical=bad) == (
        "https://news.example/a"
    )


def test_non_http_urls_are_returned_unchanged() -> None:
    assert clean_url("  mailto:desk@news.example ") == "mailto:desk@news.example"


_segment = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-.", min_size=1, max_size=12)
_param = st.tuples(
    st.sampled_from(["utm_source", "at_medium", "fbclid", "id", "page", "q", "amp", "CMP"]),
    st.text(alphabet="abc123", max_size=5),
)


@given(
    host=st.sampled_from(["News.Example", "www.bbc.co.uk", "WWW.EXAMPLE.ORG:443"]),
    path=st.lists(_segment, max_size=4),
    params=st.lists(_param, max_size=5),
    fragment=st.text(alphabet="abc", max_size=4),
)
def test_canonical_url_is_idempotent_and_free_of_tracking(
    host: str, path: list[str], params: list[tuple[str, str]], fragment: str
) -> None:
    query = "&".join(f"{k}={v}" for k, v in params)
    url = f"https://{host}/{'/'.join(path)}?{query}#{fragment}"
    once = canonical_url(url)
    assert canonical_url(once) == once
    assert "#" not in once
    for tracker in ("utm_source", "at_medium", "fbclid", "CMP="):
        assert tracker not in once
    # amp=<value> other than an on-switch is content, like id, page and q
    kept = [
        f"{k}={v}"
        for k, v in params
        if k in ("id", "page", "q") or (k == "amp" and v.lower() not in ("", "1", "true"))
    ]
    assert once.partition("?")[2] == "&".join(kept)
