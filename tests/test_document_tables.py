"""The documents' tables are written once, in Core (db/document_tables.py, what searches read
without SQLModel); the SQLModel classes map onto copies. Both must stay one schema."""

from __future__ import annotations

from dataclasses import fields

import pytest
from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.schema import CreateIndex, CreateTable
from sqlmodel import SQLModel

import db.tables  # noqa: F401 (every model class, so SQLModel.metadata holds every table)
from db.document_tables import DOCUMENTS, METADATA
from db.models import Document
from db.search import StoredDocument


def ddl(table: Table, dialect: object) -> list[str]:
    """The CREATE statements' lines, sorted (a copy may list its foreign keys in any order)."""
    create = str(CreateTable(table).compile(dialect=dialect))  # type: ignore[arg-type]
    out = [line.strip().rstrip(",") for line in create.splitlines()]
    for index in table.indexes:
        out.append(str(CreateIndex(index).compile(dialect=dialect)).strip())  # type: ignore[arg-type]
    return sorted(out)


@pytest.mark.parametrize("name", sorted(METADATA.tables))
def test_the_models_tables_are_the_core_tables(name: str) -> None:
    core, model = METADATA.tables[name], SQLModel.metadata.tables[name]
    for dialect in (sqlite.dialect(), postgresql.dialect()):
        assert ddl(model, dialect) == ddl(core, dialect)
    assert [c.default is None for c in model.columns] == [c.default is None for c in core.columns]


def test_a_search_hit_and_the_model_carry_every_column() -> None:
    columns = [c.name for c in DOCUMENTS.columns]
    assert [f.name for f in fields(StoredDocument)] == columns
    assert list(Document.model_fields) == columns
