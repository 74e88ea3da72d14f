"""`councilwatch web`: serve the web pages alone (the service can also run them in-process)."""

from __future__ import annotations

from typing import Annotated

import typer

from councilwatch.commands.common import runtime
from cwerrors import ConfigError


def parse_listen(value: str) -> tuple[str, int]:
    """``host:port`` (or ``[v6]:port``) for --listen; ConfigError if not."""
    from councilwatch.config import parse_listen as split

    try:
        return split(value)
    except ValueError as exc:
        raise ConfigError(f"--listen {exc}") from None


def web(
    ctx: typer.Context,
    listen: Annotated[
        str | None,
        typer.Option(
            metavar="HOST:PORT",
            help="Where to serve (default: the web.listen setting, 127.0.0.1:8080).",
        ),
    ] = None,
) -> None:
    """Serve the subscribe, manage, unsubscribe and browsing pages until stopped.

    Behind a reverse proxy, list it in [web] trusted_proxies so the rate limits see the
    real client addresses.

    Example: councilwatch web --listen 127.0.0.1:8080
    """
    import uvicorn

    from councilwatch.mail_sender import MailSender
    from councilwatch.web import create_app

    rt = runtime(ctx)
    host, port = parse_listen(listen or rt.settings.web.listen)
    rt.migrated_engine()  # a missing migration is a one-line error now, not a 503 later
    # Confirmation emails leave as soon as a page queues them, with or without the service.
    sender = MailSender(rt)
    app = create_app(rt, on_mail_queued=sender.wake)
    typer.echo(f"serving on http://{host}:{port} (links in emails use {rt.settings.web.base_url})")
    sender.start()
    try:
        uvicorn.run(
            app,
            host=host,
            port=port,
            proxy_headers=False,  # the app reads X-Forwarded-For from [web] trusted_proxies
            log_config=None,  # keep the project's logging set-up
            server_header=False,
        )
    finally:
        sender.stop()


def register(app: typer.Typer) -> None:
    app.command("web")(web)
