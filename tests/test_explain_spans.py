"""Snippets and excerpts cut the cheaper way give what the former way gave: a match's
snippet from its window's words alone (alerts/explain.py) is the snippet cut from every
token of the text with its span (texts of titles, apostrophes, curly quotes, accents, line
breaks, empty fields); an excerpt's terms found without a pattern (ASCII) are where the
pattern finds them (councilwatch/digest_text.py)."""

from __future__ import annotations

from collections.abc import Sequence

from hypothesis import given, settings
from hypothesis import strategies as st

from alerts.explain import _merge, _squash, snippet_spans, text_spans
from alerts.query import DocTokens, Term, parse_query
from alerts.stem import tokenize, word_spans


def reference_spans(
    tokens: DocTokens, terms: Sequence[Term], words: int = 30
) -> tuple[tuple[str, bool], ...]:
    """snippet_spans as written before (every Token of the text, with its span)."""
    toks = tokens.tokens
    if not toks:
        return ()
    hits = _merge([r for t in terms for r in t.occurrences(tokens)])
    if hits:
        best, best_count, j = hits[0][0], 0, 0
        for i, (start, _) in enumerate(hits):
            while j < len(hits) and hits[j][0] < start + words:
                j += 1
            if j - i > best_count:
                best, best_count = start, j - i
        first = max(0, best - words // 5)
    else:
        first = next((i + 1 for i, t in enumerate(toks) if t.text == ""), 0)
        if first >= len(toks):
            first = 0
    last = min(len(toks), first + words)
    last = max([last] + [end for start, end in hits if first <= start < last])
    while first < last and toks[first].text == "":
        first += 1
    while last > first and toks[last - 1].text == "":
        last -= 1
    if first >= last:
        return ()
    text = tokens.text
    spans: list[tuple[str, bool]] = []
    if first > 0 and toks[first - 1].text != "":
        spans.append(("… ", False))
    cursor = toks[first].start
    for start, end in hits:
        if start < first or end > last:
            continue
        lo, hi = toks[start].start, toks[end - 1].end
        if lo > cursor:
            spans.append((_squash(text[cursor:lo]), False))
        spans.append((_squash(text[lo:hi]), True))
        cursor = hi
    tail = toks[last - 1].end
    if tail > cursor:
        spans.append((_squash(text[cursor:tail]), False))
    if last < len(toks):
        spans.append((" …", False))
    return tuple(spans)


WORDS = ["parking", "Parking", "council's", "don't", "O’Brien", "café", "fees", "2024", "x"]
piece = st.one_of(st.sampled_from(WORDS), st.text(alphabet="ab é'’-.\n", max_size=6))
field = st.lists(piece, max_size=60).map(" ".join)
QUERIES = ["parking", '"parking fees"', "park*", "fees OR café", "obrien", "council"]


@settings(max_examples=300, deadline=None)
@given(title=field, body=field, query=st.sampled_from(QUERIES), width=st.integers(1, 40))
def test_the_window_alone_cuts_the_same_snippet(
    title: str, body: str, query: str, width: int
) -> None:
    tokens = DocTokens(title, body)
    terms = list(parse_query(query).terms())
    for chosen in (terms, []):
        expected = reference_spans(tokens, chosen, width)
        assert snippet_spans(tokens, chosen, width) == expected
        assert snippet_spans(tokens, chosen, width, spans=text_spans(tokens)) == expected
    assert text_spans(tokens) == [(t.start, t.end) for t in tokens.tokens]


@given(text=field, start=st.integers(0, 70), length=st.integers(0, 70))
def test_word_spans_are_the_tokens_spans(text: str, start: int, length: int) -> None:
    expected = [(t.start, t.end) for t in tokenize(text)[start : start + length]]
    assert word_spans(text, start, start + length) == expected


excerpt_text = st.text(alphabet="abcABC .-'ſK\u212a", max_size=40)
excerpt_terms = st.lists(st.text(alphabet="abcABC .ſK", min_size=1, max_size=4), max_size=4)


@settings(max_examples=500, deadline=None)
@given(text=excerpt_text, terms=excerpt_terms)
def test_an_excerpts_terms_are_found_where_their_pattern_finds_them(
    text: str, terms: list[str]
) -> None:
    """councilwatch.digest_text: highlighting ASCII excerpts without compiling a pattern
    marks what the case-insensitive pattern of the terms (longest first) marks."""
    from councilwatch.digest_text import _term_spans, _terms_pattern

    ordered = tuple(sorted(dict.fromkeys(terms), key=len, reverse=True))
    if not ordered:
        return
    expected = [m.span() for m in _terms_pattern(ordered).finditer(text)]
    assert _term_spans(text, ordered) == expected
