"""Per-alert plans: what the matcher does for a candidate alert, worked out once when the
alert is filed.

For an alert whose index keys prove the match and whose query fixes the terms it shows, the
plan is just the part all its matches share (:class:`MatchedAlert`). Otherwise it is a small
record ``(emit, check, constants...)``: ``check`` (None when the keys prove the match) tells
whether a candidate matches, ``emit`` builds its Match; both are generated from the alert's
query *shape* (which filters, which kinds of term, how they nest) and compiled once per
shape; the alert's own words, sets and ids are read from the record, so no alert text
reaches exec.

Matching asks only ``check``: the service records which alerts each document matched, and
works out what a match shows when a digest is sent. ``emit`` runs only for callers that want
:class:`Match` objects (the CLI, the tests' comparisons with brute force).
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import chain
from typing import Protocol, TypeVar

from alerts.documents import AlertSpec, Match, MatchedAlert
from alerts.explain import Explainer
from alerts.query import And, Atom, Node, Not, Or, Query, Term

_T = TypeVar("_T")


class _Intern(Protocol):
    def __call__(self, value: _T, /) -> _T: ...


# A term as plain values: (quoted, text, mode, text, mode, ...), one pair per atom.
_CodedTerm = tuple[bool | str, ...]


def _code(term: Term) -> _CodedTerm:
    return (term.quoted, *chain.from_iterable((a.text, a.mode) for a in term.atoms))


def _term(coded: _CodedTerm) -> Term:
    quoted, *pairs = coded
    atoms = tuple(
        Atom(text, mode)  # type: ignore[arg-type]
        for text, mode in zip(pairs[0::2], pairs[1::2], strict=True)
    )
    return Term(atoms, bool(quoted))


class SharedPart(MatchedAlert):
    """The part all of one filed alert's matches share, its terms kept as plain tuples.

    A parsed :class:`Term` is ~550 bytes (an instance dict, its atoms, their stems), more
    than a third of what the index holds per alert; yet the index reads an alert's terms
    only to explain a match (snippets, the terms a digest shows), which the service does
    from the stored alert, not from the index's matches. So ``found`` and ``positive`` are
    kept as (quoted, text, mode, ...) tuples (~64 bytes) and made into equal Terms when
    read, and ``subset()`` works a mask's terms out when asked, as it already does past six
    terms (2**n listed subsets were ~160 bytes an alert).
    """

    __slots__ = ("_found", "_positive")

    def keep(self, found: tuple[Term, ...], positive: tuple[Term, ...], intern: _Intern) -> None:
        """Keep the terms every match shows, and those a mask picks from (coded, shared)."""
        self._found = tuple(intern(_code(t)) for t in found)
        self._positive = tuple(intern(_code(t)) for t in positive)
        self.subsets = None

    @property
    def found(self) -> tuple[Term, ...]:
        return tuple(map(_term, self._found))

    @found.setter
    def found(self, terms: tuple[Term, ...]) -> None:
        self._found = tuple(map(_code, terms))

    @property
    def positive(self) -> tuple[Term, ...]:
        return tuple(map(_term, self._positive))

    @positive.setter
    def positive(self, terms: tuple[Term, ...]) -> None:
        self._positive = tuple(map(_code, terms))


# A candidate's plan: the shared part of its matches when its keys prove it matches and
# the query's shape fixes its terms (nothing to do but build the Match), else a record
# (emit, check, constants...): ``check(explainer, record)`` is true if the candidate
# matches (None: the keys prove it), ``emit(explainer, record)`` verifies and builds the
# Match. The functions are shared by every alert of that shape; the record is one small
# tuple, so a candidate touches little memory (the matcher is bound by cache misses).
EmitFunction = Callable[[Explainer, tuple[object, ...]], "Match | None"]
CheckFunction = Callable[[Explainer, tuple[object, ...]], bool]
Plan = SharedPart | tuple[object, ...]
# Where a record's functions are.
EMIT, CHECK = 0, 1


class _EmitSource:
    """Python source for one alert's emit function, with its constants kept apart.

    The source depends only on the alert's *shape* (which filters, which kinds of term,
    how they nest), never on its words or ids: those are read from the alert's record
    (``r[1]``, ``r[2]``...). So 100,000 alerts share a few dozen compiled functions, and
    no alert text reaches exec.
    Constants are interned: equal sets and words across alerts are one object, which keeps
    the memory a batch touches small (the matcher is bound by cache misses, not by work).
    """

    def __init__(self, intern: _Intern) -> None:
        self.intern = intern
        self.values: list[object] = []
        self.lines: list[str] = []
        self._named: dict[int, str] = {}  # id(value) -> its place: check and emit share it

    def const(self, value: object) -> str:
        value = self.intern(value)
        name = self._named.get(id(value))
        if name is None:
            self.values.append(value)
            name = self._named[id(value)] = f"r[{len(self.values) + 1}]"  # r[0], r[1]: functions
        return name

    def term(self, term: Term) -> str:
        """An expression that is true if ``term`` occurs: a set lookup for a single word."""
        if len(term.atoms) == 1 and term.atoms[0].mode == "stem":
            return f"({self.const(term.atoms[0].norm)} in t.stem_set)"
        if len(term.atoms) == 1 and term.atoms[0].mode == "exact":
            return f"({self.const(term.atoms[0].text)} in t.word_set)"
        if len(term.atoms) == 1:  # a prefix longer than its key: one bisect
            return f"t.has_prefix({self.const(term.atoms[0].text)})"
        if all(a.mode == "exact" for a in term.atoms):
            # A quoted phrase, as Term.matches: its words present, then a text search.
            needle = term._needle  # the same substring of DocTokens.joined
            present = " and ".join(f"{self.const(a.text)} in t.word_set" for a in term.atoms)
            return f"({present} and {self.const(needle)} in t.joined)"
        # Its bound method is kept, so the term: one object for equal terms across alerts.
        return f"{self.const(self.intern(term).matches)}(t)"

    def node(self, node: Node, known: dict[Term, str]) -> str:
        if isinstance(node, Term):
            return known.get(node) or self.term(node)
        if isinstance(node, Not):
            return f"(not {self.node(node.child, known)})"
        if isinstance(node, And | Or):
            op = " and " if isinstance(node, And) else " or "
            return "(" + op.join(self.node(c, known) for c in node.children) + ")"
        return f"{self.const(node.matches)}(t)"  # a node kind this compiler does not know


# (function name, body) -> the compiled function, shared by every alert of that shape.
_EMITTERS: dict[tuple[str, str], Callable[[Explainer, tuple[object, ...]], object]] = {}


def _fixed_terms(query: Query | None) -> tuple[Term, ...] | None:
    """The terms every match of ``query`` shows, if its shape fixes them (else None)."""
    if query is None:
        return ()
    root = query.root
    if isinstance(root, Term) or (
        isinstance(root, And) and all(isinstance(c, Term) for c in root.children)
    ):
        return query.terms()  # a word or a plain conjunction that matched: all present
    return None


def compile_plan(alert: AlertSpec, proven: bool, intern: _Intern) -> Plan:
    """The whole per-candidate work for ``alert``: verify (unless proven), build the Match.

    A batch builds hundreds of matches per document, so everything that depends only on the
    alert (its id, normalised query, the terms a match must have found, its councils when
    it names one) is worked out here once, and the checks become inline set lookups. The
    result equals ``Explainer.match`` after ``_verify`` (:func:`brute_force` keeps those
    as the independent oracle; the property tests compare the two).
    """
    query = alert.query
    fixed = _fixed_terms(query)
    positive = query.terms() if query is not None and fixed is None else ()
    shared = SharedPart(
        alert.id,
        intern(str(query)) if query is not None else "",
        tuple(str(t) for t in fixed or ()),
        (),
        # With one council, a match names that one; with more, whichever the document names.
        ()
        if not alert.councils
        else intern(tuple(alert.councils))
        if len(alert.councils) == 1
        else None,
        intern(alert.councils),
    )
    shared.keep(fixed or (), positive, intern)
    if proven and fixed is not None:
        return shared
    src = _EmitSource(intern)
    body = src.lines
    body.append("doc = ex.doc")
    filters: list[str] = []
    if not proven:
        for attr, values in (
            ("kind", alert.kinds),
            ("source", alert.sources),
            ("outcome", alert.outcomes),
            ("category", alert.categories),
        ):
            if values:
                filters.append(f"doc.{attr} not in {src.const(values)}")
        if alert.councils:
            filters.append(f"{src.const(alert.councils)}.isdisjoint(doc.councils)")
    body.extend(f"if {test}: return None" for test in filters)
    if query is not None:
        body.append("t = ex.tokens")
    # The record holds the councils tuple itself: reading it through ``shared`` would cost
    # one more object read per candidate (the matcher is bound by cache misses).
    if shared.councils is None:
        councils = f"ex.councils({src.const(alert.councils)})"
    else:
        councils = src.const(shared.councils)
    check = None
    if not proven:
        # The same tests as emit's, answering only whether the candidate matches.
        lines = ["doc = ex.doc"] if filters else []
        lines += [f"if {test}: return False" for test in filters]
        if query is not None:
            lines += ["t = ex.tokens", f"return {src.node(query.root, {})}"]
        else:
            lines.append("return True")
        check = _compiled("check", "\n".join(lines))
    if fixed is not None:
        if query is not None:
            body.append(f"if not {src.node(query.root, {})}: return None")
        body.append(f"return Match(({src.const(shared)}, doc.id, {councils}, ex))")
    else:
        assert query is not None
        # Positive terms are evaluated once, up front: nearly every candidate matches, and
        # a match records which it found (a bit mask over ``shared.positive``).
        known = {}
        for i, term in enumerate(positive):
            body.append(f"p{i} = {src.term(term)}")
            known[term] = f"p{i}"
        if not proven:
            body.append(f"if not {src.node(query.root, known)}: return None")
        bits = " | ".join(f"({1 << i} if p{i} else 0)" for i in range(len(known))) or "0"
        body.append(f"return Match(({src.const(shared)}, doc.id, {councils}, ex, {bits}))")
    return (_compiled("emit", "\n".join(body)), check, *src.values)


def _hoist_sets(body: str) -> str:
    """Read a word or stem set used more than once into a local, once.

    ``t.stem_set`` is a cached property: each read is a type and an instance-dict lookup.
    Both sets are built for every document the index looks at, so reading one early
    computes nothing extra.
    """
    for attr, local in (("t.stem_set", "ss"), ("t.word_set", "ws")):
        if body.count(attr) > 1:
            body = body.replace(attr, local).replace(
                "t = ex.tokens", f"t = ex.tokens\n{local} = {attr}", 1
            )
    return body


def _compiled(name: str, body: str) -> Callable[[Explainer, tuple[object, ...]], object]:
    """The function ``name(ex, r)`` of ``body`` (after :func:`_hoist_sets`), compiled once."""
    body = _hoist_sets(body)
    found = _EMITTERS.get((name, body))
    if found is None:
        source = f"def {name}(ex, r):\n" + "".join(f"    {line}\n" for line in body.splitlines())
        namespace: dict[str, object] = {"Match": Match}
        exec(compile(source, f"<alerts.matcher {name}>", "exec"), namespace)
        made: Callable[[Explainer, tuple[object, ...]], object] = namespace[name]  # type: ignore[assignment]
        found = _EMITTERS[(name, body)] = made
    return found
