"""DKIM signing (RFC 6376) with dkimpy, applied to a finished message as it is sent.

dkimpy is the maintained Python implementation (it also verifies, which is how the tests check
our signatures); hand-rolled canonicalisation is where DKIM implementations go wrong. Signing
happens in the transport, not when a message is queued, so a key rotation applies to every
message still in the outbox and stored rows never carry a stale signature.

The signature covers the headers a receiver or a mailbox provider relies on, List-Unsubscribe
and List-Unsubscribe-Post included (Gmail honours one-click unsubscribe only when they are
signed), with relaxed/relaxed canonicalisation so a relay re-folding a header does not break it.
"""

from __future__ import annotations

from types import TracebackType
from typing import Self

import dkim
from dkim.crypto import UnparsableKeyError, parse_pem_private_key

from alerts.mail.message import Mail
from alerts.mail.transports import Transport
from cwerrors import ConfigError

SIGNED_HEADERS = (
    b"From",
    b"To",
    b"Subject",
    b"Date",
    b"Message-ID",
    b"List-Id",
    b"List-Unsubscribe",
    b"List-Unsubscribe-Post",
    b"Auto-Submitted",
    b"MIME-Version",
    b"Content-Type",
)


class DkimSigner:
    """Signs messages for ``domain`` with the RSA key published at ``selector._domainkey``."""

    def __init__(self, domain: str, selector: str, private_key: bytes) -> None:
        if not domain or not selector:
            raise ConfigError("mail.dkim needs both domain and selector")
        try:
            parse_pem_private_key(private_key)
        except (UnparsableKeyError, ValueError, IndexError) as exc:
            raise ConfigError(
                "mail.dkim.private_key_file is not a PEM RSA private key "
                "(-----BEGIN RSA PRIVATE KEY-----; convert with `openssl rsa -traditional`)"
            ) from exc
        self.domain = domain.lower()
        self.selector = selector
        self._key = private_key

    def __repr__(self) -> str:  # never show the key
        return f"DkimSigner({self.domain!r}, selector={self.selector!r})"

    def sign(self, mail: Mail) -> Mail:
        signature = dkim.sign(
            mail.data,
            self.selector.encode("ascii"),
            self.domain.encode("ascii"),
            self._key,
            canonicalize=(b"relaxed", b"relaxed"),
            include_headers=list(SIGNED_HEADERS),
        )
        return mail.prepend_header(signature)


class SigningTransport:
    """A transport that DKIM-signs every message before handing it to ``inner``."""

    def __init__(self, inner: Transport, signer: DkimSigner) -> None:
        self.inner = inner
        self.signer = signer

    def __enter__(self) -> Self:
        enter = getattr(self.inner, "__enter__", None)
        if enter is not None:
            enter()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        leave = getattr(self.inner, "__exit__", None)
        if leave is not None:
            leave(exc_type, exc, tb)

    def send(self, msg: Mail) -> None:
        self.inner.send(self.signer.sign(msg))
