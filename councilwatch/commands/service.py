"""`councilwatch run`: the background service."""

from __future__ import annotations

import typer

from councilwatch.commands.common import runtime


def run(ctx: typer.Context) -> None:
    """Run the service: scheduled fetches and digests until SIGTERM or Ctrl-C.

    Example: councilwatch --config config.toml run
    """
    from councilwatch.service import run_service

    run_service(runtime(ctx))


def register(app: typer.Typer) -> None:
    app.command("run")(run)
