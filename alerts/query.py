"""The alert query language: parser, syntax tree and evaluation against a document.

Grammar (operators are upper-case; lower-case ``and``/``or``/``not`` are ordinary words)::

    query   := or EOF
    or      := and ("OR" and)*
    and     := unary (["AND"] unary)*          # juxtaposition is AND
    unary   := ("NOT" | "-") unary | primary   # "-" only when glued to what follows
    primary := word | word"*" | '"' phrase '"' | "(" or ")"

Precedence is NOT > AND > OR. A bare word matches by stem (``payments`` finds "payment");
a quoted phrase matches its exact words, consecutively; ``adopt*`` matches any word that
starts with ``adopt``. A word the tokeniser splits (``council-tax``) is a phrase of stems.
Punctuation-only words (``&``) are ignored, as they are in documents.

A query that would match a document with no words at all (only NOT terms, or ``a OR -b``)
is refused unless the caller asks otherwise: it would match almost everything, and it can
only be matched by checking it against every document.

Limits (:func:`check_limits`, which the parser applies first and search applies to what a
person types): at most :data:`MAX_QUERY_CHARS` characters, :data:`MAX_TERMS` terms and
:data:`MAX_DEPTH` levels of brackets and NOT. Everything that walks a tree (the parser, the
matcher's generated checks, SQLite's FTS5 parser) recurses, and each has a stack far
shallower than any length limit alone would guarantee: 200 dashes before a word was a
215-character query whose check could not compile. The error names the position.
"""

from __future__ import annotations

import bisect
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from itertools import chain
from typing import Literal

from alerts.stem import Token, stem, stem_words, tokenize, words
from cwerrors import QueryError

__all__ = [
    "MAX_DEPTH",
    "MAX_QUERY_CHARS",
    "MAX_TERMS",
    "PREFIX_KEY_LEN",
    "And",
    "Atom",
    "DocTokens",
    "Node",
    "Not",
    "Or",
    "Query",
    "Term",
    "check_limits",
    "clear_stem_cache",
    "parse_query",
    "stem_all",
]

# Wildcard anchors are indexed by at most this many leading letters (the prefix table of
# bounded length); longer prefixes are then checked exactly.
PREFIX_KEY_LEN = 6
MIN_PREFIX_LEN = 2
# Far above what people write (the longest saved alerts have a dozen terms, two levels of
# brackets) and far below what breaks: Python compiles at most 200 nested brackets, its
# stack holds about 250 levels of this parser, SQLite's FTS5 parser overflows near 100.
MAX_QUERY_CHARS = 500
MAX_TERMS = 50
MAX_DEPTH = 10
_QUOTES = {'"': '"”', "“": '"”'}
_SEPARATOR = ""  # token placed between document fields so no phrase spans two fields

KeyCost = Callable[[str], float]


# --- the document side -----------------------------------------------------------------------


