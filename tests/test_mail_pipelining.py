"""SMTP PIPELINING (RFC 2920): a message's MAIL, RCPT and DATA leave in one write when the
server offers it, with the same bytes, replies and errors as one command at a time."""

# ruff: noqa: F811 - test parameters are named after the imported fixtures, as pytest requires
from __future__ import annotations

import smtplib

import pytest

from alerts.mail.message import Mail
from alerts.mail.transports import SmtpPermanentError, SmtpTransientError, SmtpTransport
from tests.smtpd import (  # noqa: F401 - fixtures, until conftest lists tests.smtpd
    SmtpTestServer,
    smtp_certificate,
    smtp_pipelining_server,
    smtp_plain_server,
)
from tests.test_mail_transports import DOTTED, digest_message


def _writes(monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    """What the client writes to the server, one entry a write (after EHLO)."""
    sent: list[bytes] = []
    real = smtplib.SMTP.send

    def send(self: smtplib.SMTP, s: bytes | str) -> None:
        sent.append(s.encode("ascii") if isinstance(s, str) else bytes(s))
        real(self, s)

    monkeypatch.setattr(smtplib.SMTP, "send", send)
    return sent


def _plain(server: SmtpTestServer) -> SmtpTransport:
    return SmtpTransport(server.host, server.port, security="none", timeout=5.0)


def test_with_pipelining_a_message_is_two_writes_the_envelope_and_data_then_the_content(
    smtp_pipelining_server: SmtpTestServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    sent = _writes(monkeypatch)
    with _plain(smtp_pipelining_server) as smtp:
        smtp.send(digest_message("k1", "a@example.org"))
        first = len(sent)
        smtp.send(digest_message("k2", "b@example.org"))
    envelope = sent[first]
    assert envelope.lower().startswith(b"mail from:<alerts@councilwatch.example>")
    assert b"\r\nrcpt to:<b@example.org>\r\ndata\r\n" in envelope.lower()
    assert sent[first + 1].endswith(b"\r\n.\r\n")  # the content, then QUIT
    assert len(sent) == first + 3
    assert [r.rcpt_tos for r in smtp_pipelining_server.received] == [
        ["a@example.org"],
        ["b@example.org"],
    ]


def test_without_pipelining_each_command_waits_for_its_reply(
    smtp_plain_server: SmtpTestServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    sent = _writes(monkeypatch)
    with _plain(smtp_plain_server) as smtp:
        smtp.send(digest_message("k1", "a@example.org"))
        first = len(sent)
        smtp.send(digest_message("k2", "b@example.org"))
    assert len(sent) == first + 5  # MAIL, RCPT, DATA, the content, QUIT
    assert len(smtp_plain_server.received) == 2


@pytest.mark.parametrize("data", DOTTED)
def test_pipelined_lines_starting_with_a_dot_arrive_as_they_were_built(
    smtp_pipelining_server: SmtpTestServer, data: bytes
) -> None:
    mail = Mail(data, envelope_from="alerts@councilwatch.example", recipients=("b@example.org",))
    _plain(smtp_pipelining_server).send(mail)
    ended = data if data.endswith(b"\r\n") else data + b"\r\n"
    assert [r.raw for r in smtp_pipelining_server.received] == [ended]


@pytest.mark.parametrize(
    ("where", "reply", "error", "code"),
    [
        ("rcpt", "451 4.3.0 Mailbox busy, try later", SmtpTransientError, 451),
        ("rcpt", "550 5.1.1 No such user", SmtpPermanentError, 550),
        ("data", "452 4.3.1 Insufficient storage", SmtpTransientError, 452),
        ("data", "554 5.7.1 Message rejected as spam", SmtpPermanentError, 554),
    ],
)
def test_pipelined_replies_map_to_transient_or_permanent_and_the_batch_goes_on(
    smtp_pipelining_server: SmtpTestServer,
    where: str,
    reply: str,
    error: type[Exception],
    code: int,
) -> None:
    with _plain(smtp_pipelining_server) as smtp:
        setattr(smtp_pipelining_server, f"{where}_reply", reply)
        with pytest.raises(error) as caught:
            smtp.send(digest_message("k1", "gone@example.org"))
        assert caught.value.smtp_code == code  # type: ignore[attr-defined]
        setattr(smtp_pipelining_server, f"{where}_reply", None)
        smtp.send(digest_message("k2", "here@example.org"))  # same connection, reset
    [received] = smtp_pipelining_server.received
    assert received.rcpt_tos == ["here@example.org"]


def test_a_pipelined_sender_refused_is_an_error_and_the_batch_goes_on(
    smtp_pipelining_server: SmtpTestServer,
) -> None:
    refused = Mail(
        b"Subject: x\r\n\r\nbody\r\n", envelope_from="bad address@", recipients=("b@example.org",)
    )
    with _plain(smtp_pipelining_server) as smtp:
        with pytest.raises(SmtpPermanentError):
            smtp.send(refused)
        smtp.send(digest_message("k2", "here@example.org"))
    [received] = smtp_pipelining_server.received
    assert received.rcpt_tos == ["here@example.org"]
