"""The recogniser: every council by its official name, and the traps of real text."""

from __future__ import annotations

import pytest

from alerts.councils import Register, classify_organisation, find_councils


@pytest.fixture(scope="module")
def register() -> Register:
    return Register.builtin()


def ids(text: str, *, include_places: bool = False) -> list[str]:
    return [m.council_id for m in find_councils(text, include_places=include_places)]


def test_every_council_is_found_by_its_official_name(register: Register) -> None:
    failures = []
    for council in register:
        text = f"A complaint about {council.name} was upheld by the Ombudsman on Tuesday."
        found = find_councils(text, register)
        # A leading "The" ("The Highland Council") is left out of the span, like any article.
        expected = council.name.removeprefix("The ")
        if [(m.council_id, m.matched_text, m.confidence) for m in found] != [
            (council.id, expected, 1.0)
        ]:
            failures.append((council.id, [(m.council_id, m.matched_text) for m in found]))
    assert failures == []


def test_every_council_is_found_in_capitals_and_across_a_line_break(register: Register) -> None:
    failures = []
    for council in register:
        words = council.name.upper().split()
        name = " \n  ".join(words) if len(words) > 1 else words[0]
        found = ids(f"WE WROTE TO {name}, WHICH REPLIED.")
        if found != [council.id]:
            failures.append((council.id, found))
    assert failures == []


def test_mention_carries_span_and_text() -> None:
    text = "Mrs B complained to Norfolk County Council's adult services team."
    [mention] = find_councils(text)
    assert mention.council_id == "norfolk"
    assert mention.name == "Norfolk County Council"
    assert mention.matched_text == "Norfolk County Council"
    assert text[mention.start : mention.end] == mention.matched_text
    assert mention.confidence == 1.0
    assert not mention.place_only


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("CUMBRIA county council refused to pay.", ["cumbria"]),
        ("a letter from norfolk county council arrived", ["norfolk"]),
        ("Norfolk   County\nCouncil said", ["norfolk"]),
        ("the Borough Council of King's Lynn and West Norfolk", ["kings-lynn-and-west-norfolk"]),
        ("Kings Lynn and West Norfolk Borough Council", ["kings-lynn-and-west-norfolk"]),
        ("KING’S LYNN & WEST NORFOLK council", ["kings-lynn-and-west-norfolk"]),
        ("West Norfolk council has apologised", ["kings-lynn-and-west-norfolk"]),
        ("Brighton & Hove City Council", ["brighton-and-hove"]),
        ("Brighton and Hove council", ["brighton-and-hove"]),
        ("St Helens Council", ["st-helens"]),
        ("St. Helens Borough Council", ["st-helens"]),
        ("Saint Helens council", ["st-helens"]),
        ("Stockton-on-Tees Borough Council", ["stockton-on-tees"]),
        ("Stockton on Tees council", ["stockton-on-tees"]),
        ("the London Borough of Southwark", ["southwark"]),
        ("Southwark Council", ["southwark"]),
        ("the Royal Borough of Kensington and Chelsea", ["kensington-and-chelsea"]),
        ("Royal Borough of Greenwich", ["greenwich"]),
        ("Wigan MBC and Barnet LBC", ["wigan", "barnet"]),
        ("City of York Council", ["york"]),
        ("Durham County Council took over from Durham City Council", ["durham", "durham-city"]),
        ("Somerset council (the new unitary)", ["somerset"]),
        ("Somerset County Council, abolished in 2023", ["somerset-cc"]),
        ("Cumbria County Council's successor", ["cumbria"]),
        ("Bournemouth, Christchurch and Poole Council", ["bournemouth-christchurch-and-poole"]),
        ("Comhairle nan Eilean Siar", ["na-h-eileanan-siar"]),
        ("Derry City and Strabane District Council", ["derry-and-strabane"]),
    ],
)
def test_names_in_running_text(text: str, expected: list[str]) -> None:
    assert ids(text) == expected


def test_longest_match_wins() -> None:
    text = "The Borough Council of King's Lynn and West Norfolk and Norfolk County Council"
    found = find_councils(text)
    assert [m.council_id for m in found] == ["kings-lynn-and-west-norfolk", "norfolk"]
    assert found[0].matched_text == "Borough Council of King's Lynn and West Norfolk"
    assert ids("North Norfolk District Council") == ["north-norfolk"]
    assert ids("Cheshire West and Chester Council") == ["cheshire-west-and-chester"]


@pytest.mark.parametrize(
    "text",
    [
        "She moved to Norfolk last year.",
        "Norfolk Constabulary attended.",
        "Norfolk Police said",
        "shares in Norfolk Southern fell",
        "Norfolk and Norwich University Hospital",
        "Norfolk councils are consulting",  # plural: not one council
        "after reading council papers",
        "Hull City won at home",
        "a Norfolk-based charity",
    ],
)
def test_bare_place_names_are_not_councils(text: str) -> None:
    assert ids(text) == []


def test_bare_place_names_can_be_asked_for_with_low_confidence() -> None:
    [mention] = find_councils("She moved to Norfolk last year.", include_places=True)
    assert (mention.council_id, mention.place_only, mention.confidence) == ("norfolk", True, 0.3)
    assert mention.matched_text == "Norfolk"
    # Organisation words after a place name keep it out even then.
    for text in (
        "Norfolk Constabulary attended.",
        "Norfolk and Norwich University Hospital",
        "Norfolk Southern",
    ):
        assert find_councils(text, include_places=True) == [], text


def test_words_around_names_do_not_match_inside_other_words() -> None:
    assert ids("Solihull Council") == ["solihull"]
    assert ids("Hullabaloo council") == []
    assert ids("Kentish Town council") == []


def test_a_custom_register_is_used() -> None:
    small = Register([c for c in Register.builtin() if c.nation == "Wales"])
    assert ids("Powys County Council") == ["powys"]
    assert [m.council_id for m in find_councils("Norfolk County Council", small)] == []


@pytest.mark.parametrize(
    ("name", "kind", "council_id"),
    [
        ("London Borough of Southwark", "council", "southwark"),
        ("Norfolk County Council", "council", "norfolk"),
        ("Cumbria County Council (now Westmorland and Furness Council)", "council", "cumbria"),
        ("Southwark", "council", "southwark"),
        ("Barchester Healthcare Homes Limited", "care provider", None),
        ("Sunnyfield Care Ltd", "care provider", None),
        ("Oakwood Lodge Residential Home", "care provider", None),
        ("Norfolk and Suffolk NHS Foundation Trust", "nhs body", None),
        ("NHS Norfolk and Waveney Integrated Care Board", "nhs body", None),
        ("Somerset Clinical Commissioning Group", "nhs body", None),
        ("Office of the Public Guardian", "other", None),
    ],
)
def test_classify_organisation(name: str, kind: str, council_id: str | None) -> None:
    match = classify_organisation(name)
    assert (match.kind, match.council_id) == (kind, council_id)
