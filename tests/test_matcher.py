"""The reverse-search matcher: same results as brute force, selective index, explanations."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterable
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alerts.documents import AlertSpec, Match, MatchDocument
from alerts.matcher import (
    Matcher,
    brute_force,
    default_key_cost,
    document_tokens,
    key_cost_from_documents,
    snippet_spans,
)
from alerts.query import parse_query


def alert(ident: str | int, query: str | None = None, **filters: frozenset[str]) -> AlertSpec:
    return AlertSpec(
        ident, query=parse_query(query, allow_only_not=True) if query else None, **filters
    )


def doc(
    ident: str,
    text: str,
    *,
    title: str = "Decision",
    kind: str = "decision",
    source: str = "lgsco",
    councils: frozenset[str] = frozenset(),
    outcome: str | None = None,
    category: str | None = None,
) -> MatchDocument:
    return MatchDocument(ident, kind, source, title, text, councils, outcome, category)


NORFOLK, CUMBERLAND, LEEDS = "E10000020", "E06000063", "E08000035"

DECISION = doc(
    "24-001-234",
    "Mr C complained the Council delayed his daughter's Education, Health and Care Plan.\n"
    "The Council agreed to apologise and make a payment of £750 for the distress caused.\n"
    "It will also review how it tracks annual reviews.",
    title="Norfolk County Council (24 001 234)",
    councils=frozenset({NORFOLK}),
    outcome="upheld",
    category="Education",
)
NEWS = doc(
    "edp-1",
    "Parking fines in Carlisle rose again this year, Cumberland Council said on Tuesday.",
    title="Parking fines rise",
    kind="news",
    source="news-and-star",
    councils=frozenset({CUMBERLAND}),
)


# --- filters and verification -------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        (alert(1, councils=frozenset({NORFOLK})), ["24-001-234"]),
        (alert(2, councils=frozenset({NORFOLK, CUMBERLAND})), ["24-001-234", "edp-1"]),
        (alert(3, councils=frozenset({LEEDS})), []),
        (alert(4, "payment"), ["24-001-234"]),
        (alert(5, "parking", kinds=frozenset({"decision"})), []),
        (alert(6, "parking", kinds=frozenset({"news"})), ["edp-1"]),
        (alert(7, outcomes=frozenset({"upheld"})), ["24-001-234"]),
        (alert(8, outcomes=frozenset({"not upheld"})), []),
        (alert(9, categories=frozenset({"Education"})), ["24-001-234"]),
        (alert(10, sources=frozenset({"news-and-star"})), ["edp-1"]),
        (alert(11), ["24-001-234", "edp-1"]),  # no filter at all: everything
        (alert(12, "-parking"), ["24-001-234"]),
        (alert(13, "-parking", councils=frozenset({CUMBERLAND})), []),
        (alert(14, '"plan care"'), []),
        (alert(15, '"health and care plan"'), ["24-001-234"]),
        (alert(16, "apolog* distress", councils=frozenset({NORFOLK})), ["24-001-234"]),
        (alert(17, "norfolk"), ["24-001-234"]),  # the title is searched too
        (alert(18, "fines", outcomes=frozenset({"upheld"})), []),  # news has no outcome
    ],
)
def test_filters_and_queries(spec: AlertSpec, expected: list[str]) -> None:
    found = Matcher([spec]).match([DECISION, NEWS])
    assert [m.document_id for m in found] == expected
    assert found == brute_force([spec], [DECISION, NEWS])


def test_matches_are_listed_by_document_then_alert_order() -> None:
    alerts = [alert("z", "council"), alert("a", councils=frozenset({CUMBERLAND})), alert("m")]
    found = Matcher(alerts).match([DECISION, NEWS])
    assert [(m.document_id, m.alert_id) for m in found] == [
        ("24-001-234", "z"),
        ("24-001-234", "m"),
        ("edp-1", "z"),
        ("edp-1", "a"),
        ("edp-1", "m"),
    ]


def test_add_replaces_and_remove_forgets() -> None:
    matcher = Matcher([alert(1, "parking"), alert(2, "payment")])
    assert [m.alert_id for m in matcher.match([DECISION, NEWS])] == [2, 1]
    matcher.add(alert(1, "apologise"))  # same id: replaced
    assert len(matcher) == 2
    assert [(m.alert_id, m.document_id) for m in matcher.match([DECISION, NEWS])] == [
        (2, "24-001-234"),
        (1, "24-001-234"),
    ]
    matcher.remove(2)
    matcher.remove(2)  # harmless
    matcher.remove("never added")
    assert [m.alert_id for m in matcher.match([DECISION, NEWS])] == [1]
    matcher.remove(1)
    assert matcher.match([DECISION, NEWS]) == []
    assert len(matcher) == 0


def test_many_replacements_keep_order_and_results() -> None:
    # Replacing an alert leaves a hole in the slot numbering; thousands of replacements
    # make the matcher renumber, which must keep the reporting order and the matches.
    queries = ["parking", "payment", "apologise", "council", "fine"]
    matcher = Matcher(alert(i, q) for i, q in enumerate(queries))
    for round_ in range(600):
        for i in (4, 1, 3):
            matcher.add(alert(i, queries[(i + round_) % len(queries)]))
    final = [alert(i, q) for i, q in enumerate(queries)]
    final = [final[0], final[2]] + [alert(i, queries[(i + 599) % len(queries)]) for i in (4, 1, 3)]
    assert matcher.alert_ids == [0, 2, 4, 1, 3]
    assert len(matcher._plans) < 2 * len(matcher) + 1100  # renumbered on the way
    assert matcher.match([DECISION, NEWS]) == brute_force(final, [DECISION, NEWS])


def test_many_alerts_on_one_key_grow_shrink_and_renumber_like_brute_force() -> None:
    # A key's alerts are a tuple while few and a set past a few dozen; alerts come and go
    # across that line, with holes renumbered on the way, and matches stay brute force's.
    filed: dict[str | int, AlertSpec] = {}
    matcher = Matcher()

    def add(spec: AlertSpec) -> None:
        matcher.add(spec)
        filed.pop(spec.id, None)
        filed[spec.id] = spec

    queries = ["parking", "parking fines", "parking -payment", "parking OR fine*"]
    scopes: list[dict[str, frozenset[str]]] = [{}, {"councils": frozenset({CUMBERLAND})}]
    for i in range(80):
        add(alert(i, queries[i % 4], **scopes[i // 4 % 2]))
    docs = [DECISION, NEWS]
    assert matcher.match(docs) == brute_force(filed.values(), docs)
    for round_ in range(40):
        for i in range(round_ % 3, 80, 3):  # most of them out, then back in a new order
            matcher.remove(i)
            filed.pop(i, None)
        assert matcher.match(docs) == brute_force(filed.values(), docs)
        for i in range(79, -1, -1):
            if i not in filed:
                add(alert(i, queries[(i + round_) % 4], **scopes[(i + round_) % 2]))
        assert matcher.alert_ids == list(filed)
    assert len(matcher._plans) < 2 * len(matcher) + 1100  # renumbered on the way
    assert matcher.match(docs) == brute_force(filed.values(), docs)
    for i in range(80):
        matcher.remove(i)
    assert matcher.match(docs) == [] and not matcher._index


def test_the_matcher_keeps_no_spec_or_query_tree_once_an_alert_is_filed() -> None:
    # At 100,000 alerts the specs and their parsed queries were a fifth of the index: it
    # needs only the plans (and a few shared terms) to match, and the keys to forget.
    specs = [
        alert(1, "(parking OR fines) -payment", councils=frozenset({CUMBERLAND})),
        alert(2, "parking", councils=frozenset({CUMBERLAND, NORFOLK})),
        alert(3, '"make a payment" apologise'),
    ]
    kept = [weakref.ref(s) for s in specs] + [weakref.ref(s.query) for s in specs if s.query]
    matcher = Matcher(specs)
    expected = brute_force(specs, [DECISION, NEWS])
    del specs
    gc.collect()
    assert [ref() for ref in kept] == [None] * len(kept)
    assert matcher.match([DECISION, NEWS]) == expected


# --- the index is selective ---------------------------------------------------------------


def test_candidates_come_from_the_index_not_from_every_alert() -> None:
    # 2,000 alerts on words the document lacks, 2,000 on councils it does not name.
    alerts = [alert(f"w{i}", f"zz{i}word") for i in range(2000)]
    alerts += [alert(f"c{i}", councils=frozenset({f"X{i:05d}"})) for i in range(2000)]
    alerts += [
        alert("hit-word", "payment"),
        alert("hit-prefix", "apolog*"),
        alert("hit-council", councils=frozenset({NORFOLK})),
        alert("hit-filter", "-parking", categories=frozenset({"Education"})),
    ]
    matcher = Matcher(alerts)
    tokens = document_tokens(DECISION)
    candidates = matcher.candidates(DECISION, tokens)
    assert len(candidates) == 4
    assert [m.alert_id for m in matcher.match([DECISION])] == [
        "hit-word",
        "hit-prefix",
        "hit-council",
        "hit-filter",
    ]


def test_rarest_required_term_is_the_anchor() -> None:
    cost = key_cost_from_documents([DECISION, NEWS])
    # "council" is in both documents; "tracks" in one: the alert is filed under "tracks".
    matcher = Matcher([alert(1, "council tracks")], key_cost=cost)
    assert matcher.candidates(NEWS, document_tokens(NEWS)) == set()
    assert len(matcher.candidates(DECISION, document_tokens(DECISION))) == 1


def test_filter_only_alerts_are_filed_under_combined_field_keys() -> None:
    upheld_education = alert(1, outcomes=frozenset({"upheld"}), categories=frozenset({"Education"}))
    upheld_housing = alert(2, outcomes=frozenset({"upheld"}), categories=frozenset({"Housing"}))
    # 5 categories x 4 outcomes = 20 combinations: filed under the narrower field alone.
    wide = alert(
        3,
        categories=frozenset({"Education", "Housing", "Planning", "Highways", "Benefits"}),
        outcomes=frozenset({"upheld", "not upheld", "closed", "withdrawn"}),
    )
    matcher = Matcher([upheld_education, upheld_housing, wide])
    tokens = document_tokens(DECISION)
    assert len(matcher.candidates(DECISION, tokens)) == 2  # not the Housing one
    assert len(matcher.candidates(NEWS, document_tokens(NEWS))) == 0
    found = matcher.match([DECISION, NEWS])
    assert [m.alert_id for m in found] == [1, 3]
    assert found == brute_force([upheld_education, upheld_housing, wide], [DECISION, NEWS])


def test_field_values_cannot_forge_filter_keys() -> None:
    spec = alert(1, categories=frozenset({"Education"}), kinds=frozenset({"news"}))
    forged = doc("x", "text", kind="decision", category="Education\x1fkind\x1enews")
    assert Matcher([spec]).match([forged]) == brute_force([spec], [forged]) == []


def test_council_alert_with_a_term_is_filed_under_the_term_within_the_council() -> None:
    # Norfolk is named in every document of the sample; "tracks" in one of three.
    other = doc("o", "Parking in Norwich.", councils=frozenset({NORFOLK}))
    tracks_elsewhere = doc("t", "Tracks in Leeds.", councils=frozenset({"E08000035"}))
    cost = key_cost_from_documents([DECISION, NEWS, other, other])
    spec = alert(1, "tracks", councils=frozenset({NORFOLK}))
    for matcher in (Matcher([spec], key_cost=cost), Matcher([spec])):
        # A candidate needs both the council and the term, with or without statistics.
        assert matcher.candidates(other, document_tokens(other)) == set()
        assert matcher.candidates(tracks_elsewhere, document_tokens(tracks_elsewhere)) == set()
        assert len(matcher.candidates(DECISION, document_tokens(DECISION))) == 1
        found = matcher.match([other, tracks_elsewhere, DECISION, NEWS])
        assert [m.document_id for m in found] == ["24-001-234"]
        assert found == brute_force([spec], [other, tracks_elsewhere, DECISION, NEWS])


def test_kind_alert_with_a_term_is_filed_under_the_term_within_the_kind() -> None:
    spec = alert(1, "tracks", kinds=frozenset({"news"}))
    as_news = doc("n", "Tracks in Leeds.", kind="news")
    as_decision = doc("d", "Tracks in Leeds.", kind="decision")
    matcher = Matcher([spec])
    assert matcher.candidates(as_decision, document_tokens(as_decision)) == set()
    assert [m.document_id for m in matcher.match([as_decision, as_news])] == ["n"]


@pytest.mark.parametrize("enabled", [True, False])
def test_match_leaves_the_garbage_collector_as_it_found_it(enabled: bool) -> None:
    was = gc.isenabled()
    try:
        gc.enable() if enabled else gc.disable()
        Matcher([alert(1, "payment")]).match([DECISION])
        assert gc.isenabled() is enabled
    finally:
        gc.enable() if was else gc.disable()


def test_default_cost_prefers_long_uncommon_words() -> None:
    assert default_key_cost("s:safeguard") < default_key_cost("s:delay")
    assert default_key_cost("s:council") > default_key_cost("s:delay")
    assert default_key_cost("p:safeguard") > default_key_cost("s:safeguard")


def test_long_wildcards_are_anchored_by_a_bounded_prefix_and_checked_exactly() -> None:
    matcher = Matcher([alert(1, "safeguarding*")], prefix_len=4)
    near = doc("n", "The safeguards were adequate.")
    hit = doc("h", "Safeguardings and safeguarding leads.")
    assert len(matcher.candidates(near, document_tokens(near))) == 1  # same first 4 letters
    assert [m.document_id for m in matcher.match([near, hit])] == ["h"]


# --- explanations and snippets ------------------------------------------------------------


def test_match_explains_alert_councils_terms_and_snippet() -> None:
    spec = alert(42, "(payment OR refund) apolog* -parking", councils=frozenset({NORFOLK, LEEDS}))
    (found,) = Matcher([spec]).match([DECISION])
    assert found.councils == (NORFOLK,)
    assert found.terms == ("payment", "apolog*")
    assert found.query == "(payment OR refund) AND apolog* AND NOT parking"
    assert "[apologise]" in found.highlighted()
    assert "[payment]" in found.highlighted()
    assert found.highlighted("<mark>", "</mark>").count("<mark>") == 2
    text = found.explain()
    assert text.splitlines()[0] == "alert 42 matched document 24-001-234"
    assert f"councils: {NORFOLK}" in text
    assert "terms found: payment, apolog*" in text
    assert "snippet: " in text and "[payment]" in text


def test_snippet_spans_are_segments_with_highlights_and_collapsed_whitespace() -> None:
    (found,) = Matcher([alert(1, '"annual reviews" OR distress')]).match([DECISION])
    spans = found.snippet_spans
    assert [text for text, hit in spans if hit] == ["distress", "annual reviews"]
    assert found.snippet == "".join(text for text, _ in spans)
    # The line break between the two sentences became one space.
    assert "distress caused. It will also review how it tracks annual reviews" in found.snippet


def test_snippet_without_terms_starts_the_text_after_the_title() -> None:
    (found,) = Matcher([alert(1, councils=frozenset({NORFOLK}))]).match([DECISION])
    assert found.terms == ()
    assert found.snippet.startswith("Mr C complained")
    assert not any(hit for _, hit in found.snippet_spans)
    assert "councils: " + NORFOLK in found.explain()


def test_snippet_window_goes_where_the_terms_are_densest() -> None:
    filler = "The officer wrote a letter. " * 40
    body = filler + "The adoption panel delayed the adoption order. " + filler
    spans = snippet_spans(document_tokens(doc("d", body)), parse_query("adoption").terms())
    assert [t for t, hit in spans if hit] == ["adoption", "adoption"]
    assert spans[0] == ("… ", False)
    assert spans[-1] == (" …", False)


def test_snippet_keeps_a_phrase_whole_at_the_window_edge() -> None:
    body = " ".join(["word"] * 5) + " care order " + " ".join(["word"] * 5)
    spans = snippet_spans(document_tokens(doc("d", body)), parse_query('"care order"').terms(), 6)
    assert [t for t, hit in spans if hit] == ["care order"]


def test_not_only_alert_explains_itself() -> None:
    (found,) = Matcher([alert(1, "-parking", kinds=frozenset({"decision"}))]).match([DECISION])
    assert found.terms == ()
    assert "terms found: none (matched by NOT terms alone)" in found.explain()


def test_snippets_are_shared_between_alerts_with_the_same_terms() -> None:
    found = Matcher([alert(1, "payment"), alert(2, "payments council")]).match([DECISION])
    assert found[0].snippet_spans != found[1].snippet_spans  # different terms highlighted
    again = Matcher([alert(1, "payment"), alert(2, "payment")]).match([DECISION])
    assert again[0].snippet_spans is again[1].snippet_spans


# --- property: the matcher equals brute force ----------------------------------------------

WORDS = ["payment", "payments", "paid", "adoption", "adopted", "care", "order", "delay", "fine"]
COUNCILS = ["A", "B", "C", "D"]
KINDS = ["decision", "news"]
OUTCOMES = ["upheld", "not upheld"]
CATEGORIES = ["Education", "Housing"]
SOURCES = ["lgsco", "paper"]

leaf = st.one_of(
    st.sampled_from(WORDS),
    st.sampled_from(["pa*", "pay*", "adopt*", "ord*", "adoptio*"]),
    st.lists(st.sampled_from(WORDS), min_size=1, max_size=3).map(lambda ws: f'"{" ".join(ws)}"'),
)
query_text = st.recursive(
    leaf,
    lambda inner: st.one_of(
        inner.map(lambda x: f"-({x})"),
        st.lists(inner, min_size=2, max_size=3).map(lambda xs: " ".join(f"({x})" for x in xs)),
        st.lists(inner, min_size=2, max_size=3).map(lambda xs: " OR ".join(f"({x})" for x in xs)),
    ),
    max_leaves=5,
)


def subset(items: list[str]) -> st.SearchStrategy[frozenset[str]]:
    # Mostly "any", sometimes a filter: as in real subscriptions.
    return st.one_of(st.just(frozenset()), st.frozensets(st.sampled_from(items), max_size=2))


@st.composite
def alert_lists(draw: st.DrawFn) -> list[AlertSpec]:
    n = draw(st.integers(0, 12))
    return [
        AlertSpec(
            i,
            councils=draw(subset(COUNCILS)),
            query=draw(st.none() | query_text.map(lambda t: parse_query(t, allow_only_not=True))),
            kinds=draw(subset(KINDS)),
            outcomes=draw(subset(OUTCOMES)),
            categories=draw(subset(CATEGORIES)),
            sources=draw(subset(SOURCES)),
        )
        for i in range(n)
    ]


@st.composite
def doc_lists(draw: st.DrawFn) -> list[MatchDocument]:
    n = draw(st.integers(0, 5))
    text = st.lists(st.sampled_from([*WORDS, "the", "council", "Adoptions", "PAY"]), max_size=15)
    return [
        MatchDocument(
            f"d{i}",
            draw(st.sampled_from(KINDS)),
            draw(st.sampled_from(SOURCES)),
            " ".join(draw(text)),
            " ".join(draw(text)),
            draw(st.frozensets(st.sampled_from(COUNCILS), max_size=len(COUNCILS))),
            draw(st.none() | st.sampled_from(OUTCOMES)),
            draw(st.none() | st.sampled_from(CATEGORIES)),
        )
        for i in range(n)
    ]


class Filed:
    """The alerts a matcher holds, in its reporting order (it keeps no specs itself): an
    alert added again moves to the end."""

    def __init__(self, alerts: Iterable[AlertSpec] = ()) -> None:
        self.specs: dict[str | int, AlertSpec] = {}
        for spec in alerts:
            self.add(spec)

    def add(self, spec: AlertSpec) -> None:
        self.specs.pop(spec.id, None)
        self.specs[spec.id] = spec

    def remove(self, alert_id: str | int) -> None:
        self.specs.pop(alert_id, None)


@settings(max_examples=120, deadline=None)
@given(
    first=alert_lists(),
    then=alert_lists(),
    docs=doc_lists(),
    drop=st.sets(st.integers(0, 11)),
    prefix_len=st.integers(2, 6),
)
def test_alerts_changed_between_batches_match_like_brute_force(
    first: list[AlertSpec],
    then: list[AlertSpec],
    docs: list[MatchDocument],
    drop: set[int],
    prefix_len: int,
) -> None:
    # The word cache is warm from the first batch; alerts are then removed, replaced
    # (same id, new spec) and added, and only the entries they change may be forgotten.
    matcher, filed = Matcher(first, prefix_len=prefix_len), Filed(first)
    assert matcher.match(docs) == brute_force(first, docs)
    for alert_id in drop:
        matcher.remove(alert_id)
        filed.remove(alert_id)
    for spec in then:
        changed = replace(spec, id=spec.id if spec.id % 2 else f"new-{spec.id}")
        matcher.add(changed)
        filed.add(changed)
    assert matcher.alert_ids == list(filed.specs)
    assert matcher.match(docs) == brute_force(filed.specs.values(), docs)


@settings(max_examples=120, deadline=None)
@given(alerts=alert_lists(), docs=doc_lists(), prefix_len=st.integers(2, 6))
def test_matcher_equals_brute_force(
    alerts: list[AlertSpec], docs: list[MatchDocument], prefix_len: int
) -> None:
    expected = brute_force(alerts, docs)
    matcher = Matcher(alerts, prefix_len=prefix_len)
    found = matcher.match(docs)
    assert found == expected
    assert matcher.match(docs) == expected  # again, from the word cache
    assert [m.snippet_spans for m in found] == [m.snippet_spans for m in expected]
    learned = key_cost_from_documents(docs, prefix_len)
    assert Matcher(alerts, key_cost=learned, prefix_len=prefix_len).match(docs) == expected


@settings(max_examples=60, deadline=None)
@given(
    alerts=alert_lists(),
    more=alert_lists(),
    docs=doc_lists(),
    drop=st.lists(st.integers(0, 12), max_size=6),
)
def test_matcher_after_adds_and_removes_equals_brute_force(
    alerts: list[AlertSpec], more: list[AlertSpec], docs: list[MatchDocument], drop: list[int]
) -> None:
    matcher, filed = Matcher(alerts), Filed(alerts)
    for ident in drop:
        matcher.remove(ident)
        filed.remove(ident)
    for spec in more[::2]:  # same ids as some earlier alerts: replacements
        matcher.add(spec)
        filed.add(spec)
    assert matcher.alert_ids == list(filed.specs)
    assert matcher.match(docs) == brute_force(filed.specs.values(), docs)


@settings(max_examples=60, deadline=None)
@given(alerts=alert_lists(), docs=doc_lists())
def test_every_match_is_explained_by_its_terms_and_councils(
    alerts: list[AlertSpec], docs: list[MatchDocument]
) -> None:
    by_id = {a.id: a for a in alerts}
    by_doc = {d.id: d for d in docs}
    for m in Matcher(alerts).match(docs):
        spec, found = by_id[m.alert_id], by_doc[m.document_id]
        assert set(m.councils) == (spec.councils & found.councils if spec.councils else set())
        tokens = document_tokens(found)
        for term in spec.query.terms() if spec.query else ():
            assert (str(term) in m.terms) is term.matches(tokens)
        highlighted = {t.casefold() for t, hit in m.snippet_spans if hit}
        assert all(h.strip() for h in highlighted)
        assert isinstance(m, Match)


# --- fast paths agree with the general one -----------------------------------------------


def test_matches_from_the_index_equal_and_hash_like_plain_matches() -> None:
    spec = alert("a1", "payment OR parking", councils=frozenset({NORFOLK, LEEDS}))
    [fast] = Matcher([spec]).match([DECISION])
    plain = Match.create("a1", DECISION.id, (NORFOLK,), ("payment",), "payment OR parking")
    assert fast == plain and hash(fast) == hash(plain)
    assert {fast, plain} == {plain}
    assert repr(fast) == repr(plain)
    assert fast != Match.create("a1", DECISION.id, (NORFOLK,), ("parking",), "payment OR parking")
    assert fast.found and fast.snippet and not plain.snippet  # found terms cut the snippet


def test_a_query_with_many_terms_reports_those_present() -> None:
    words = ["apologise", "payment", "tracks", "distress", "reviews", "plan", "zebra"]
    spec = alert("many", " OR ".join(words))
    [m] = Matcher([spec]).match([DECISION])
    assert m.terms == ("apologise", "payment", "tracks", "distress", "reviews", "plan")
    assert Matcher([spec]).match([DECISION, NEWS]) == brute_force([spec], [DECISION, NEWS])


@pytest.mark.parametrize(
    "query",
    [
        '"annual reviews" OR parking',  # a phrase among words
        '"annual reviews" -parking',
        '"reviews how" OR "make a payment"',
        "tracks apologis*",  # a wildcard longer than its index key, in a conjunction
        "apologis* OR fines",
        "council-tax OR payment",  # a phrase of stems
        "NOT parking AND (distress OR zebra)",
    ],
)
def test_phrases_and_wildcards_in_compiled_checks_agree_with_brute_force(query: str) -> None:
    docs = [DECISION, NEWS, doc("x", "Reviews how the annual parking fines are set.")]
    specs = [
        alert(1, query),
        alert(2, query, councils=frozenset({NORFOLK})),
        alert(3, query, kinds=frozenset({"decision"})),
        alert(4, query, councils=frozenset({NORFOLK, CUMBERLAND}), kinds=frozenset({"news"})),
        alert(5, query, categories=frozenset({"Education"})),
    ]
    for prefix_len in (3, 6):
        found = Matcher(specs, prefix_len=prefix_len).match(docs)
        expected = brute_force(specs, docs)
        assert found == expected
        assert [m.found for m in found] == [m.found for m in expected]


# --- the word cache ----------------------------------------------------------------------


@pytest.mark.parametrize("budget", [64, 0])  # entries forgotten one by one, or all at once
def test_alerts_added_or_removed_after_matching_are_seen_by_the_next_batch(
    budget: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    import alerts.matcher as matcher_module

    monkeypatch.setattr(matcher_module, "_MAX_FORGET_KEYS", budget)
    matcher = Matcher([alert(1, "payment")])
    assert [m.alert_id for m in matcher.match([DECISION])] == [1]  # the word cache is warm
    matcher.add(alert(2, "payments OR zebra"))
    matcher.add(alert(3, "pay*"))
    assert [m.alert_id for m in matcher.match([DECISION])] == [1, 2, 3]
    matcher.remove(1)
    matcher.add(alert(2, "zebra"))  # replaced: its old words no longer find it
    assert [m.alert_id for m in matcher.match([DECISION])] == [3]


def test_many_alerts_filed_between_batches_leave_the_other_words_cached() -> None:
    # A pipeline cycle files a few hundred changed alerts between batches: the words they
    # do not name keep their entries (the cache used to start afresh past 64 keys, so the
    # next batch was a cold one), and the words they name are looked up again.
    matcher = Matcher([alert(1, "payment"), alert(2, "reviews", kinds=frozenset({"decision"}))])
    assert [m.alert_id for m in matcher.match([DECISION])] == [1, 2]
    cache = matcher._words["decision"]
    kept = cache["payment"]
    for i in range(200):
        matcher.add(alert(100 + i, f"zebra{i} OR quagga{i}*"))
    matcher.add(alert(3, "delays OR distress*"))  # a stem and a prefix of the document's words
    matcher.add(alert(4, "tracks", kinds=frozenset({"decision"})))
    matcher.remove(2)
    assert [m.alert_id for m in matcher.match([DECISION])] == [1, 3, 4]
    assert matcher._words["decision"]["payment"] is kept
    specs = [alert(1, "payment"), alert(3, "delays OR distress*")]
    specs.append(alert(4, "tracks", kinds=frozenset({"decision"})))
    assert matcher.match([DECISION, NEWS]) == brute_force(specs, [DECISION, NEWS])


def test_a_new_word_hit_in_several_indexes_finds_every_alert_filed_under_it() -> None:
    # "payment" is one word of the document, filed under by stem, as the exact word, in
    # the decisions' own index and as a prefix: its (cold) cache entry must union them
    # all; a word hit in one index only takes that index's bucket as it is.
    alerts = [
        alert(1, "payments"),
        alert(2, '"payment"'),
        alert(3, "payment", kinds=frozenset({"decision"})),
        alert(4, '"payment"', kinds=frozenset({"decision"})),
        alert(5, "paym*"),
        alert(6, "distress"),
        alert(7, "distress", kinds=frozenset({"news"})),
    ]
    for survivors in (alerts, alerts[1:], alerts[2:], alerts[:2] + alerts[5:]):
        expected = brute_force(survivors, [DECISION, NEWS])
        assert {m.alert_id for m in expected} >= {a.id for a in survivors} - {7}
        matcher = Matcher(survivors)
        assert matcher.match([DECISION, NEWS]) == expected  # cold
        assert matcher.match([DECISION, NEWS]) == expected  # from the word cache


def test_the_word_cache_starts_afresh_when_full(monkeypatch: pytest.MonkeyPatch) -> None:
    import alerts.matcher as matcher_module

    monkeypatch.setattr(matcher_module, "_WORD_CACHE_SIZE", 40)
    alerts = [alert(1, "payment"), alert(2, "apologise OR reviews", kinds=frozenset({"news"}))]
    matcher = Matcher(alerts)
    expected = brute_force(alerts, [DECISION, NEWS])
    for _ in range(3):
        assert matcher.match([DECISION, NEWS]) == expected
        assert sum(map(len, matcher._words.values())) <= 40 + len(document_tokens(NEWS).word_set)


def test_alerts_on_several_councils_name_those_the_document_names() -> None:
    names = ["c1", "c2", "c3", "c4", "c5", "c6"]
    alerts = [
        alert(i, councils=frozenset(names[i % 6 : i % 6 + size]))
        for i, size in enumerate([2, 3, 6, 2, 4, 1, 5, 2])
    ]
    alerts.append(alert("kw", "payment", councils=frozenset(names[:3])))
    docs = [  # one to six councils: up to four are grouped with set operations
        doc(f"d{n}", "A payment.", councils=frozenset(names[:n])) for n in range(1, 7)
    ]
    found = Matcher(alerts).match(docs)
    assert found == brute_force(alerts, docs)
    by_pair = {(m.alert_id, m.document_id): m.councils for m in found}
    assert by_pair[(0, "d2")] == ("c1", "c2") and (2, "d2") not in by_pair
    assert by_pair[(2, "d4")] == ("c3", "c4") and by_pair[(2, "d6")] == ("c3", "c4", "c5", "c6")
    assert by_pair[("kw", "d5")] == ("c1", "c2", "c3")


# --- the service's path: which alerts matched, no Match built -----------------------------


def _live_matches() -> int:
    gc.collect()
    return sum(1 for o in gc.get_objects() if isinstance(o, Match))


def test_matched_reports_each_documents_alert_ids_and_builds_no_match() -> None:
    # Proven alerts (a word, an OR of words, councils only, one filter) and checked ones
    # (a phrase, a NOT, two words, a long wildcard): the batch holds ids, not Matches.
    specs = [
        alert(1, "payment"),
        alert(2, "payment OR parking"),
        alert(3, councils=frozenset({NORFOLK})),
        alert(4, councils=frozenset({NORFOLK, CUMBERLAND})),
        alert(5, outcomes=frozenset({"upheld"})),
        alert(6, '"make a payment"'),
        alert(7, "parking -payment"),
        alert(8, "apologise review"),
        alert(9, "apologis*"),
        alert(10, "adoption"),
    ]
    matcher = Matcher(specs)
    docs = [DECISION, NEWS]
    before = _live_matches()
    batch = matcher.matched(docs)
    assert _live_matches() == before
    expected = brute_force(specs, docs)
    assert batch.by_document() == [
        (d.id, [m.alert_id for m in expected if m.document_id == d.id]) for d in docs
    ]
    assert batch.by_document() == [(DECISION.id, [1, 2, 3, 4, 5, 6, 8, 9]), (NEWS.id, [2, 4, 7])]
    assert batch.alert_ids() == {1, 2, 3, 4, 5, 6, 7, 8, 9} and len(batch) == 11
    assert list(batch) == expected  # iterated: the Matches match() lists


def test_a_batch_builds_no_matches_once_the_matcher_has_changed() -> None:
    # Its slots name plans of the matcher as it was: another alert's plan may be there now.
    matcher = Matcher([alert(1, "payment"), alert(2, "parking")])
    batch = matcher.matched([DECISION, NEWS])
    matcher.remove(1)
    assert batch.by_document() == [(DECISION.id, [1]), (NEWS.id, [2])]  # the ids are kept
    with pytest.raises(RuntimeError, match="changed"):
        list(batch)


@settings(max_examples=120, deadline=None)
@given(
    alerts=alert_lists(),
    more=alert_lists(),
    docs=doc_lists(),
    drop=st.lists(st.integers(0, 12), max_size=6),
)
def test_matched_ids_equal_brute_force_after_adds_and_removes(
    alerts: list[AlertSpec], more: list[AlertSpec], docs: list[MatchDocument], drop: list[int]
) -> None:
    matcher, filed = Matcher(alerts), Filed(alerts)
    matcher.matched(docs)  # the word cache warm, then changed
    for ident in drop:
        matcher.remove(ident)
        filed.remove(ident)
    for spec in more[::2]:
        matcher.add(spec)
        filed.add(spec)
    expected = brute_force(filed.specs.values(), docs)
    batch = matcher.matched(docs)
    assert batch.by_document() == [
        (d.id, [m.alert_id for m in expected if m.document_id == d.id]) for d in docs
    ]
    assert list(batch) == expected
