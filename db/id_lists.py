"""``column IN (...)`` for lists of ids or keys, written the way each database reads it best.

On PostgreSQL a list is one array parameter (``column = ANY(:values)``): the statement's text
is the same whatever the list's length, so psycopg converts it once (a text with hundreds of
``%(x_1_n)s`` placeholders is parsed again on every execution: the digest run's id lists were
~5% of a worker's CPU) and prepares it on the server after a few runs. SQLite keeps
``IN (?, ?, ...)``: it has no arrays, and its statements are cheap to parse.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

# Core's ARRAY, not the PostgreSQL dialect's: CLI commands that import db modules do not
# pay for importing a dialect (tests/test_cli_imports.py); PostgreSQL compiles it the same.
from sqlalchemy import ARRAY, Connection, any_, bindparam
from sqlalchemy.sql import ColumnElement


def among(connection: Connection, column: Any, values: Collection[Any]) -> ColumnElement[bool]:
    """``column`` is one of ``values``."""
    if connection.dialect.name == "postgresql":
        return column == any_(bindparam(None, list(values), type_=ARRAY(column.type)))
    return column.in_(list(values))


def array_of(connection: Connection, values: Collection[Any], of: Any) -> Any:
    """``values`` as one PostgreSQL array parameter of ``of``'s type (for ``unnest``)."""
    assert connection.dialect.name == "postgresql"
    return bindparam(None, list(values), type_=ARRAY(of.type))