class DocTokens:
    """A tokenised text with the lookups query evaluation needs, each built on first use.

    Several fields (title, body) are joined by a blank line and an empty separator word,
    so no phrase spans two fields. Character spans are only needed for snippets, so they
    are computed on first use.
    """

    def __init__(self, *fields: str) -> None:
        self.fields = fields
        self.text = "\n\n".join(fields)
        out: list[str] = []
        self._parts = [words(part) for part in fields]
        for i, part_words in enumerate(self._parts):
            if i:
                out.append(_SEPARATOR)
            out.extend(part_words)
        self.words = out

    @cached_property
    def tokens(self) -> list[Token]:
        """The words with their spans in :attr:`text`, aligned with :attr:`words`."""
        out: list[Token] = []
        offset = 0
        for i, part in enumerate(self.fields):
            if i:
                out.append(Token(_SEPARATOR, offset, offset))
                offset += 2  # the "\n\n" joining the fields
            out.extend(Token(t.text, t.start + offset, t.end + offset) for t in tokenize(part))
            offset += len(part)
        return out

    @cached_property
    def word_set(self) -> frozenset[str]:
        # From the fields' words: one set built, none copied to drop the separator.
        return frozenset(chain.from_iterable(self._parts))

    @cached_property
    def joined(self) -> str:
        """The words between single spaces (fields apart by two): exact phrases are substrings."""
        return " " + " ".join(self.words) + " "

    @cached_property
    def stems(self) -> list[str]:
        return stem_all(self.words)

    @cached_property
    def stem_set(self) -> frozenset[str]:
        word_set = self.word_set
        try:  # the common case, every word seen before: one pass in C, no list
            return frozenset(map(_STEMS.__getitem__, word_set))
        except KeyError:
            return frozenset(stem_all(word_set))

    @cached_property
    def word_positions(self) -> dict[str, list[int]]:
        return _positions(self.words)

    @cached_property
    def stem_positions(self) -> dict[str, list[int]]:
        return _positions(self.stems)

    @cached_property
    def sorted_words(self) -> list[str]:
        return sorted(self.word_set)

    def drop_lookups(self) -> None:
        """Forget the sets and strings built for evaluating queries (rebuilt if needed).

        The matcher keeps every document of a batch for its matches' snippets; without
        this each kept ~70 KB of lookups it no longer needed, and the next document's
        were built in fresh memory rather than in what the last one freed.
        """
        for name in ("word_set", "stem_set", "sorted_words", "joined"):
            self.__dict__.pop(name, None)

    def use_stem_set(self, stems: frozenset[str]) -> None:
        """Take :attr:`stem_set` from a caller that already stemmed :attr:`word_set` (the
        matcher's word cache holds each word's stem beside its index entries)."""
        self.__dict__["stem_set"] = stems

    def has_prefix(self, prefix: str) -> bool:
        words = self.sorted_words
        i = bisect.bisect_left(words, prefix)
        return i < len(words) and words[i].startswith(prefix)


# Stems of the words documents have used, shared by all documents. stem()'s own cache
# holds 65,536 words, fewer than a few thousand documents use (names, places, typos), and
# a miss costs a Porter2 run; a hit here is a plain dict lookup done in C. Bounded by
# forgetting everything when full (about 40 MB at most).
_STEM_CACHE_SIZE = 1 << 18
_STEMS: dict[str, str] = {}


def clear_stem_cache() -> None:
    """Forget the cached stems (for measuring a cold start)."""
    _STEMS.clear()
    stem.cache_clear()


def stem_all(words: Iterable[str]) -> list[str]:
    """The stems of ``words``, in order, through the shared cache of document words' stems."""
    words = list(words)
    try:
        return list(map(_STEMS.__getitem__, words))  # the common case: all seen before
    except KeyError:
        pass
    # Only the words not seen before are stemmed (found by a set difference, in C).
    missing = set(words).difference(_STEMS)
    if len(_STEMS) > _STEM_CACHE_SIZE - len(missing):
        _STEMS.clear()
        missing = set(words)
    # One stemmer call for them all: a first batch stems tens of thousands of words, and a
    # call of stem() for each (its own cache entry, a stemmer call) was most of its cost.
    new = list(missing)
    _STEMS.update(zip(new, stem_words(new), strict=True))
    return list(map(_STEMS.__getitem__, words))


def _positions(items: list[str]) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    for i, item in enumerate(items):
        out.setdefault(item, []).append(i)
    return out


def _as_doc(doc: DocTokens | str) -> DocTokens:
    return doc if isinstance(doc, DocTokens) else DocTokens(doc)


# --- syntax tree -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Atom:
    """One word of a term: matched exactly, by stem, or as a prefix."""

    text: str
    mode: Literal["exact", "stem", "prefix"]
    # What a document word is compared with: the stem in "stem" mode, else the text.
    norm: str = field(default="", compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "norm", stem(self.text) if self.mode == "stem" else self.text)

    def key(self, prefix_len: int = PREFIX_KEY_LEN) -> str:
        """The index key a document must carry for this atom to match."""
        if self.mode == "exact":
            return "w:" + self.text
        if self.mode == "stem":
            return "s:" + self.norm
        return "p:" + self.text[:prefix_len]

    def occurs_in(self, doc: DocTokens) -> bool:
        if self.mode == "exact":
            return self.text in doc.word_set
        if self.mode == "stem":
            return self.norm in doc.stem_set
        return doc.has_prefix(self.text)

    def at(self, doc: DocTokens, i: int) -> bool:
        if self.mode == "exact":
            return doc.words[i] == self.text
        if self.mode == "stem":
            return doc.stems[i] == self.norm
        return doc.words[i].startswith(self.text)

    def positions(self, doc: DocTokens) -> list[int]:
        if self.mode == "exact":
            return doc.word_positions.get(self.text, [])
        if self.mode == "stem":
            return doc.stem_positions.get(self.norm, [])
        if not self.text:
            return [i for i, w in enumerate(doc.words) if w.startswith(self.text)]
        # The distinct words with the prefix are a run of the sorted words: their positions,
        # not a startswith over every token of the text (the digests' explain pass made
        # 10.7 million such calls at full size).
        words, where = doc.sorted_words, doc.word_positions
        i = bisect.bisect_left(words, self.text)
        found: list[int] = []
        while i < len(words) and words[i].startswith(self.text):
            found.extend(where[words[i]])
            i += 1
        found.sort()
        return found

    def __str__(self) -> str:
        return self.text + "*" if self.mode == "prefix" else self.text


