"""The ASGI app: routes, static files, error pages and the security middleware."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from councilwatch.runtime import Runtime
from councilwatch.web import (
    council_pages,
    document_pages,
    feed_pages,
    manage_pages,
    ops_pages,
    subscribe_pages,
)
from councilwatch.web.context import InvalidLink, WebContext
from councilwatch.web.security import RateLimit, SecurityMiddleware, security_headers
from cwerrors import StorageError

log = logging.getLogger("councilwatch.web")
STATIC = Path(__file__).parent / "static"


def create_app(
    runtime: Runtime,
    *,
    per_address: RateLimit | None = None,
    per_client: RateLimit | None = None,
    on_mail_queued: Callable[[], None] | None = None,
) -> Starlette:
    """The web pages for ``runtime``; rate limits default to security.SUBSCRIBE_PER_*.
    ``on_mail_queued`` is called whenever a page queues an email (to wake a sender).

    Read-only pages are plain functions, which Starlette runs in its thread pool, so a slow
    query does not hold up other requests; handlers that read a form are async and do their
    (short) writes inline.
    """
    context = WebContext(runtime)
    if per_address is not None or per_client is not None:
        context = WebContext(
            runtime,
            per_address=per_address or context.per_address,
            per_client=per_client or context.per_client,
        )
    if on_mail_queued is not None:
        context.mail_queued = on_mail_queued
    secret_check = context.secret  # fail at start-up, not on the first form, without a key
    del secret_check
    app = Starlette(
        debug=False,
        routes=[
            *subscribe_pages.routes,
            *manage_pages.routes,
            *document_pages.routes,
            *council_pages.routes,
            *feed_pages.routes,
            *ops_pages.routes,
            Mount("/static", app=StaticFiles(directory=STATIC), name="static"),
        ],
        middleware=[
            # Outermost, so the limits and /metrics see the client a trusted proxy names.
            # Here rather than in uvicorn's options: `run` and `web` then cannot differ.
            Middleware(
                ProxyHeadersMiddleware, trusted_hosts=list(runtime.settings.web.trusted_proxies)
            ),
            Middleware(
                SecurityMiddleware,
                https=runtime.settings.web.base_url.startswith("https:"),
            ),
        ],
        exception_handlers={
            InvalidLink: _invalid_link,
            HTTPException: _http_error,
            StorageError: _unavailable,
            SQLAlchemyError: _unavailable,
            # Anything else reaches Starlette's outermost middleware, outside ours.
            Exception: _server_error,
        },
    )
    app.state.web = context
    return app


def _context(request: Request) -> WebContext:
    context = request.app.state.web
    assert isinstance(context, WebContext)
    return context


async def _invalid_link(request: Request, exc: Exception) -> Response:
    return _context(request).render(
        request,
        "message.html",
        status_code=404,
        title="This link does not work",
        message=(
            "The link may be mistyped, or it may be from an older email: links stop working "
            "when you unsubscribe. Open the newest email we sent you, or subscribe again."
        ),
        subscribe_again=True,
    )


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        title, message = "Page not found", "There is nothing at this address."
    elif exc.status_code == 405:
        title, message = "Not allowed", "This page cannot be used that way."
    else:
        title, message = "Something was wrong with that request", "Please go back and try again."
    response = _context(request).render(
        request, "message.html", status_code=exc.status_code, title=title, message=message
    )
    if exc.headers:
        response.headers.update(exc.headers)
    return response


async def _unavailable(request: Request, exc: Exception) -> Response:
    log.error("web: database unavailable on %s: %s", request.url.path, type(exc).__name__)
    return _context(request).render(
        request,
        "message.html",
        status_code=503,
        title="Temporarily unavailable",
        message="We cannot reach our records right now. Please try again in a few minutes.",
    )


async def _server_error(request: Request, exc: Exception) -> Response:
    # The details go to the log; people get a plain page with no stack trace. This handler
    # runs outside the security middleware, so it adds the headers itself.
    log.error("web: error on %s", request.url.path, exc_info=exc)
    context = _context(request)
    headers = security_headers(https=context.settings.web.base_url.startswith("https:"))
    title = "Something went wrong"
    try:
        response: Response = context.render(
            request,
            "message.html",
            status_code=500,
            title=title,
            message="Sorry, this page failed on our side. Please try again later.",
        )
    except Exception:  # the error page itself failed: plain text, still no details
        response = Response(f"{title}\n", status_code=500, media_type="text/plain")
    response.headers.update(headers)
    return response
