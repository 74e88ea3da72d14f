"""The `councilwatch` command line.

Library errors become one-line CLI errors here, and only here. Commands live in
``councilwatch/commands/``, one module per area, each adding itself to the root app.
Heavy imports happen inside commands so that `councilwatch --help` starts fast.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from councilwatch import __version__
from cwerrors import CouncilwatchError

app = typer.Typer(
    name="councilwatch",
    help=(
        "Alerts when a council is named in an ombudsman decision or in local news.\n\n"
        "Example: councilwatch --config config.toml sources"
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"councilwatch {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config", "-c", help="Config file (default: $COUNCILWATCH_CONFIG or ./config.toml)."
        ),
    ] = None,
    log_format: Annotated[
        str, typer.Option("--log-format", help="Log lines as 'text' or 'json'.")
    ] = "text",
    verbose: Annotated[int, typer.Option("--verbose", "-v", count=True, help="More logs.")] = 0,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    """Load the configuration once and set up logging for every command."""
    from councilwatch import logs
    from councilwatch.config import load_settings
    from councilwatch.runtime import Runtime

    if log_format not in ("text", "json"):
        raise CouncilwatchError(f"--log-format must be 'text' or 'json', not {log_format!r}")
    logs.configure(log_format, verbose)
    runtime = Runtime(load_settings(config))
    ctx.obj = runtime
    ctx.call_on_close(runtime.close)


def _register_commands() -> None:
    from councilwatch.commands import register_all

    register_all(app)


_register_commands()


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the app, turning project errors into one line and exit code 1."""
    try:
        app(args=argv, prog_name="councilwatch")
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except CouncilwatchError as exc:
        typer.echo(f"error: {exc}", err=True)
        return 1
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        return 130
    return 0


def run() -> None:
    sys.exit(main())


if __name__ == "__main__":
    run()