class Node(ABC):
    """A node of the query tree."""

    position: int

    @abstractmethod
    def matches(self, doc: DocTokens) -> bool: ...

    @abstractmethod
    def anchors(self, cost: KeyCost, prefix_len: int) -> frozenset[str] | None:
        """Keys of which every matching document carries at least one (None: cannot tell)."""
        ...

    @abstractmethod
    def positive_terms(self) -> Iterator[Term]:
        """Terms not under a NOT, in query order."""
        ...

    @abstractmethod
    def first_not(self) -> Not | None: ...


@dataclass(frozen=True)
class Term(Node):
    """A word, wildcard or phrase: atoms that must appear on consecutive tokens."""

    atoms: tuple[Atom, ...]
    quoted: bool = False
    position: int = field(default=0, compare=False)

    def matches(self, doc: DocTokens) -> bool:
        if len(self.atoms) == 1:  # the common case, inlined: this runs per candidate
            atom = self.atoms[0]
            if atom.mode == "stem":
                return atom.norm in doc.stem_set
            return atom.occurs_in(doc)
        if self._needle:
            words = doc.word_set
            for atom in self.atoms:  # set lookups reject most phrases before a text search
                if atom.text not in words:
                    return False
            return self._needle in doc.joined
        return any(True for _ in self._starts(doc))

    @cached_property
    def _needle(self) -> str:
        """For a phrase of exact words, the substring it is in :attr:`DocTokens.joined`."""
        if all(a.mode == "exact" for a in self.atoms):
            return " " + " ".join(a.text for a in self.atoms) + " "
        return ""

    def occurrences(self, doc: DocTokens) -> list[tuple[int, int]]:
        """Token index ranges [start, end) where this term occurs in ``doc``."""
        n = len(self.atoms)
        return [(i, i + n) for i in self._starts(doc)]

    def _starts(self, doc: DocTokens) -> Iterator[int]:
        first, rest = self.atoms[0], self.atoms[1:]
        for atom in rest:  # cheap set tests before walking positions
            if not atom.occurs_in(doc):
                return
        last = len(doc.words)
        for i in first.positions(doc):
            if i + len(rest) < last and all(a.at(doc, i + k) for k, a in enumerate(rest, 1)):
                yield i

    def anchors(self, cost: KeyCost, prefix_len: int) -> frozenset[str] | None:
        return frozenset({min((a.key(prefix_len) for a in self.atoms), key=cost)})

    def positive_terms(self) -> Iterator[Term]:
        yield self

    def first_not(self) -> Not | None:
        return None

    @cached_property
    def _normal(self) -> str:
        if self.quoted:
            return '"' + " ".join(a.text for a in self.atoms) + '"'
        return "-".join(str(a) for a in self.atoms)

    def __str__(self) -> str:
        return self._normal


@dataclass(frozen=True)
class Not(Node):
    child: Node
    position: int = field(default=0, compare=False)

    def matches(self, doc: DocTokens) -> bool:
        return not self.child.matches(doc)

    def anchors(self, cost: KeyCost, prefix_len: int) -> frozenset[str] | None:
        if isinstance(self.child, Not):  # NOT NOT x requires x
            return self.child.child.anchors(cost, prefix_len)
        return None

    def positive_terms(self) -> Iterator[Term]:
        return iter(())

    def first_not(self) -> Not | None:
        return self

    def __str__(self) -> str:
        inner = str(self.child)
        return f"NOT ({inner})" if isinstance(self.child, And | Or) else f"NOT {inner}"


