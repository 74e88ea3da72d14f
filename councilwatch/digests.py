"""Digests end to end: pending alert matches -> one email per subscriber -> outbox + ledger.

For each confirmed subscriber with pending matches on alerts of one frequency, ``run_digests``
builds ONE ``Digest``: every document (or news story cluster) once, with the names of every
alert that matched it, grouped by council; old documents only as catch-up counts.

What makes a document catch-up is its age, not the command that fetched it: decided (or
published) before the source's incremental window, or, when it was stored by a run that sees
everything at once (a source's first run, an operator's ``fetch --since``), before the
subscriber confirmed. A decision found by an incremental run is new by construction: it
appeared on the listing since the last run, however long ago it was decided. Catch-up is held
back until every enabled source has run once, so the first run gives one catch-up email, not
one per source.

The rendered emails are queued, their ledger rows written and their matches marked digested
in one write transaction per group of up to ``QUEUE_EVERY`` digests (a transaction per digest
was a third of a run on SQLite), so a crash leaves all of a group or none of it; the rerun
builds the rest.

Never the same item twice: a document already in the subscriber's ledger (sent by another
alert, another frequency, or as another title's copy of the same story) is dropped, and its
matches are marked digested so they do not wait forever. The outbox key is derived from the
set of documents, so running the same work twice queues one email.
"""

from __future__ import annotations

import hashlib
import logging
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Generator, Iterable, Mapping, Sequence
from contextlib import closing
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, TypeVar

from sqlalchemy import Engine

from alerts.councils import Register
from alerts.digest import (
    CatchUpLine,
    CouncilGroup,
    DecisionItem,
    Digest,
    DigestItem,
    DigestRenderer,
    Link,
    Segment,
    SourceHealth,
    StoryItem,
)
from alerts.digest.model import decision_for, story_for, with_card
from alerts.documents import AlertSpec, Match
from alerts.explain import Explainer
from alerts.mail.message import Mail, build_message, make_message_id
from councilwatch.alert_index import StoredAlert, alert_spec
from councilwatch.digest_share import Share, shared_batches
from councilwatch.digest_text import (
    StorySentences,
    aware,
    local_date,
    outcome_label,
    remedy_lines,
    shorten,
    source_label,
    story_excerpt,
    story_sentences,
    titles,
)
from councilwatch.mailer import footer_links, mail_domain, serialise
from councilwatch.pipeline import encode_snippet, stored_match_document
from councilwatch.runtime import Runtime
from councilwatch.sources_registry import catch_up_starts
from cwerrors import CouncilwatchError
from db.alert_log import ActiveAlert
from db.digest_data import (
    DigestSubscriber,
    DocumentCache,
    QueuedDigest,
    ShownDocument,
    alert_marks,
    digest_documents,
    digest_subscriber_ids,
    digest_window,
    documents_by_id,
    keyword_alerts,
    live_alerts,
    queue_digests,
    settle,
    story_ids,
    subscribers_by_id,
)
from db.health_state import unhealthy_since
from db.links import StoredLink, links_of
from db.matches import MatchSetRow, document_councils
from db.outbox import OutgoingMessage
from db.subscriptions import FREQUENCIES

if TYPE_CHECKING:
    from councilwatch.health import SourceStatus

log = logging.getLogger("councilwatch.digests")


SUBSCRIBER_BATCH = 200  # subscribers loaded per round: bounded memory for large lists
QUEUE_EVERY = 50  # digests queued per write transaction (with their ledger rows and marks)
SUMMARY_CHARS = 420  # a decision summary is a paragraph, not the whole decision
SNIPPET_CHARS = 240
ITEMS_KEPT = 8192  # digest items remembered per run (all but the alert names), then forgotten
NO_COUNCIL = "Other organisations"  # keyword alerts can match documents naming no council

_Texts = tuple[str, ...]


@dataclass(frozen=True)
class BuiltDigest:
    """One subscriber's email, ready for the outbox (or printed by a dry run)."""

    subscriber_id: int
    to_address: str
    idempotency_key: str
    subject: str
    message: Mail
    document_ids: tuple[int, ...]  # what the ledger records: items, story copies, catch-up
    alert_ids: tuple[int, ...]  # the alerts whose pending matches this digest settles
    items: int
    catch_up: int

    def as_text(self) -> str:
        return serialise(self.message)


@dataclass
class DigestRunReport:
    frequency: str
    dry_run: bool = False
    queued: int = 0  # outbox rows written by this run
    already_queued: int = 0  # the same documents were queued before (same idempotency key)
    items: int = 0
    catch_up: int = 0  # backfill documents summarised instead of listed
    dropped: int = 0  # matches on documents the subscriber was already sent
    digests: list[BuiltDigest] = field(default_factory=list)  # filled on dry runs only

    def line(self) -> str:
        verb = "would queue" if self.dry_run else "queued"
        count = len(self.digests) if self.dry_run else self.queued
        text = f"{self.frequency}: {verb} {count} digests ({self.items} items"
        text += f", {self.catch_up} in catch-up" if self.catch_up else ""
        text += f", {self.dropped} already sent" if self.dropped else ""
        return text + ")"


