"""One pipeline per fetch run: ingest -> recognise councils -> match alerts -> queue matches.

An exception in one document is logged with its URL and skipped; the rest of the run goes on.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import cast

from sqlalchemy import Engine

from alerts.councils import Register, classify_organisation, find_councils
from alerts.documents import MatchDocument
from alerts.matcher import MatchedBatch
from councilwatch.alert_index import AlertIndex
from councilwatch.news_linking import link_documents
from councilwatch.search import store_searchable
from db.alert_log import ActiveAlert
from db.digest_data import ShownDocument
from db.ingest import DocumentRecord, UpsertResult
from db.matches import CouncilTag, NewMatchSet, add_match_sets, set_document_councils

log = logging.getLogger("councilwatch.pipeline")

# How much of a long document the recogniser reads: council names in a decision or story
# appear early, and reading whole 50 KB pages for every document buys little.
RECOGNISE_CHARS = 20_000


@dataclass
class PipelineReport:
    upsert: UpsertResult
    tagged: int = 0
    matches: int = 0
    linked: int = 0  # stories now linked to the decision they report
    skipped: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"{self.upsert.summary()}, {self.tagged} council tags, {self.matches} alert matches"
            + (f", {self.linked} stories linked to decisions" if self.linked else "")
            + (f", {len(self.skipped)} skipped" if self.skipped else "")
        )


def councils_of(record: DocumentRecord, register: Register) -> list[CouncilTag]:
    tags: dict[str, CouncilTag] = {}
    if record.organisation:
        org = classify_organisation(record.organisation, register)
        if org.council_id:
            tags[org.council_id] = CouncilTag(org.council_id, record.organisation, 1.0)
    text = "\n".join(part for part in (record.title, record.summary, record.body) if part)
    for mention in find_councils(text[:RECOGNISE_CHARS], register):
        if mention.council_id not in tags:
            tags[mention.council_id] = CouncilTag(
                mention.council_id, mention.matched_text, mention.confidence
            )
    return list(tags.values())


def process(
    engine: Engine,
    records: Sequence[DocumentRecord],
    *,
    register: Register,
    now: datetime,
    backfill: bool = False,
    alert_index: AlertIndex | None = None,
) -> PipelineReport:
    """Store the documents, tag their councils, and record which alerts the new ones match.

    ``alert_index``: the process's long-lived index (the Runtime's); without one, the
    alerts are filed afresh for this batch.
    """
    # Searchable at once, in the alert language's words: keys cut while the upsert writes.
    result = store_searchable(engine, records, now=now, backfill=backfill)
    report = PipelineReport(result)
    touched = set(result.inserted) | set(result.updated)
    tags: dict[int, list[CouncilTag]] = {}
    docs: list[MatchDocument] = []
    new = set(result.inserted)
    for record in records:
        doc_id = result.ids.get(record.key)
        if doc_id is None or doc_id not in touched:
            continue
        try:
            tags[doc_id] = councils_of(record, register)
            if doc_id in new:
                docs.append(_match_document(doc_id, record, tags[doc_id]))
        except Exception:  # one bad document must not lose the run
            log.exception("skipped document %s while recognising councils", record.url)
            report.skipped.append(record.url)
    report.tagged = set_document_councils(engine, tags)
    try:
        report.linked = link_documents(engine, register, list(tags), now=now)
    except Exception:  # a story left unlinked must not lose the run's matches
        log.exception("linking stories to decisions failed; the documents are stored")
    if docs:
        index = alert_index if alert_index is not None else AlertIndex()
        matches, alerts = index.match(engine, register, docs)
        report.matches = record_matches(engine, matches, alerts, now=now, backfill=backfill)
    return report


def record_matches(
    engine: Engine,
    matches: MatchedBatch,
    alerts: Mapping[int, ActiveAlert],
    *,
    now: datetime,
    backfill: bool,
) -> int:
    """One match set per document; returns the matches recorded.

    What a match shows (its councils, terms and snippet) is not stored: the digest works it
    out from the document and the alert when it is sent (councilwatch/digests.py). So the
    batch's alert ids are enough; no Match is built.
    """
    # Only documents first seen after the alert was made are news to it.
    news = {alert_id for alert_id, alert in alerts.items() if _created_before(alert, now)}
    sets = []
    for doc_id, alert_ids in matches.by_document():
        kept = list(filter(news.__contains__, alert_ids))  # the index's alert ids are ints
        if kept:
            sets.append(NewMatchSet(int(doc_id), cast(list[int], kept), backfill))
    return add_match_sets(engine, sets, now=now)


def encode_snippet(spans: Sequence[tuple[str, bool]]) -> str:
    """A snippet as JSON [[text, highlighted], ...]: unambiguous whatever the text contains."""
    return json.dumps(
        [[text, bool(highlighted)] for text, highlighted in spans], ensure_ascii=False
    )


def _created_before(alert: ActiveAlert, now: datetime) -> bool:
    created = alert.created_at
    if created.tzinfo is None:
        created = created.replace(tzinfo=now.tzinfo)
    return created <= now


def stored_match_document(doc: ShownDocument, councils: Iterable[str]) -> MatchDocument:
    """A stored document as the matcher saw it when it was new (same title, text, fields)."""
    return MatchDocument(
        id=doc.id or 0,
        kind=doc.kind,
        source=doc.source,
        title=doc.title or "",
        text="\n".join(part for part in (doc.summary, doc.body) if part),
        councils=frozenset(councils),
        outcome=doc.outcome,
        category=doc.category,
    )


def _match_document(doc_id: int, record: DocumentRecord, tags: list[CouncilTag]) -> MatchDocument:
    return MatchDocument(
        id=doc_id,
        kind=record.kind,
        source=record.source,
        title=record.title,
        text="\n".join(part for part in (record.summary, record.body) if part),
        councils=frozenset(tag.council_id for tag in tags),
        outcome=record.outcome,
        category=record.category,
    )