@dataclass(frozen=True)
class And(Node):
    children: tuple[Node, ...]
    position: int = field(default=0, compare=False)

    def matches(self, doc: DocTokens) -> bool:
        return all(child.matches(doc) for child in self.children)

    def anchors(self, cost: KeyCost, prefix_len: int) -> frozenset[str] | None:
        # Any one required child will do: take the one whose keys are cheapest (rarest).
        options = [a for c in self.children if (a := c.anchors(cost, prefix_len)) is not None]
        if not options:
            return None
        return min(options, key=lambda keys: sum(cost(k) for k in keys))

    def positive_terms(self) -> Iterator[Term]:
        for c in self.children:
            yield from c.positive_terms()

    def first_not(self) -> Not | None:
        return next((n for c in self.children if (n := c.first_not())), None)

    def __str__(self) -> str:
        return " AND ".join(f"({c})" if isinstance(c, Or) else str(c) for c in self.children)


@dataclass(frozen=True)
class Or(Node):
    children: tuple[Node, ...]
    position: int = field(default=0, compare=False)

    def matches(self, doc: DocTokens) -> bool:
        return any(child.matches(doc) for child in self.children)

    def anchors(self, cost: KeyCost, prefix_len: int) -> frozenset[str] | None:
        # Every branch could match alone, so the document may carry any branch's anchor.
        keys: set[str] = set()
        for c in self.children:
            a = c.anchors(cost, prefix_len)
            if a is None:
                return None
            keys |= a
        return frozenset(keys)

    def positive_terms(self) -> Iterator[Term]:
        for c in self.children:
            yield from c.positive_terms()

    def first_not(self) -> Not | None:
        return next((n for c in self.children if (n := c.first_not())), None)

    def __str__(self) -> str:
        return " OR ".join(str(c) for c in self.children)


_EMPTY_DOC = DocTokens()


@dataclass(frozen=True)
class Query:
    """A parsed query. Equal queries have equal trees, whatever their spelling."""

    root: Node
    text: str = field(default="", compare=False)

    def matches(self, doc: DocTokens | str) -> bool:
        return self.root.matches(doc if isinstance(doc, DocTokens) else DocTokens(doc))

    @cached_property
    def _terms(self) -> tuple[Term, ...]:
        return tuple(dict.fromkeys(self.root.positive_terms()))

    @cached_property
    def _normal(self) -> str:
        return str(self.root)

    def terms(self) -> tuple[Term, ...]:
        """Distinct terms that count towards a match (not under NOT), in query order."""
        return self._terms

    def matched_terms(self, doc: DocTokens | str) -> tuple[Term, ...]:
        """The positive terms present in ``doc``: what to explain and highlight."""
        d = _as_doc(doc)
        return tuple(t for t in self.terms() if t.matches(d))

    def required_terms(self) -> tuple[Term, ...]:
        """Terms every matching document contains (the top-level AND chain)."""
        children = self.root.children if isinstance(self.root, And) else (self.root,)
        return tuple(c for c in children if isinstance(c, Term))

    def anchors(self, cost: KeyCost, prefix_len: int = PREFIX_KEY_LEN) -> frozenset[str] | None:
        """Index keys of which a matching document has at least one; None if unanchorable.

        Keys are ``s:<stem>``, ``w:<exact word>`` and ``p:<first prefix_len letters>``;
        ``cost`` ranks keys (lower = rarer) to pick the most selective required term.
        """
        return self.root.anchors(cost, prefix_len)

    def matches_empty(self) -> bool:
        """True if the query matches a document without words (it is negative-only)."""
        return self.root.matches(_EMPTY_DOC)

    def __str__(self) -> str:
        return self._normal


# --- lexer -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Lexeme:
    kind: Literal["term", "(", ")", "AND", "OR", "NOT", "-", "end"]
    position: int
    term: Term | None = None


