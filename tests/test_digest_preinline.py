"""HTML templates inlined once at load time give, byte for byte, what css-inline gives on every
rendered email (alerts/digest/preinline.py), including for text its parser would rewrite."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest

from alerts.digest import preinline
from alerts.digest.model import (
    AddAlertNotice,
    AlertSummary,
    CatchUpLine,
    Confirmation,
    CouncilGroup,
    DecisionItem,
    Digest,
    Link,
    Segment,
    SourceHealth,
    StoryItem,
)
from alerts.digest.render import DigestRenderer, _inliner, make_environment
from alerts.digest.sample import SAMPLE_NOW, sample_digest

HOSTILE = [
    'Fish & chips <b>bold</b> "quoted" it\'s 5 > 3',
    "no\xa0break and &amp; already an entity, &nbsp; too",
    "ümlauts, emoji 🐟, “curly” ‘quotes’ and a – dash",
    "a line\r\nbreak and a lone\rreturn",
    "a NUL \x00 and a bell \x07 and a tab \t here",
    "",
]


def slow_html(renderer: DigestRenderer, name: str, context: dict[str, object]) -> str:
    return _inliner().inline(renderer.env.get_template(name).render(context))


def hostile_digest(text: str) -> Digest:
    base = sample_digest()
    group = base.groups[0]
    story = StoryItem(
        headline=f"Headline: {text}",
        titles=(Link(f"Title {text}", f'https://news.example/a?x=1&y="{text}"'),),
        earliest_date=SAMPLE_NOW.date(),
        snippet=(Segment(f"before {text} "), Segment(text or "x", highlighted=True)),
        matched_alerts=(f"alert {text}", "another"),
        decision_reference=f"25 000 001 ({text})",
    )
    decision = group.items[0]
    assert isinstance(decision, DecisionItem)
    first = dataclasses.replace(
        decision,
        summary=f"Summary {text}",
        organisation=f"Council {text}",
        outcome=f"Upheld {text}",
        outcome_kind="",
        remedies=(f"£100 {text}",),
        coverage=(Link(text or "x", f"https://news.example/{text}"),),
    )
    groups = (
        CouncilGroup(
            council_name=f"Council {text}",
            items=(first, story, *group.items[1:]),
            more_url=f"https://councilwatch.example/documents?council=a&b={text}",
            council_url=f"https://councilwatch.example/councils/{text}",
        ),
        *base.groups[1:],
    )
    return dataclasses.replace(
        base,
        subscriber_email="x@example.org",
        manage_url=f"https://councilwatch.example/manage/{text}",
        groups=groups,
        catch_up=(*base.catch_up, CatchUpLine(f"Council {text}", 2, "https://c.example/?a&b")),
        source_health=(
            *base.source_health,
            SourceHealth(
                name=f"Source {text}",
                newest_item_at=SAMPLE_NOW - timedelta(days=1),
                last_success_at=SAMPLE_NOW - timedelta(hours=2),
                failing=False,
            ),
        ),
    )


def test_the_digest_template_is_inlined_once_and_the_sample_takes_that_path() -> None:
    renderer = DigestRenderer(environment=make_environment())
    assert preinline.pre_inlined(renderer.env, "digest.html.j2", _inliner().inline) is not None
    context = renderer.digest_context(sample_digest())
    fast = preinline.pre_inlined(renderer.env, "digest.html.j2", _inliner().inline)
    assert fast is not None
    assert fast.render(context) == slow_html(renderer, "digest.html.j2", context)


@pytest.mark.parametrize("text", HOSTILE)
def test_pre_inlined_digest_is_byte_for_byte_what_css_inline_writes(text: str) -> None:
    renderer = DigestRenderer()
    digest = hostile_digest(text)
    context = renderer.digest_context(digest)
    expected = slow_html(renderer, "digest.html.j2", context)
    assert renderer.digest(digest).html == expected
    fast = preinline.pre_inlined(renderer.env, "digest.html.j2", _inliner().inline)
    assert fast is not None
    if any(c in text for c in "\r\x00\x07"):  # the parser rewrites these: css-inline's way
        with pytest.raises(preinline.NeedsParser):
            fast.render(context)
    else:  # the fast path itself, not the fallback
        assert fast.render(context) == expected


def test_every_outcome_pill_and_health_line_matches_css_inline() -> None:
    renderer = DigestRenderer()
    base = sample_digest()
    for outcome in ("upheld", "not upheld", "closed after initial enquiries", ""):
        items = tuple(
            dataclasses.replace(item, outcome_kind=outcome)
            if isinstance(item, DecisionItem)
            else item
            for item in base.groups[0].items
        )
        groups = (dataclasses.replace(base.groups[0], items=items), *base.groups[1:])
        for health in (
            base.source_health,
            (),
            tuple(dataclasses.replace(s, failing=True) for s in base.source_health),
        ):
            digest = dataclasses.replace(base, groups=groups, source_health=health, catch_up=())
            context = renderer.digest_context(digest)
            expected = slow_html(renderer, "digest.html.j2", context)
            assert renderer.digest(digest).html == expected


def test_a_digest_with_nothing_matches_css_inline() -> None:
    renderer = DigestRenderer()
    digest = dataclasses.replace(sample_digest(), groups=(), catch_up=(), source_health=())
    context = renderer.digest_context(digest)
    assert renderer.digest(digest).html == slow_html(renderer, "digest.html.j2", context)


@pytest.mark.parametrize("text", HOSTILE[:3])
def test_confirmation_and_add_alert_emails_match_css_inline(text: str) -> None:
    renderer = DigestRenderer()
    summary = AlertSummary(
        name=f"Alert {text}",
        councils=(f"Council {text}",),
        keywords=text,
        filters=(),
        frequency="daily",
    )
    confirmation = Confirmation(
        subscriber_email="x@example.org",
        confirm_url=f"https://councilwatch.example/confirm/{text}",
        alert_names=(f"Alert {text}",),
        requested_at=SAMPLE_NOW,
        alerts=(summary,),
    )
    context = {"c": confirmation, "subject": "Confirm"}
    assert renderer._html("confirm.html.j2", context) == slow_html(
        renderer, "confirm.html.j2", context
    )
    fields = {f.name for f in dataclasses.fields(AddAlertNotice)}
    values: dict[str, object] = {
        "subscriber_email": "x@example.org",
        "add_url": f"https://councilwatch.example/add/{text}",
        "manage_url": "https://councilwatch.example/manage/x",
        "alert": summary,
    }
    notice = AddAlertNotice(**{k: v for k, v in values.items() if k in fields})  # type: ignore[arg-type]
    context = {"n": notice, "subject": "Add"}
    assert renderer._html("addalert.html.j2", context) == slow_html(
        renderer, "addalert.html.j2", context
    )


def test_values_the_parser_would_rewrite_raise_needs_parser() -> None:
    for value in ("a\rb", "a\x00b", "bell\x07"):
        with pytest.raises(preinline.NeedsParser):
            preinline.html_text(value)
        with pytest.raises(preinline.NeedsParser):
            preinline.html_attribute(value)
    assert preinline.html_text('a & <b> "c" \xa0') == 'a &amp; &lt;b&gt; "c" &nbsp;'
    assert preinline.html_attribute('a & <b> "c" \xa0') == "a &amp; <b> &quot;c&quot; &nbsp;"


def test_a_template_with_an_expression_in_a_class_is_left_to_css_inline() -> None:
    def inline(html: str) -> str:
        return _inliner().inline(html)

    source = '<html><head><style>p{color:red}</style></head><body><p class="{{ c }}">x</p>'
    assert preinline.pre_inline_source(source, lambda name: "", inline) is None
    tag = "<html><head></head><body><p {{ attrs }}>x</p></body></html>"
    assert preinline.pre_inline_source(tag, lambda name: "", inline) is None
