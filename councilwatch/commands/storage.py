"""`councilwatch db ...`: schema migrations."""

from __future__ import annotations

import typer

from councilwatch.commands.common import runtime

db_app = typer.Typer(help="Database schema.", no_args_is_help=True)


@db_app.command("upgrade")
def upgrade(ctx: typer.Context) -> None:
    """Create or migrate the database schema to the newest version, and cut the search keys
    of documents that have none (after the upgrade that adds them: minutes for 100,000).

    Example: councilwatch db upgrade
    """
    from councilwatch.search import refresh_keys
    from db import migrate

    engine = runtime(ctx).creating_engine()
    before = migrate.current_revision(engine)
    migrate.upgrade(engine)
    after = migrate.current_revision(engine)
    indexed = refresh_keys(engine)
    typer.echo(
        f"database at {after}"
        + ("" if before == after else f" (was {before or 'empty'})")
        + (f"; search keys cut for {indexed} documents" if indexed else "")
    )


@db_app.command("check")
def check(ctx: typer.Context) -> None:
    """Fail if the models and the migrations disagree (run by CI on a migrated database).

    Example: councilwatch db check
    """
    from db import migrate

    engine = runtime(ctx).migrated_engine()
    migrate.check(engine)
    typer.echo("models and migrations agree")


def register(app: typer.Typer) -> None:
    app.add_typer(db_app, name="db")
