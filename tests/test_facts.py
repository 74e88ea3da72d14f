"""Facts that tell stories apart: copies agree, same-template stories from one publisher do not.

The template below is how some publishers write every ombudsman story: the same paragraphs
with the ruling number, the amount, the complainant, the date and the reference changed.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from scraper.dedupe import StoryClusterer
from scraper.facts import disagreements, extract, same_facts

START = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)

TEMPLATE = (
    "Breckland District Council criticised in ombudsman ruling number {n}. "
    "Breckland District Council has been told to apologise and pay {who} £{amount} after the "
    "Local Government and Social Care Ombudsman found it had mishandled a housing application "
    "from {place}. The ombudsman, in decision {ref} published on {day} April 2026, said the "
    "council took far longer than it should have to review the banding of the family's "
    "application, and that officers did not reply to emails asking what was happening. "
    "The family had been living in a single room with two children while they waited. "
    "The council said it accepted the findings in full and had already changed the way it "
    "tracks reviews so that none is left waiting without a named officer. It added that "
    "it had written to the family to apologise and that the payment would be made within a "
    "month. A spokesperson for the council said lessons had been learned and that the "
    "housing team had taken on extra staff to clear the backlog of reviews that built up "
    "over the winter. Councillors are expected to discuss the report at the next meeting of "
    "the overview and scrutiny committee later this month, where officers will set out how "
    "many other reviews are still outstanding and how long each has been waiting. The "
    "ombudsman publishes its decisions on its website, with the names of the people who "
    "complained removed, and councils are asked to report back on what they have done."
)
FACTS = [
    {"n": 1, "who": "Mrs B", "amount": "300", "place": "Dereham", "ref": "25 001 101", "day": 2},
    {"n": 2, "who": "Mr C", "amount": "450", "place": "Swaffham", "ref": "25 002 202", "day": 9},
    {"n": 3, "who": "Ms D", "amount": "1,250", "place": "Thetford", "ref": "25 003 303", "day": 16},
    {"n": 4, "who": "Mrs E", "amount": "200", "place": "Watton", "ref": "25 004 404", "day": 23},
]


def template_story(n: int) -> str:
    return TEMPLATE.format(**FACTS[n - 1])


def test_same_template_stories_disagree_on_their_facts() -> None:
    one, two = extract(template_story(1)), extract(template_story(2))
    assert disagreements(one, two) >= 4  # number, complainant, amount, place, reference, date
    assert not same_facts(one, two)


@pytest.mark.parametrize(
    "copy",
    [
        pytest.param(lambda t: t[: len(t) // 2], id="cut to its first half"),
        pytest.param(
            lambda t: (
                "A Dereham family has won an apology from the council. " + t.split(". ", 1)[1]
            ),
            id="rewritten intro",
        ),
        pytest.param(
            lambda t: t + " This story was written by Jo Bloggs, Local Democracy Reporter.",
            id="byline footer",
        ),
        pytest.param(lambda t: t.replace("£1,250", "£1250"), id="amount styled differently"),
        pytest.param(
            lambda t: t.replace("Local Government and Social Care Ombudsman", "ombudsman"),
            id="name shortened",
        ),
    ],
)
def test_a_syndicated_copy_agrees_with_its_original(copy: object) -> None:
    original = template_story(3)
    edited = copy(original)  # type: ignore[operator]
    assert edited != original
    assert same_facts(extract(original), extract(edited)), disagreements(
        extract(original), extract(edited)
    )


def test_copies_with_different_footers_after_the_same_last_sentence_agree() -> None:
    body = template_story(1)
    one = body + " Reporting by Sam Green for the Eastern Daily Press."
    two = body + " Additional reporting by Norfolk Live."
    assert same_facts(extract(one), extract(two))


def test_amounts_dates_and_references_are_normalised() -> None:
    facts = extract("The council will pay Mrs B £1.2m on 3rd March 2025 (ref 24/01234/FUL) now.")
    values = {v for vs in facts.slots.values() for v in vs}
    assert {"1200000.00", "2025-Mar-3".lower(), "24/01234/ful", "mrs b"} <= values


def test_a_publisher_whose_every_story_is_one_template_gets_one_cluster_per_story() -> None:
    clusterer = StoryClusterer(window=timedelta(days=14))
    for n in range(1, 5):
        published = START + timedelta(hours=n)
        clusterer.add(f"edp-{n}", template_story(n), published=published)
        # every story is also syndicated, cut short, by a sister title
        cut = template_story(n)[:900]
        clusterer.add(f"sister-{n}", cut, published=published + timedelta(minutes=30))
    clusters = clusterer.clusters()
    assert sorted(clusters.values()) == [[f"edp-{n}", f"sister-{n}"] for n in range(1, 5)]
