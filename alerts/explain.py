"""Explaining a match: the document's tokens, the snippet with the found terms highlighted,
and the Match objects built for one document (snippets and council sets shared between the
alerts that matched it)."""

from __future__ import annotations

from collections.abc import Sequence

from alerts.documents import AlertSpec, Match, MatchDocument, SnippetSpans
from alerts.query import DocTokens, Term
from alerts.stem import word_spans

SNIPPET_WORDS = 30
_SEPARATOR = ""  # the token DocTokens puts between two fields (no word is empty)


def document_tokens(doc: MatchDocument) -> DocTokens:
    """The tokens a query is evaluated on: the title, then the text."""
    return DocTokens(doc.title, doc.text)


def _merge(ranges: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for start, end in sorted(ranges):
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


def _squash(text: str) -> str:
    """Collapse runs of whitespace (line breaks included) to one space, keeping the ends."""
    core = " ".join(text.split())
    if not core:
        return " " if text else ""
    return (" " if text[0].isspace() else "") + core + (" " if text[-1].isspace() else "")


def snippet_spans(
    tokens: DocTokens,
    terms: Sequence[Term],
    words: int = SNIPPET_WORDS,
    spans: Sequence[tuple[int, int]] | None = None,
) -> SnippetSpans:
    """A window of about ``words`` words where the terms are densest, as segments.

    Without terms (a council or filter alert) the window is the start of the text after the
    title. Segments are (text, is_highlight); whitespace is collapsed. Character spans come
    from ``spans`` (every token's, from ``text_spans``: an Explainer cuts many snippets of
    one text), else only the window's words get them: the text's every Token with its
    span (``tokens.tokens``) was a third of a digest run's explain pass.
    """
    texts = tokens.words
    if not texts:
        return ()
    hits = _merge([r for t in terms for r in t.occurrences(tokens)])
    if hits:
        # Slide a window over hit starts; keep the first with the most hits in it.
        best, best_count, j = hits[0][0], 0, 0
        for i, (start, _) in enumerate(hits):
            while j < len(hits) and hits[j][0] < start + words:
                j += 1
            if j - i > best_count:
                best, best_count = start, j - i
        first = max(0, best - words // 5)
    else:
        first = texts.index(_SEPARATOR) + 1 if _SEPARATOR in texts else 0
        if first >= len(texts):
            first = 0
    last = min(len(texts), first + words)
    # Do not cut a highlighted phrase in two.
    last = max([last] + [end for start, end in hits if first <= start < last])
    while first < last and texts[first] == _SEPARATOR:
        first += 1
    while last > first and texts[last - 1] == _SEPARATOR:
        last -= 1
    if first >= last:
        return ()
    window = spans[first:last] if spans is not None else _window_spans(tokens, first, last)
    text = tokens.text
    out: list[tuple[str, bool]] = []
    if first > 0 and texts[first - 1] != _SEPARATOR:  # no ellipsis right after the title
        out.append(("… ", False))
    cursor = window[0][0]
    for start, end in hits:
        if start < first or end > last:
            continue
        lo, hi = window[start - first][0], window[end - 1 - first][1]
        if lo > cursor:
            out.append((_squash(text[cursor:lo]), False))
        out.append((_squash(text[lo:hi]), True))
        cursor = hi
    tail = window[-1][1]
    if tail > cursor:
        out.append((_squash(text[cursor:tail]), False))
    if last < len(texts):
        out.append((" …", False))
    return tuple(out)


def text_spans(tokens: DocTokens) -> list[tuple[int, int]]:
    """Every token's character span in ``tokens.text``, as ``tokens.tokens`` has them."""
    return _window_spans(tokens, 0, len(tokens.words))


def _window_spans(tokens: DocTokens, first: int, last: int) -> list[tuple[int, int]]:
    """The character spans in ``tokens.text`` of tokens ``first`` to ``last - 1``: what
    ``tokens.tokens`` holds for them. The fields are joined by two characters and one
    empty separator token, whose span is empty at the end of the field before it."""
    texts = tokens.words
    found: list[tuple[int, int]] = []
    index = offset = 0  # the field's first token, its first character
    for k, field in enumerate(tokens.fields):
        if k:
            if first <= index < last:
                found.append((offset, offset))
            index, offset = index + 1, offset + 2
        end = texts.index(_SEPARATOR, index) if k < len(tokens.fields) - 1 else len(texts)
        lo, hi = max(first, index), min(last, end)
        if lo < hi:
            spans = word_spans(field, lo - index, hi - index)
            found += [(a + offset, b + offset) for a, b in spans]
        index, offset = end, offset + len(field)
        if index >= last:
            break
    return found


class Explainer:
    """Builds Match objects for one document, sharing snippets between alerts."""

    __slots__ = ("_councils", "_only_council", "_snippets", "_spans", "doc", "tokens")

    def __init__(self, doc: MatchDocument) -> None:
        self.doc = doc
        self.tokens = document_tokens(doc)
        self._spans: list[tuple[int, int]] | None = None  # the tokens', once a snippet wants them
        self._snippets: dict[tuple[Term, ...], SnippetSpans] = {}
        self._councils: dict[frozenset[str], tuple[str, ...]] = {}
        # With one council named, every council alert that matched shares exactly that one.
        self._only_council = tuple(doc.councils) if len(doc.councils) == 1 else None

    def councils(self, wanted: frozenset[str]) -> tuple[str, ...]:
        """The alert's councils this document names, sorted (the alert matched).

        Remembered per set: the matcher interns equal council sets across alerts.
        """
        if self._only_council is not None:
            return self._only_council
        found = self._councils.get(wanted)
        if found is None:
            found = self._councils[wanted] = tuple(sorted(wanted & self.doc.councils))
        return found

    def spans(self, terms: tuple[Term, ...]) -> SnippetSpans:
        found = self._snippets.get(terms)
        if found is None:
            if self._spans is None:
                self._spans = text_spans(self.tokens)
            found = snippet_spans(self.tokens, terms, spans=self._spans)
            self._snippets[terms] = found
        return found

    def match(self, alert: AlertSpec) -> Match:
        doc = self.doc
        if not alert.councils:
            councils: tuple[str, ...] = ()
        else:
            councils = self._only_council or tuple(sorted(alert.councils & doc.councils))
        query = alert.query
        if query is None:
            terms: tuple[Term, ...] = ()
        elif isinstance(query.root, Term):  # it matched, so its one term is present
            terms = (query.root,)
        else:
            terms = query.matched_terms(self.tokens)
        return Match.create(
            alert.id,
            doc.id,
            councils,
            tuple([str(t) for t in terms]),
            str(query) if query is not None else "",
            terms,
            self,
        )
