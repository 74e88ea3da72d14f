"""The quick schema check (no Alembic import) agrees with Alembic's own, behind or current."""

from __future__ import annotations

from pathlib import Path

import pytest

from cwerrors import StorageError
from db import migrate
from db.engine import make_engine
from db.schema_version import ensure_current, scripted_head, stored_revision


def test_the_scripted_head_is_alembics_head() -> None:
    assert scripted_head() is not None
    assert scripted_head() == migrate.head_revision()


def test_behind_or_empty_schemas_are_refused_current_ones_pass(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'cw.db'}")
    assert stored_revision(engine) is None
    with pytest.raises(StorageError, match="run `councilwatch db upgrade`"):
        ensure_current(engine)
    migrate.upgrade(engine, "0003_lgsco_state")
    with pytest.raises(StorageError, match="at 0003_lgsco_state, code needs"):
        ensure_current(engine)
    migrate.upgrade(engine)
    assert stored_revision(engine) == migrate.current_revision(engine)
    ensure_current(engine)
