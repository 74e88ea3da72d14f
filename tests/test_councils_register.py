"""The built-in council register: completeness, integrity, lookup and expansion."""

from __future__ import annotations

from collections import Counter
from datetime import date

import pytest

from alerts.councils import Council, Register
from alerts.councils.register import COUNTY, DISTRICT, NATIONS, TYPES
from cwerrors import UnknownCouncilError


@pytest.fixture(scope="module")
def register() -> Register:
    return Register.builtin()


def test_builtin_is_loaded_once(register: Register) -> None:
    assert Register.builtin() is register


def test_current_councils_per_nation(register: Register) -> None:
    # Counts of principal councils as of the 2023 reorganisations (none vested since).
    counts = Counter(c.nation for c in register if c.current)
    assert counts == {"England": 317, "Scotland": 32, "Wales": 22, "Northern Ireland": 11}
    england = Counter(c.type for c in register if c.current and c.nation == "England")
    assert england == {
        COUNTY: 21,
        DISTRICT: 164,
        "unitary": 62,
        "metropolitan borough": 36,
        "london borough": 32,
        "city corporation": 1,
        "sui generis": 1,
    }


def test_reorganisations_since_2009_are_recorded(register: Register) -> None:
    ended = Counter(c.end.year for c in register if c.end)
    assert ended == {2009: 38, 2015: 25, 2019: 15, 2020: 5, 2021: 8, 2023: 20}


def test_register_is_consistent(register: Register) -> None:
    gss = [c.gss for c in register if c.gss]
    assert len(gss) == len(set(gss))
    for council in register:
        assert council.type in TYPES, council.id
        assert council.nation in NATIONS, council.id
        assert council.current == (not council.successors), council.id
        for successor in council.successors:
            begins = register.get(successor).start
            assert begins is not None and council.end is not None
            assert begins > council.end, council.id
        if council.county is not None:
            assert council.type == DISTRICT
            assert register.get(council.county).type in (COUNTY, "unitary"), council.id
        if council.type == DISTRICT and council.current:
            assert register.get(council.county or "").current, council.id


@pytest.mark.parametrize(
    ("name", "council_id"),
    [
        ("Norfolk County Council", "norfolk"),
        ("norfolk", "norfolk"),
        ("  NORFOLK COUNTY COUNCIL ", "norfolk"),
        ("Kings Lynn & West Norfolk", "kings-lynn-and-west-norfolk"),
        ("West Norfolk", "kings-lynn-and-west-norfolk"),
        ("St. Helens", "st-helens"),
        ("Saint Helens Borough Council", "st-helens"),
        ("Stockton on Tees", "stockton-on-tees"),
        ("E07000146", "kings-lynn-and-west-norfolk"),
        ("cumbria", "cumbria"),
        ("Cumbria council", "cumbria"),
        ("the Highland Council", "highland"),
        ("Durham", "durham"),
        ("Durham City Council", "durham-city"),
        ("Somerset", "somerset"),
        ("Somerset County Council", "somerset-cc"),
    ],
)
def test_lookup(register: Register, name: str, council_id: str) -> None:
    assert register.lookup(name).id == council_id


def test_lookup_unknown_name_suggests_close_matches(register: Register) -> None:
    with pytest.raises(UnknownCouncilError) as caught:
        register.lookup("Norfolc County Council")
    assert "Norfolk County Council" in caught.value.suggestions
    assert "did you mean" in str(caught.value)


def test_get_unknown_id(register: Register) -> None:
    with pytest.raises(UnknownCouncilError):
        register.get("atlantis")


def test_cumbria_follows_its_successors(register: Register) -> None:
    assert register.successors_closure("cumbria") == {"cumberland", "westmorland-and-furness"}
    assert register.expand(["cumbria"], county_wide=False) == {
        "cumbria",
        "cumberland",
        "westmorland-and-furness",
    }


def test_north_yorkshire_county_becomes_the_unitary(register: Register) -> None:
    assert register.successors_closure("north-yorkshire-cc") == {"north-yorkshire"}
    expanded = register.expand(["north-yorkshire-cc"])
    assert {"north-yorkshire", "harrogate", "scarborough", "selby"} <= expanded


def test_somerset_districts_follow_to_somerset_council(register: Register) -> None:
    for district in ("mendip", "sedgemoor", "south-somerset", "somerset-west-and-taunton"):
        assert "somerset" in register.successors_closure(district), district
    # Two steps: Taunton Deane -> Somerset West and Taunton (2019) -> Somerset Council (2023).
    assert register.successors_closure("taunton-deane") == {"somerset-west-and-taunton", "somerset"}


def test_county_expands_to_its_districts(register: Register) -> None:
    norfolk = register.expand(["norfolk"])
    assert norfolk == {
        "norfolk",
        "breckland",
        "broadland",
        "great-yarmouth",
        "kings-lynn-and-west-norfolk",
        "north-norfolk",
        "norwich",
        "south-norfolk",
    }
    assert register.expand(["norfolk"], county_wide=False) == {"norfolk"}
    # A district does not pull in its county.
    assert register.expand(["breckland"]) == {"breckland"}


def test_county_wide_includes_councils_added_later(register: Register) -> None:
    newcomer = Council(
        id="mid-norfolk",
        name="Mid Norfolk District Council",
        common_name="Mid Norfolk",
        type=DISTRICT,
        county="norfolk",
        start=date(2030, 4, 1),
    )
    bigger = register.merged([newcomer])
    assert "mid-norfolk" in bigger.expand(["norfolk"])
    assert "mid-norfolk" not in register.expand(["norfolk"])
    assert len(bigger) == len(register) + 1


def test_json_round_trip(register: Register) -> None:
    again = Register.from_json(register.to_json())
    assert list(again) == list(register)


def test_filters(register: Register) -> None:
    welsh = register.councils(nation="wales", current=True)
    assert len(welsh) == 22
    assert all(c.nation == "Wales" for c in welsh)
    assert all(not c.current for c in register.councils(current=False))


def test_lookup_accepts_lower_case_names_typed_at_a_prompt() -> None:
    register = Register.builtin()
    assert register.lookup("cumbria council").id == "cumbria"
    assert register.lookup("west norfolk council").id == "kings-lynn-and-west-norfolk"
