"""A source's health reads its newest document by an index, on both databases: without one,
`councilwatch status` read every row of the source (0.8-1.4 s at 100,000 documents)."""

from __future__ import annotations

from sqlalchemy import Engine, func, select, text

from db.document_tables import DOCUMENTS


def test_the_newest_document_of_a_source_is_found_by_an_index(engine: Engine) -> None:
    newest = select(func.max(DOCUMENTS.c.first_seen_at)).where(DOCUMENTS.c.source == "lgsco")
    with engine.connect() as connection:
        compiled = newest.compile(connection, compile_kwargs={"literal_binds": True})
        if connection.dialect.name == "postgresql":
            # an empty table is scanned whatever indexes it has: ask for the plan without scans
            connection.execute(text("SET enable_seqscan = off"))
            plan = " ".join(row[0] for row in connection.execute(text(f"EXPLAIN {compiled}")))
        else:
            plan = " ".join(
                str(row[-1]) for row in connection.execute(text(f"EXPLAIN QUERY PLAN {compiled}"))
            )
    assert "ix_documents_source_first_seen" in plan, plan
