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
import typer.core
import typer.main

# typer 0.29 bundles its own click (typer._click): its exceptions are what the app raises.
from typer._click import exceptions as click_errors

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
            "--config",
            "-c",
            metavar="PATH",
            help="Config file (default: $COUNCILWATCH_CONFIG or ./config.toml).",
        ),
    ] = None,
    log_format: Annotated[
        str, typer.Option("--log-format", help="Log lines as 'text' or 'json'.")
    ] = "text",
    verbose: Annotated[
        int,
        typer.Option("--verbose", "-v", count=True, help="-v debug logs; -vv also from libraries."),
    ] = 0,
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


def _tidy_help(command: typer.core.TyperCommand | typer.core.TyperGroup) -> None:
    """Help in the usual Unix shape: ``EMAIL``, ``--since SINCE``, flags with no value.

    typer 0.29 shows every parameter's Python type (``<bool>`` after each flag and after
    --help, ``<int>`` after a count, ``{email}`` in usage lines). typer builds the click
    objects itself, so the fix is applied to them here, once, before they run.
    """
    for param in command.params:
        if isinstance(param, typer.core.TyperArgument):
            param.metavar = param.metavar or (param.name or "value").upper()
            label = param.metavar if param.required else f"[{param.metavar}]"
            setattr(param, "_usage_display_name", lambda label=label: label)  # noqa: B010 (mypy: no assigning to methods)
            setattr(param, "display_type_rich", lambda ctx: None)  # noqa: B010
        elif isinstance(param, typer.core.TyperOption) and param.metavar is None:
            if param.is_flag or param.count:
                param.metavar = ""
                if param.count:
                    param.show_default = False
            else:
                param.metavar = (param.name or "value").upper()
    original = command.get_help_option

    def help_option(ctx: typer.Context) -> typer.core.TyperOption | None:
        option = original(ctx)
        if option is not None:
            option.metavar = ""
        return option

    setattr(command, "get_help_option", help_option)  # noqa: B010
    if isinstance(command, typer.core.TyperGroup):
        for sub in command.commands.values():
            assert isinstance(sub, typer.core.TyperCommand | typer.core.TyperGroup)
            _tidy_help(sub)


def _command() -> typer.core.TyperGroup:
    command = typer.main.get_command(app)
    assert isinstance(command, typer.core.TyperGroup)
    _tidy_help(command)
    return command


def _usage_line(exc: click_errors.UsageError) -> str:
    """One line for a usage error, naming the command whose --help explains it."""
    where = exc.ctx.command_path if exc.ctx is not None else "councilwatch"
    return f"error: {exc.format_message()} (see: {where} --help)"


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the app, turning project and usage errors into one line and exit 1
    (2 for usage errors, as click and most Unix tools do)."""
    try:
        code = _command().main(args=argv, prog_name="councilwatch", standalone_mode=False)
    except click_errors.NoArgsIsHelpError as exc:
        exc.show()  # a group typed alone: its help, as a usage error
        return 2
    except click_errors.UsageError as exc:
        typer.echo(_usage_line(exc), err=True)
        return 2
    except click_errors.ClickException as exc:
        typer.echo(f"error: {exc.format_message()}", err=True)
        return exc.exit_code
    except typer.Abort:
        typer.echo("interrupted", err=True)
        return 130
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except CouncilwatchError as exc:
        typer.echo(f"error: {exc}", err=True)
        return 1
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        return 130
    except Exception as exc:
        line = _database_line(exc)
        if line is None:
            raise
        typer.echo(f"error: {line}", err=True)
        return 1
    return code if isinstance(code, int) else 0


def _database_line(exc: Exception) -> str | None:
    """One line for the database errors a person can act on; None for anything else (a bug)."""
    from sqlalchemy.exc import DBAPIError

    if not isinstance(exc, DBAPIError):
        return None
    reason = str(exc.orig).strip().splitlines()[0] if exc.orig is not None else str(exc)
    if "database is locked" in reason:
        return (
            "the SQLite database stayed locked by another process past the busy timeout; "
            "try again when it has finished (or use PostgreSQL for several writers)"
        )
    if "file is not a database" in reason or "malformed" in reason:
        return f"the database file is damaged or not a SQLite database ({reason})"
    return f"database error: {reason}"


def run() -> None:
    sys.exit(main())


if __name__ == "__main__":
    run()
