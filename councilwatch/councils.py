"""The council register this process uses: the built-in one, merged with any imported update.

``councilwatch councils update`` imports mySociety's register and saves the result in
``settings.councils.register_file``. Only councils that differ from the built-in register are
saved, so a newer built-in register (a new release) still shows through for every council the
import did not change.
"""

from __future__ import annotations

import csv
import os
import tempfile
from pathlib import Path

from alerts.councils import Council, MergeReport, Register, import_mysociety, merge
from councilwatch.config import Settings
from cwerrors import CouncilwatchError, ParseError


def load_register(settings: Settings) -> Register:
    builtin = Register.builtin()
    path = settings.councils.register_file
    if path.is_file():
        return builtin.merged(Register.load(path))
    return builtin


def import_update(register: Register, data: bytes, *, origin: str) -> tuple[Register, MergeReport]:
    """Merge mySociety's register CSV (``data``, read from ``origin``) into ``register``.

    Anything that is not that CSV is a ``ParseError`` naming ``origin``: a missing column, bytes
    that are not UTF-8 (an HTML error page in another charset, a zip), a malformed date, or a
    file with no council rows at all (an empty download must not look like "nothing changed").
    """
    try:
        imported = import_mysociety(data)
    except ParseError as exc:
        raise ParseError(f"{origin}: {exc}", url=origin, field=exc.field) from None
    except (UnicodeDecodeError, csv.Error, ValueError, KeyError) as exc:
        raise ParseError(f"{origin}: not a mySociety register CSV ({exc})", url=origin) from None
    if not imported:
        raise ParseError(f"{origin}: no councils in the mySociety register CSV", url=origin)
    return merge(register, imported)


def changed_from_builtin(register: Register) -> list[Council]:
    """The councils of ``register`` that are new or differ from the built-in register."""
    builtin = Register.builtin()
    return [c for c in register if c.id not in builtin or builtin.get(c.id) != c]


def save_register(register: Register, path: Path) -> int:
    """Write ``register``'s differences from the built-in one to ``path``, atomically.

    The file is written beside its destination and renamed over it, so a reader (the running
    service) sees the old file or the new one, never half of one. Returns the councils saved.
    """
    councils = changed_from_builtin(register)
    text = Register(councils).to_json()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise CouncilwatchError(f"cannot write {path}: {exc.strerror or exc}") from None
    try:
        # mkstemp makes the file private; keep the mode an earlier file had, else rw-r--r--.
        os.chmod(tmp, path.stat().st_mode & 0o777 if path.exists() else 0o644)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise CouncilwatchError(f"cannot write {path}: {exc.strerror or exc}") from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return len(councils)