def _word_term(raw: str, position: int) -> Term | None:
    """A bare word (maybe with a trailing ``*``) as a term; None if it is only punctuation."""
    body = raw.rstrip("*")
    if "*" in body:
        at = position + body.index("*")
        raise QueryError(f"'*' is allowed only at the end of a word at position {at}", position=at)
    tokens = tokenize(body)
    if len(body) < len(raw):
        star = position + len(body)
        if not tokens:
            raise QueryError(f"expected a word before '*' at position {star}", position=star)
        if len(tokens[-1].text) < MIN_PREFIX_LEN:
            raise QueryError(
                f"expected at least {MIN_PREFIX_LEN} letters before '*' at position {star}",
                position=star,
            )
        atoms = [Atom(t.text, "stem") for t in tokens[:-1]]
        atoms.append(Atom(tokens[-1].text, "prefix"))
        return Term(tuple(atoms), position=position)
    if not tokens:
        return None
    return Term(tuple(Atom(t.text, "stem") for t in tokens), position=position)


def _lex(text: str, *, strict: bool = True) -> list[_Lexeme]:
    """The lexemes of ``text``. Not ``strict``: for counting only (:func:`check_limits`),
    an unterminated quote runs to the end and a misplaced ``*`` is ignored."""
    out: list[_Lexeme] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c.isspace():
            i += 1
        elif c in "()":
            out.append(_Lexeme("(" if c == "(" else ")", i))
            i += 1
        elif c in _QUOTES:
            end = min((j for q in _QUOTES[c] if (j := text.find(q, i + 1)) >= 0), default=-1)
            if end < 0:
                if strict:
                    raise QueryError(f"unterminated quote starting at position {i}", position=i)
                end = n
            tokens = tokenize(text[i + 1 : end])
            if not tokens and not strict:
                i = end + 1
                continue
            if not tokens:
                raise QueryError(
                    f"expected words inside the quotes starting at position {i}", position=i
                )
            atoms = tuple(Atom(t.text, "exact") for t in tokens)
            out.append(_Lexeme("term", i, Term(atoms, quoted=True, position=i)))
            i = end + 1
        elif c == "-" and i + 1 < n and not text[i + 1].isspace() and text[i + 1] != ")":
            out.append(_Lexeme("-", i))
            i += 1
        else:
            j = i
            while j < n and not text[j].isspace() and text[j] not in '()"“”':
                j += 1
            raw = text[i:j]
            if raw in ("AND", "OR", "NOT"):
                out.append(_Lexeme(raw, i))  # type: ignore[arg-type]
            elif not strict:
                if tokenize(raw.replace("*", " ")):
                    out.append(_Lexeme("term", i))
            elif (term := _word_term(raw, i)) is not None:
                out.append(_Lexeme("term", i, term))
            i = j
    out.append(_Lexeme("end", n))
    return out


# --- parser ----------------------------------------------------------------------------------

_TERM_START = frozenset({"term", "(", "NOT", "-"})


class _Parser:
    def __init__(self, lexemes: list[_Lexeme]) -> None:
        self.lexemes = lexemes
        self.i = 0
        self.depth = 0  # brackets and NOTs open around the current lexeme

    def deeper(self, lex: _Lexeme) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:  # check_limits refuses this first; the parser stays safe
            raise _too_deep(lex.position)

    def peek(self) -> _Lexeme:
        return self.lexemes[self.i]

    def take(self) -> _Lexeme:
        lex = self.lexemes[self.i]
        self.i += 1
        return lex

    def expect_term_after(self, what: str) -> None:
        nxt = self.peek()
        if nxt.kind not in _TERM_START:
            raise QueryError(
                f"expected a term after {what} at position {nxt.position}", position=nxt.position
            )

    def parse_or(self) -> Node:
        children = [self.parse_and()]
        while self.peek().kind == "OR":
            self.take()
            self.expect_term_after("OR")
            children.append(self.parse_and())
        return _flatten(Or, children)

    def parse_and(self) -> Node:
        children = [self.parse_unary()]
        while (kind := self.peek().kind) in _TERM_START or kind == "AND":
            if kind == "AND":
                self.take()
                self.expect_term_after("AND")
            children.append(self.parse_unary())
        return _flatten(And, children)

    def parse_unary(self) -> Node:
        lex = self.peek()
        if lex.kind in ("NOT", "-"):
            self.take()
            self.expect_term_after("NOT" if lex.kind == "NOT" else "'-'")
            self.deeper(lex)
            child = self.parse_unary()
            self.depth -= 1
            return Not(child, position=lex.position)
        return self.parse_primary()

    def parse_primary(self) -> Node:
        lex = self.take()
        if lex.kind == "term":
            assert lex.term is not None
            return lex.term
        if lex.kind == "(":
            self.expect_term_after("'('")
            self.deeper(lex)
            node = self.parse_or()
            self.depth -= 1
            close = self.peek()
            if close.kind != ")":
                raise QueryError(
                    f"expected ')' at position {close.position}", position=close.position
                )
            self.take()
            return node
        if lex.kind == ")":
            raise QueryError(
                f"unexpected ')' at position {lex.position}: no '(' to close", position=lex.position
            )
        if lex.kind in ("AND", "OR"):
            raise QueryError(
                f"expected a term before {lex.kind} at position {lex.position}",
                position=lex.position,
            )
        raise QueryError(f"expected a term at position {lex.position}", position=lex.position)


