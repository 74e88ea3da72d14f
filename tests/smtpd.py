"""A real SMTP server for tests: aiosmtpd on 127.0.0.1, STARTTLS and AUTH, recording mail.

Fixtures (register this module as ``tests.smtpd`` in ``pytest_plugins``, or import them):

- ``smtp_server``: STARTTLS required, AUTH PLAIN/LOGIN required (``SMTP_USER``/``SMTP_PASSWORD``).
- ``smtp_tls_server``: implicit TLS (port 465 style), same AUTH.
- ``smtp_plain_server``: no TLS, no AUTH (a sink).
- ``smtp_pipelining_server``: the same, offering PIPELINING (RFC 2920).
- ``smtp_client_context``: an ``ssl.SSLContext`` that trusts the test certificate.
- ``closed_port``: a loopback port nobody listens on ("server down").

Each server is an ``SmtpTestServer``: ``.messages`` holds what was accepted, ``.rcpt_reply`` /
``.data_reply`` make it answer e.g. "451 4.3.0 try later" or "550 5.1.1 no such user", and
``.stop()`` / ``.start()`` take it down and bring it back on the same port.
"""

from __future__ import annotations

import logging
import socket
import ssl
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path
from typing import Any, cast

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

# aiosmtpd logs every connection at INFO from its own thread, sometimes after pytest has
# closed the captured stream ("--- Logging error ---"); its warnings are all we need.
logging.getLogger("mail.log").setLevel(logging.WARNING)

SMTP_USER = "digest-sender"
SMTP_PASSWORD = "correct horse battery staple"


def free_port() -> int:
    """A loopback port free right now (aiosmtpd cannot bind port 0 and report it back)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def make_certificate(directory: Path) -> tuple[Path, Path]:
    """Generate a self-signed certificate for 127.0.0.1 / localhost with openssl.

    The venv has no ``cryptography``; the openssl command line is on every machine we use.
    An EC key keeps generation to a few milliseconds.
    """
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            "2",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=DNS:localhost,IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


@dataclass
class Received:
    """One accepted message with its envelope and the connection it came on."""

    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage
    raw: bytes  # what arrived after DATA, dot-unstuffed: the bytes a mail client reads
    peer: Any
    tls: bool
    authenticated: bool


@dataclass
class RecordingHandler:
    """aiosmtpd handler that stores messages and can be told to refuse them."""

    received: list[Received] = field(default_factory=list)
    rcpt_reply: str | None = None
    data_reply: str | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if self.rcpt_reply:
            return self.rcpt_reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.data_reply:
            return self.data_reply
        content = envelope.original_content or b""
        message = cast(EmailMessage, message_from_bytes(content, policy=default_policy))
        with self.lock:
            self.received.append(
                Received(
                    mail_from=envelope.mail_from or "",
                    rcpt_tos=list(envelope.rcpt_tos),
                    message=message,
                    raw=content,
                    peer=session.peer,
                    tls=_is_tls(server),
                    authenticated=bool(session.authenticated),
                )
            )
        return "250 Message accepted"


class PipeliningHandler(RecordingHandler):
    """A ``RecordingHandler`` whose server offers PIPELINING (RFC 2920), as Postfix does.
    aiosmtpd reads commands a line at a time, so it answers pipelined ones in order."""

    async def handle_EHLO(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        hostname: str,
        responses: list[str],
    ) -> list[str]:
        session.host_name = hostname  # what aiosmtpd does itself when no hook is set
        return [*responses[:-1], "250-PIPELINING", responses[-1]]


def _is_tls(server: SMTP) -> bool:
    # session.ssl is only filled in after STARTTLS; implicit TLS shows on the transport.
    transport = server.transport
    return transport is not None and transport.get_extra_info("ssl_object") is not None


def _authenticator(
    server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
) -> AuthResult:
    ok = (
        isinstance(auth_data, LoginPassword)
        and auth_data.login == SMTP_USER.encode()
        and auth_data.password == SMTP_PASSWORD.encode()
    )
    # handled=False lets aiosmtpd answer 535 itself; the default leaves the client waiting.
    return AuthResult(success=ok, handled=False)


class SmtpTestServer:
    """A started aiosmtpd controller plus its recording handler."""

    def __init__(self, mode: str, cert: Path, key: Path, *, pipelining: bool = False) -> None:
        self.mode = mode  # "starttls", "tls" or "none"
        self.host = "127.0.0.1"
        self.port = free_port()
        self.handler = PipeliningHandler() if pipelining else RecordingHandler()
        self._cert, self._key = cert, key
        self._controller: Controller | None = None

    @property
    def messages(self) -> list[EmailMessage]:
        with self.handler.lock:
            return [r.message for r in self.handler.received]

    @property
    def received(self) -> list[Received]:
        with self.handler.lock:
            return list(self.handler.received)

    @property
    def rcpt_reply(self) -> str | None:
        return self.handler.rcpt_reply

    @rcpt_reply.setter
    def rcpt_reply(self, value: str | None) -> None:
        self.handler.rcpt_reply = value

    @property
    def data_reply(self) -> str | None:
        return self.handler.data_reply

    @data_reply.setter
    def data_reply(self, value: str | None) -> None:
        self.handler.data_reply = value

    def _server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self._cert, self._key)
        return context

    def start(self) -> None:
        kwargs: dict[str, Any] = {"hostname": self.host, "port": self.port}
        if self.mode == "starttls":
            kwargs.update(
                tls_context=self._server_context(),
                require_starttls=True,
                auth_required=True,
                auth_require_tls=True,
                authenticator=_authenticator,
            )
        elif self.mode == "tls":
            # aiosmtpd only counts STARTTLS as TLS when deciding to offer AUTH, so on an
            # implicit-TLS socket AUTH is offered with auth_require_tls off (and optional).
            kwargs.update(
                ssl_context=self._server_context(),
                auth_require_tls=False,
                authenticator=_authenticator,
            )
        controller = Controller(self.handler, server_hostname="localhost", **kwargs)
        controller.start()
        self._controller = controller

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


@pytest.fixture(scope="session")
def smtp_certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return make_certificate(tmp_path_factory.mktemp("smtp-cert"))


@pytest.fixture
def smtp_client_context(smtp_certificate: tuple[Path, Path]) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(smtp_certificate[0]))


def _serve(
    mode: str, certificate: tuple[Path, Path], *, pipelining: bool = False
) -> Iterator[SmtpTestServer]:
    server = SmtpTestServer(mode, *certificate, pipelining=pipelining)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def smtp_server(smtp_certificate: tuple[Path, Path]) -> Iterator[SmtpTestServer]:
    yield from _serve("starttls", smtp_certificate)


@pytest.fixture
def smtp_tls_server(smtp_certificate: tuple[Path, Path]) -> Iterator[SmtpTestServer]:
    yield from _serve("tls", smtp_certificate)


@pytest.fixture
def smtp_plain_server(smtp_certificate: tuple[Path, Path]) -> Iterator[SmtpTestServer]:
    yield from _serve("none", smtp_certificate)


@pytest.fixture
def smtp_pipelining_server(smtp_certificate: tuple[Path, Path]) -> Iterator[SmtpTestServer]:
    """A sink (no TLS, no AUTH) offering PIPELINING."""
    yield from _serve("none", smtp_certificate, pipelining=True)


@pytest.fixture
def closed_port() -> int:
    return free_port()
