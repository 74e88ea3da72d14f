"""Search in the alert language: what `councilwatch search`, /documents?q= and alert previews
share, so a search and an alert with the same text find the same documents on every store.

The query is parsed by :func:`alerts.query.parse_query` (same words, stems, phrases, operators
and errors as an alert). Its tree becomes a :mod:`db.search` key filter: exact where the
stores can answer exactly (a word by stem, a "quoted" word, a prefix, AND, OR, NOT of those),
a superset elsewhere (a phrase needs its words in order; a NOT over a phrase is left out).
When the filter is a superset, every candidate is confirmed with the matcher's own check,
``Query.matches`` on the document's tokens, before it is counted or shown.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import closing
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from alerts.documents import SnippetSpans
from alerts.explain import snippet_spans
from alerts.phrase_scan import Mode, PhraseScan
from alerts.query import (
    And,
    Atom,
    DocTokens,
    Node,
    Not,
    Or,
    Query,
    Term,
    parse_query,
)
from alerts.stem import stem, stem_words
from councilwatch.key_cutter import Cut, Cutting, Texts, cut_ahead
from db.search_types import (
    MAX_KEY_LEN,
    MAX_WORD_LEN,
    AllOf,
    AnyOf,
    CandidateText,
    DocumentReader,
    Key,
    Scope,
    Stem,
    StoredDocument,
    TermFilter,
    cut_key,
)

if TYPE_CHECKING:  # db.ingest imports the SQLModel tables, which `councilwatch search` never needs
    from datetime import datetime

    from sqlalchemy import Engine

    from db.ingest import DocumentRecord, UpsertResult
    from db.search import TermSource

# db.search (SQLAlchemy) is imported where it is used, not here: `councilwatch search` on a
# SQLite file reads through db.sqlite_search and never imports SQLAlchemy (see find).

# A superset filter is confirmed over at most this many candidates; past it the count is
# given as "at least" (a phrase of common words in a very large store).
CONFIRM_LIMIT = 5000
KEY_BATCH = 500
# Each word seen by this process (_SEEN), and of those, each word no longer than a key's word
# whose stem is another word, with that stem (_CHANGED): what the word_stems table needs.
# Cleared when full (a store's vocabulary is ~100,000 words).
KEY_CACHE_SIZE = 1 << 18
_SEEN: set[str] = set()
_CHANGED: dict[str, str] = {}
_LONG_WORDS: set[str] = set()  # words seen longer than a key's word
# Held from learning a batch's words to reading them back: another thread emptying a full
# cache in between would leave words out of word_stems, and their documents out of searches.
_CACHE_LOCK = threading.Lock()


# --- keys ------------------------------------------------------------------------------------


def document_tokens(title: str, summary: str, body: str) -> DocTokens:
    """The tokens the matcher reads for a stored document: the title, then summary and body."""
    return DocTokens(title, document_text(summary, body))


def document_text(summary: str, body: str) -> str:
    """The field after the title that the matcher tokenises (phrases may span the two)."""
    return "\n".join(part for part in (summary, body) if part)


def _learn(words: set[str] | frozenset[str]) -> None:
    """Stem the words not seen before (all at once: the stemmer is C). Afterwards every one
    of ``words`` is in _SEEN, in _CHANGED if its stem is another word, in _LONG_WORDS if it
    is too long for its key (a full cache is emptied first, never after)."""
    if _SEEN.issuperset(words):  # the usual case: one look-up per word, in C
        return
    missing = words.difference(_SEEN)
    if len(_SEEN) + len(missing) > KEY_CACHE_SIZE:
        for cache in (_SEEN, _CHANGED, _LONG_WORDS):
            cache.clear()
        missing = set(words)
    fresh = list(missing)
    for word, stemmed in zip(fresh, stem_words(fresh), strict=True):
        if len(word) > MAX_WORD_LEN:
            _LONG_WORDS.add(word)
        elif stemmed != word:
            _CHANGED[word] = stemmed
    _SEEN.update(fresh)


def changed_stems(word_sets: Iterable[frozenset[str]]) -> dict[str, str]:
    """Of these documents' words, each one whose stem is another word, with its stem: what
    db.search.store_document_keys adds to word_stems with their keys (a stem query finds a
    document by its words there). Words longer than a key's are left out: they keep their
    ``s:`` keys (:func:`key_text`)."""
    return _looked_up(set().union(*word_sets))[1]


def _looked_up(words: set[str] | frozenset[str]) -> tuple[set[str], dict[str, str]]:
    """Of ``words`` (learned first), those too long for their key, and those whose stem is
    another word with their stems: read under the lock they were learned under."""
    with _CACHE_LOCK:
        _learn(words)
        # Both walk ``words`` (the smaller), looking each up in the cache, in C.
        return _LONG_WORDS & words, {word: _CHANGED[word] for word in _CHANGED.keys() & words}


def cut_batch(texts: Iterable[tuple[str, str, str]]) -> tuple[list[str], dict[str, str]]:
    """A batch's key texts (:func:`key_text`) and its :func:`changed_stems`, from each
    document's (title, summary, body): what the key cutter's worker runs.

    Each document's tokens are dropped once its key text is made (500 documents' held at
    once made tokenising 2.5x slower), and its words are looked up in the caches once for the
    batch (~30,000 distinct words, not ~500 a document in a cache of ~100,000)."""
    keys: list[str] = []
    words: set[str] = set()
    for title, summary, body in texts:
        found = document_tokens(title, summary, body).word_set
        words.update(found)
        keys.append("w:" + " w:".join(found) if found else "")
    long, changed = _looked_up(words)
    if long:  # rare: the documents with a word too long for its key take the slow path
        for i, text in enumerate(keys):
            found = frozenset(key[2:] for key in text.split(" ")) if text else frozenset()
            if not long.isdisjoint(found):
                keys[i] = _key_text(found, long)
    return keys, changed


def key_text(tokens: DocTokens) -> str:
    """The document's keys as the index stores them: ``w:<word>`` for every word, between
    single spaces, each once; and ``s:<stem>`` for a word too long for its key, whose stem
    the word_stems table does not hold (cut to MAX_KEY_LEN, as that word's key is).

    A stem query finds the other words by their ``w:`` keys, through word_stems
    (:func:`changed_stems`, written with the keys), and still asks for ``s:<stem>``, which
    documents keyed before word_stems carry. Every key left out is one (key, document) pair
    fewer for the full-text index to write, which is where ingest spends its time.
    """
    words = tokens.word_set
    return _key_text(words, _looked_up(words)[0])


def _key_text(words: frozenset[str], long: set[str]) -> str:
    """One join over the word set, in C: no string is made per word. The keys are unique as
    they are (a set of words, one prefix); a word too long for a key (one of ``long``) is
    rare, and takes the slow path (keys cut to MAX_KEY_LEN, then made unique again)."""
    if not words:
        return ""
    if long and not long.isdisjoint(words):
        cut = dict.fromkeys(("w:" + w)[:MAX_KEY_LEN] for w in words)
        cut.update(dict.fromkeys(k[:MAX_KEY_LEN] for k in _long_stem_keys(words)))
        return " ".join(cut)
    return "w:" + " w:".join(words)


def _long_stem_keys(words: frozenset[str]) -> list[str]:
    long = sorted(w for w in words if len(w) > MAX_WORD_LEN)
    return ["s:" + s for w, s in zip(long, stem_words(long), strict=True) if s != w]


def document_keys(tokens: DocTokens) -> list[str]:
    """:func:`key_text` as a list of keys."""
    return key_text(tokens).split()


def refresh_keys(engine: Engine) -> int:
    """Cut the keys of every document stored or changed since they were last cut."""
    return _flushed(engine, _refresh_keys(engine))


def _flushed(engine: Engine, done: int) -> int:
    """``done``, once the keys a writer just stored are moved into the index proper
    (:func:`db.search.flush_key_index`): once per run, not per batch of keys."""
    from db.search import flush_key_index

    if done:
        flush_key_index(engine)
    return done


def _refresh_keys(engine: Engine) -> int:
    from db.search import documents_without_keys

    def batches() -> Iterator[list[TermSource]]:
        last = 0
        # Each batch is looked for after the last one: no walk over what was just keyed.
        while batch := documents_without_keys(engine, limit=KEY_BATCH, after=last):
            last = batch[-1].id
            yield batch

    done = 0
    held: deque[list[TermSource]] = deque()

    def texts() -> Iterator[list[Texts]]:
        for batch in batches():
            held.append(batch)
            yield [(d.title, d.summary, d.body) for d in batch]

    for cut in cut_ahead(texts()):
        done += _store(engine, held.popleft(), cut)
    return done


def _store(engine: Engine, batch: Sequence[TermSource], cut: Cut) -> int:
    from db.search import DocumentKeys, store_document_keys

    keyed = zip(batch, cut.keys, strict=True)
    keys = [DocumentKeys(d.id, d.content_hash, text=k) for d, k in keyed]
    return store_document_keys(engine, keys, cut.stems)


class _Fresh:
    """What an upsert writes, handed to the key cutter a batch at a time as each chunk is
    about to be written (:meth:`writing`), and stored in that order, under the ids the
    chunks committed (:meth:`stored`), once the cutter hands the keys back."""

    def __init__(self, cutting: Cutting) -> None:
        self.cutting = cutting
        self.held: deque[list[DocumentRecord]] = deque()
        self.ids: dict[tuple[str, str], int] = {}
        self.hashes: dict[int, str] = {}

    def writing(self, records: Sequence[DocumentRecord]) -> None:
        for start in range(0, len(records), KEY_BATCH):
            batch = list(records[start : start + KEY_BATCH])
            self.held.append(batch)
            self.cutting.add([(r.title, r.summary, r.body) for r in batch])

    def stored(self, chunk: UpsertResult) -> None:
        self.ids.update(chunk.ids)
        self.hashes.update(chunk.hashes)

    def store(self, engine: Engine) -> int:
        from db.search import DocumentKeys, store_document_keys

        done = 0
        while self.held:
            batch, cut = self.held.popleft(), self.cutting.take()
            docs = []
            for record, text in zip(batch, cut.keys, strict=True):
                doc_id = self.ids.get(record.key)
                # Not stored by this upsert (another writer's, since our look-up): its
                # writer keys it.
                if doc_id is not None and doc_id in self.hashes:
                    docs.append(DocumentKeys(doc_id, self.hashes[doc_id], text=text))
            done += store_document_keys(engine, docs, cut.stems)
        return done


def index_stored(engine: Engine, records: Sequence[DocumentRecord], stored: UpsertResult) -> int:
    """Make the documents an upsert just inserted or changed searchable, cutting their keys
    from the records in hand (the text stored, not read back); then any other document whose
    keys are missing or stale (:func:`refresh_keys`). Returns the documents keyed.
    """
    latest = {record.key: record for record in records}  # the last one is stored
    with Cutting() as cutting:
        fresh = _Fresh(cutting)
        fresh.writing([latest[k] for k, doc_id in stored.ids.items() if doc_id in stored.hashes])
        fresh.stored(stored)
        done = fresh.store(engine)
    return _flushed(engine, done + _refresh_stale(engine))


def store_searchable(
    engine: Engine, records: Sequence[DocumentRecord], *, now: datetime, backfill: bool = False
) -> UpsertResult:
    """Upsert ``records`` (db.ingest.upsert_documents) and make what it inserted or changed
    searchable at once, as :func:`index_stored` does; what ``councilwatch.pipeline.process``
    runs. The keys of each chunk are cut in the worker process (:mod:`councilwatch.key_cutter`)
    from the moment its look-up finds what it will write, while the upsert writes it and the
    next one: the writer seldom waits for the cutter."""
    from db.ingest import upsert_documents

    with Cutting(many=len(records) > KEY_BATCH) as cutting:
        fresh = _Fresh(cutting)
        result = upsert_documents(
            engine,
            records,
            now=now,
            backfill=backfill,
            on_chunk=fresh.stored,
            on_writing=fresh.writing,
        )
        done = fresh.store(engine)
    _flushed(engine, done + _refresh_stale(engine))
    return result


def _refresh_stale(engine: Engine) -> int:
    from db.search import keys_may_be_stale

    if keys_may_be_stale(engine):  # stored before, or changed by another writer since
        return _refresh_keys(engine)
    return 0


# --- the query as a key filter ---------------------------------------------------------------


def _cut_key(key: Key) -> tuple[Key, bool]:
    cut = cut_key(key.value, key.prefix)
    return cut, cut.value == key.value  # a cut key is a prefix: its candidates confirmed


def _atom_key(atom: Atom) -> tuple[TermFilter, bool]:
    if atom.mode == "stem":
        # The store spells the stem out: its words' w: keys (word_stems), the word that is
        # its own stem, and s:<stem> (documents keyed before, words too long for a key).
        # Cut, the s: key is a prefix (the stem's words are no longer than a key's word).
        exact = len("s:" + atom.norm) <= MAX_KEY_LEN
        return Stem(atom.norm, own=stem(atom.norm) == atom.norm), exact
    if atom.mode == "exact":
        return _cut_key(Key("w:" + atom.text))
    return _cut_key(Key("w:" + atom.text, prefix=True))


def term_filter(node: Node) -> tuple[TermFilter | None, bool]:
    """The keys a document matching ``node`` carries, and whether carrying them is enough.

    None: nothing can be required (the caller confirms every candidate of the rest).
    """
    if isinstance(node, Term):
        keys = [_atom_key(atom) for atom in node.atoms]
        if len(keys) == 1:
            return keys[0]
        return AllOf(tuple(key for key, _ in keys)), False  # a phrase: its words, in any order
    if isinstance(node, Not):
        if isinstance(node.child, Not):
            return term_filter(node.child.child)
        return None, False
    if isinstance(node, And):
        required: list[TermFilter] = []
        excluded: list[TermFilter] = []
        exact = True
        for child in node.children:
            if isinstance(child, Not) and not isinstance(child.child, Not):
                found, child_exact = term_filter(child.child)
                if found is not None and child_exact:
                    excluded.append(found)
                else:
                    exact = False  # excluding a superset could drop true matches
                continue
            found, child_exact = term_filter(child)
            exact = exact and child_exact and found is not None
            if found is not None:
                required.append(found)
        if not required:
            return None, False
        return AllOf(tuple(required), tuple(excluded)), exact
    if isinstance(node, Or):
        branches = [term_filter(child) for child in node.children]
        if any(found is None for found, _ in branches):
            return None, False
        return AnyOf(tuple(f for f, _ in branches if f is not None)), all(e for _, e in branches)
    raise TypeError(f"unknown query node {node!r}")


# --- confirming a candidate from its raw text ------------------------------------------------

# A candidate's answer read from its title and text without tokenising them: True or False
# when known, None when the document must be tokenised (Query.matches).
Verdict = Callable[[str, str], bool | None]


def _phrase_verdict(scan: PhraseScan) -> Verdict:
    def verdict(title: str, text: str) -> bool | None:
        in_title = scan.occurs(title)  # a phrase never spans the two (DocTokens)
        if in_title:
            return True
        in_text = scan.occurs(text)
        if in_text:
            return True
        return None if in_title is None or in_text is None else False

    return verdict


def _not_verdict(child: Verdict) -> Verdict:
    def verdict(title: str, text: str) -> bool | None:
        found = child(title, text)
        return None if found is None else not found

    return verdict


def _all_verdict(children: list[Verdict], wanted: bool) -> Verdict:
    """AND (``wanted`` False: any False decides) or OR (True: any True decides)."""

    def verdict(title: str, text: str) -> bool | None:
        answer: bool | None = not wanted
        for child in children:
            found = child(title, text)
            if found is wanted:
                return wanted
            if found is None:
                answer = None
        return answer

    return verdict


def _exact(node: Node, excluded: bool) -> bool:
    """Whether term_filter put ``node`` (a child of the root's AND) into the candidates' key
    filter exactly: as a required child, or (``excluded``) as a NOT child's excluded keys."""
    found, exact = term_filter(node.child if excluded and isinstance(node, Not) else node)
    return found is not None and exact


# More terms than this to look for in each candidate's text, and it is tokenised instead
# (a scan is ~5-60 us a term, tokenising ~300 us a document).
MAX_SCANS = 6


def verdict_of(node: Node) -> Verdict | None:
    """A check of ``node`` on a candidate's raw fields, or None when tokenising the
    candidate is the better way (as before): nothing to look for, or too much.

    Each term (a phrase, a word, a prefix) is looked for with
    :class:`alerts.phrase_scan.PhraseScan` (a pattern search instead of tokenising ~700
    words); the tree is read in three-valued logic, and the children of the root's AND that
    the key filter already decided exactly (every candidate carries them) count as True.
    """
    scans: list[PhraseScan] = []
    verdict = _verdict(node, True, scans)
    return verdict if scans and len(scans) <= MAX_SCANS else None


def _verdict(node: Node, top: bool, scans: list[PhraseScan]) -> Verdict:
    if isinstance(node, Term):
        atoms: list[tuple[Mode, str]] = [(a.mode, a.norm) for a in node.atoms]
        if not PhraseScan.usable(atoms):
            return _unknown
        scans.append(PhraseScan(atoms))
        return _phrase_verdict(scans[-1])
    if isinstance(node, Not):
        inner = _verdict(node.child, False, scans)
        return _unknown if inner is _unknown else _not_verdict(inner)
    if isinstance(node, And | Or):
        decided = top and isinstance(node, And) and term_filter(node)[0] is not None
        children = [
            _verdict(child, False, scans)
            for child in node.children
            # True for every candidate: the key filter decided it
            if not (decided and _exact(child, isinstance(child, Not)))
        ]
        return _all_verdict(children, wanted=isinstance(node, Or))
    raise TypeError(f"unknown query node {node!r}")


def _unknown(title: str, text: str) -> bool | None:
    return None


# --- results ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Found:
    document: StoredDocument
    spans: SnippetSpans

    @property
    def source_label(self) -> str:
        return source_label(self.document)

    @property
    def snippet(self) -> str:
        return "".join(text for text, _ in self.spans)

    def highlighted(self, before: str = "[", after: str = "]") -> str:
        return "".join(f"{before}{t}{after}" if hit else t for t, hit in self.spans)


@dataclass(frozen=True)
class Results:
    query: Query | None
    total: int
    total_exact: bool  # False: at least ``total`` (confirmation stopped counting: find)
    found: list[Found]


def source_label(doc: StoredDocument) -> str:
    """Who published a document: the publisher or feed for news, else the source's id."""
    if doc.kind == "news":
        extra = doc.extra if isinstance(doc.extra, dict) else {}
        feeds = extra.get("feeds") or []
        for name in (doc.site_name, extra.get("publisher"), feeds[0] if feeds else None):
            if isinstance(name, str) and name.strip():
                return name.strip()
    return doc.source


def _found(doc: StoredDocument, query: Query | None, tokens: DocTokens | None = None) -> Found:
    tokens = tokens or document_tokens(doc.title, doc.summary, doc.body)
    terms = query.matched_terms(tokens) if query is not None else ()
    return Found(doc, snippet_spans(tokens, terms))


def _confirmed(doc: CandidateText, query: Query) -> DocTokens | None:
    tokens = document_tokens(doc.title, doc.summary, doc.body)
    return tokens if query.root.matches(tokens) else None


def _reader(store: Engine | DocumentReader) -> DocumentReader:
    from db.sqlite_search import SqliteReader

    if isinstance(store, SqliteReader):
        return store
    from sqlalchemy import Engine

    from db.search import EngineReader

    return EngineReader(store) if isinstance(store, Engine) else store


def find(
    store: Engine | DocumentReader,
    query: Query | None,
    scope: Scope = Scope(),
    *,
    limit: int = 20,
    offset: int = 0,
    refresh: bool = True,
    count_up_to: int = CONFIRM_LIMIT,
) -> Results:
    """The documents ``query`` matches within ``scope``, newest first, and how many there are.

    ``store``: an engine, or a reader (`councilwatch search` passes db.sqlite_search's on a
    SQLite file, which needs no SQLAlchemy unless keys must be cut).
    ``count_up_to``: a query whose candidates are confirmed one by one (a phrase) stops
    counting once the page is full and this many candidates are read; the total is then "at
    least" (``total_exact`` False). The web page asks for 1,000: its count is a guide, its
    time is the reader's.
    """
    reader = _reader(store)
    # A search asks the cheap question first (counts, revised documents) instead of
    # walking every document's hash: db.search.keys_may_be_stale.
    if refresh and reader.keys_may_be_stale():
        refresh_keys(reader.engine())
    terms, exact = term_filter(query.root) if query is not None else (None, True)
    if exact:
        docs = reader.find_documents(terms, scope, limit=limit, offset=offset)
        total = reader.count_documents(terms, scope)
        return Results(query, total, True, [_found(d, query) for d in docs])
    assert query is not None
    return _confirm(reader, query, terms, scope, limit=limit, offset=offset, budget=count_up_to)


def _confirm(
    reader: DocumentReader,
    query: Query,
    terms: TermFilter | None,
    scope: Scope,
    *,
    limit: int,
    offset: int,
    budget: int = CONFIRM_LIMIT,
) -> Results:
    """A superset filter's candidates confirmed one by one, newest first, reading their texts
    alone; the page's documents read after. Counting stops at CONFIRM_LIMIT candidates, or
    past ``budget`` of them once the page is full."""
    page: dict[int, DocTokens | None] = {}  # the page's ids, with their tokens if made
    total = seen = 0
    exact = True
    quick = verdict_of(query.root)
    with closing(reader.iter_texts(terms, scope)) as candidates:  # may stop early
        for doc in candidates:
            seen += 1
            if seen > CONFIRM_LIMIT or (seen > budget and total >= offset + limit):
                exact = False
                break
            # Read from the raw text when it tells (a phrase: ~13x cheaper than tokenising),
            # else tokenised and asked of the matcher.
            known = quick(doc.title, document_text(doc.summary, doc.body)) if quick else None
            tokens = None
            if known is None:
                tokens = _confirmed(doc, query)
                if tokens is None:
                    continue
            elif not known:
                continue
            if offset <= total < offset + limit:
                page[doc.id] = tokens
            total += 1
    # Read in a statement of their own: a document changed since shows as it is now (its
    # tokens made again), one deleted since is left out.
    found = []
    for stored in reader.documents(list(page)):
        tokens = page[stored.id]
        text = (stored.title, document_text(stored.summary, stored.body))
        found.append(
            _found(stored, query, tokens if tokens is not None and tokens.fields == text else None)
        )
    return Results(query, total, exact, found)


def search(
    store: Engine | DocumentReader,
    text: str,
    scope: Scope = Scope(),
    *,
    limit: int = 20,
    offset: int = 0,
    count_up_to: int = CONFIRM_LIMIT,
) -> Results:
    """Parse ``text`` as an alert query (QueryError with its position) and :func:`find` it."""
    return find(
        store, parse_query(text), scope, limit=limit, offset=offset, count_up_to=count_up_to
    )


def as_json(found: Found) -> dict[str, Any]:
    doc = found.document
    return {
        "id": doc.id,
        "kind": doc.kind,
        "source": found.source_label,
        "title": doc.title,
        "url": doc.url,
        "date": day_of(doc),
        "reference": doc.reference,
        "organisation": doc.organisation,
        "outcome": doc.outcome,
        "snippet": " ".join(found.highlighted().split()),
    }


def day_of(doc: StoredDocument) -> str | None:
    if doc.decided_on is not None:
        return doc.decided_on.isoformat()
    moment = doc.published_at or doc.first_seen_at
    return moment.date().isoformat() if moment is not None else None


__all__: Sequence[str] = [
    "Found",
    "Results",
    "document_keys",
    "document_tokens",
    "find",
    "index_stored",
    "key_text",
    "refresh_keys",
    "search",
    "source_label",
    "store_searchable",
    "term_filter",
]
