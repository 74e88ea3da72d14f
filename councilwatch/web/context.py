"""What every handler needs: the runtime, the template environment, limiters and helpers."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader
from sqlalchemy import Engine
from starlette.requests import Request
from starlette.responses import HTMLResponse

from alerts.councils import Register
from councilwatch.config import Settings
from councilwatch.digest_text import source_label
from councilwatch.mailer import secret, subscriber_id_from_token
from councilwatch.runtime import Runtime
from councilwatch.web.links import same_secret
from councilwatch.web.security import (
    CSRF_FIELD,
    SUBSCRIBE_PER_ADDRESS,
    SUBSCRIBE_PER_CLIENT,
    RateLimit,
    SlidingWindowLimiter,
    csrf_form_token,
    csrf_valid,
)
from cwerrors import SubscriptionError
from db.models_delivery import Subscriber
from db.subscriptions import find_subscriber

TEMPLATES = Path(__file__).parent / "templates"


def make_environment() -> Environment:
    # One environment, autoescape on for every template (HTML and the Atom XML alike).
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["day"] = lambda d: f"{d:%-d %B %Y}" if d else ""
    env.filters["rfc3339"] = rfc3339
    env.filters["source_label"] = source_label
    return env


def rfc3339(value: datetime) -> str:
    # SQLite hands back naive datetimes; everything is stored in UTC.
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.isoformat(timespec="seconds")


class InvalidLink(Exception):
    """A token that is forged, garbled or no longer current: shown as a friendly 404."""


@dataclass
class WebContext:
    runtime: Runtime
    per_address: RateLimit = SUBSCRIBE_PER_ADDRESS
    per_client: RateLimit = SUBSCRIBE_PER_CLIENT
    env: Environment = field(default_factory=make_environment)
    # Called after a page queues mail: wakes the process's sender (see mail_sender.py).
    mail_queued: Callable[[], None] = lambda: None
    _engine: Engine | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        clock = lambda: self.runtime.now().timestamp()  # noqa: E731
        self.address_limiter = SlidingWindowLimiter(self.per_address, clock)
        self.client_limiter = SlidingWindowLimiter(self.per_client, clock)

    @property
    def settings(self) -> Settings:
        return self.runtime.settings

    @property
    def register(self) -> Register:
        return self.runtime.register

    @property
    def engine(self) -> Engine:
        """The database, checked to be migrated once (not on every request)."""
        if self._engine is None:
            with self._lock:
                if self._engine is None:
                    self._engine = self.runtime.migrated_engine()
        return self._engine

    @property
    def secret(self) -> bytes:
        return secret(self.runtime.settings)

    # -- pages ----------------------------------------------------------------------------------

    def render(
        self, request: Request, name: str, status_code: int = 200, **values: Any
    ) -> HTMLResponse:
        cookie = request.scope.get("state", {}).get("csrf_cookie", "")
        html = self.env.get_template(name).render(
            csrf_field=CSRF_FIELD,
            csrf_token=csrf_form_token(self.secret, cookie) if cookie else "",
            **values,
        )
        response = HTMLResponse(html, status_code=status_code)
        if values.get("private"):
            # Pages behind a token: no caching anywhere, so a shared computer forgets them.
            response.headers["Cache-Control"] = "no-store"
        return response

    def csrf_ok(self, request: Request, form_value: object) -> bool:
        # Only a cookie the browser sent counts; one minted for this very request does not.
        state = request.scope.get("state", {})
        cookie = state.get("csrf_cookie") if state.get("csrf_cookie_sent") else None
        return csrf_valid(self.secret, cookie, form_value)

    # -- tokens ---------------------------------------------------------------------------------

    def subscriber_for(self, purpose: str, token: str) -> Subscriber:
        """The subscriber a link token names; InvalidLink if forged or revoked.

        Unsubscribing gives the subscriber a new secret, which revokes every older link;
        only an unsubscribe link still shows an unsubscribed address that it is (a second
        click on the link in the same email), and it can change nothing.
        """
        try:
            subscriber_id, raw = subscriber_id_from_token(self.settings, purpose, token)
        except SubscriptionError:
            raise InvalidLink from None
        found = find_subscriber(self.engine, subscriber_id=subscriber_id)
        if found is None:
            raise InvalidLink
        if same_secret(found.token, raw):
            return found
        if purpose == "unsubscribe" and found.status == "unsubscribed":
            return found
        raise InvalidLink
