"""Is the database schema current? Answered without importing Alembic when it is.

Every command that reads the store checks this first; Alembic (with Mako and the migration
scripts it imports) costs a few hundred milliseconds of start-up, more than a search itself.
The migration files name their revision and the one before it in two plain assignments, so
the head is the one revision no file names as its ``down_revision``. Anything unexpected (no
version table, several heads, a file this cannot read) falls back to Alembic's own check.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # scripted_head is read without SQLAlchemy (db.sqlite_search)
    from sqlalchemy import Engine

VERSIONS = Path(__file__).parent / "migrations" / "versions"
_ASSIGNED = re.compile(
    r"^(revision|down_revision)\s*(?::[^=]*)?=\s*(?:'([^']*)'|\"([^\"]*)\"|None)\s*$",
    re.MULTILINE,
)


@cache
def scripted_head() -> str | None:
    """The head revision as the migration files spell it (None when that is not clear-cut)."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for script in VERSIONS.glob("*.py"):
        found = {
            m.group(1): m.group(2) or m.group(3) for m in _ASSIGNED.finditer(script.read_text())
        }
        if not found.get("revision") or "down_revision" not in found:
            return None
        revisions.add(str(found["revision"]))
        if found["down_revision"]:
            parents.add(str(found["down_revision"]))
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


def stored_revision(engine: Engine) -> str | None:
    """The revision recorded in ``alembic_version`` (None without the table or a row)."""
    from sqlalchemy import text
    from sqlalchemy.exc import SQLAlchemyError

    try:
        with engine.connect() as connection:
            rows = connection.execute(text("SELECT version_num FROM alembic_version")).all()
    except SQLAlchemyError:
        return None
    return str(rows[0][0]) if len(rows) == 1 else None


def ensure_current(engine: Engine) -> None:
    """Raise StorageError telling the operator to migrate when the schema is behind."""
    head = scripted_head()
    if head is not None and stored_revision(engine) == head:
        return
    from db.migrate import ensure_current as alembic_check

    alembic_check(engine)
