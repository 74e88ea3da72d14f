"""Tables written once, in Core (db/document_tables.py, db/delivery_tables.py,
db/run_tables.py: what `search`, `export` and `status` read without SQLModel); the SQLModel
classes map onto copies. Both must stay one schema."""

from __future__ import annotations

from dataclasses import fields

import pytest
from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.schema import CreateIndex, CreateTable
from sqlmodel import SQLModel

import db.tables  # noqa: F401 (every model class, so SQLModel.metadata holds every table)
from db.document_tables import DOCUMENTS, METADATA
from db.models import Document, FetchRun
from db.models_delivery import OutboxMessage, Subscriber
from db.models_service import SourceState
from db.search import StoredDocument


def ddl(table: Table, dialect: object) -> list[str]:
    """The CREATE statements' lines, sorted (a copy may list its foreign keys in any order)."""
    create = str(CreateTable(table).compile(dialect=dialect))  # type: ignore[arg-type]
    out = [line.strip().rstrip(",") for line in create.splitlines()]
    for index in table.indexes:
        out.append(str(CreateIndex(index).compile(dialect=dialect)).strip())  # type: ignore[arg-type]
    return sorted(out)


def defaults(table: Table) -> list[tuple[str, object]]:
    """Each column's Python-side default (what a Core INSERT that leaves it out writes)."""
    return [(c.name, getattr(c.default, "arg", None)) for c in table.columns]


def test_every_table_the_light_paths_read_is_written_in_core() -> None:
    assert set(METADATA.tables) == {
        "documents", "document_councils", "document_links", "document_terms",
        "subscribers", "outbox", "outbox_bodies", "fetch_runs", "source_state", "word_stems",
    }  # fmt: skip


@pytest.mark.parametrize("name", sorted(METADATA.tables))
def test_the_models_tables_are_the_core_tables(name: str) -> None:
    core, model = METADATA.tables[name], SQLModel.metadata.tables[name]
    assert core is not model
    for dialect in (sqlite.dialect(), postgresql.dialect()):
        assert ddl(model, dialect) == ddl(core, dialect)
    assert [c.default is None for c in model.columns] == [c.default is None for c in core.columns]
    plain = [(n, d) for n, d in defaults(core) if not callable(d)]
    assert [(n, d) for n, d in defaults(model) if not callable(d)] == plain


def test_a_search_hit_and_the_model_carry_every_column() -> None:
    columns = [c.name for c in DOCUMENTS.columns]
    assert [f.name for f in fields(StoredDocument)] == columns
    assert list(Document.model_fields) == columns


@pytest.mark.parametrize("model", [Subscriber, OutboxMessage, FetchRun, SourceState])
def test_a_model_on_a_core_table_has_a_field_for_every_column(model: type[SQLModel]) -> None:
    table = METADATA.tables[model.__table__.name]  # type: ignore[attr-defined]
    assert list(model.model_fields) == [c.name for c in table.columns]
    # the ORM's defaults are the columns' (a model built with no value stores what Core would)
    made = model()
    for column in table.columns:
        if column.default is not None and not callable(column.default.arg):
            assert getattr(made, column.name) == column.default.arg, column.name
