"""Subject lines and the words used in digests."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from alerts.digest.model import (
    CatchUpLine,
    CouncilGroup,
    DecisionItem,
    Digest,
    Link,
    SourceHealth,
    StoryItem,
)
from alerts.digest.subject import digest_subject
from alerts.digest.wording import health_line, plural

NOW = datetime(2025, 3, 4, 8, 0, tzinfo=UTC)  # a Tuesday, GMT


def d(n: int) -> DecisionItem:
    return DecisionItem(
        organisation="x",
        reference=f"24 000 {n:03}",
        outcome="Upheld",
        category="Housing",
        decision_date=date(2025, 2, 1),
        url=f"https://councilwatch.example/{n}",
    )


def s(n: int) -> StoryItem:
    return StoryItem(
        headline=f"story {n}",
        titles=(Link("News & Star", f"https://news.example/{n}"),),
        earliest_date=date(2025, 3, 1),
    )


def digest(*groups: CouncilGroup, catch_up: tuple[CatchUpLine, ...] = ()) -> Digest:
    return Digest(
        subscriber_email="a@example.org",
        manage_url="https://councilwatch.example/m",
        unsubscribe_url="https://councilwatch.example/u",
        generated_at=NOW,
        groups=groups,
        catch_up=catch_up,
    )


@pytest.mark.parametrize(
    ("groups", "expected"),
    [
        ((CouncilGroup("Norfolk County Council", (d(1),)),), "1 decision: Norfolk County Council"),
        (
            (CouncilGroup("Leeds City Council", (s(1), s(2))),),
            "2 stories: Leeds City Council",
        ),
        (
            (
                CouncilGroup("Norfolk County Council", (d(1), d(2), s(1))),
                CouncilGroup("Cumberland Council", (d(3), s(2))),
                CouncilGroup("Westmorland and Furness Council", (d(4),)),
            ),
            "4 decisions and 2 stories: Norfolk County Council, Cumberland Council and 1 more",
        ),
        (
            (
                CouncilGroup("Norfolk County Council", (d(1),)),
                CouncilGroup("Cumberland Council", (s(1),)),
            ),
            "1 decision and 1 story: Norfolk County Council and Cumberland Council",
        ),
        (
            tuple(CouncilGroup(f"Council {n}", (d(n),)) for n in range(5)),
            "5 decisions: Council 0, Council 1 and 3 more",
        ),
        (
            (CouncilGroup("Empty Council", ()), CouncilGroup("Leeds City Council", (d(1),))),
            "1 decision: Leeds City Council",
        ),
    ],
)
def test_subject_summarises_counts_and_councils(
    groups: tuple[CouncilGroup, ...], expected: str
) -> None:
    assert digest_subject(digest(*groups)) == expected


def test_subject_for_a_backfill_only_digest() -> None:
    lines = (
        CatchUpLine("Leeds City Council", 30, "https://x.example/1"),
        CatchUpLine("York Council", 12, "https://x.example/2"),
    )
    assert (
        digest_subject(digest(catch_up=lines))
        == "Catch-up: 42 earlier decisions for Leeds City Council and York Council"
    )
    mixed = (*lines, CatchUpLine("Hull City Council", 1, "https://x.example/3", noun="story"))
    assert digest_subject(digest(catch_up=mixed)).startswith("Catch-up: 43 earlier documents")


def test_subject_for_an_empty_digest() -> None:
    assert digest_subject(digest()) == "No new decisions or stories"


@pytest.mark.parametrize(
    ("count", "noun", "expected"),
    [
        (1, "story", "1 story"),
        (2, "story", "2 stories"),
        (3, "day", "3 days"),
        (0, "item", "0 items"),
    ],
)
def test_plural(count: int, noun: str, expected: str) -> None:
    assert plural(count, noun) == expected


def test_health_line_for_a_healthy_source() -> None:
    source = SourceHealth(
        "LGSCO",
        newest_item_at=NOW - timedelta(days=2),
        last_success_at=NOW - timedelta(minutes=48),
        noun="decision",
    )
    assert health_line(source, NOW) == "LGSCO: newest decision 2 days ago; last fetched 07:12"


def test_health_line_uses_london_time_in_summer() -> None:
    july = datetime(2025, 7, 1, 8, 12, tzinfo=UTC)  # 09:12 BST
    source = SourceHealth("LGSCO", newest_item_at=july, last_success_at=july, noun="decision")
    assert health_line(source, july) == "LGSCO: newest decision today; last fetched 09:12"


def test_health_line_for_a_failing_source() -> None:
    source = SourceHealth(
        "News & Star feed",
        newest_item_at=NOW - timedelta(days=1),
        last_success_at=NOW - timedelta(days=1, hours=1),
        failing=True,
        failing_since=NOW - timedelta(hours=20),
        noun="story",
    )
    assert health_line(source, NOW) == (
        "News & Star feed: newest story yesterday; last fetched Mon 07:00; failing since Mon"
    )


def test_health_line_for_a_source_that_never_worked() -> None:
    source = SourceHealth("New feed", None, None, failing=True, failing_since=NOW - timedelta(10))
    assert health_line(source, NOW) == (
        "New feed: no item yet; never fetched successfully; failing since 22 Feb"
    )
