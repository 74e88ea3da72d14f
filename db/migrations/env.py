"""Alembic environment: runs on the connection db.migrate hands it (never reads a URL itself)."""

from __future__ import annotations

from typing import Any

from alembic import context
from sqlmodel import SQLModel

import db.models
import db.tables  # noqa: F401

# Objects the migrations create by hand, per dialect, that have no model: the search index.
_UNMODELLED_PREFIXES = ("documents_fts", "document_terms_fts")
_UNMODELLED_COLUMNS = {("documents", "search_vector"), ("document_terms", "terms")}
_UNMODELLED_INDEXES = {
    "ix_documents_search_vector",
    "ix_document_terms_terms",
    "ix_documents_id_content_hash",
}


def include_object(
    obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    if name is None:
        return True
    if type_ == "table" and name.startswith(_UNMODELLED_PREFIXES):
        return False
    if type_ == "column" and (obj.table.name, name) in _UNMODELLED_COLUMNS:
        return False
    return not (type_ == "index" and name in _UNMODELLED_INDEXES)


def run() -> None:
    connection = context.config.attributes["connection"]
    context.configure(
        connection=connection,
        target_metadata=SQLModel.metadata,
        include_object=include_object,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run()
