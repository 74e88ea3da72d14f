"""Rendering digests: golden text and HTML, escaping, the per-council cap, inlined CSS."""

from __future__ import annotations

import dataclasses
import os
import re
from datetime import date, datetime
from pathlib import Path

import pytest
from lxml import html as lxml_html

from alerts.digest.model import (
    CatchUpLine,
    Confirmation,
    CouncilGroup,
    DecisionItem,
    Digest,
    Link,
    Segment,
    StoryItem,
    card_key,
    decision_for,
    story_for,
    with_card,
)
from alerts.digest.render import (
    DigestRenderer,
    make_environment,
    render_confirmation,
    render_digest,
)
from alerts.digest.sample import SAMPLE_NOW, sample_digest

GOLDEN = Path(__file__).resolve().parent / "golden" / "digest"


def assert_golden(name: str, actual: str) -> None:
    """Compare with tests/golden/digest/<name>; UPDATE_GOLDEN=1 rewrites the file."""
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN") == "1" or not path.exists():
        existed = path.exists()
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8")
        if not existed:
            pytest.fail(f"wrote missing golden file {path}: review and commit it")
        return
    assert actual == path.read_text(encoding="utf-8"), (
        f"{name} differs from the golden file; if the change is intended, rerun with "
        "UPDATE_GOLDEN=1 and review the diff"
    )


def story(headline: str, *snippet: Segment, alerts: tuple[str, ...] = ("Leeds",)) -> StoryItem:
    return StoryItem(
        headline=headline,
        titles=(Link("Yorkshire Evening Post", "https://news.example/yep/1"),),
        earliest_date=date(2025, 3, 1),
        snippet=snippet,
        matched_alerts=alerts,
    )


def decision(ref: str) -> DecisionItem:
    return DecisionItem(
        organisation="Leeds City Council",
        reference=ref,
        outcome="Upheld: fault and injustice",
        category="Housing",
        subcategory="Repairs",
        decision_date=date(2025, 2, 10),
        url=f"https://councilwatch.example/decisions/{ref}",
        remedies=("£400 to Mr Q",),
    )


def one_group_digest(*items: DecisionItem | StoryItem, more_url: str = "") -> Digest:
    return Digest(
        subscriber_email="mr.q@example.org",
        manage_url="https://councilwatch.example/manage/t",
        unsubscribe_url="https://councilwatch.example/unsubscribe/t",
        generated_at=SAMPLE_NOW,
        groups=(CouncilGroup("Leeds City Council", tuple(items), more_url),),
    )


def cards(page: str) -> list[lxml_html.HtmlElement]:
    return lxml_html.fromstring(page).find_class("card")


def test_golden_sample_text() -> None:
    assert_golden("sample.txt", render_digest(sample_digest()).text)


def test_golden_sample_html() -> None:
    assert_golden("sample.html", render_digest(sample_digest()).html)


def test_golden_confirmation() -> None:
    rendered = render_confirmation(
        Confirmation(
            subscriber_email="mrs.b@example.org",
            confirm_url="https://councilwatch.example/confirm/tok",
            alert_names=("Norfolk SEND", "Upheld payments over £1,000"),
            requested_at=SAMPLE_NOW,
        )
    )
    assert rendered.subject == "Confirm your councilwatch alerts"
    assert_golden("confirm.txt", rendered.text)
    assert_golden("confirm.html", rendered.html)


def test_hostile_titles_are_escaped_in_html() -> None:
    hostile = story(
        "<script>alert('headline')</script>",
        Segment("before <img src=x onerror=alert(1)> "),
        Segment("<b>term</b>", highlighted=True),
        alerts=('"><script>alert(2)</script>',),
    )
    page = render_digest(one_group_digest(hostile)).html
    assert "<script" not in page and "<img" not in page and "<b>" not in page
    assert "&lt;script&gt;alert('headline')&lt;/script&gt;" in page
    assert "<mark" in page and "&lt;b&gt;term&lt;/b&gt;</mark>" in page
    # The text part is not HTML: it shows the headline as written, unescaped.
    assert "<script>alert('headline')</script>" in render_digest(one_group_digest(hostile)).text


def test_hostile_alert_names_are_escaped_in_the_confirmation() -> None:
    rendered = render_confirmation(
        Confirmation(
            subscriber_email="a@example.org",
            confirm_url="https://councilwatch.example/confirm/t",
            alert_names=("<script>x()</script>",),
            requested_at=SAMPLE_NOW,
        )
    )
    assert "<script" not in rendered.html and "&lt;script&gt;x()&lt;/script&gt;" in rendered.html


def test_highlighted_terms_are_marked() -> None:
    item = story("Repairs", Segment("damp and "), Segment("mould", highlighted=True))
    rendered = render_digest(one_group_digest(item))
    assert "<mark" in rendered.html and ">mould</mark>" in rendered.html
    assert '"damp and *mould*"' in rendered.text


