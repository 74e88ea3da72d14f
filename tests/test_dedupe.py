"""Syndicated-story clustering: MinHash LSH candidates confirmed by containment."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scraper.dedupe import StoryClusterer, containment, lsh_bands, shingles

SYNDICATION = Path(__file__).parent / "sources" / "news" / "syndication"
COPIES = ("original", "rewritten_intro", "first_half", "with_footer")
START = datetime(2024, 3, 5, 9, 0, tzinfo=UTC)


def texts() -> dict[str, str]:
    return {p.stem: p.read_text(encoding="utf-8") for p in sorted(SYNDICATION.glob("*.txt"))}


def test_the_syndication_set_is_what_it_claims() -> None:
    # guards the fixtures themselves: the cut copy is a prefix, the footer copy a superset
    stories = texts()
    original = shingles(stories["original"])
    assert shingles(stories["first_half"]) < original
    assert original < shingles(stories["with_footer"])
    assert len(stories["original"].split()) > 550


def test_copies_join_the_original_and_a_different_story_never_does() -> None:
    stories = texts()
    clusterer = StoryClusterer()
    for hour, name in enumerate([*COPIES, "other_story"]):
        clusterer.add(name, stories[name], published=START + timedelta(hours=hour))
    assert {name: clusterer.cluster_of(name) for name in COPIES} == dict.fromkeys(
        COPIES, "original"
    )
    assert clusterer.cluster_of("other_story") == "other_story"
    assert clusterer.clusters() == {"original": list(COPIES), "other_story": ["other_story"]}


@pytest.mark.parametrize("order", list(itertools.permutations([*COPIES, "other_story"]))[::17])
def test_clusters_do_not_depend_on_arrival_order(order: tuple[str, ...]) -> None:
    stories = texts()
    published = {
        name: START + timedelta(hours=i) for i, name in enumerate([*COPIES, "other_story"])
    }
    clusterer = StoryClusterer()
    for name in order:
        clusterer.add(name, stories[name], published=published[name])
    # named after the earliest published member, whichever arrived first
    assert {clusterer.cluster_of(name) for name in COPIES} == {"original"}
    assert clusterer.cluster_of("other_story") == "other_story"


def test_without_dates_the_first_added_names_the_cluster() -> None:
    stories = texts()
    clusterer = StoryClusterer()
    assert clusterer.add("b-first-half", stories["first_half"]) == "b-first-half"
    assert clusterer.add("a-original", stories["original"]) == "b-first-half"


def test_the_shared_footer_alone_does_not_join_two_stories() -> None:
    stories = texts()
    footer = stories["with_footer"][len(stories["original"]) :]
    clusterer = StoryClusterer()
    clusterer.add("footer-only", footer)
    clusterer.add("other", stories["other_story"])
    clusterer.add("copy", stories["with_footer"])
    assert clusterer.cluster_of("copy") == "copy"
    assert clusterer.cluster_of("other") == "other"


def test_stories_outside_the_window_are_not_compared() -> None:
    stories = texts()
    clusterer = StoryClusterer(window=timedelta(days=14))
    clusterer.add("old", stories["original"], published=START)
    clusterer.add("filler", stories["other_story"], published=START + timedelta(days=20))
    assert clusterer.add(
        "late-copy", stories["with_footer"], published=START + timedelta(days=21)
    ) == ("late-copy")
    assert clusterer.add(
        "recent-copy", stories["first_half"], published=START + timedelta(days=22)
    ) == ("late-copy")


def test_out_of_order_arrival_within_the_window_still_joins() -> None:
    stories = texts()
    clusterer = StoryClusterer(window=timedelta(days=14))
    clusterer.add("newer", stories["with_footer"], published=START + timedelta(days=10))
    assert clusterer.add("older", stories["original"], published=START) == "older"
    assert clusterer.cluster_of("newer") == "older"


def test_same_input_same_clusters_across_instances() -> None:
    stories = texts()
    results = []
    for _ in range(2):
        clusterer = StoryClusterer(seed=7)
        for name in sorted(stories):
            clusterer.add(name, stories[name])
        results.append(clusterer.clusters())
    assert results[0] == results[1]


def test_short_texts_never_cluster() -> None:
    clusterer = StoryClusterer()
    line = "Norfolk County Council said it would review the decision next week."
    assert clusterer.add("a", line) == "a"
    assert clusterer.add("b", line) == "b"


def test_adding_an_id_twice_is_refused() -> None:
    clusterer = StoryClusterer()
    clusterer.add("a", "text")
    with pytest.raises(ValueError, match="already added"):
        clusterer.add("a", "text")


def test_shingles_ignore_case_and_punctuation() -> None:
    assert shingles("The Council's plan, approved!", size=2) == {
        "the council's",
        "council's plan",
        "plan approved",
    }
    assert shingles("Two words", size=5) == {"two words"}
    assert shingles("  ") == set()


def test_containment_is_measured_against_the_smaller_set() -> None:
    assert containment({1, 2}, {1, 2, 3, 4}) == 1.0
    assert containment([1, 2, 3, 4], [3, 4, 5, 6, 7, 8]) == 0.5
    assert containment(set(), {1}) == 0.0


@given(st.sets(st.integers(0, 50)), st.sets(st.integers(0, 50)))
def test_containment_is_symmetric_and_bounded(a: set[int], b: set[int]) -> None:
    assert containment(a, b) == containment(b, a)
    assert 0.0 <= containment(a, b) <= 1.0


@pytest.mark.parametrize("threshold", [0.3, 0.5, 0.8])
def test_lsh_bands_find_threshold_pairs_with_high_probability(threshold: float) -> None:
    bands, rows = lsh_bands(threshold, 128)
    assert bands * rows <= 128
    assert 1 - (1 - threshold**rows) ** bands >= 0.99
    # and stay selective: a pair at a tenth of the threshold is rarely a candidate
    assert 1 - (1 - (threshold / 10) ** rows) ** bands < 0.2