def _flatten(kind: type[And] | type[Or], children: list[Node]) -> Node:
    if len(children) == 1:
        return children[0]
    flat: list[Node] = []
    for c in children:
        flat.extend(c.children if isinstance(c, kind) else (c,))
    return kind(tuple(flat), position=flat[0].position)


def _too_deep(position: int) -> QueryError:
    return QueryError(
        f"too deeply nested at position {position}: at most {MAX_DEPTH} levels of brackets and NOT",
        position=position,
    )


def check_limits(text: str) -> None:
    """Raise :class:`QueryError` (with the position) if ``text`` is over a query limit.

    Linear and recursion-free, so any input is safe to check; it does not check the syntax
    (search calls it on what a person typed before handing that to the database).
    """
    _check_length(text)
    _check_lexemes(_lex(text, strict=False))


def _check_length(text: str) -> None:
    if len(text) > MAX_QUERY_CHARS:
        raise QueryError(
            f"too long at position {MAX_QUERY_CHARS}: a query has at most {MAX_QUERY_CHARS} "
            f"characters, this one {len(text)}",
            position=MAX_QUERY_CHARS,
        )


def _check_lexemes(lexemes: list[_Lexeme]) -> None:
    """The term and depth limits over lexemes, before any recursion (one loop, no tree)."""
    terms = 0
    outer: list[int] = []  # the level of each enclosing bracket's surroundings
    level = 0  # brackets and NOTs around the current bracket's contents
    pending = 0  # NOTs read since the last term or bracket
    for lex in lexemes:
        kind = lex.kind
        if kind in ("NOT", "-"):
            pending += 1
            if level + pending > MAX_DEPTH:
                raise _too_deep(lex.position)
        elif kind == "(":
            outer.append(level)
            level, pending = level + pending + 1, 0
            if level > MAX_DEPTH:
                raise _too_deep(lex.position)
        elif kind == ")":
            level, pending = (outer.pop() if outer else 0), 0
        else:
            pending = 0
            if kind == "term":
                terms += 1
                if terms > MAX_TERMS:
                    raise QueryError(
                        f"too many terms at position {lex.position}: a query has at most "
                        f"{MAX_TERMS} words, phrases or wildcards",
                        position=lex.position,
                    )


def parse_query(text: str, *, allow_only_not: bool = False) -> Query:
    """Parse ``text`` into a :class:`Query`; raise :class:`QueryError` naming the position.

    ``allow_only_not`` admits queries that match by absence alone (``-parking``), for alerts
    whose other filters (councils, kinds) already narrow what they can match.
    """
    if not text.strip():
        raise QueryError("empty query", position=0)
    _check_length(text)  # before lexing: the lexer's work grows with the text
    lexemes = _lex(text)
    _check_lexemes(lexemes)  # the limits check_limits applies, on the same lexemes
    if lexemes[0].kind == "end":
        at = len(text) - len(text.lstrip())
        raise QueryError(
            f"expected a word at position {at}: the query has only punctuation", position=at
        )
    parser = _Parser(lexemes)
    root = parser.parse_or()
    rest = parser.peek()
    if rest.kind != "end":
        raise QueryError(
            f"unexpected ')' at position {rest.position}: no '(' to close", position=rest.position
        )
    query = Query(root, text)
    if not allow_only_not and query.matches_empty():
        neg = root.first_not()
        at = neg.position if neg is not None else 0
        why = (
            "a query made only of NOT terms"
            if not query.terms()
            else "a query that can match on NOT terms alone"
        )
        raise QueryError(
            f"expected a term without NOT at position {at}: {why} would match almost every "
            "document",
            position=at,
        )
    return query
