"""The search index's own table: each document's words and stems as the alert language cuts
them, so a search and an alert read the same tokens on every database."""

from __future__ import annotations

from sqlmodel import Field, SQLModel

from db.document_tables import DOCUMENT_TERMS, WORD_STEMS, copy_into

# Defined once, in Core (db/document_tables.py: the search reads it without SQLModel).
_TERMS = copy_into(DOCUMENT_TERMS, SQLModel.metadata)
# Read and written in Core alone (db.search): no model class.
copy_into(WORD_STEMS, SQLModel.metadata)


class DocumentTerms(SQLModel, table=True):
    """One row per indexed document: its index keys (``w:<word>``, and ``s:<stem>`` where
    keyed before word_stems; space separated) and the content hash they were cut from (a
    changed document is re-indexed).

    The full-text index over ``keys`` has no model: SQLite gets an FTS5 table kept by
    triggers, PostgreSQL a generated tsvector with a GIN index (migration 0004).
    """

    __table__ = _TERMS

    document_id: int = Field(sa_column=_TERMS.c.document_id)
    content_hash: str = Field(max_length=64, sa_column=_TERMS.c.content_hash)
    keys: str = Field(default="", sa_column=_TERMS.c["keys"])
