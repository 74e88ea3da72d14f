"""Security helpers for the web pages: CSRF tokens, the rate limiter, and response headers.

CSRF is a signed double-submit token: a random value lives in an HttpOnly cookie and every form
carries HMAC(secret, value). A cross-site page can make the browser send the cookie but cannot
read it, so it cannot compute the form field; a stolen form field is useless without the cookie.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from typing import Any

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSRF_COOKIE = "cw_csrf"
CSRF_FIELD = "csrf_token"
_CSRF_PURPOSE = b"csrf\x00"

# No inline script or style anywhere: the pages need none, and the CSP then blocks any that an
# injection might smuggle in. form-action keeps forms posting only back to us.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)


def security_headers(*, https: bool) -> dict[str, str]:
    headers = {
        "Content-Security-Policy": CONTENT_SECURITY_POLICY,
        "X-Content-Type-Options": "nosniff",
        # Manage and unsubscribe URLs carry tokens: never leak them to other sites.
        "Referrer-Policy": "no-referrer",
        "X-Frame-Options": "DENY",
        "Cross-Origin-Opener-Policy": "same-origin",
    }
    if https:
        headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
    return headers


def csrf_form_token(secret: bytes, cookie_value: str) -> str:
    return hmac.new(secret, _CSRF_PURPOSE + cookie_value.encode(), hashlib.sha256).hexdigest()


def csrf_valid(secret: bytes, cookie_value: str | None, form_value: object) -> bool:
    if not cookie_value or not isinstance(form_value, str) or not form_value:
        return False
    return hmac.compare_digest(csrf_form_token(secret, cookie_value), form_value)


def _cookie_from(scope: Scope, name: str) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == b"cookie":
            jar: SimpleCookie = SimpleCookie()
            try:
                jar.load(value.decode("latin-1"))
            except Exception:  # a garbled Cookie header is treated as no cookie
                continue
            if name in jar:
                return jar[name].value
    return None


class SecurityMiddleware:
    """Adds secure headers to every response and gives every visitor a CSRF cookie.

    The cookie value is put in ``scope["state"]["csrf_cookie"]`` so forms rendered in this very
    response already carry the matching token.
    """

    def __init__(self, app: ASGIApp, *, https: bool) -> None:
        self.app = app
        self.https = https

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        existing = _cookie_from(scope, CSRF_COOKIE)
        value = existing if existing and len(existing) <= 128 else None
        fresh = value is None
        if value is None:
            value = secrets.token_urlsafe(32)
        scope.setdefault("state", {})["csrf_cookie"] = value
        scope["state"]["csrf_cookie_sent"] = not fresh

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, header in security_headers(https=self.https).items():
                    headers[name] = header
                if fresh:
                    secure = "; Secure" if self.https else ""
                    headers.append(
                        "Set-Cookie",
                        f"{CSRF_COOKIE}={value}; Path=/; HttpOnly; SameSite=Lax{secure}",
                    )
            await send(message)

        await self.app(scope, receive, send_with_headers)


@dataclass(frozen=True)
class RateLimit:
    """At most ``limit`` events per ``window_seconds`` for one key."""

    limit: int
    window_seconds: float


# Subscription requests: a person retrying a typo stays well inside these; a script does not.
SUBSCRIBE_PER_ADDRESS = RateLimit(limit=3, window_seconds=3600)
SUBSCRIBE_PER_CLIENT = RateLimit(limit=20, window_seconds=3600)


@dataclass
class SlidingWindowLimiter:
    """In-memory sliding-window limiter; the clock (seconds) is injected so tests drive time.

    One process only: behind several web workers each enforces its own window, which still
    bounds what one client can make us send.
    """

    rule: RateLimit
    clock: Callable[[], float]
    max_keys: int = 100_000
    _events: dict[str, deque[float]] = field(default_factory=dict)

    def hit(self, key: str) -> bool:
        """Record one event for ``key``; False when it goes over the limit (not recorded)."""
        now = self.clock()
        horizon = now - self.rule.window_seconds
        events = self._events.get(key)
        if events is None:
            if len(self._events) >= self.max_keys:
                self._prune(horizon)
            events = self._events[key] = deque()
        while events and events[0] <= horizon:
            events.popleft()
        if len(events) >= self.rule.limit:
            return False
        events.append(now)
        return True

    def retry_after(self, key: str) -> int:
        events = self._events.get(key)
        if not events:
            return 0
        return max(1, int(events[0] + self.rule.window_seconds - self.clock()) + 1)

    def _prune(self, horizon: float) -> None:
        for key in [k for k, v in self._events.items() if not v or v[-1] <= horizon]:
            del self._events[key]
        if len(self._events) >= self.max_keys:  # still full of live keys: forget the oldest
            for key in list(self._events)[: len(self._events) // 2]:
                del self._events[key]


def state_value(scope: Scope, key: str) -> Any:
    return scope.get("state", {}).get(key)