def test_cap_shows_three_and_links_the_rest() -> None:
    items = [decision(f"24 000 00{n}") for n in range(5)]
    digest = one_group_digest(*items, more_url="https://councilwatch.example/councils/leeds")
    rendered = DigestRenderer(cap=3).digest(digest)

    assert len(cards(rendered.html)) == 3
    more = lxml_html.fromstring(rendered.html).find_class("more")
    assert [m.get("href") for m in more] == ["https://councilwatch.example/councils/leeds"]
    assert "and 2 more for Leeds City Council" in more[0].text_content()
    assert "...and 2 more for Leeds City Council: https://councilwatch.example/councils/leeds" in (
        rendered.text
    )
    assert "24 000 003" not in rendered.text and "24 000 002" in rendered.text
    # The subject still counts everything found, not only what was shown.
    assert rendered.subject == "5 decisions: Leeds City Council"


def test_no_more_link_when_everything_fits() -> None:
    rendered = DigestRenderer(cap=5).digest(one_group_digest(*[decision(f"{n}") for n in range(5)]))
    assert len(cards(rendered.html)) == 5
    assert "more for" not in rendered.text and not lxml_html.fromstring(rendered.html).find_class(
        "more"
    )


def test_decision_substance_comes_before_the_link() -> None:
    text = render_digest(sample_digest()).text
    first = text.index("DECISION - UPHELD: FAULT AND INJUSTICE")
    assert first < text.index("£1,350 to Mrs B") < text.index("Read the decision:")


def test_a_decision_title_names_the_organisation_and_reference() -> None:
    rendered = render_digest(sample_digest())
    # a care provider under its council's heading is named, and every title says which case
    assert "Broadland Home Care Ltd (24 009 317): Home care" in rendered.text
    assert "Norfolk County Council (24 011 482): Special educational needs" in rendered.text
    titles = [
        t.text_content() for t in lxml_html.fromstring(rendered.html).find_class("item-title")
    ]
    decisions = [t for t in titles if "(24 " in t]
    assert "Broadland Home Care Ltd (24 009 317): Home care" in decisions
    assert all(re.match(r".+ \(\d\d \d{3} \d{3}\): \w", t) for t in decisions), decisions


def test_css_is_inlined_and_media_queries_kept() -> None:
    page = render_digest(sample_digest()).html
    tree = lxml_html.fromstring(page)
    button = tree.find_class("button")[0]
    assert "background: #0b5cab" in button.get("style")
    styles = [s.text_content() for s in tree.iter("style")]
    assert any("@media (prefers-color-scheme: dark)" in s for s in styles)
    assert not any(".card {" in s for s in styles), "plain rules should be inlined, not kept"
    assert 'name="viewport"' in page


def test_tap_targets_are_big_enough() -> None:
    tree = lxml_html.fromstring(render_digest(sample_digest()).html)
    for link in tree.find_class("button") + tree.find_class("link-button"):
        padding = re.search(r"padding: (\d+)px", link.get("style"))
        assert padding and int(padding.group(1)) >= 11  # 11 + 11 + ~20 line = 44 px or more


def test_footer_has_health_manage_and_unsubscribe() -> None:
    digest = sample_digest()
    rendered = render_digest(digest)
    failing = "News & Star feed: newest story 2 days ago; last fetched Mon 12:00; failing since Mon"
    assert failing in rendered.text
    assert "LGSCO: newest decision 2 days ago; last fetched 07:12" in rendered.text
    tree = lxml_html.fromstring(rendered.html)
    hrefs = {a.text_content(): a.get("href") for a in tree.find_class("link-button")}
    assert hrefs == {
        "Manage your alerts": digest.manage_url,
        "Unsubscribe": digest.unsubscribe_url,
    }
    assert "News &amp; Star feed is failing" in rendered.html


def test_catch_up_section_summarises_a_backfill() -> None:
    digest = dataclasses.replace(
        one_group_digest(decision("1")),
        catch_up=(CatchUpLine("Leeds City Council", 120, "https://councilwatch.example/b"),),
    )
    rendered = render_digest(digest)
    assert "Leeds City Council: 120 earlier decisions https://councilwatch.example/b" in (
        rendered.text
    )
    assert '<a href="https://councilwatch.example/b"' in rendered.html


def test_empty_digest_says_so() -> None:
    empty = Digest(
        subscriber_email="a@example.org",
        manage_url="https://m.example/",
        unsubscribe_url="https://u.example/",
        generated_at=SAMPLE_NOW,
    )
    rendered = render_digest(empty)
    assert "Nothing new matched your alerts this time." in rendered.text
    assert "Nothing new matched your alerts this time." in rendered.html


