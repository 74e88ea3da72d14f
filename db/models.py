"""SQLModel tables. Later features add theirs by migration (see db/migrations/versions)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    Index,
    LargeBinary,
    Text,
    UniqueConstraint,
)
from sqlmodel import Field, SQLModel


def _utc(column_name: str | None = None, *, nullable: bool = True, index: bool = False) -> Any:
    return Field(
        default=None,
        sa_column=Column(column_name, DateTime(timezone=True), nullable=nullable, index=index),
    )


def dated(decided_on: date | None, published_at: datetime | None, fallback: datetime) -> datetime:
    """A document's ``dated_at``: decided on (midnight UTC), else published, else ``fallback``
    (when it was first seen)."""
    if decided_on is not None:
        return datetime.combine(decided_on, time.min, UTC)
    return published_at if published_at is not None else fallback


def _dated_default(context: Any) -> datetime:
    # an INSERT that does not name dated_at (the ORM, tests) gets it from the row's own dates
    values = context.get_current_parameters()
    return dated(values.get("decided_on"), values.get("published_at"), values["first_seen_at"])


class Document(SQLModel, table=True):
    """A decision or a news article: one row per (source, source_key)."""

    __tablename__ = "documents"
    __table_args__ = (
        UniqueConstraint("source", "source_key", name="uq_documents_source_key"),
        Index("ix_documents_kind_first_seen", "kind", "first_seen_at"),
        # /documents pages by (dated_at, id) in either direction: keyset pagination
        Index("ix_documents_dated", "dated_at", "id"),
        Index("ix_documents_kind_dated", "kind", "dated_at", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=16)
    source: str = Field(max_length=64)
    source_key: str = Field(max_length=512)
    url: str = Field(max_length=2048)
    title: str = Field(default="", sa_column=Column(Text, nullable=False))
    summary: str = Field(default="", sa_column=Column(Text, nullable=False))
    body: str = Field(default="", sa_column=Column(Text, nullable=False))
    published_at: datetime | None = _utc()
    decided_on: date | None = Field(default=None, index=True)
    first_seen_at: datetime = _utc(nullable=False)
    updated_at: datetime = _utc(nullable=False)
    # The date people know a document by: decided on (midnight UTC), else published, else
    # first seen. Browsing orders by it: a backfill stores the oldest decisions last.
    dated_at: datetime = Field(
        default=None,
        sa_column=Column(DateTime(timezone=True), nullable=False, default=_dated_default),
    )
    content_hash: str = Field(max_length=64)
    backfill: bool = Field(default=False)
    partial: bool = Field(default=False)
    # Decision fields, null for news.
    reference: str | None = Field(default=None, max_length=32, index=True)
    organisation: str | None = Field(default=None, max_length=512)
    category: str | None = Field(default=None, max_length=128)
    subcategory: str | None = Field(default=None, max_length=128)
    outcome: str | None = Field(default=None, max_length=64)
    outcome_text: str | None = Field(default=None, max_length=512)
    # News fields, null for decisions.
    author: str | None = Field(default=None, max_length=512)
    site_name: str | None = Field(default=None, max_length=256)
    cluster_key: str | None = Field(default=None, max_length=512, index=True)
    # Everything else a parser extracts (remedies, sections, references, pdf link, ...).
    extra: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


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

    __tablename__ = "document_councils"

    document_id: int = Field(foreign_key="documents.id", primary_key=True)
    council_id: str = Field(max_length=64, primary_key=True, index=True)
    matched_text: str = Field(default="", max_length=512)
    confidence: float = Field(default=1.0)


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

    __tablename__ = "fetch_runs"
    __table_args__ = (Index("ix_fetch_runs_source_started", "source", "started_at"),)

    id: int | None = Field(default=None, primary_key=True)
    source: str = Field(max_length=64)
    mode: str = Field(default="incremental", max_length=32)
    started_at: datetime = _utc(nullable=False)
    finished_at: datetime | None = _utc()
    ok: bool | None = None
    requests: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    failures: int = 0
    error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    stats: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


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

    __tablename__ = "document_links"

    story_id: int = Field(foreign_key="documents.id", primary_key=True)
    decision_id: int = Field(foreign_key="documents.id", primary_key=True, index=True)
    score: float = Field(default=0.0)
    reasons: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    linked_at: datetime = _utc(nullable=False)
