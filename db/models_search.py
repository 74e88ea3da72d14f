"""The search index's own table: each document's words and stems as the alert language cuts
them, so a search and an alert read the same tokens on every database."""

from __future__ import annotations

from sqlalchemy import Column, Index, Text
from sqlmodel import Field, SQLModel


class DocumentTerms(SQLModel, table=True):
    """One row per indexed document: its index keys (``w:<word>`` and ``s:<stem>``, space
    separated) and the content hash they were cut from (a changed document is re-indexed).

    The full-text index over ``keys`` has no model: SQLite gets an FTS5 table kept by
    triggers, PostgreSQL a generated tsvector with a GIN index (migration 0004).
    """

    __tablename__ = "document_terms"
    # Finding stale keys compares hashes index to index, never reading the keys' pages.
    __table_args__ = (Index("ix_document_terms_hash", "document_id", "content_hash"),)

    document_id: int = Field(foreign_key="documents.id", primary_key=True)
    content_hash: str = Field(max_length=64)
    keys: str = Field(default="", sa_column=Column(Text, nullable=False))
