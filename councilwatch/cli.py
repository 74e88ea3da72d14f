"""The `councilwatch` command line.

Library errors become one-line CLI errors here, and only here. Commands live in
``councilwatch/commands/``, one module per area, each adding itself to the root app. The root
group imports a command's module only when that command runs (``councilwatch search`` imports
``commands/documents.py`` and nothing of the fetcher's, the service's or the web's), and heavy
imports happen inside commands, so that a command starts fast.
"""

from __future__ import annotations

import gc

# Start-up makes a few hundred thousand objects that live as long as the process (typer's,
# pydantic's and SQLAlchemy's classes, functions and tables); the cyclic collector walked them
# again and again while they were made: 8-9% of a search's CPU (0.50 -> 0.46 s on 100,000
# documents). It is paused while the CLI starts (these imports, then `main` up to the
# command; see _paused) and restored after.
_COLLECTING = gc.isenabled()
gc.disable()

import os  # noqa: E402 (the collector is paused first)
import sys  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from contextlib import contextmanager  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Annotated, Any  # noqa: E402

import typer  # noqa: E402
import typer.core  # noqa: E402
import typer.main  # noqa: E402

# typer 0.29 bundles its own click (typer._click): its exceptions are what the app raises.
from typer._click import exceptions as click_errors  # noqa: E402
from typer._click.core import Command as ClickCommand  # noqa: E402
from typer._click.core import Context as ClickContext  # noqa: E402

from councilwatch import __version__  # noqa: E402
from councilwatch.commands import COMMANDS, MODULES, SHORT, register, register_all  # noqa: E402
from cwerrors import CouncilwatchError  # noqa: E402

if _COLLECTING:
    gc.enable()


def _version(value: bool) -> None:
    if value:
        typer.echo(f"councilwatch {__version__}")
        raise typer.Exit()


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

    if log_format not in ("text", "json"):
        raise CouncilwatchError(f"--log-format must be 'text' or 'json', not {log_format!r}")
    logs.configure(log_format, verbose)
    with _pydantic_plugins_off():
        from councilwatch.config import load_settings

        settings = load_settings(config)
    from councilwatch.runtime import Runtime

    runtime = Runtime(settings)
    ctx.obj = runtime
    ctx.call_on_close(runtime.close)
    if ctx.invoked_subcommand not in SHORT:
        _resume_collector()  # a command that may run long collects as usual from here on


_NO_PLUGINS = "PYDANTIC_DISABLE_PLUGINS"


@contextmanager
def _pydantic_plugins_off() -> Iterator[None]:
    """The configuration's models are built and validated without pydantic plugins.

    The first validator pydantic builds looks for plugins in the entry points of every
    installed distribution (10-16 ms of CPU per start-up on a loaded machine, for none:
    councilwatch has no plugin), and a plugin would see every value validated, the signing
    key and SMTP password among them. typer does the same around its own validators
    (typer._adapters.disabled_pydantic_plugins); the variable is restored after.
    """
    previous = os.environ.get(_NO_PLUGINS)
    os.environ[_NO_PLUGINS] = "1"
    try:
        yield
    finally:
        if previous is None:
            del os.environ[_NO_PLUGINS]
        else:
            os.environ[_NO_PLUGINS] = previous


class _CommandGroup(typer.core.TyperGroup):
    """The root group: a command's module is registered when that command is asked for.

    Listing (help) and an unknown name (typer suggests near names) register every module, in
    the order of ``COMMANDS``, which is the order one app with every module registered has.
    """

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        self._loaded: set[str] = set()

    def _load(self, modules: tuple[str, ...]) -> None:
        for module in modules:
            if module in self._loaded:
                continue
            part = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
            register(part, module)
            for name, command in typer.main.get_group(part).commands.items():
                assert isinstance(command, typer.core.TyperCommand | typer.core.TyperGroup)
                _tidy_help(command)
                self.commands[name] = command
            self._loaded.add(module)

    def _load_all(self) -> None:
        self._load(MODULES)
        order = [name for name in COMMANDS if name in self.commands]
        self.commands = {
            name: self.commands[name]
            for name in order + [n for n in self.commands if n not in COMMANDS]
        }

    def get_command(self, ctx: ClickContext, cmd_name: str) -> ClickCommand | None:
        if cmd_name not in self.commands:
            module = COMMANDS.get(cmd_name)
            if module is None:
                self._load_all()
            else:
                self._load((module,))
        return self.commands.get(cmd_name)

    def list_commands(self, ctx: ClickContext) -> list[str]:
        self._load_all()
        return super().list_commands(ctx)


def _new_app(**extra: Any) -> typer.Typer:
    made = typer.Typer(
        name="councilwatch",
        help=(
            "Alerts when a council is named in an ombudsman decision or in local news.\n\n"
            "Example: councilwatch --config config.toml sources"
        ),
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
        context_settings={"help_option_names": ["-h", "--help"]},
        **extra,
    )
    made.callback()(root)
    return made


# What `main` runs: commands are registered as they are asked for.
_lazy_app = _new_app(cls=_CommandGroup)
_whole_app: typer.Typer | None = None


def __getattr__(name: str) -> typer.Typer:
    """``app``: every command registered up front in one typer app, for tests and tools that
    walk the whole tree (``typer.main.get_command(app).commands``)."""
    global _whole_app
    if name != "app":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    if _whole_app is None:
        _whole_app = _new_app()
        register_all(_whole_app)
    return _whole_app


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
    command = typer.main.get_command(_lazy_app)
    assert isinstance(command, typer.core.TyperGroup)
    _tidy_help(command)
    return command


def _usage_line(exc: click_errors.UsageError) -> str:
    """One line for a usage error, naming the command whose --help explains it."""
    where = exc.ctx.command_path if exc.ctx is not None else "councilwatch"
    return f"error: {exc.format_message()} (see: {where} --help)"


# Whether the cyclic collector was on when `main` paused it (None: not paused).
_paused: bool | None = None


def _resume_collector() -> None:
    global _paused
    if _paused:
        gc.enable()
    _paused = None


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the app, turning project and usage errors into one line and exit 1
    (2 for usage errors, as click and most Unix tools do).

    The cyclic collector is paused through start-up (parsing, the configuration, the
    command's imports). The short commands that read, print and end (``SHORT``: search,
    export, status) keep it paused to the end: what they make is freed by reference counts
    (peak RSS within a few MB of it on 100,000 documents); every other command gets it back
    before its own work starts (``root``). It is restored on return, for callers in the same
    process."""
    global _paused
    _paused = gc.isenabled()
    gc.disable()
    try:
        return _main(argv)
    finally:
        _resume_collector()


def _main(argv: list[str] | None) -> int:
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
    """One line for the database errors a person can act on; None for anything else (a bug).

    Raised through SQLAlchemy (a DBAPIError around the driver's) or by sqlite3 itself (what
    `councilwatch search` reads a SQLite file with, db.sqlite_search): the same line."""
    import sqlite3

    if isinstance(exc, sqlite3.Error):
        reason = (str(exc).strip().splitlines() or [""])[0]
    else:
        if "sqlalchemy" not in sys.modules:  # no SQLAlchemy error without it
            return None
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
