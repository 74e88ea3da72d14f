"""CLI commands, one module per area. Each module has `register(app)`."""

from __future__ import annotations

import typer

from councilwatch.commands import documents, service, sources, storage


def register_all(app: typer.Typer) -> None:
    for module in (storage, documents, sources, service):
        module.register(app)
