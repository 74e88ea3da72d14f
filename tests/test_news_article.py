"""Article extraction on our own example pages (three publisher families and the hard cases).

Every ``tests/sources/news/NAME.html`` names the address it is parsed as in the comment browsers
write when saving (``<!-- saved from url=(NNNN)URL -->``, the convention of
``tests/test_source_examples.py``) and has ``NAME.json``, the expected ``Article.to_json()``. A
page without one gets it written and the test fails until a person has read and committed it.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from cwerrors import ParseError
from scraper.news import Article, extract_article

PAGES = Path(__file__).parent / "sources" / "news"
EXAMPLES = sorted(PAGES.glob("*.html"))
_SAVED_FROM = re.compile(rb"<!--\s*saved from url=\((\d+)\)(\S+?)\s*-->")


def saved_from(content: bytes) -> str:
    match = _SAVED_FROM.search(content[:2048])
    assert match, "example page lacks its '<!-- saved from url=(NNNN)URL -->' comment"
    url = match.group(2).decode("ascii")
    assert int(match.group(1)) == len(url), "the saved-from length does not match the URL"
    return url


def extract(name: str, charset: str | None = None) -> Article:
    content = (PAGES / f"{name}.html").read_bytes()
    return extract_article(content, saved_from(content), charset=charset)


def test_there_are_examples() -> None:
    assert len(EXAMPLES) >= 8


@pytest.mark.parametrize("page", EXAMPLES, ids=lambda p: p.stem)
def test_example_page_matches_its_expected_extraction(page: Path) -> None:
    got = extract(page.stem).to_json()
    expected_file = page.with_suffix(".json")
    if not expected_file.exists():
        expected_file.write_text(json.dumps(got, indent=2, ensure_ascii=False) + "\n", "utf-8")
        pytest.fail(f"wrote {expected_file.name}: review it and commit it")
    assert got == json.loads(expected_file.read_text(encoding="utf-8"))


def test_consent_overlay_over_server_html_still_yields_the_story() -> None:
    article = extract("newsquest_article")
    assert not article.partial
    assert "retired bus driver" in article.text
    assert "privacy" not in article.text.lower()
    assert "cookies" not in article.text.lower()


def test_consent_wall_is_partial_with_no_text() -> None:
    article = extract("consent_wall")
    assert article.partial
    assert article.text == ""


def test_paywall_is_partial() -> None:
    article = extract("paywall_article")
    assert article.partial
    assert article.text == ""
    # metadata is still worth having
    assert article.title == "Inside the row over Leeds City Council's bin contract"
    assert article.author == "Hannah Pickering"


@pytest.mark.parametrize(
    ("name", "furniture"),
    [
        ("newsquest_article", "Picture: Newsquest"),  # caption
        ("newsquest_article", "Most Read"),
        ("newsquest_article", "A34 closed overnight"),  # the Most Read list itself
        ("newsquest_article", "Read more"),
        ("newsquest_article", "Bicester day centre closure"),
        ("reach_article", "READ MORE"),
        ("reach_article", "Rents for council homes"),
        ("reach_article", "You may also want to watch"),
        ("reach_article", "Flooding closes roads"),
        ("reach_article", "Sign up to our free newsletter"),
        ("reach_article", "Wythenshawe (Image"),
        ("bbc_article", "Image source"),
        ("bbc_article", "Image caption"),
        ("bbc_article", "More on this story"),
        ("bbc_article", "Top Stories"),
        ("bbc_article", "Related topics"),
    ],
)
def test_furniture_is_stripped(name: str, furniture: str) -> None:
    assert furniture not in extract(name).text


def test_cp1252_page_declared_only_in_meta_keeps_pound_signs() -> None:
    article = extract("cp1252_article")
    assert "about £90 more" in article.text
    assert "council’s cabinet member" in article.text
    assert "\ufffd" not in article.text and "Â" not in article.text


def test_declared_latin_1_is_read_as_windows_1252() -> None:
    # servers that say ISO-8859-1 mean windows-1252: curly quotes are 0x91-0x94 there
    article = extract("cp1252_article", charset="ISO-8859-1")
    assert "“difficult choices”" in article.text


def test_amp_copy_has_the_same_identity_as_the_article() -> None:
    main = extract("reach_article")
    amp = extract("reach_article_amp")
    assert amp.url.endswith("28765432.amp")
    assert amp.canonical_url == main.canonical_url
    assert main.canonical_url == (
        "https://www.manchestereveningnews.co.uk/news/greater-manchester-news/"
        "council-tenants-left-without-heating-28765432"
    )


def test_json_ld_in_a_graph_and_live_blog_updates() -> None:
    article = extract("liveblog")
    assert article.kind == "LiveBlogPosting"
    assert article.published == datetime(2024, 3, 5, 13, 0, tzinfo=UTC)
    assert article.modified == datetime(2024, 3, 5, 18, 21, tzinfo=UTC)
    assert "58 votes to 26" in article.text
    assert article.ldrs  # credited in the byline only


def test_bbc_organisation_byline_is_not_an_author() -> None:
    article = extract("bbc_article")
    assert article.kind == "ReportageNewsArticle"
    assert article.author is None
    # the displayed headline, not the shorter social headline in JSON-LD
    assert article.title == "Cumberland Council sorry for delays to care home fee refunds"


def test_ldrs_story_is_flagged_and_others_are_not() -> None:
    assert extract("newsquest_article").ldrs
    assert not extract("reach_article").ldrs


INLINE = """<html><head><title>{title}</title>{head}</head><body><article><h1>{title}</h1>
{body}</article></body></html>"""
PARAGRAPH = "<p>Kent County Council said the road would reopen after repairs to the drains. </p>"


def test_broken_json_ld_is_skipped_and_naive_dates_are_utc() -> None:
    head = (
        '<script type="application/ld+json">{"@type": "NewsArticle", broken</script>'
        '<meta property="article:published_time" content="2024-03-01T10:00:00">'
        '<link rel="canonical" href="https://news.example/">'
    )
    page = INLINE.format(title="Road in Maidstone to reopen", head=head, body=PARAGRAPH * 30)
    article = extract_article(
        page.encode(), "https://news.example/roads/maidstone-1234?utm_source=x"
    )
    assert article.kind is None
    assert article.published == datetime(2024, 3, 1, 10, 0, tzinfo=UTC)
    # a canonical naming the front page is a CMS fault, not this article's address
    assert article.canonical_url == "https://news.example/roads/maidstone-1234"
    assert article.title == "Road in Maidstone to reopen"


def test_to_json_is_plain_json() -> None:
    data = extract("reach_article").to_json()
    assert json.loads(json.dumps(data)) == data
    assert data["published"] == "2024-03-06T16:12:44+00:00"


OVERLAY = (
    '<div id="sp_message_container_1"><h2>We value your privacy</h2>'
    "<p>We and our partners use cookies. Accept all cookies or manage your consent.</p></div>"
)


def test_short_story_under_a_consent_overlay_is_not_mistaken_for_a_wall() -> None:
    body = (
        OVERLAY
        + (
            "<p>Hampshire County Council will close the Winchester recycling centre for two days "
            "next week while the weighbridge is replaced, and residents are asked to use Alton.</p>"
        )
        * 2
    )
    page = INLINE.format(title="Recycling centre to close for two days", head="", body=body)
    article = extract_article(page.encode(), "https://www.hampshirechronicle.co.uk/news/1.x/")
    assert not article.partial
    assert "weighbridge is replaced" in article.text
    assert "privacy" not in article.text


def test_wall_without_consent_class_names_is_detected_by_its_wording() -> None:
    body = (
        "<div class='interstitial'><h2>Before you continue</h2><p>We use cookies and data to "
        "deliver and maintain services and to measure audience engagement.</p>"
        "<p>Accept all cookies to continue to the article.</p></div>"
    )
    page = INLINE.format(title="News", head="", body=body)
    article = extract_article(page.encode(), "https://news.example/story-1")
    assert article.partial
    assert article.text == ""


def test_script_only_shell_is_partial() -> None:
    page = (
        "<html><head><title>Loading</title></head><body><div id='root'></div>"
        "<script>window.render('story')</script></body></html>"
    )
    article = extract_article(page.encode(), "https://news.example/app/story-2")
    assert article.partial
    assert article.text == ""


@pytest.mark.parametrize("content", [b"", b"   \n"])
def test_empty_response_is_a_parse_error(content: bytes) -> None:
    with pytest.raises(ParseError) as caught:
        extract_article(content, "https://news.example/empty")
    assert caught.value.field == "html"
