"""The stored documents' tables, written once in SQLAlchemy Core: what `councilwatch search`,
`export` and /documents read, defined without SQLModel or pydantic.

These definitions are the schema: the SQLModel classes in db/models.py and db/models_search.py
map onto copies of these tables (so the ORM, the migrations' metadata and `db check` see the
same columns), and the read path imports only this module, not SQLModel and every model
class (a few hundred milliseconds of a search's start-up).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from db.search_types import MAX_WORD_LEN

# The read path's own metadata; db/models.py copies each table into SQLModel.metadata.
METADATA = MetaData()


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


def utc_column(name: str, *, nullable: bool = True) -> Column[Any]:
    """A time column, stored with its time zone (the tables of db/*_tables.py share it)."""
    return Column(name, DateTime(timezone=True), nullable=nullable)


# A decision or a news article: one row per (source, source_key).
DOCUMENTS = Table(
    "documents",
    METADATA,
    Column("id", Integer, primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("source", String(64), nullable=False),
    Column("source_key", String(512), nullable=False),
    Column("url", String(2048), nullable=False),
    Column("title", Text, nullable=False),
    Column("summary", Text, nullable=False),
    Column("body", Text, nullable=False),
    utc_column("published_at", nullable=True),
    Column("decided_on", Date, nullable=True, index=True),
    utc_column("first_seen_at", nullable=False),
    utc_column("updated_at", nullable=False),
    # The date people know a document by: decided on (midnight UTC), else published, else
    # first seen. Browsing orders by it: a backfill stores the oldest decisions last.
    Column("dated_at", DateTime(timezone=True), nullable=False, default=_dated_default),
    Column("content_hash", String(64), nullable=False),
    Column("backfill", Boolean, nullable=False, default=False),
    Column("partial", Boolean, nullable=False, default=False),
    # Decision fields, null for news.
    Column("reference", String(32), nullable=True, index=True),
    Column("organisation", String(512), nullable=True),
    Column("category", String(128), nullable=True),
    Column("subcategory", String(128), nullable=True),
    Column("outcome", String(64), nullable=True),
    Column("outcome_text", String(512), nullable=True),
    # News fields, null for decisions.
    Column("author", String(512), nullable=True),
    Column("site_name", String(256), nullable=True),
    Column("cluster_key", String(512), nullable=True, index=True),
    # Everything else a parser extracts (remedies, sections, references, pdf link, ...).
    Column("extra", JSON, nullable=False),
    UniqueConstraint("source", "source_key", name="uq_documents_source_key"),
    Index("ix_documents_kind_first_seen", "kind", "first_seen_at"),
    # a source's newest document, for its health (status, sources, the service's check)
    Index("ix_documents_source_first_seen", "source", "first_seen_at"),
    # /documents pages by (dated_at, id) in either direction: keyset pagination
    Index("ix_documents_dated", "dated_at", "id"),
    Index("ix_documents_kind_dated", "kind", "dated_at", "id"),
)

# A council a document mentions (ids from the alerts register).
DOCUMENT_COUNCILS = Table(
    "document_councils",
    METADATA,
    Column("document_id", Integer, ForeignKey("documents.id"), primary_key=True),
    Column("council_id", String(64), primary_key=True, index=True),
    Column("matched_text", String(512), nullable=False, default=""),
    Column("confidence", Float, nullable=False, default=1.0),
)

# A news story judged to report a decision (alerts.news_links), with score and reasons.
DOCUMENT_LINKS = Table(
    "document_links",
    METADATA,
    Column("story_id", Integer, ForeignKey("documents.id"), primary_key=True),
    Column("decision_id", Integer, ForeignKey("documents.id"), primary_key=True, index=True),
    Column("score", Float, nullable=False, default=0.0),
    Column("reasons", JSON, nullable=False),
    utc_column("linked_at", nullable=False),
)

# The search index's own table: one row per indexed document, its index keys (``w:<word>``,
# and ``s:<stem>`` where keyed before word_stems; space separated) and the content hash they
# were cut from (a changed document is re-indexed). The full-text index over ``keys`` is not
# here: SQLite gets an FTS5 table, PostgreSQL a generated tsvector with a GIN index (0007).
DOCUMENT_TERMS = Table(
    "document_terms",
    METADATA,
    Column("document_id", Integer, ForeignKey("documents.id"), primary_key=True),
    Column("content_hash", String(64), nullable=False),
    Column("keys", Text, nullable=False),
    # Finding stale keys compares hashes index to index, never reading the keys' pages.
    Index("ix_document_terms_hash", "document_id", "content_hash"),
)

# The stored words whose stem is another word, with that stem: a stem query looks up its
# words here and finds the documents by their ``w:`` keys, so documents carry no ``s:`` keys
# (~15% of their keys; words longer than a key keep theirs). Written with the keys that use
# them (db.search.store_document_keys), never shrinks: a word's stem does not change. ``id``
# tells a writer what others added since it last looked.
WORD_STEMS = Table(
    "word_stems",
    METADATA,
    Column("id", Integer, primary_key=True),
    Column("word", String(MAX_WORD_LEN), nullable=False, unique=True),
    Column("stem", String(MAX_WORD_LEN), nullable=False, index=True),
)


def copy_into(table: Table, metadata: MetaData) -> Table:
    """``table`` in another metadata (SQLModel's), the same in every column, index and key."""
    return table.to_metadata(metadata)