def run_digests(
    runtime: Runtime,
    frequency: str,
    *,
    dry_run: bool = False,
    share: str | None = None,
    worker: str = "",
    joins: bool = False,
    on_queued: Callable[[], object] | None = None,
) -> DigestRunReport:
    """Build and queue this frequency's digests; with ``dry_run`` build them and change nothing.

    The caller holds the "digest" lock (the service job and `councilwatch digest send` do),
    unless several workers share one run: then each passes the same ``share`` name (the
    run's slot) and claims batches of subscribers (fixed id ranges) as leases, one at a time,
    so each batch, and each digest, is built by one of them (councilwatch/digest_share.py);
    a worker that ``joins`` (it did not win the slot) waits for the winner to open the run.
    ``on_queued`` is called after each group of digests is committed to the outbox (the
    service job wakes its sending thread with it).
    """
    if frequency not in FREQUENCIES:
        raise CouncilwatchError(
            f"unknown digest frequency {frequency!r} (use {', '.join(FREQUENCIES)})"
        )
    engine = runtime.migrated_engine()
    now = runtime.now()
    report = DigestRunReport(frequency, dry_run)
    builder = _Builder(runtime, now)
    window = _Window.load(engine, frequency)
    explained = False
    known = _Known()  # documents read once a run, not once a batch
    considered: set[int] = set()
    if share is not None and not dry_run:
        batches = _shared_batches(runtime, engine, frequency, Share(share, worker, not joins))
    else:
        batches = _subscriber_batches(engine, frequency)
    # Closed on the way out: a run failing mid-batch stops renewing that batch's lease at
    # once (another worker takes it over), even while something keeps the exception.
    with closing(batches):
        for batch in batches:
            if not explained:  # once there is a batch to build (a joiner may get none)
                builder.deriver.explain_stories(engine, window.sets, frequency)
                explained = True
            works, alert_ids = _load(engine, batch, frequency, window, builder.deriver, known)
            considered |= alert_ids
            ready: list[BuiltDigest] = []
            settled: set[int] = set()  # alerts whose matches this batch settles
            for work in works:
                built, dropped = builder.build(work)
                report.dropped += dropped
                if built is None:
                    if dropped:
                        settled.update(work.alerts)
                    continue
                report.items += built.items
                report.catch_up += built.catch_up
                if dry_run:
                    report.digests.append(built)
                    continue
                ready.append(built)
                settled.update(built.alert_ids)
                if len(ready) >= QUEUE_EVERY:  # bounded: a batch's emails are megabytes
                    _queue(engine, ready, settled, window.through, now, report, on_queued)
                    ready, settled = [], set()
            if not dry_run and (ready or settled):
                _queue(engine, ready, settled, window.through, now, report, on_queued)
    if not dry_run:
        # Alerts with nothing pending move up too, so the next run reads only newer sets.
        settle(engine, sorted(considered), window.through)
    if report.queued or report.digests or report.dropped:
        log.info("digests %s", report.line())
    return report


# -- loading -------------------------------------------------------------------------------------


@dataclass
class _Window:
    """The match sets a run reads (above the lowest mark of its alerts, up to the newest set
    when it started), inverted: alert id -> the sets holding it."""

    through: int
    by_alert: dict[int, list[MatchSetRow]]
    sets: list[MatchSetRow]

    @classmethod
    def load(cls, engine: Engine, frequency: str) -> _Window:
        read = digest_window(engine, frequency)
        by_alert: dict[int, list[MatchSetRow]] = defaultdict(list)
        for found in read.sets:
            for alert_id in found.alert_ids:
                by_alert[alert_id].append(found)
        return cls(read.through, by_alert, read.sets)


class _Match:
    """One pending (alert, document) match; what it shows is worked out when first asked."""

    __slots__ = ("_alert", "_deriver", "alert_id", "backfill", "document_id", "set_id")

    def __init__(self, found: MatchSetRow, alert: StoredAlert, deriver: _Deriver) -> None:
        self.set_id = found.id
        self.alert_id = alert.id or 0
        self.document_id = found.document_id
        self.backfill = found.backfill
        self._alert = alert
        self._deriver = deriver

    @property
    def alert(self) -> StoredAlert:
        return self._alert

    @property
    def councils(self) -> tuple[str, ...]:
        """The alert's councils the document names (empty: the alert names no council)."""
        return self._deriver.councils(self._alert, self.document_id)

    @property
    def terms(self) -> list[str]:
        return self._deriver.terms(self._alert, self.document_id)

    @property
    def snippet(self) -> str:
        return self._deriver.snippet(self._alert, self.document_id)

    @property
    def highlighted(self) -> list[str]:
        """The snippet's highlighted texts (what ``parse_snippet(snippet)`` marks)."""
        return self._deriver.highlighted(self._alert, self.document_id)

    @property
    def highlights(self) -> _Texts:
        """The highlighted texts when the match found terms, else none (a council-only match
        shows the sentence naming the council)."""
        return self._deriver.highlights(self._alert, self.document_id)


