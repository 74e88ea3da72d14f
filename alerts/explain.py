"""Explaining a match: the document's tokens, the snippet with the found terms highlighted,
and the Match objects built for one document (snippets and council sets shared between the
alerts that matched it)."""

from __future__ import annotations

from collections.abc import Sequence

from alerts.documents import AlertSpec, Match, MatchDocument, SnippetSpans
from alerts.query import DocTokens, Term

SNIPPET_WORDS = 30


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
    tokens: DocTokens, terms: Sequence[Term], words: int = SNIPPET_WORDS
) -> SnippetSpans:
    """A window of about ``words`` words where the terms are densest, as segments.

    Without terms (a council or filter alert) the window is the start of the text after the
    title. Segments are (text, is_highlight); whitespace is collapsed.
    """
    toks = tokens.tokens
    if not toks:
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
        first = next((i + 1 for i, t in enumerate(toks) if t.text == ""), 0)
        if first >= len(toks):
            first = 0
    last = min(len(toks), first + words)
    # Do not cut a highlighted phrase in two.
    last = max([last] + [end for start, end in hits if first <= start < last])
    while first < last and toks[first].text == "":
        first += 1
    while last > first and toks[last - 1].text == "":
        last -= 1
    if first >= last:
        return ()
    text = tokens.text
    spans: list[tuple[str, bool]] = []
    if first > 0 and toks[first - 1].text != "":  # no ellipsis right after the title
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


class Explainer:
    """Builds Match objects for one document, sharing snippets between alerts."""

    __slots__ = ("_councils", "_only_council", "_snippets", "doc", "tokens")

    def __init__(self, doc: MatchDocument) -> None:
        self.doc = doc
        self.tokens = document_tokens(doc)
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
            found = self._snippets[terms] = snippet_spans(self.tokens, terms)
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
