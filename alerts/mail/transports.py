"""Ways to hand a finished message over: to files (the default) or to an SMTP server.

Failures are sorted for the outbox worker:

- ``TransientDeliveryError``: try again later. SMTP 4xx, refused connections, timeouts, a
  dropped connection, and also authentication or TLS set-up failures: those concern our server
  settings, not the recipient, so they must never count towards marking an address bouncing;
  the mail waits in the outbox until the operator fixes the settings.
- ``PermanentDeliveryError``: SMTP 5xx for this message or recipient; record it and count it
  towards bouncing. ``UnsendableMessage`` (a message with no recipient) is recorded only.

The SMTP subclasses carry the reply code (``smtp_code``) so the outbox can store it.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import smtplib
import ssl
import tempfile
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Literal, Protocol, Self

from alerts.mail.message import Mail
from cwerrors import (
    ConfigError,
    PermanentDeliveryError,
    TransientDeliveryError,
    UnsendableMessage,
)

if TYPE_CHECKING:
    from _typeshed import SizedBuffer
    from typing_extensions import Buffer

Security = Literal["starttls", "tls", "none"]

DEFAULT_SMTP_TIMEOUT = 30.0  # seconds per socket operation; smtplib's default is none at all


class Transport(Protocol):
    """Anything that can deliver one message or raise a ``DeliveryError``."""

    def send(self, msg: Mail) -> None: ...


class SmtpTransientError(TransientDeliveryError):
    """A transient SMTP failure; ``smtp_code`` is None when no reply was received."""

    def __init__(self, message: str, *, smtp_code: int | None = None) -> None:
        super().__init__(message)
        self.smtp_code = smtp_code


class SmtpPermanentError(PermanentDeliveryError):
    """The server refused this message or recipient for good (a 5xx reply)."""

    def __init__(self, message: str, *, smtp_code: int) -> None:
        super().__init__(message)
        self.smtp_code = smtp_code


def _message_id_hash(msg: Mail) -> str:
    key = msg.get("Message-ID")
    return hashlib.sha256(key.encode("ascii") if key else msg.data).hexdigest()[:16]


def _utc_now() -> datetime:
    return datetime.now(UTC)


class FileTransport:
    """Write each message to ``outbox_dir/<UTC timestamp>-<message-id hash>.eml``.

    The file appears whole or not at all (temporary file in the same directory, fsync, rename),
    so a reader polling the directory never sees half a message.
    """

    def __init__(self, outbox_dir: Path, *, clock: Callable[[], datetime] = _utc_now) -> None:
        self.outbox_dir = Path(outbox_dir)
        self._clock = clock

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        return None

    def path_for(self, msg: Mail) -> Path:
        stamp = self._clock().astimezone(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        return self.outbox_dir / f"{stamp}-{_message_id_hash(msg)}.eml"

    def send(self, msg: Mail) -> None:
        target = self.path_for(msg)
        data = msg.data  # CRLF line ends: byte for byte what SMTP sends after DATA
        tmp_name = ""
        try:
            self.outbox_dir.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(
                dir=self.outbox_dir, prefix=".tmp-", suffix=".part", delete=False
            ) as handle:
                tmp_name = handle.name
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp_name, target)
        except OSError as exc:
            if tmp_name:
                Path(tmp_name).unlink(missing_ok=True)
            raise TransientDeliveryError(f"cannot write {target}: {exc}") from exc


class _StuffedData(smtplib.SMTP):
    """smtplib's client, dot-stuffing the finished bytes with ``bytes.replace``, and sending
    a message's commands together when the server offers PIPELINING (RFC 2920).

    RFC 5321 4.5.2: a line that starts with "." gets one more. smtplib does it with
    ``re.sub(rb"(?m)^\\.", b"..", data)``, which tries the pattern at every byte: 0.6 ms
    CPU for a 57 KB digest (0.06 ms this way), a third of sending one. A line starts at the
    message's start or after an LF, so one C replace of b"\\n." and a look at the first
    byte give the same bytes (tests/test_mail_transports.py sends dots through a server).
    """

    def data(self, msg: Buffer | str) -> tuple[int, bytes]:
        if not isinstance(msg, bytes):  # only ever bytes from SmtpTransport; stay general
            return super().data(msg)
        self.putcmd("data")
        code, reply = self.getreply()
        if code != 354:
            raise smtplib.SMTPDataError(code, reply)
        return self._content(msg)

    def _content(self, msg: bytes) -> tuple[int, bytes]:
        stuffed = msg.replace(b"\n.", b"\n..")
        if stuffed.startswith(b"."):
            stuffed = b"." + stuffed
        ending = b".\r\n" if stuffed.endswith(b"\r\n") else b"\r\n.\r\n"
        self.send(stuffed + ending)
        return self.getreply()

    def sendmail(
        self,
        from_addr: str,
        to_addrs: str | Sequence[str],
        msg: SizedBuffer | str,
        mail_options: Sequence[str] = (),
        rcpt_options: Sequence[str] = (),
    ) -> dict[str, tuple[int, bytes]]:
        """smtplib's ``sendmail``, its replies and exceptions, in two round trips instead of
        four when the server offers PIPELINING: MAIL, RCPT and DATA in one write, then their
        replies; then the content and its reply. Each round trip is a wait on the server
        and, in the digest job's sending thread, a wait for the building thread's GIL."""
        self.ehlo_or_helo_if_needed()
        plain = mail_options or rcpt_options or not isinstance(msg, bytes)
        if plain or not self.has_extn("pipelining"):
            return super().sendmail(from_addr, to_addrs, msg, mail_options, rcpt_options)
        assert isinstance(msg, bytes)  # for mypy: ``plain`` covers the rest
        recipients = [to_addrs] if isinstance(to_addrs, str) else list(to_addrs)
        size = f" size={len(msg)}" if self.has_extn("size") else ""
        commands = [f"mail FROM:{smtplib.quoteaddr(from_addr)}{size}"]
        commands += [f"rcpt TO:{smtplib.quoteaddr(r)}" for r in recipients]
        commands.append("data")
        for command in commands:
            if "\r" in command or "\n" in command:  # as putcmd: no command injection
                raise ValueError(f"command and arguments contain prohibited newline: {command!r}")
        self.send("".join(f"{command}\r\n" for command in commands))
        mail = self.getreply()
        replies = [self.getreply() for _ in recipients]
        data = self.getreply()
        refused = {
            r: reply
            for r, reply in zip(recipients, replies, strict=True)
            if reply[0] not in (250, 251)
        }
        if data[0] == 354 and (mail[0] != 250 or len(refused) == len(recipients)):
            self.send(b".\r\n")  # DATA accepted with nothing to send: a lone dot ends it
            self.getreply()
        if mail[0] != 250:
            self._drop_or_reset(mail[0])
            raise smtplib.SMTPSenderRefused(mail[0], mail[1], from_addr)
        if any(code == 421 for code, _ in refused.values()):
            self.close()
            raise smtplib.SMTPRecipientsRefused(refused)
        if len(refused) == len(recipients):
            self._reset()
            raise smtplib.SMTPRecipientsRefused(refused)
        if data[0] != 354:
            self._drop_or_reset(data[0])
            raise smtplib.SMTPDataError(*data)
        code, reply = self._content(msg)
        if code != 250:
            self._drop_or_reset(code)
            raise smtplib.SMTPDataError(code, reply)
        return refused

    def _drop_or_reset(self, code: int) -> None:
        if code == 421:  # the server is closing the connection
            self.close()
        else:
            self._reset()

    def _reset(self) -> None:
        """RSET, a dropped connection ignored (smtplib's private ``_rset``)."""
        with contextlib.suppress(smtplib.SMTPServerDisconnected):
            self.rset()


class _StuffedDataTls(_StuffedData, smtplib.SMTP_SSL):
    """``_StuffedData`` over implicit TLS."""


class SmtpTransport:
    """Send through an SMTP server, one connection per ``with`` block.

    Inside ``with SmtpTransport(...) as smtp:`` every ``smtp.send`` reuses one connection (it
    is reopened after a failure). Outside a ``with`` block each send opens and closes its own.
    """

    def __init__(
        self,
        host: str,
        port: int,
        *,
        security: Security = "starttls",
        username: str | None = None,
        password: str | None = None,
        timeout: float = DEFAULT_SMTP_TIMEOUT,
        ssl_context: ssl.SSLContext | None = None,
        envelope_from: str | None = None,
        local_hostname: str | None = None,
    ) -> None:
        if security not in ("starttls", "tls", "none"):
            raise ConfigError(f"smtp security must be starttls, tls or none, not {security!r}")
        if username and password is None:
            raise ConfigError("smtp username is set but no password was given")
        self.host = host
        self.port = port
        self.security = security
        self.username = username
        self._password = password
        self.timeout = timeout
        # Made when a TLS connection first needs it: loading the system's CA certificates
        # is wasted on a plain local relay (security="none").
        self._ssl_context = ssl_context
        self.envelope_from = envelope_from
        self.local_hostname = local_hostname
        self._conn: smtplib.SMTP | None = None
        self._in_batch = False

    def __repr__(self) -> str:  # never show the password
        return f"SmtpTransport({self.host!r}, {self.port}, security={self.security!r})"

    def __enter__(self) -> Self:
        self._in_batch = True
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._in_batch = False
        self.close()

    def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            return
        try:
            conn.quit()
        except (smtplib.SMTPException, OSError):
            conn.close()

    def _tls(self) -> ssl.SSLContext:
        if self._ssl_context is None:
            self._ssl_context = ssl.create_default_context()
        return self._ssl_context

    def _connect(self) -> smtplib.SMTP:
        where = f"{self.host}:{self.port}"
        conn: smtplib.SMTP | None = None
        try:
            if self.security == "tls":
                conn = _StuffedDataTls(
                    self.host,
                    self.port,
                    local_hostname=self.local_hostname,
                    timeout=self.timeout,
                    context=self._tls(),
                )
            else:
                conn = _StuffedData(
                    self.host, self.port, local_hostname=self.local_hostname, timeout=self.timeout
                )
            conn.ehlo()
            if self.security == "starttls":
                conn.starttls(context=self._tls())
                conn.ehlo()
            if self.username:
                conn.login(self.username, self._password or "")
        except smtplib.SMTPAuthenticationError as exc:
            _close_quietly(conn)
            raise SmtpTransientError(
                f"SMTP authentication failed at {where} ({exc.smtp_code}); check the username "
                "and password",
                smtp_code=exc.smtp_code,
            ) from exc
        except smtplib.SMTPNotSupportedError as exc:
            _close_quietly(conn)
            raise SmtpTransientError(f"SMTP server {where} does not support {exc}") from exc
        except smtplib.SMTPResponseException as exc:
            _close_quietly(conn)
            raise SmtpTransientError(
                f"SMTP server {where} refused the session: {exc.smtp_code} {_text(exc.smtp_error)}",
                smtp_code=exc.smtp_code,
            ) from exc
        except (smtplib.SMTPException, OSError) as exc:
            # OSError covers refused connections, timeouts, DNS failures and TLS errors.
            _close_quietly(conn)
            reason = str(exc) or type(exc).__name__
            raise SmtpTransientError(f"cannot reach SMTP server {where}: {reason}") from exc
        return conn

    def send(self, msg: Mail) -> None:
        if not msg.recipients:
            # smtplib would refuse it with an empty refusal map: nothing to classify.
            raise UnsendableMessage(f"message {msg.get('Message-ID')} has no recipient")
        if self._conn is None:
            self._conn = self._connect()
        conn = self._conn
        try:
            # The finished bytes as they are: send_message would parse and re-serialise them.
            refused = conn.sendmail(
                self.envelope_from or msg.envelope_from, list(msg.recipients), msg.data
            )
        except smtplib.SMTPRecipientsRefused as exc:
            code, reply = next(iter(exc.recipients.values()))
            self._after_error(reset=True)
            raise _classify(code, f"recipient refused: {code} {_text(reply)}") from exc
        except smtplib.SMTPResponseException as exc:
            self._after_error(reset=True)
            raise _classify(
                exc.smtp_code, f"message refused: {exc.smtp_code} {_text(exc.smtp_error)}"
            ) from exc
        except (smtplib.SMTPException, OSError) as exc:
            # Dropped or timed-out connection: the next send starts a fresh one. If the drop
            # came after the server accepted the data, the outbox will send it again; that
            # is the one duplicate no sender can rule out.
            self._after_error(reset=False)
            reason = str(exc) or type(exc).__name__
            raise SmtpTransientError(f"SMTP connection failed while sending: {reason}") from exc
        if refused:  # only possible with several recipients, some accepted
            code, reply = next(iter(refused.values()))
            raise _classify(code, f"recipient refused: {code} {_text(reply)}")
        if not self._in_batch:
            self.close()

    def _after_error(self, *, reset: bool) -> None:
        """Leave the connection usable for the next message, or drop it."""
        if reset and self._in_batch and self._conn is not None:
            try:
                self._conn.rset()
                return
            except (smtplib.SMTPException, OSError):
                pass
        conn, self._conn = self._conn, None
        _close_quietly(conn)


def _classify(code: int, message: str) -> SmtpTransientError | SmtpPermanentError:
    if 500 <= code < 600:
        return SmtpPermanentError(message, smtp_code=code)
    return SmtpTransientError(message, smtp_code=code)


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply


def _close_quietly(conn: smtplib.SMTP | None) -> None:
    if conn is not None:
        with contextlib.suppress(OSError):
            conn.close()
