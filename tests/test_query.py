"""The alert query language: tokens, stems, parsing, errors and evaluation."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alerts.query import DocTokens, Query, parse_query
from alerts.stem import stem, tokenize, words
from cwerrors import AlertsError, QueryError

# --- tokens and stems --------------------------------------------------------------------------


def test_tokenize_lowercases_and_keeps_spans() -> None:
    text = "Mrs B told CUMBRIA County Council"
    tokens = tokenize(text)
    assert [t.text for t in tokens] == ["mrs", "b", "told", "cumbria", "county", "council"]
    assert [text[t.start : t.end] for t in tokens][3] == "CUMBRIA"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("the council's decision", ["the", "council", "decision"]),
        ("the Council’s decision", ["the", "council", "decision"]),  # curly apostrophe
        ("King's Lynn", ["king", "lynn"]),
        ("councils' budgets", ["councils", "budgets"]),
        ("she didn't reply", ["she", "didnt", "reply"]),
        ("council-tax arrears", ["council", "tax", "arrears"]),
        ("£1,250 paid on 3/4/2024", ["1", "250", "paid", "on", "3", "4", "2024"]),
        ("Brighton & Hove", ["brighton", "hove"]),
        ("snake_case", ["snake", "case"]),
        ("Ynys Môn café", ["ynys", "môn", "café"]),
    ],
)
def test_tokenize_words(text: str, expected: list[str]) -> None:
    assert words(text) == expected


@settings(max_examples=200, deadline=None)
@given(text=st.text(alphabet=st.sampled_from("aZß İΣς'’ -_9é\n.\x00"), max_size=30))
def test_fast_word_list_equals_the_tokens(text: str) -> None:
    # Matching uses words(); snippets use tokenize(): positions must line up.
    assert words(text) == [t.text for t in tokenize(text)]


@settings(max_examples=200, deadline=None)
@given(text=st.text(alphabet=st.sampled_from("aZq09'' -_.,\n\t\x00&"), max_size=40))
def test_ascii_word_list_equals_the_tokens(text: str) -> None:
    # Plain ASCII takes words()'s own fast path (one findall on the lower-cased text).
    assert words(text) == [t.text for t in tokenize(text)]


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        # Published Porter2 examples and plain English inflections.
        ("consign", "consign"),
        ("consigned", "consign"),
        ("consigning", "consign"),
        ("consignment", "consign"),
        ("generously", "generous"),
        ("running", "run"),
        ("hopped", "hop"),
        ("caresses", "caress"),
        ("cries", "cri"),
        ("ties", "tie"),
        ("gas", "gas"),
        ("gaps", "gap"),
        ("kiwis", "kiwi"),
        ("agreed", "agre"),
        ("feed", "feed"),
        ("happy", "happi"),
        ("skies", "sky"),
        ("news", "news"),
        ("succeeding", "succeed"),
        ("generation", "generat"),
        ("vietnamization", "vietnam"),
        # The vocabulary alerts are written in.
        ("payments", "payment"),
        ("payment", "payment"),
        ("paid", "paid"),
        ("councils", "council"),
        ("complaints", "complaint"),
        ("decisions", "decis"),
        ("adoption", "adopt"),
        ("adopted", "adopt"),
        ("remedies", "remedi"),
        ("remedy", "remedi"),
        ("fostering", "foster"),
        ("2024", "2024"),
        ("2fa", "2fa"),  # words with digits are kept whole
        # Snowball 3's English (PyStemmer 3.x) no longer conflates these, as Porter2 did:
        ("added", "add"),
        ("university", "universiti"),
        ("universal", "universal"),
        ("organization", "organiz"),
        ("organ", "organ"),
        ("international", "internat"),
        ("intern", "intern"),
        ("emergency", "emergenc"),
        ("evening", "evening"),
    ],
)
def test_stem(word: str, expected: str) -> None:
    assert stem(word) == expected


# --- parsing and normal form -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "normal"),
    [
        ("payments", "payments"),
        ("Payments", "payments"),
        ("adoption delay", "adoption AND delay"),
        ("adoption AND delay", "adoption AND delay"),
        ("a b OR c", "a AND b OR c"),
        ("a OR b c", "a OR b AND c"),
        ("(a OR b) c", "(a OR b) AND c"),
        ("a -b", "a AND NOT b"),
        ("a NOT b OR c", "a AND NOT b OR c"),
        ("a NOT (b OR c)", "a AND NOT (b OR c)"),
        ('"Care Order" adopt*', '"care order" AND adopt*'),
        ("“care order”", '"care order"'),
        ("council-tax", "council-tax"),
        ("council-ta*", "council-ta*"),
        ("a AND (b AND (c AND d))", "a AND b AND c AND d"),
        ("((a))", "a"),
        ("council's", "council"),
        ("Brighton & Hove", "brighton AND hove"),
        ("and or not", "and AND or AND not"),  # lower-case operators are words
        ("a - b", "a AND b"),  # a dash on its own is punctuation, not NOT
        ("a NOT NOT b", "a AND NOT NOT b"),
    ],
)
def test_normal_form(text: str, normal: str) -> None:
    query = parse_query(text)
    assert str(query) == normal
    assert parse_query(normal) == query  # the normal form parses back to the same tree


def test_equal_queries_compare_equal_whatever_their_spelling() -> None:
    assert parse_query("a  b") == parse_query("a AND b") == parse_query("(a) (b)")
    assert parse_query("a b") != parse_query("a OR b")
    assert parse_query("paid") != parse_query('"paid"')


@pytest.mark.parametrize(
    ("text", "message", "position"),
    [
        ("", "empty query", 0),
        ("   ", "empty query", 0),
        ("(adopt OR care", "expected ')' at position 14", 14),
        ("a (b OR (c d)", "expected ')' at position 13", 13),
        ('ab "cd', "unterminated quote starting at position 3", 3),
        ("“care order", "unterminated quote starting at position 0", 0),
        ("a AND NOT", "expected a term after NOT at position 9", 9),
        ("a NOT OR b", "expected a term after NOT at position 6", 6),
        ("a AND", "expected a term after AND at position 5", 5),
        ("a OR OR b", "expected a term after OR at position 5", 5),
        ("a OR", "expected a term after OR at position 4", 4),
        ("OR a", "expected a term before OR at position 0", 0),
        ("AND a", "expected a term before AND at position 0", 0),
        ("a (AND b)", "expected a term after '(' at position 3", 3),
        ("x ()", "expected a term after '(' at position 3", 3),
        ("a) b", "unexpected ')' at position 1: no '(' to close", 1),
        ("a*", "expected at least 2 letters before '*' at position 1", 1),
        ("*", "expected a word before '*' at position 0", 0),
        ('"care" *', "expected a word before '*' at position 7", 7),
        ("ad*pt", "'*' is allowed only at the end of a word at position 2", 2),
        ('a ""', "expected words inside the quotes starting at position 2", 2),
        ("& ;", "expected a word at position 0: the query has only punctuation", 0),
        ("-(a", "expected ')' at position 3", 3),
    ],
)
def test_errors_name_position_and_expectation(text: str, message: str, position: int) -> None:
    with pytest.raises(QueryError) as info:
        parse_query(text)
    assert str(info.value) == message
    assert info.value.position == position
    assert isinstance(info.value, AlertsError)


@pytest.mark.parametrize(
    ("text", "position", "why"),
    [
        ("NOT parking", 0, "made only of NOT terms"),
        ("-parking -fines", 0, "made only of NOT terms"),
        ("adoption OR -parking", 12, "can match on NOT terms alone"),
        ("(NOT a) OR (b c)", 1, "can match on NOT terms alone"),
    ],
)
def test_only_not_queries_are_refused(text: str, position: int, why: str) -> None:
    with pytest.raises(QueryError) as info:
        parse_query(text)
    assert info.value.position == position
    assert why in str(info.value)
    assert "would match almost every document" in str(info.value)


def test_only_not_queries_allowed_on_request() -> None:
    query = parse_query("-parking", allow_only_not=True)
    assert query.matches("adoption delay")
    assert not query.matches("parking fines")
    assert query.matches_empty()


# --- evaluation ------------------------------------------------------------------------------

DOC = (
    "Mrs B complained that the Council's delays in the adoption of her grandson caused "
    "distress. The Council agreed to make payments of £350 and to review its Care Order "
    "process.\n\nThe Ombudsman found fault."
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("payment", True),  # stem of a plural in the text
        ("payments", True),
        ("paid", False),  # stemming, not lemmatising
        ('"payment"', False),  # quotes are exact
        ('"payments"', True),
        ("PAYMENTS", True),
        ("delay", True),
        ("council", True),  # possessive in the text
        ("adopt*", True),
        ("adopti*", True),
        ("adoptiv*", False),
        ('"care order"', True),
        ('"order care"', False),  # phrase order matters
        ('"care process"', False),  # consecutive words only
        ('"care order process"', True),
        ('"found fault"', True),  # across a paragraph break: still consecutive words
        ("care-orders", True),  # a hyphenated word is a phrase of stems
        ("care-process", False),
        ("complained grandson", True),
        ("complained parking", False),
        ("parking OR grandson", True),
        ("adoption -parking", True),
        ("adoption -distress", False),
        ("adoption NOT (parking OR fines)", True),
        ("adoption NOT (parking OR distress)", False),
        # precedence: NOT > AND > OR
        ("parking payments OR grandson", True),  # (parking AND payments) OR grandson
        ("parking (payments OR grandson)", False),
        ("NOT parking grandson", True),  # (NOT parking) AND grandson
        ("NOT (parking grandson)", True),
        ("NOT (payments grandson)", False),
        ("grandson OR parking -adoption", True),  # grandson OR (parking AND NOT adoption)
        ("(grandson OR parking) -adoption", False),
    ],
)
def test_evaluation(text: str, expected: bool) -> None:
    assert parse_query(text, allow_only_not=True).matches(DOC) is expected


def test_phrases_do_not_span_document_fields() -> None:
    doc = DocTokens("Delay in adoption", "Care order review")
    assert parse_query('"adoption care"').matches(doc) is False
    assert parse_query("adoption care").matches(doc) is True
    assert parse_query('"adoption care"').matches("Delay in adoption Care order review")


def test_terms_and_matched_terms_skip_negated_terms() -> None:
    query = parse_query('(adopt* OR "care order" OR fostering) -parking payments')
    assert [str(t) for t in query.terms()] == ["adopt*", '"care order"', "fostering", "payments"]
    assert [str(t) for t in query.matched_terms(DOC)] == ["adopt*", '"care order"', "payments"]
    assert [str(t) for t in query.required_terms()] == ["payments"]


def _cost(key: str) -> float:
    # Made-up document frequencies: "council" everywhere, "adoption" rare.
    return {"council": 0.9, "adopt": 0.01, "payment": 0.2}.get(stem(key[2:]), 0.5)


@pytest.mark.parametrize(
    ("text", "anchors"),
    [
        ("council adoption", {"s:adopt"}),  # the rarest required term
        ("council payments", {"s:payment"}),
        ("council (adoption OR payments)", {"s:adopt", "s:payment"}),  # cheaper than council
        ("adoption OR payments", {"s:adopt", "s:payment"}),
        ('"council adoption"', {"w:adoption"}),
        ("council-adoption", {"s:adopt"}),
        ("adopt*", {"p:adopt"}),
        ("adoptions*", {"p:adopti"}),  # cut to the bounded prefix length
        ("NOT NOT adoption", {"s:adopt"}),
        ("council -adoption", {"s:council"}),
    ],
)
def test_anchors(text: str, anchors: set[str]) -> None:
    assert parse_query(text).anchors(_cost) == anchors


@pytest.mark.parametrize("text", ["-adoption", "adoption OR -council", "NOT (a b)"])
def test_negative_queries_have_no_anchor(text: str) -> None:
    assert parse_query(text, allow_only_not=True).anchors(_cost) is None


# --- properties: generated queries against an independent reference evaluator ----------------

VOCAB = ["payment", "payments", "paid", "adoption", "adopted", "care", "order", "orders", "delay"]


@dataclass(frozen=True)
class Ref:
    """A test-side query tree, rendered to text and evaluated without the parser."""

    op: str  # word, exact, prefix, phrase, not, and, or
    args: tuple[object, ...]

    def render(self) -> str:
        if self.op in ("word", "prefix"):
            return str(self.args[0]) + ("*" if self.op == "prefix" else "")
        if self.op in ("exact", "phrase"):
            return '"' + " ".join(str(a) for a in self.args) + '"'
        kids = [a for a in self.args if isinstance(a, Ref)]
        if self.op == "not":
            inner = kids[0].render()
            return f"NOT ({inner})" if kids[0].op in ("and", "or") else f"-{inner}"
        if self.op == "and":  # only OR children need parentheses: AND binds tighter
            return " ".join(f"({k.render()})" if k.op == "or" else k.render() for k in kids)
        return " OR ".join(k.render() for k in kids)

    def holds(self, toks: list[str]) -> bool:
        kids = [a for a in self.args if isinstance(a, Ref)]
        if self.op == "word":
            return any(stem(t) == stem(str(self.args[0])) for t in toks)
        if self.op == "prefix":
            return any(t.startswith(str(self.args[0])) for t in toks)
        if self.op in ("exact", "phrase"):
            n = len(self.args)
            return any(toks[i : i + n] == list(self.args) for i in range(len(toks)))
        if self.op == "not":
            return not kids[0].holds(toks)
        if self.op == "and":
            return all(k.holds(toks) for k in kids)
        return any(k.holds(toks) for k in kids)


leaves = st.one_of(
    st.builds(lambda w: Ref("word", (w,)), st.sampled_from(VOCAB)),
    st.builds(lambda w: Ref("prefix", (w,)), st.sampled_from(["pa", "pay", "adopt", "ord"])),
    st.builds(
        lambda ws: Ref("phrase", tuple(ws)),
        st.lists(st.sampled_from(VOCAB), min_size=1, max_size=3),
    ),
)
refs = st.recursive(
    leaves,
    lambda inner: st.one_of(
        st.builds(lambda x: Ref("not", (x,)), inner),
        st.builds(lambda xs: Ref("and", tuple(xs)), st.lists(inner, min_size=2, max_size=3)),
        st.builds(lambda xs: Ref("or", tuple(xs)), st.lists(inner, min_size=2, max_size=3)),
    ),
    max_leaves=6,
)
docs = st.lists(st.sampled_from([*VOCAB, "parking", "fines"]), max_size=12)


@settings(max_examples=300, deadline=None)
@given(ref=refs, toks=docs)
def test_parser_and_evaluator_agree_with_reference(ref: Ref, toks: list[str]) -> None:
    query = parse_query(ref.render(), allow_only_not=True)
    assert query.matches(" ".join(toks)) is ref.holds(toks)


@settings(max_examples=300, deadline=None)
@given(ref=refs, toks=docs)
def test_normal_form_round_trips(ref: Ref, toks: list[str]) -> None:
    query = parse_query(ref.render(), allow_only_not=True)
    again = parse_query(str(query), allow_only_not=True)
    assert again == query
    assert str(again) == str(query)
    assert again.matches(" ".join(toks)) is query.matches(" ".join(toks))


@settings(max_examples=200, deadline=None)
@given(text=st.text(alphabet='ab -()"*ANDORT', max_size=20))
def test_any_text_parses_or_raises_query_error(text: str) -> None:
    try:
        query = parse_query(text)
    except QueryError as err:
        assert 0 <= err.position <= len(text)
        assert str(err)
    else:
        assert isinstance(query, Query)
        assert not query.matches_empty()


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.lists(st.sampled_from(["care", "carer", "cared", "car", "plan", "planning",
                                       "a", "careless", "scare"]), max_size=30), min_size=1,
             max_size=3),
    st.sampled_from(["car*", "care*", "plan*", "sca*", "caree*", '"care* plan"', '"car* plan*"']),
)
def test_wildcard_occurrences_are_every_token_with_the_prefix(
    fields: list[list[str]], query_text: str
) -> None:
    # Found through the sorted distinct words: the same token ranges, in order, as testing
    # every token of the text, across fields (no phrase spans two of them).
    doc = DocTokens(*(" ".join(f) for f in fields))
    (term,) = list(parse_query(query_text).root.positive_terms())
    prefixes = [(a.text, a.mode) for a in term.atoms]
    n = len(prefixes)
    expected = [
        (i, i + n)
        for i in range(len(doc.words) - n + 1)
        if all(
            doc.words[i + k].startswith(text) if mode == "prefix" else doc.words[i + k] == text
            for k, (text, mode) in enumerate(prefixes)
        )
        and "" not in doc.words[i : i + n]
    ]
    assert term.occurrences(doc) == expected
