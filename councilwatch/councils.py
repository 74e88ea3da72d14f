"""The council register this process uses: the built-in one, merged with any imported update."""

from __future__ import annotations

from alerts.councils import Register
from councilwatch.config import Settings


def load_register(settings: Settings) -> Register:
    builtin = Register.builtin()
    path = settings.councils.register_file
    if path.is_file():
        return builtin.merged(Register.load(path))
    return builtin
