"""PostgreSQL: statistics of a table kept up with a load that grows it (ANALYZE when outgrown).

A plan PostgreSQL keeps (a prepared statement's generic plan; a foreign key's check, prepared
once per connection) is costed from the table's statistics and its size when it was made, and
is kept until the statistics change. Made while the table was small or empty, it scans the
table, and goes on scanning it as the load grows it, each statement reading every row so far
(autovacuum's ANALYZE comes a minute or more into a load, if at all within it). A table
analyzed while empty is the worst case: a digest run's first batches checked each ledger row's
outbox id with a sequential scan, 450 million outbox rows read in a 27,000-digest run.

So a loader calls :func:`refresh_outgrown` before each chunk: a table whose statistics are
missing, or that has more than doubled since they were taken, is analyzed (only the columns
given: the look-ups' and the foreign keys'), which also makes every connection plan its
statements on it again. With a doubling at most between them, a load runs ~log2(pages)
ANALYZEs, and a plan made while the table was small reads at most twice what it was made for.
SQLite keeps no such plans: nothing to do there.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlalchemy import Engine, text

# Per table: missing statistics, or fewer pages recorded than half the table's pages now.
_OUTGROWN = text(
    "SELECT c.relname FROM pg_class c WHERE c.oid = ANY(CAST(:tables AS regclass[])) "
    "AND (c.reltuples < 0 OR c.relpages < pg_relation_size(c.oid) / "
    "(2 * current_setting('block_size')::int))"
)


def refresh_outgrown(engine: Engine, tables: Mapping[str, Sequence[str]]) -> list[str]:
    """ANALYZE those of ``tables`` (name -> the columns to analyze) that have outgrown their
    statistics; the names analyzed. In a short transaction of its own: ANALYZE's lock is held
    until commit, and two writers' ANALYZEs of one table wait for each other. Names and
    columns are the code's own, never input."""
    if engine.dialect.name != "postgresql" or not tables:
        return []
    with engine.begin() as connection:
        found = connection.execute(_OUTGROWN, {"tables": list(tables)}).scalars().all()
        for name in found:
            connection.execute(text(f"ANALYZE {name} ({', '.join(tables[name])})"))
    return list(found)
