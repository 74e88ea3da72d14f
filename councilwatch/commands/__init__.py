"""CLI commands, one module per area. Each module has `register(app)`."""

from __future__ import annotations

import typer

from councilwatch.commands import (
    alerts,
    councils,
    documents,
    feeds,
    fetch,
    match,
    parse,
    service,
    sources,
    status,
    storage,
    subscriptions,
    web,
)


def register_all(app: typer.Typer) -> None:
    for module in (
        storage,
        documents,
        sources,
        status,
        service,
        fetch,
        feeds,
        parse,
        councils,
        match,
        web,
        subscriptions,
        alerts,
    ):
        module.register(app)
