"""Linking stories to the decisions they report, measured on a labelled set written for it."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from alerts.news_links import (
    THRESHOLD,
    DecisionFacts,
    best_link,
    decision_area,
    score,
    story_facts,
)
from tests.news_links_cases import CASES, DECISIONS, Case


def _link(case: Case) -> str | None:
    facts = story_facts(case.id, case.text, councils=case.councils, published=case.published)
    link = best_link(facts, DECISIONS)
    return None if link is None else str(link.decision_id)


def precision_recall(cases: tuple[Case, ...] = CASES) -> tuple[float, float, int, int, int]:
    """(precision, recall, true positives, false positives, false negatives) on ``cases``."""
    tp = fp = fn = 0
    for case in cases:
        got = _link(case)
        if got is not None and got == case.reports:
            tp += 1
        elif got is not None:
            fp += 1
            if case.reports is not None:
                fn += 1
        elif case.reports is not None:
            fn += 1
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    return precision, recall, tp, fp, fn


def test_labelled_set_meets_the_precision_and_recall_goal() -> None:
    precision, recall, tp, fp, fn = precision_recall()
    assert precision >= 0.95, (precision, tp, fp, fn)
    assert recall >= 0.8, (recall, tp, fp, fn)


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_no_story_is_linked_to_a_decision_it_does_not_report(case: Case) -> None:
    got = _link(case)
    assert got is None or got == case.reports


def test_a_quoted_reference_settles_the_link_and_another_reference_rules_out() -> None:
    d1 = DECISIONS[0]
    text = "The ombudsman's decision 24/011/307 told Norfolk County Council to pay Mr Y £10."
    facts = story_facts("s", text, councils={"norfolk"}, published=date(2026, 3, 20))
    link = score(facts, d1)
    assert link is not None and link.score == 1.0 and "quotes 24 011 307" in link.reasons
    other = story_facts(
        "s", text.replace("24/011/307", "24/011/308"), councils={"norfolk"},
        published=date(2026, 3, 20),
    )
    assert score(other, d1) is None


def test_two_decisions_with_the_same_sum_are_told_apart_by_the_complainant() -> None:
    by_id = {case.id: case for case in CASES}
    assert _link(by_id["S3"]) == "D3"  # £950 like D1, but Mr H and adult care
    assert _link(by_id["S12"]) == "D1"  # £950 like D3, but Mrs K and children's services
    assert _link(by_id["N6"]) is None  # £950 and nothing else: ambiguous, so no link


def test_gates_council_ombudsman_and_time() -> None:
    d1 = DECISIONS[0]
    text = "The ombudsman told the council to pay Mrs K £950 for children's services failings."
    ok = story_facts("s", text, councils={"norfolk"}, published=date(2026, 3, 20))
    assert (link := score(ok, d1)) is not None and link.score >= THRESHOLD
    assert score(replace(ok, councils=frozenset({"suffolk"})), d1) is None
    assert score(replace(ok, mentions_ombudsman=False), d1) is None
    assert score(replace(ok, published=date(2026, 3, 9)), d1) is None  # before the decision
    assert score(replace(ok, published=date(2027, 3, 9)), d1) is None  # a year later


def test_successor_councils_link_when_the_root_expands_them() -> None:
    # An alert or story naming Cumbria is expanded by the composition root to its successors.
    d4 = DECISIONS[3]
    text = "Cumbria council must pay Mr T £600, the ombudsman said, over child protection."
    facts = story_facts(
        "s", text, councils={"cumbria", "cumberland", "westmorland-and-furness"},
        published=date(2026, 4, 9),
    )
    link = best_link(facts, DECISIONS)
    assert link is not None and link.decision_id == d4.id


def test_facts_read_from_the_text_however_it_is_written() -> None:
    text = "Pay Mr. T £1,000.50 and £2k, says LGSCO in case 25-002-118b; Ms D and Dr Q agreed."
    facts = story_facts("s", text, councils=(), published=date(2026, 1, 1))
    assert facts.references == {"25 002 118b"}
    assert facts.amounts_pence == {100050, 200000}
    assert facts.complainants == {"Mr T", "Ms D", "Dr Q"}
    assert facts.mentions_ombudsman
    # "Mrs Kingsley" is a name, not an anonymised label; "£5million" is a sum.
    other = story_facts(
        "s", "Mrs Kingsley spent £5million", councils=(), published=date(2026, 1, 1)
    )
    assert other.complainants == frozenset() and other.amounts_pence == {500_000_000}
    assert not other.mentions_ombudsman


def test_reflowed_and_recased_stories_link_the_same() -> None:
    for case in CASES:
        reflowed = replace(case, text=" ".join(case.text.split()))
        assert _link(reflowed) == _link(case), case.id


def test_decision_area_reads_category_phrases() -> None:
    assert decision_area("Children's care services > Other") == "children"
    assert decision_area("Education > Special educational needs") == "education"
    assert decision_area("Environment and regulation > Refuse and recycling") == "environment"
    assert decision_area("Other categories") is None


def test_a_decision_that_ordered_no_payment_is_not_contradicted_by_a_sum() -> None:
    d5: DecisionFacts = DECISIONS[4]
    text = "The ombudsman found no fault by Cumberland Council; Mr W had asked for £5,000."
    facts = story_facts("s", text, councils={"cumberland"}, published=date(2026, 4, 20))
    link = score(facts, d5)
    assert link is not None and "different amounts" not in link.reasons


SAMPLES = __import__("pathlib").Path(__file__).resolve().parents[1].parent / "shared" / "samples"


def _sample_decision(name: str, decided: date) -> DecisionFacts:
    """A real decision's facts as the store would hold them, read from its page text."""
    from alerts.councils import Register, classify_organisation

    text = (SAMPLES / name).read_text(encoding="utf-8")
    title = text.splitlines()[0]
    organisation, reference = title.rsplit(" (", 1)
    council = classify_organisation(organisation).council_id
    assert council is not None
    header = dict(
        line.split(" : ", 1) for line in text.splitlines()[:12] if " : " in line
    )
    said = story_facts("d", text, councils=(), published=decided)
    return DecisionFacts(
        name,
        reference.rstrip(")"),
        Register.builtin().expand({council}, county_wide=False),
        decided,
        (header.get("Decision") or "").lower() or None,
        header.get("Category", ""),
        frozenset(),  # neither sample decision ordered a payment
        said.complainants,
    )


@pytest.mark.skipif(not SAMPLES.exists(), reason=f"real samples not at {SAMPLES}")
@pytest.mark.parametrize("story_name", ["news-edp-norfolk-contact.txt", "news-cumbria-mr-q.txt"])
def test_real_stories_are_not_linked_to_real_decisions_they_do_not_report(story_name: str) -> None:
    """Both real stories report rulings that ordered payments; neither real decision did (one
    not upheld, one without fault), though one shares the council, the service and "Mr X"."""
    from alerts.councils import Register, find_councils

    decided = date(2024, 7, 14)
    decisions = [
        _sample_decision("lgsco-decision-23-018-529.txt", decided),
        _sample_decision("lgsco-decision-24-009-894.txt", decided),
    ]
    text = (SAMPLES / story_name).read_text(encoding="utf-8")
    councils = Register.builtin().expand(
        {m.council_id for m in find_councils(text)}, county_wide=False
    )
    story = story_facts(story_name, text, councils=councils, published=date(2024, 7, 21))
    assert story.mentions_ombudsman and story.amounts_pence
    assert best_link(story, decisions) is None
    for decision in decisions:
        link = score(story, decision)
        assert link is None or link.score < THRESHOLD, link