def test_separate_environment_renders_the_same() -> None:
    shared = render_digest(sample_digest())
    fresh = DigestRenderer(environment=make_environment()).digest(sample_digest())
    assert fresh == shared


def test_render_is_deterministic_and_dated_by_the_digest_not_the_clock() -> None:
    assert render_digest(sample_digest()) == render_digest(sample_digest())
    later = dataclasses.replace(
        sample_digest(), generated_at=datetime(2025, 3, 11, 8, 0, tzinfo=SAMPLE_NOW.tzinfo)
    )
    text = render_digest(later).text
    assert text.startswith("COUNCILWATCH DIGEST - Tuesday 11 March 2025")
    assert "LGSCO: newest decision 9 days ago; last fetched 4 Mar 07:12" in text


def test_model_rejects_naive_time_and_titleless_story() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        Digest("a@example.org", "https://m", "https://u", datetime(2025, 3, 4))
    with pytest.raises(ValueError, match="at least one title"):
        StoryItem(headline="x", titles=(), earliest_date=date(2025, 3, 1))


def test_cap_must_be_positive() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        DigestRenderer(cap=0)


def test_cards_are_rendered_once_and_each_digest_keeps_its_own_alert_names() -> None:
    from alerts.digest.render import FragmentCache

    env = make_environment()
    renderer = DigestRenderer(environment=env)
    first = sample_digest()
    groups = tuple(
        dataclasses.replace(
            group,
            items=tuple(
                dataclasses.replace(item, matched_alerts=("Someone else's alert",))
                if isinstance(item, DecisionItem)
                else dataclasses.replace(
                    item,
                    matched_alerts=("Someone else's alert",),
                    snippet=(Segment("their own "), Segment("snippet", highlighted=True)),
                )
                for item in group.items
            ),
        )
        for group in first.groups
    )
    second = dataclasses.replace(first, subscriber_email="other@example.org", groups=groups)
    rendered_first = renderer.digest(first)
    [cache] = [e for e in env.extensions.values() if isinstance(e, FragmentCache)]
    cards = len(cache.store)
    assert cards > 0
    rendered_second = renderer.digest(second)
    assert len(cache.store) == cards  # the second digest's cards all came from the store
    # The same bytes as rendering each digest with nothing stored.
    assert rendered_first == DigestRenderer(environment=make_environment()).digest(first)
    assert rendered_second == DigestRenderer(environment=make_environment()).digest(second)
    assert "Someone else" in rendered_second.text and "Someone else" not in rendered_first.text
    assert "their own *snippet*" in rendered_second.text


def test_a_subscribers_copy_of_an_item_keeps_every_other_field() -> None:
    """A run builds each item once and copies it per subscriber with their alert names (and
    a story's snippet): a field the copy forgot would vanish from every digest but one."""
    items = [item for group in sample_digest().groups for item in group.items]
    decision = next(i for i in items if isinstance(i, DecisionItem))
    story = next(i for i in items if isinstance(i, StoryItem))
    names = ("Another alert",)
    snippet = (Segment("a different excerpt", highlighted=True),)
    for original, copy, changed in (
        (decision, decision_for(decision, names), {"matched_alerts": names}),
        (story, story_for(story, snippet, names), {"matched_alerts": names, "snippet": snippet}),
    ):
        assert changed and all(getattr(original, k) != v for k, v in changed.items())
        for f in dataclasses.fields(original):
            if f.name == "card":  # the copy carries the key the original's fields give
                assert copy.card == card_key(original)
                continue
            assert getattr(copy, f.name) == changed.get(f.name, getattr(original, f.name)), f.name


def test_a_stored_card_is_written_without_rendering_its_block_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A card already stored is looked up and written; the block's call (a macro made and
    called through Jinja's Context.call for every card of every digest) is only for a card
    not stored yet."""
    from alerts.digest.render import FragmentCache

    env = make_environment()
    renderer = DigestRenderer(environment=env)
    digest = sample_digest()
    first = renderer.digest(digest)

    def render_again(*args: object, **kwargs: object) -> str:
        raise AssertionError("a stored card went through its call block")

    monkeypatch.setattr(FragmentCache, "_fragment", render_again)
    assert renderer.digest(digest) == first


def test_a_copy_shares_its_items_card_key_instead_of_working_it_out_again() -> None:
    items = [item for group in sample_digest().groups for item in group.items]
    decision = with_card(next(i for i in items if isinstance(i, DecisionItem)))
    story = with_card(next(i for i in items if isinstance(i, StoryItem)))
    assert decision.card == card_key(dataclasses.replace(decision, card=None))
    assert decision_for(decision, ("A",)).card is decision.card
    assert story_for(story, (Segment("x"),), ("A",)).card is story.card
    assert card_key(decision_for(decision, ("A",))) is decision.card
