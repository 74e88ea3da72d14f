"""Query limits: deep and long queries get a clear error with a position, never a crash,
and nothing that passes can break the matcher (its generated checks must compile)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alerts.documents import AlertSpec, MatchDocument
from alerts.matcher import Matcher, brute_force
from alerts.query import MAX_DEPTH, MAX_QUERY_CHARS, MAX_TERMS, check_limits, parse_query
from alerts.validity import valid_alert_query
from cwerrors import QueryError

_WIDE = " OR ".join(f"w{i}" for i in range(60))
DOC = MatchDocument(1, "news", "ldrs", "Respite", "Respite care was cut.", frozenset({"norfolk"}))


@pytest.mark.parametrize(
    ("text", "position", "words"),
    [
        ("-" * 200 + "respite OR care", MAX_DEPTH, "too deeply nested"),
        ("(" * 300 + "respite" + ")" * 300, MAX_QUERY_CHARS, "too long"),
        ("(" * 100 + "respite" + ")" * 100, MAX_DEPTH, "too deeply nested"),
        ("NOT " * 20 + "respite", 4 * MAX_DEPTH, "too deeply nested"),
        (_WIDE, _WIDE.index(f"w{MAX_TERMS}"), "too many terms"),
        ("a " * 300, MAX_QUERY_CHARS, "too long"),
    ],
)
def test_limits_give_a_clear_error_with_the_position(text: str, position: int, words: str) -> None:
    for check in (check_limits, lambda t: parse_query(t, allow_only_not=True)):
        with pytest.raises(QueryError) as caught:
            check(text)
        assert words in str(caught.value)
        assert caught.value.position == position
        assert f"position {position}" in str(caught.value)


def test_limits_are_reached_exactly() -> None:
    deepest = "-" * (MAX_DEPTH - 1) + "(" + "x" + ")"
    assert parse_query("respite " + deepest)  # exactly MAX_DEPTH levels
    assert parse_query(" OR ".join(f"w{i}" for i in range(MAX_TERMS)))
    with pytest.raises(QueryError, match="too many terms"):
        parse_query(" OR ".join(f"w{i}" for i in range(MAX_TERMS + 1)))
    # Siblings do not add up: many bracketed NOTs side by side are shallow.
    assert parse_query("respite " + " ".join(f"-(w{i})" for i in range(30)))


def test_the_215_character_alert_is_refused_and_cannot_stop_the_matcher() -> None:
    text = "-" * 200 + "respite OR care"
    with pytest.raises(QueryError):
        valid_alert_query(text, councils=["norfolk"])


def _deep(draw: st.DrawFn) -> str:
    depth = draw(st.integers(0, 3 * MAX_DEPTH))
    parts = st.sampled_from(["(", "-", "NOT ", "-("])
    opener = draw(st.lists(parts, min_size=depth, max_size=depth))
    body = draw(st.sampled_from(["respite", "care OR respite", '"respite care"', "resp*"]))
    closer = ")" * sum(part.count("(") for part in opener)
    return "".join(opener) + body + closer


@st.composite
def hostile_queries(draw: st.DrawFn) -> str:
    kind = draw(st.sampled_from(["deep", "long", "wide"]))
    if kind == "deep":
        return _deep(draw)
    if kind == "wide":
        n = draw(st.integers(1, 2 * MAX_TERMS))
        op = draw(st.sampled_from([" OR ", " ", " AND ", " -"]))
        return "respite" + op + op.join(f"w{i}" for i in range(n))
    part = draw(st.sampled_from(["(a OR b) ", "-x ", '"a b" ', "NOT (c) "]))
    return part * draw(st.integers(1, 120))


@settings(max_examples=150, deadline=None)
@given(hostile_queries())
def test_deep_and_long_queries_either_file_and_match_or_raise_query_error(text: str) -> None:
    try:
        query = parse_query(text, allow_only_not=True)
    except QueryError as exc:
        assert 0 <= exc.position <= len(text)
        with pytest.raises(QueryError):
            check_limits(text) if "too" in str(exc) else parse_query(text, allow_only_not=True)
        return
    check_limits(text)  # what parses is within the limits
    alert = AlertSpec(7, councils=frozenset({"norfolk"}), query=query)
    first = AlertSpec(1, query=parse_query("respite"))
    matcher = Matcher([first])
    matcher.add(alert)  # compiles its check
    assert matcher.match([DOC]) == brute_force([first, alert], [DOC])


@settings(max_examples=100, deadline=None)
@given(st.text(alphabet='()-" ORNTAD*ab', max_size=MAX_QUERY_CHARS + 20))
def test_check_limits_never_crashes_and_agrees_with_the_parser(text: str) -> None:
    try:
        check_limits(text)
    except QueryError:
        with pytest.raises(QueryError):
            parse_query(text, allow_only_not=True)
        return
    try:
        parse_query(text, allow_only_not=True)
    except QueryError as exc:  # a syntax error, never a limit the check let through
        assert not str(exc).startswith("too ")


def _nested_not(depth: int) -> AlertSpec:
    """An alert no parser would make (the tree is built by hand): its check cannot compile."""
    from alerts.query import Not, Query

    root = parse_query("respite").root
    for _ in range(depth):
        root = Not(root)
    return AlertSpec(99, councils=frozenset({"norfolk"}), query=Query(root, "hand-built"))


def test_an_alert_that_cannot_be_filed_leaves_the_matcher_as_it_was() -> None:
    good = AlertSpec(1, query=parse_query("respite"))
    earlier = AlertSpec(99, query=parse_query("care"))
    matcher = Matcher([good, earlier])
    before = matcher.match([DOC])
    with pytest.raises((SyntaxError, RecursionError, MemoryError)):
        matcher.add(_nested_not(300))
    assert matcher.match([DOC]) == before  # the earlier version of 99 is still filed
    assert matcher.alert_ids == [1, 99]
    matcher.add(AlertSpec(2, query=parse_query("cut")))  # and later adds still work
    assert [m.alert_id for m in matcher.match([DOC])] == [1, 99, 2]