class _Deriver:
    """Works out a match's councils, terms and snippet from the stored document and alert, as
    the matcher did when it recorded the match (alerts/explain.py), sharing the work between
    the subscribers of a run: specs per alert (for its batch: an alert has one subscriber).

    A run's story matches are explained before its first batch (``explain_stories``), story
    by story: each story is tokenised once a run, every pending keyword match on it
    explained, and only their terms and highlighted texts kept; the tokens (~0.4 MB a story,
    a 50 KB story's worth of Token objects) are dropped with the story. What that did not
    cover (an alert edited since, a feed's explanation) is explained when asked, the first
    ``TOKENISED`` stories' tokens kept.
    """

    TOKENISED = 32  # stories whose tokens are kept, for what the first pass did not explain

    def __init__(self, register: Register) -> None:
        self.register = register
        self.documents: dict[int, tuple[ShownDocument, list[str]]] = {}
        self._specs: dict[int, AlertSpec | None] = {}
        self._explainers: dict[int, Explainer] = {}
        self._matches: dict[tuple[int, int], Match | None] = {}
        # (alert id, story id) -> (the alert's query then, the query's terms found, the
        # snippet's highlighted texts); equal tuples shared
        self._explained: dict[tuple[int, int], tuple[str | None, _Texts, _Texts]] = {}

    def use(self, documents: Mapping[int, ShownDocument], tags: Mapping[int, list[str]]) -> None:
        """The documents of the next batch of subscribers."""
        self.documents = {doc_id: (doc, tags.get(doc_id, [])) for doc_id, doc in documents.items()}
        self._matches = {}
        self._specs = {}

    def explain_stories(
        self, engine: Engine, sets: Sequence[MatchSetRow], frequency: str, chunk: int = 200
    ) -> None:
        """Explain every pending keyword match on a story in ``sets`` (a run's window), one
        story at a time, keeping only what digests show of it."""
        stories = story_ids(engine, sorted({s.document_id for s in sets}))
        story_sets = [s for s in sets if s.document_id in stories]
        alerts = keyword_alerts(
            engine, sorted({a for s in story_sets for a in s.alert_ids}), frequency
        )
        marks = alert_marks(engine, alerts)
        by_story: dict[int, list[ActiveAlert]] = defaultdict(list)
        for found in story_sets:
            for alert_id in found.alert_ids:
                alert = alerts.get(alert_id)
                if alert is not None and found.id > marks.get(alert_id, 0):
                    by_story[found.document_id].append(alert)
        specs: dict[int, AlertSpec | None] = {}
        shared: dict[_Texts, _Texts] = {}
        ids = sorted(by_story)
        for k in range(0, len(ids), chunk):
            part = ids[k : k + chunk]
            documents, tags = documents_by_id(engine, part), document_councils(engine, part)
            for doc_id in part:
                doc = documents.get(doc_id)
                if doc is None:
                    continue
                explainer = Explainer(stored_match_document(doc, tags.get(doc_id, [])))
                for alert in by_story[doc_id]:
                    if alert.id not in specs:
                        specs[alert.id] = self._spec_of(alert)
                    spec = specs[alert.id]
                    if spec is None or spec.query is None:
                        continue
                    match = explainer.match(spec)
                    terms = tuple(match.terms)
                    # no terms found, nothing highlighted (a query matched by its NOTs alone)
                    marked = tuple(str(t) for t, hit in match.snippet_spans if hit) if terms else ()
                    self._explained[(alert.id, doc_id)] = (
                        alert.query,
                        shared.setdefault(terms, terms),
                        shared.setdefault(marked, marked),
                    )

    def _spec_of(self, alert: StoredAlert) -> AlertSpec | None:
        try:
            return alert_spec(alert, self.register)
        except CouncilwatchError:  # the alert cannot be matched any more: no councils
            return None

    def _done(self, alert: StoredAlert, document_id: int) -> tuple[_Texts, _Texts] | None:
        done = self._explained.get((alert.id or 0, document_id))
        if done is None or done[0] != alert.query:
            return None
        return done[1], done[2]

    def spec(self, alert: StoredAlert) -> AlertSpec | None:
        alert_id = alert.id or 0
        if alert_id not in self._specs:
            self._specs[alert_id] = self._spec_of(alert)
        return self._specs[alert_id]

    def councils(self, alert: StoredAlert, document_id: int) -> tuple[str, ...]:
        if not alert.councils and not alert.counties:
            # A keyword or filter alert: its spec has no councils whether or not it parses,
            # so its query is not parsed for this (once an alert a run: most of what
            # listing an item under its council cost).
            return ()
        spec = self.spec(alert)
        if spec is None or not spec.councils:
            return ()
        named = frozenset(self.documents[document_id][1])
        return tuple(named) if len(named) == 1 else tuple(sorted(spec.councils & named))

    def explained(self, alert: StoredAlert, document_id: int) -> tuple[list[str], str]:
        return self.terms(alert, document_id), self.snippet(alert, document_id)

    def terms(self, alert: StoredAlert, document_id: int) -> list[str]:
        done = self._done(alert, document_id)
        if done is not None:
            return list(done[0])
        match = self._match(alert, document_id)
        return list(match.terms) if match is not None else []

    def snippet(self, alert: StoredAlert, document_id: int) -> str:
        """The snippet as stored spans (JSON); cut only for the matches a digest shows."""
        match = self._match(alert, document_id)
        if match is None:
            return encode_snippet(self._explainer(document_id).spans(()))
        return encode_snippet(match.snippet_spans)

    def highlighted(self, alert: StoredAlert, document_id: int) -> list[str]:
        """The highlighted texts of the snippet, without encoding it as JSON to parse back."""
        done = self._done(alert, document_id)
        if done is not None:
            return list(done[1])
        match = self._match(alert, document_id)
        if match is None:
            return []
        return [str(text) for text, highlighted in match.snippet_spans if highlighted]

    def highlights(self, alert: StoredAlert, document_id: int) -> _Texts:
        """``highlighted`` if ``terms`` found any, else (): shared tuples, no copies."""
        done = self._done(alert, document_id)
        if done is not None:
            return done[1] if done[0] else ()
        if alert.query is None:  # a council or filter alert finds no terms: no tokenising
            return ()
        if not self.terms(alert, document_id):
            return ()
        return tuple(self.highlighted(alert, document_id))

    def _match(self, alert: StoredAlert, document_id: int) -> Match | None:
        key = (alert.id or 0, document_id)
        if key not in self._matches:
            spec = self.spec(alert)
            self._matches[key] = None if spec is None else self._explainer(document_id).match(spec)
        return self._matches[key]

    def _explainer(self, document_id: int) -> Explainer:
        explainer = self._explainers.get(document_id)
        if explainer is None:
            doc, named = self.documents[document_id]
            explainer = Explainer(stored_match_document(doc, named))
            if len(self._explainers) < self.TOKENISED:
                self._explainers[document_id] = explainer
        return explainer


