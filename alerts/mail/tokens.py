"""Signed, URL-safe tokens for manage, unsubscribe and confirmation links.

A token is ``<value>.<mac>``, both base64url without padding. The MAC is HMAC-SHA256 over the
purpose and the value, so a token minted for one purpose (say "manage") is rejected for another
(say "unsubscribe") even though the value is the same. The value is readable by whoever holds the
link: put an opaque subscriber id in it, never anything secret.
"""

from __future__ import annotations

import base64
import binascii
import hmac

from cwerrors import ConfigError, SubscriptionError

# Below this a secret is guessable offline from one leaked link; 32 random bytes is the advice.
MIN_SECRET_BYTES = 16


def _b64encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    """The bytes of a segment in the one spelling :func:`_b64encode` gives them.

    base64 has alternate spellings of the same bytes (padding, ``+/`` for ``-_``, non-zero
    spare bits in the last character): each would be a second valid link for one token, so
    only the canonical one is accepted.
    """
    if not text.isascii():
        raise ValueError("non-ASCII segment")
    padded = text + "=" * (-len(text) % 4)
    # validate=True refuses characters outside the alphabet instead of skipping them, so a
    # token with extra junk is not silently accepted as its cleaned-up twin.
    raw = base64.b64decode(padded, altchars=b"-_", validate=True)
    if _b64encode(raw) != text:
        raise ValueError("not the canonical base64url spelling")
    return raw


def _mac(secret: bytes, purpose: str, value: bytes) -> bytes:
    if len(secret) < MIN_SECRET_BYTES:
        raise ConfigError(f"token secret must be at least {MIN_SECRET_BYTES} bytes")
    if not purpose or "\x00" in purpose:
        raise ValueError(f"invalid token purpose {purpose!r}")
    # The NUL separator keeps ("ab", "c") and ("a", "bc") from signing the same bytes.
    message = purpose.encode("utf-8") + b"\x00" + value
    # hmac.digest: the same MAC as hmac.new(...).digest(), in one C call (a digest run signs
    # two links per subscriber).
    return hmac.digest(secret, message, "sha256")


def sign(secret: bytes, purpose: str, value: str) -> str:
    """Return a URL-safe token that proves ``value`` was issued for ``purpose``."""
    raw = value.encode("utf-8")
    return f"{_b64encode(raw)}.{_b64encode(_mac(secret, purpose, raw))}"


def verify(secret: bytes, purpose: str, token: str) -> str:
    """Return the value inside ``token``; raise SubscriptionError if it is forged or garbled."""
    value_part, dot, mac_part = token.partition(".")
    if not dot:
        raise SubscriptionError("invalid link token: malformed")
    try:
        raw = _b64decode(value_part)
        given = _b64decode(mac_part)
    except (ValueError, binascii.Error) as exc:
        raise SubscriptionError("invalid link token: malformed") from exc
    if not hmac.compare_digest(given, _mac(secret, purpose, raw)):
        raise SubscriptionError("invalid link token: signature does not match")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:  # only reachable with the secret, but stay total
        raise SubscriptionError("invalid link token: value is not text") from exc
