"""SQLModel tables. Later features add theirs by migration (see db/migrations/versions)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    Index,
    LargeBinary,
    Text,
)
from sqlmodel import Field, SQLModel

from db.document_tables import (
    DOCUMENT_COUNCILS,
    DOCUMENT_LINKS,
    DOCUMENTS,
    copy_into,
)
from db.document_tables import dated as dated  # where db/ingest.py finds it
from db.run_tables import FETCH_RUNS


def _utc(column_name: str | None = None, *, nullable: bool = True, index: bool = False) -> Any:
    return Field(
        default=None,
        sa_column=Column(column_name, DateTime(timezone=True), nullable=nullable, index=index),
    )


# Documents, their councils and links (db/document_tables.py), and the sources' runs
# (db/run_tables.py) are defined once, in Core: what the read path and `status` import. These
# classes map onto copies of those tables in SQLModel.metadata.
_DOCS = copy_into(DOCUMENTS, SQLModel.metadata)
_TAGS = copy_into(DOCUMENT_COUNCILS, SQLModel.metadata)
_LINKS = copy_into(DOCUMENT_LINKS, SQLModel.metadata)
_RUNS = copy_into(FETCH_RUNS, SQLModel.metadata)


class Document(SQLModel, table=True):
    """A decision or a news article: one row per (source, source_key)."""

    __table__ = _DOCS

    id: int | None = Field(default=None, sa_column=_DOCS.c.id)
    kind: str = Field(max_length=16, sa_column=_DOCS.c.kind)
    source: str = Field(max_length=64, sa_column=_DOCS.c.source)
    source_key: str = Field(max_length=512, sa_column=_DOCS.c.source_key)
    url: str = Field(max_length=2048, sa_column=_DOCS.c.url)
    title: str = Field(default="", sa_column=_DOCS.c.title)
    summary: str = Field(default="", sa_column=_DOCS.c.summary)
    body: str = Field(default="", sa_column=_DOCS.c.body)
    published_at: datetime | None = Field(default=None, sa_column=_DOCS.c.published_at)
    decided_on: date | None = Field(default=None, sa_column=_DOCS.c.decided_on)
    first_seen_at: datetime = Field(default=None, sa_column=_DOCS.c.first_seen_at)
    updated_at: datetime = Field(default=None, sa_column=_DOCS.c.updated_at)
    dated_at: datetime = Field(default=None, sa_column=_DOCS.c.dated_at)
    content_hash: str = Field(max_length=64, sa_column=_DOCS.c.content_hash)
    backfill: bool = Field(default=False, sa_column=_DOCS.c.backfill)
    partial: bool = Field(default=False, sa_column=_DOCS.c.partial)
    reference: str | None = Field(default=None, max_length=32, sa_column=_DOCS.c.reference)
    organisation: str | None = Field(default=None, max_length=512, sa_column=_DOCS.c.organisation)
    category: str | None = Field(default=None, max_length=128, sa_column=_DOCS.c.category)
    subcategory: str | None = Field(default=None, max_length=128, sa_column=_DOCS.c.subcategory)
    outcome: str | None = Field(default=None, max_length=64, sa_column=_DOCS.c.outcome)
    outcome_text: str | None = Field(default=None, max_length=512, sa_column=_DOCS.c.outcome_text)
    author: str | None = Field(default=None, max_length=512, sa_column=_DOCS.c.author)
    site_name: str | None = Field(default=None, max_length=256, sa_column=_DOCS.c.site_name)
    cluster_key: str | None = Field(default=None, max_length=512, sa_column=_DOCS.c.cluster_key)
    extra: dict[str, Any] = Field(default_factory=dict, sa_column=_DOCS.c.extra)


class DocumentCategory(SQLModel, table=True):
    """Every decision category ever stored: the browse page's subject menu reads this small
    table, not a DISTINCT over all documents. Kept by the upsert."""

    __tablename__ = "document_categories"

    category: str = Field(primary_key=True, max_length=128)


class DocumentRevision(SQLModel, table=True):
    """The previous content of a document whose content changed."""

    __tablename__ = "document_revisions"

    id: int | None = Field(default=None, primary_key=True)
    document_id: int = Field(foreign_key="documents.id", index=True)
    content_hash: str = Field(max_length=64)
    title: str = Field(default="", sa_column=Column(Text, nullable=False))
    summary: str = Field(default="", sa_column=Column(Text, nullable=False))
    body: str = Field(default="", sa_column=Column(Text, nullable=False))
    extra: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    valid_from: datetime = _utc(nullable=False)
    replaced_at: datetime = _utc(nullable=False)


class DocumentCouncil(SQLModel, table=True):
    """A council a document mentions (ids from the alerts register)."""

    __table__ = _TAGS

    document_id: int = Field(sa_column=_TAGS.c.document_id)
    council_id: str = Field(max_length=64, sa_column=_TAGS.c.council_id)
    matched_text: str = Field(default="", max_length=512, sa_column=_TAGS.c.matched_text)
    confidence: float = Field(default=1.0, sa_column=_TAGS.c.confidence)


class FetchState(SQLModel, table=True):
    """Per-URL conditional-GET validators and redirect/gone knowledge."""

    __tablename__ = "fetch_state"

    url: str = Field(primary_key=True, max_length=2048)
    etag: str | None = Field(default=None, max_length=512)
    last_modified: str | None = Field(default=None, max_length=128)
    last_status: int | None = None
    moved_to: str | None = Field(default=None, max_length=2048)
    gone: bool = Field(default=False)
    updated_at: datetime = _utc(nullable=False)


class FetchRun(SQLModel, table=True):
    """One run of one source: what it did and how it ended."""

    # Defined once, in Core (db/run_tables.py: `status` and health read it without SQLModel).
    __table__ = _RUNS

    id: int | None = Field(default=None, sa_column=_RUNS.c.id)
    source: str = Field(max_length=64, sa_column=_RUNS.c.source)
    mode: str = Field(default="incremental", max_length=32, sa_column=_RUNS.c.mode)
    started_at: datetime = Field(default=None, sa_column=_RUNS.c.started_at)
    finished_at: datetime | None = Field(default=None, sa_column=_RUNS.c.finished_at)
    ok: bool | None = Field(default=None, sa_column=_RUNS.c.ok)
    requests: int = Field(default=0, sa_column=_RUNS.c.requests)
    inserted: int = Field(default=0, sa_column=_RUNS.c.inserted)
    updated: int = Field(default=0, sa_column=_RUNS.c.updated)
    unchanged: int = Field(default=0, sa_column=_RUNS.c.unchanged)
    failures: int = Field(default=0, sa_column=_RUNS.c.failures)
    error: str | None = Field(default=None, sa_column=_RUNS.c.error)
    stats: dict[str, Any] = Field(default_factory=dict, sa_column=_RUNS.c.stats)


class NewsSignature(SQLModel, table=True):
    """A news story's clustering signature is stored (its LSH band keys are in news_bands):
    a feed run then compares only its new stories with the window, never rebuilds it."""

    __tablename__ = "news_signatures"

    document_id: int = Field(foreign_key="documents.id", primary_key=True)
    # published, else first seen: the time the clustering window is measured by
    stamp: datetime = _utc(nullable=False, index=True)
    # sorted unique 32-bit shingle hashes (numpy uint32 bytes): a candidate pair is confirmed
    # without reading and tokenising the other story again
    shingles: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class NewsBand(SQLModel, table=True):
    """One LSH band key of a stored story's signature (see scraper.dedupe.Signer)."""

    __tablename__ = "news_bands"
    __table_args__ = (Index("ix_news_bands_document", "document_id"),)

    band_key: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    document_id: int = Field(foreign_key="documents.id", primary_key=True)


class DocumentLink(SQLModel, table=True):
    """A news story judged to report a decision (alerts.news_links), with score and reasons."""

    __table__ = _LINKS

    story_id: int = Field(sa_column=_LINKS.c.story_id)
    decision_id: int = Field(sa_column=_LINKS.c.decision_id)
    score: float = Field(default=0.0, sa_column=_LINKS.c.score)
    reasons: list[str] = Field(default_factory=list, sa_column=_LINKS.c.reasons)
    linked_at: datetime = Field(default=None, sa_column=_LINKS.c.linked_at)
