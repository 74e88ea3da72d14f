"""CLI commands, one module per area. Each module has `register(app)`.

A command runs with only its own module imported: the root group looks a name up in
:data:`COMMANDS` and registers that module alone (`councilwatch search` does not import the
fetcher, the web server or the mail renderer through their commands). Help, and a name that
is not there (for the "did you mean" hint), register them all.
"""

from __future__ import annotations

from importlib import import_module

import typer

# In registration order: `councilwatch --help` lists their commands in this order.
MODULES = (
    "storage",
    "documents",
    "sources",
    "status",
    "service",
    "fetch",
    "feeds",
    "parse",
    "councils",
    "match",
    "web",
    "subscriptions",
    "alerts",
)

# Every top-level command or group and the module that registers it, in the order
# `councilwatch --help` lists them (typer puts an app's commands before its groups).
# tests/test_cli_imports.py checks it against what the modules register.
COMMANDS: dict[str, str] = {
    "search": "documents",
    "export": "documents",
    "status": "status",
    "run": "service",
    "fetch": "fetch",
    "match": "match",
    "web": "web",
    "subscribe": "subscriptions",
    "unsubscribe": "subscriptions",
    "db": "storage",
    "sources": "sources",
    "feeds": "feeds",
    "parse": "parse",
    "councils": "councils",
    "outbox": "subscriptions",  # a group: `outbox` lists, `outbox prune` deletes old bodies
    "subscriptions": "subscriptions",
    "digest": "subscriptions",
    "alerts": "alerts",
}


# Commands that read, print and end, run by hand and often: the CLI keeps the cyclic garbage
# collector paused through them (start-up is most of their time; see councilwatch.cli.main).
SHORT = frozenset({"search", "export", "status"})


def register(app: typer.Typer, module: str) -> None:
    """Add one command module's commands to ``app``."""
    import_module(f"councilwatch.commands.{module}").register(app)


def register_all(app: typer.Typer) -> None:
    for module in MODULES:
        register(app, module)