@dataclass
class _Work:
    """One subscriber's pending matches and everything needed to describe them."""

    subscriber: DigestSubscriber
    alerts: dict[int, StoredAlert]
    matches: list[_Match]
    documents: Mapping[int, ShownDocument]
    cluster_members: Mapping[str, Sequence[ShownDocument]]
    sent: set[int]  # documents already in this subscriber's ledger
    tags: dict[int, list[str]]  # councils each document names, most confident first
    # stories and the decisions they report (db/links.py), by document id, both ways
    links: dict[int, list[StoredLink]] = field(default_factory=dict)


def _subscriber_batches(engine: Engine, frequency: str) -> Generator[list[DigestSubscriber]]:
    """Confirmed subscribers with a live alert of ``frequency``; unconfirmed, unsubscribed
    and bouncing addresses never get a digest.

    Batches are fixed ranges of ids (so workers sharing a run agree on them), read one at a
    time: 100,000 subscribers are never all in memory.
    """
    for members in _subscriber_ranges(engine, frequency).values():
        yield subscribers_by_id(engine, members)


def _subscriber_ranges(engine: Engine, frequency: str) -> dict[int, list[int]]:
    """The ids of the subscribers due a digest, by batch (id // SUBSCRIBER_BATCH)."""
    ranges: dict[int, list[int]] = {}
    for subscriber_id in digest_subscriber_ids(engine, frequency):
        ranges.setdefault(subscriber_id // SUBSCRIBER_BATCH, []).append(subscriber_id)
    return ranges


def _shared_batches(
    runtime: Runtime, engine: Engine, frequency: str, share: Share
) -> Generator[list[DigestSubscriber]]:
    """The batches this worker claims in a shared run (loaded only once claimed)."""
    ranges = _subscriber_ranges(engine, frequency)
    for members in shared_batches(runtime, engine, frequency, share, ranges):
        yield subscribers_by_id(engine, members)


@dataclass
class _Known:
    """What a run has read of its documents (db.digest_data.DocumentCache), their council
    tags and links: each batch of subscribers names most of the day's documents again, and
    reading them per batch was a fifth of loading a batch. Bounded with the documents."""

    documents: DocumentCache = field(default_factory=DocumentCache)
    tags: dict[int, list[str]] = field(default_factory=dict)
    links: dict[int, list[StoredLink]] = field(default_factory=dict)

    def tags_and_links(
        self, engine: Engine, doc_ids: Sequence[int]
    ) -> tuple[dict[int, list[str]], dict[int, list[StoredLink]]]:
        if len(self.tags) > DocumentCache.LIMIT:
            self.tags.clear()
            self.links.clear()
        new = [doc_id for doc_id in doc_ids if doc_id not in self.tags]
        if new:
            self.tags.update(document_councils(engine, new))
            found = links_of(engine, new)
            self.links.update({doc_id: found.get(doc_id, []) for doc_id in new})
        return (
            {doc_id: self.tags[doc_id] for doc_id in doc_ids},
            {doc_id: self.links[doc_id] for doc_id in doc_ids if self.links[doc_id]},
        )


def _load(
    engine: Engine,
    subscribers: list[DigestSubscriber],
    frequency: str,
    window: _Window,
    deriver: _Deriver,
    known: _Known,
) -> tuple[list[_Work], set[int]]:
    """The batch's work, and the ids of every alert of ``frequency`` it covers."""
    ids = [s.id or 0 for s in subscribers]
    frequency_alerts = live_alerts(engine, ids, frequency)
    marks = alert_marks(engine, frequency_alerts)
    by_subscriber: dict[int, list[_Match]] = defaultdict(list)
    for alert_id, alert in frequency_alerts.items():
        settled = marks.get(alert_id, 0)
        for found in window.by_alert.get(alert_id, ()):
            if found.id > settled:
                by_subscriber[alert.subscriber_id].append(_Match(found, alert, deriver))
    for pending in by_subscriber.values():  # oldest first, as they were recorded
        pending.sort(key=lambda m: (m.set_id, m.alert_id))
    doc_ids = sorted({m.document_id for ms in by_subscriber.values() for m in ms})
    if not doc_ids:
        return [], set(frequency_alerts)
    read = digest_documents(engine, doc_ids, ids, clustered=_clustered, cache=known.documents)
    documents, members, sent = read.documents, read.cluster_members, read.sent
    tags, linked = known.tags_and_links(engine, doc_ids)
    deriver.use(documents, tags)
    works = [
        _Work(
            subscriber=subscriber,
            alerts={a: frequency_alerts[a] for a in {m.alert_id for m in matches}},
            matches=matches,
            documents=documents,
            cluster_members=members,
            sent=sent.get(subscriber.id or 0, set()),
            tags=tags,
            links=linked,
        )
        for subscriber in subscribers
        if (matches := by_subscriber.get(subscriber.id or 0))
    ]
    return works, set(frequency_alerts)


def _clustered(doc: ShownDocument) -> bool:
    # Decisions are their own item; syndicated news copies share a cluster key.
    return doc.kind != "decision" and bool(doc.cluster_key)


# -- building ------------------------------------------------------------------------------------


@dataclass
class _Item:
    """One digest entry: a decision, or a story with every stored copy of it."""

    key: str
    documents: list[ShownDocument]  # every member; the matched ones are in ``matches``
    matches: list[_Match]

    def is_catch_up(self, window_start: datetime, confirmed: datetime | None) -> bool:
        """Old by age: before the incremental window, or (seen in a run that stores
        everything at once) before the subscriber confirmed."""
        doc = self.documents[0]
        when = doc.decided_on or local_date(_story_time(doc))
        if when < local_date(window_start):
            return True
        seen_at_once = all(m.backfill for m in self.matches)
        return seen_at_once and confirmed is not None and when < local_date(aware(confirmed))


class _Builder:
    """Turns one subscriber's work into a rendered, addressed message."""

    def __init__(self, runtime: Runtime, now: datetime) -> None:
        self.settings = runtime.settings
        self.register = runtime.register
        self.now = now
        self.base = self.settings.web.base_url.rstrip("/")
        self.domain = mail_domain(self.settings)
        self.renderer = DigestRenderer(cap=self.settings.digest.items_per_group)
        from councilwatch.health import statuses

        current = statuses(runtime)  # read now: the footer says how sources are at send time
        self.health = source_health(runtime, current)
        # Some sources have run and some not yet: the first run is under way (a store nothing
        # has fetched into has no matches to hold).
        ran = [status.last_run_at is not None for status in current]
        self.hold_catch_up = any(ran) and not all(ran)
        # by source: each says how old is catch-up (councilwatch.sources_registry)
        self.window_start = catch_up_starts(self.settings, now)
        self.deriver = _Deriver(self.register)
        self.excerpts = _Excerpts()
        self._source_labels: dict[str, str] = {}
        # (item key, council, reporting items' keys) -> the item without alert names
        self._shown: dict[tuple[str, str, tuple[str, ...]], DigestItem] = {}

    def build(self, work: _Work) -> tuple[BuiltDigest | None, int]:
        """The digest for ``work`` (None when nothing is left) and the matches dropped."""
        fresh: list[_Item] = []
        dropped = 0
        for item in _items(work):
            if any((doc.id or 0) in work.sent for doc in item.documents):
                dropped += len(item.matches)
            else:
                fresh.append(item)
        subscriber = work.subscriber
        confirmed = subscriber.confirmed_at or subscriber.created_at
        old = {item.key for item in fresh if item.is_catch_up(self._window(item), confirmed)}
        if self.hold_catch_up:  # left pending until every source has run once
            fresh = [item for item in fresh if item.key not in old]
        if not fresh:
            return None, dropped
        listed = [item for item in fresh if item.key not in old]
        backfilled = [item for item in fresh if item.key in old]
        found = footer_links(self.settings, subscriber)
        digest = Digest(
            subscriber_email=subscriber.email,
            manage_url=found.manage,
            unsubscribe_url=found.unsubscribe,
            generated_at=self.now,
            groups=self._groups(work, listed),
            catch_up=self._catch_up(work, backfilled),
            source_health=self.health,
        )
        document_ids = sorted({doc.id or 0 for item in fresh for doc in item.documents})
        matched = sorted({m.document_id for item in fresh for m in item.matches})
        key = digest_key(subscriber.id or 0, matched)
        rendered = self.renderer.digest(digest)
        message = build_message(
            sender=self.settings.mail.from_,
            to=subscriber.email,
            subject=rendered.subject,
            text=rendered.text,
            html=rendered.html,
            message_id=make_message_id(key, self.domain),
            unsubscribe_url=found.unsubscribe,
            unsubscribe_mailto=found.unsubscribe_mailto,
            date=self.now,
        )
        built = BuiltDigest(
            subscriber_id=subscriber.id or 0,
            to_address=subscriber.email,
            idempotency_key=key,
            subject=rendered.subject,
            message=message,
            document_ids=tuple(document_ids),
            alert_ids=tuple(sorted(work.alerts)),
            items=len(listed),
            catch_up=len(backfilled),
        )
        return built, dropped

    def _window(self, item: _Item) -> datetime:
        doc = item.documents[0]
        return self.window_start.get(doc.source) or self.window_start.get(doc.kind, self.now)

    def source_label(self, source: str) -> str:
        """``source_label`` once a run per source (a registry look-up per decision item)."""
        label = self._source_labels.get(source)
        if label is None:
            label = self._source_labels[source] = source_label(source)
        return label

    def council_name(self, council_id: str) -> str:
        if not council_id:
            return NO_COUNCIL
        try:
            return self.register.get(council_id).name
        except CouncilwatchError:  # removed from the register since it was tagged
            return council_id

    def more_url(self, council_id: str) -> str:
        if not council_id:
            return f"{self.base}/documents"
        return f"{self.base}/documents?council={council_id}"

    def _groups(self, work: _Work, items: list[_Item]) -> tuple[CouncilGroup, ...]:
        grouped: dict[str, list[tuple[DigestItem, _Item, Sequence[_Item]]]] = defaultdict(list)
        absorbed, reporters = _reports_in_digest(work, items)
        for item in items:
            if item.key in absorbed:  # shown inside the decision it reports
                continue
            council_id = _council_of(item, work.tags)  # worked out once an item
            found = reporters.get(item.key, ())
            shown = self._shown_for(work, item, found, council_id)
            grouped[council_id].append((shown, item, found))
        cap = self.renderer.cap
        groups = []
        for council_id, entries in grouped.items():
            entries.sort(key=lambda entry: _item_order(entry[0]))
            # Only the first ``cap`` items of a group are shown: they get the subscriber's
            # alert names and a story its excerpt. The others are only counted ("and N
            # more"), so they stay the run's shared item: no copy, no excerpt cut for them.
            listed = [
                self._digest_item(work, item, found, council_id, shown) if k < cap else shown
                for k, (shown, item, found) in enumerate(entries)
            ]
            groups.append(
                CouncilGroup(
                    council_name=self.council_name(council_id),
                    items=tuple(listed),
                    more_url=self.more_url(council_id),
                    council_url=f"{self.base}/councils/{council_id}"
                    if council_id in self.register
                    else "",
                )
            )
        # The busiest council first: it leads the subject line too.
        return tuple(sorted(groups, key=lambda g: (-len(g.items), g.council_name)))

    def _catch_up(self, work: _Work, items: list[_Item]) -> tuple[CatchUpLine, ...]:
        kinds: dict[str, set[str]] = defaultdict(set)
        counts: dict[str, int] = defaultdict(int)
        for item in items:
            council_id = _council_of(item, work.tags)
            counts[council_id] += 1
            kinds[council_id].add(item.documents[0].kind)
        lines = [
            CatchUpLine(
                council_name=self.council_name(council_id),
                count=count,
                url=self.more_url(council_id),
                noun=_noun(kinds[council_id]),
            )
            for council_id, count in counts.items()
        ]
        return tuple(sorted(lines, key=lambda line: (-line.count, line.council_name)))

    def _shown_for(
        self, work: _Work, item: _Item, reporters: Sequence[_Item], council_id: str
    ) -> DigestItem:
        """What an item shows but the subscriber's alert names (and a story's excerpt, which
        follows their terms): the same in every digest that lists it, so made once a run."""
        key = (item.key, council_id, tuple(r.key for r in reporters))
        shown = self._shown.get(key)
        if shown is None:
            if len(self._shown) >= ITEMS_KEPT:
                self._shown.clear()
            shown = self._shown_item(work, item, reporters, council_id)
            shown = self._shown[key] = with_card(shown)
        return shown

    def _digest_item(
        self,
        work: _Work,
        item: _Item,
        reporters: Sequence[_Item],
        council_id: str,
        shown: DigestItem,
    ) -> DigestItem:
        """``shown`` as this subscriber sees it: with their alert names (and excerpt)."""
        matched = {work.alerts[m.alert_id].name for m in item.matches}
        matched |= {work.alerts[m.alert_id].name for r in reporters for m in r.matches}
        names = tuple(sorted(matched, key=str.casefold))
        if isinstance(shown, DecisionItem):
            return decision_for(shown, names)
        return story_for(shown, self.excerpts.snippet(item, self.council_name(council_id)), names)

    def _shown_item(
        self, work: _Work, item: _Item, reporters: Sequence[_Item], council_id: str
    ) -> DigestItem:
        doc = item.documents[0]
        links = work.links.get(doc.id or 0, [])
        if doc.kind == "decision":
            coverage = {
                link.label.casefold(): link for r in reporters for link in titles(r.documents)
            }
            for stored in links:
                label = stored.other_site_name or stored.other_title
                coverage.setdefault(label.casefold(), Link(label, stored.other_url))
            return DecisionItem(
                organisation=doc.organisation or self.council_name(council_id),
                reference=doc.reference or doc.source_key,
                outcome=outcome_label(doc),
                category=doc.category or "Uncategorised",
                subcategory=doc.subcategory or "",
                decision_date=doc.decided_on or local_date(doc.first_seen_at),
                url=doc.url,
                remedies=remedy_lines(doc.extra),
                summary=shorten(doc.summary, SUMMARY_CHARS),
                ombudsman=self.source_label(doc.source),
                outcome_kind=doc.outcome or "",
                coverage=tuple(coverage.values()),
            )
        reported = next((link for link in links if link.story_id == doc.id), None)
        return StoryItem(
            headline=doc.title or doc.url,
            titles=titles(item.documents),
            earliest_date=min(local_date(_story_time(d)) for d in item.documents),
            decision_reference=_reported(reported) if reported else "",
        )


def _reports_in_digest(work: _Work, items: list[_Item]) -> tuple[set[str], dict[str, list[_Item]]]:
    """Stories whose reported decision is an item of this digest too, so both are one item:
    (the story items' keys, decision key -> the story items reporting it)."""
    decision_keys = {
        item.documents[0].id: item.key for item in items if item.documents[0].kind == "decision"
    }
    absorbed: set[str] = set()
    reporters: dict[str, list[_Item]] = defaultdict(list)
    for item in items:
        if item.documents[0].kind == "decision":
            continue
        for doc in item.documents:
            link = next((x for x in work.links.get(doc.id or 0, []) if x.story_id == doc.id), None)
            if link is not None and link.decision_id in decision_keys:
                absorbed.add(item.key)
                reporters[decision_keys[link.decision_id]].append(item)
                break
    return absorbed, reporters


def _reported(link: StoredLink) -> str:
    """ "25 002 118 (Upheld, £900)": the decision a story reports, as its item says it."""
    remedies = link.other_extra.get("remedies") if isinstance(link.other_extra, dict) else None
    total = remedies.get("total_pence") if isinstance(remedies, dict) else None
    details = [link.other_outcome.capitalize()] if link.other_outcome else []
    if isinstance(total, int) and total > 0:
        details.append(f"£{total / 100:,.0f}" if total % 100 == 0 else f"£{total / 100:,.2f}")
    reference = link.other_reference or link.other_title
    return f"{reference} ({', '.join(details)})" if details else reference


def _items(work: _Work) -> list[_Item]:
    items: dict[str, _Item] = {}
    for match in work.matches:
        doc = work.documents.get(match.document_id)
        if doc is None:
            continue
        if _clustered(doc):
            key = f"cluster:{doc.cluster_key}"
            members = work.cluster_members.get(doc.cluster_key or "") or [doc]
        else:
            key, members = f"doc:{doc.id}", [doc]
        item = items.setdefault(key, _Item(key, sorted(members, key=_story_order), []))
        item.matches.append(match)
    return list(items.values())


def _council_of(item: _Item, tags: Mapping[int, Sequence[str]]) -> str:
    """The one council an item is listed under: the best-recognised council that made an
    alert match, else the best-recognised council the document names."""
    matched = [c for m in item.matches for c in m.councils]
    named = [c for m in item.matches for c in tags.get(m.document_id, ())]
    for council_id in named:
        if council_id in matched:
            return council_id
    return (matched or named or [""])[0]


def _item_order(item: DigestItem) -> tuple[int, int, str]:
    # Decisions lead (the subject counts them first and they carry the remedies), newest first;
    # the cap then hides the oldest stories before any decision.
    if isinstance(item, DecisionItem):
        return (0, -item.decision_date.toordinal(), item.reference)
    return (1, -item.earliest_date.toordinal(), item.headline)


def _noun(kinds: set[str]) -> str:
    if kinds == {"decision"}:
        return "decision"
    if "decision" not in kinds:
        return "story"
    return "document"


def _story_time(doc: ShownDocument) -> datetime:
    return aware(doc.published_at or doc.first_seen_at)


def _story_order(doc: ShownDocument) -> tuple[datetime, int]:
    return (_story_time(doc), doc.id or 0)


class _Excerpts:
    """Story excerpts for a run: each story's sentences split once, and each excerpt (story,
    council, terms) cut once, however many subscribers' digests show it. Both bounded."""

    SPLIT = 1024  # stories whose sentences are kept (a day's stories, mostly)
    CUT = 8192

    def __init__(self) -> None:
        self._split: OrderedDict[int, StorySentences] = OrderedDict()
        self._cut: OrderedDict[tuple[int, str, tuple[str, ...]], tuple[Segment, ...]] = (
            OrderedDict()
        )

    def snippet(self, item: _Item, council: str) -> tuple[Segment, ...]:
        # The terms a keyword match found (the pipeline's highlighted spans) pick the sentence
        # and are marked in it; a council-only match shows the sentence naming the council.
        terms = tuple(text for m in item.matches for text in m.highlights)
        matched = next(
            (d for d in item.documents if d.id in {m.document_id for m in item.matches}), None
        )
        doc = matched or item.documents[0]
        key = (doc.id or 0, council, terms)
        found = _lru_get(self._cut, key)
        if found is None:
            split = _lru_get(self._split, key[0])
            if split is None:
                split = _lru_put(self._split, key[0], story_sentences(doc), self.SPLIT)
            found = story_excerpt(split, [council], terms, SNIPPET_CHARS)
            _lru_put(self._cut, key, found, self.CUT)
        return found


_K = TypeVar("_K")
_V = TypeVar("_V")


def _lru_get(cache: OrderedDict[_K, _V], key: _K) -> _V | None:
    found = cache.get(key)
    if found is not None:
        cache.move_to_end(key)
    return found


def _lru_put(cache: OrderedDict[_K, _V], key: _K, value: _V, limit: int) -> _V:
    cache[key] = value
    if len(cache) > limit:
        cache.popitem(last=False)
    return value


@dataclass(frozen=True)
class Explained:
    """What a recorded match shows: the alert's councils the document names, the query's
    terms found, and the snippet (JSON spans, as digests and feeds read it)."""

    councils: tuple[str, ...]
    terms: list[str]
    snippet: str


def explain_matches(
    engine: Engine, register: Register, alert: StoredAlert, documents: Sequence[ShownDocument]
) -> dict[int, Explained]:
    """How ``alert`` matched each of ``documents`` (the feed shows the snippet of those
    without a summary)."""
    if not documents:
        return {}
    by_id = {doc.id or 0: doc for doc in documents}
    deriver = _Deriver(register)
    deriver.use(by_id, document_councils(engine, sorted(by_id)))
    return {
        doc_id: Explained(deriver.councils(alert, doc_id), *deriver.explained(alert, doc_id))
        for doc_id in by_id
    }


def digest_key(subscriber_id: int, document_ids: Iterable[int]) -> str:
    """The outbox idempotency key: the same subscriber and documents give the same key."""
    joined = ",".join(str(doc_id) for doc_id in sorted(set(document_ids)))
    return f"digest:{subscriber_id}:{hashlib.sha256(joined.encode()).hexdigest()}"


# -- source health -------------------------------------------------------------------------------


def source_health(
    runtime: Runtime, current: Sequence[SourceStatus] | None = None
) -> tuple[SourceHealth, ...]:
    """The digest footer: every enabled source's newest item, last fetch and failure."""
    from councilwatch.health import statuses

    since = {
        name: aware(changed) for name, changed in unhealthy_since(runtime.migrated_engine()).items()
    }
    return tuple(
        SourceHealth(
            name=status.label or status.name,
            newest_item_at=status.newest_document_at,
            last_success_at=status.last_success_at,
            failing=not status.healthy,
            failing_since=since.get(status.name) if not status.healthy else None,
            noun=status.noun,
        )
        for status in (statuses(runtime) if current is None else current)
    )


# -- queueing ------------------------------------------------------------------------------------


def _queue(
    engine: Engine,
    batch: Sequence[BuiltDigest],
    alert_ids: set[int],
    through: int,
    now: datetime,
    report: DigestRunReport,
    on_queued: Callable[[], object] | None = None,
) -> None:
    """Queue digests and settle ``alert_ids`` (outbox, ledger, marks: one transaction),
    counting those queued before (same documents, same key) apart; ``on_queued()`` once
    something new is in the outbox."""
    digests = [
        QueuedDigest(
            OutgoingMessage(
                idempotency_key=built.idempotency_key,
                message_id=str(built.message["Message-ID"]),
                kind="digest",
                to_address=built.to_address,
                subject=built.subject,
                message=built.as_text(),
                subscriber_id=built.subscriber_id,
            ),
            built.document_ids,
        )
        for built in batch
    ]
    queued = queue_digests(engine, digests, alert_ids=sorted(alert_ids), through=through, now=now)
    report.queued += len(queued)
    report.already_queued += len(batch) - len(queued)
    if queued and on_queued is not None:
        on_queued()


__all__ = [
    "BuiltDigest",
    "DigestRunReport",
    "Explained",
    "digest_key",
    "explain_matches",
    "run_digests",
    "source_health",
]
