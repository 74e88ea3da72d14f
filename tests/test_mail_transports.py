"""Transports against a real aiosmtpd server (STARTTLS + AUTH) and a real outbox directory."""

# ruff: noqa: F811 - test parameters are named after the imported fixtures, as pytest requires

from __future__ import annotations

import socket
import ssl
from collections.abc import Iterator
from datetime import UTC, datetime
from email import message_from_bytes
from email.policy import default as default_policy
from pathlib import Path

import pytest

from alerts.digest.render import render_digest
from alerts.digest.sample import sample_digest
from alerts.mail.message import Mail, build_message, make_message_id
from alerts.mail.transports import (
    FileTransport,
    SmtpPermanentError,
    SmtpTransientError,
    SmtpTransport,
)
from cwerrors import (
    ConfigError,
    PermanentDeliveryError,
    TransientDeliveryError,
)
from tests import rawmail
from tests.smtpd import (  # noqa: F401 - fixtures, until conftest lists tests.smtpd
    SMTP_PASSWORD,
    SMTP_USER,
    SmtpTestServer,
    closed_port,
    smtp_certificate,
    smtp_client_context,
    smtp_plain_server,
    smtp_server,
    smtp_tls_server,
)

WHEN = datetime(2025, 3, 4, 8, 0, tzinfo=UTC)


def digest_message(key: str = "outbox-1", to: str = "mrs.b@example.org") -> Mail:
    rendered = render_digest(sample_digest(subscriber_email=to))
    return build_message(
        sender="Councilwatch <alerts@councilwatch.example>",
        to=to,
        subject=rendered.subject,
        text=rendered.text,
        html=rendered.html,
        message_id=make_message_id(key, "councilwatch.example"),
        unsubscribe_url="https://councilwatch.example/unsubscribe/tok",
        unsubscribe_mailto="unsubscribe+tok@councilwatch.example",
        date=WHEN,
    )


def starttls(server: SmtpTestServer, context: ssl.SSLContext, **kw: object) -> SmtpTransport:
    """An authenticated transport to ``server`` (STARTTLS unless ``security=`` says "tls")."""
    options: dict[str, object] = {
        "security": "starttls",
        "username": SMTP_USER,
        "password": SMTP_PASSWORD,
        "ssl_context": context,
        "timeout": 5.0,
    }
    options.update(kw)
    return SmtpTransport(server.host, server.port, **options)  # type: ignore[arg-type]


def test_digest_arrives_over_starttls_with_auth_and_all_headers(
    smtp_server: SmtpTestServer, smtp_client_context: ssl.SSLContext
) -> None:
    sent = digest_message()
    starttls(smtp_server, smtp_client_context).send(sent)

    [received] = smtp_server.received
    assert received.tls and received.authenticated
    assert received.rcpt_tos == ["mrs.b@example.org"]
    got = received.message
    assert got.get_content_type() == "multipart/alternative"
    text, html = got.iter_parts()
    assert "£1,350 to Mrs B" in text.get_content()
    assert 'style="' in html.get_content() and "£1,350 to Mrs B" in html.get_content()
    for header in ("Message-ID", "Subject", "List-Unsubscribe", "List-Id"):
        assert got[header] == sent[header]
    assert got["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert got["Auto-Submitted"] == "auto-generated"
    assert got["Subject"].startswith("6 decisions and 2 stories: Norfolk County Council")
    # What arrived is what was built, byte for byte, and passes the raw-header checks.
    assert received.raw == sent.data
    rawmail.check(received.raw)
    assert received.mail_from == "alerts@councilwatch.example"


def test_the_file_transport_and_smtp_carry_the_same_bytes(
    smtp_plain_server: SmtpTestServer, tmp_path: Path
) -> None:
    sent = digest_message("same-bytes")
    FileTransport(tmp_path).send(sent)
    SmtpTransport(smtp_plain_server.host, smtp_plain_server.port, security="none").send(sent)
    [written] = list(tmp_path.iterdir())
    [received] = smtp_plain_server.received
    assert written.read_bytes() == received.raw == sent.data
    rawmail.check(written.read_bytes())
    assert rawmail.header(received.raw, "List-Unsubscribe") == (
        "<https://councilwatch.example/unsubscribe/tok>, "
        "<mailto:unsubscribe+tok@councilwatch.example>"
    )


DOTTED = [
    b"From: alerts@councilwatch.example\r\nTo: mrs.b@example.org\r\nSubject: dots\r\n\r\n"
    b".one\r\n..two\r\n.\r\n...\r\nmiddle . dot\r\n.\r\n",
    b".a first line with a dot\r\n\r\nbody\r\n.",  # no final CRLF, ends on a dot
    b"no dots at all\r\n",
]


@pytest.mark.parametrize("data", DOTTED)
def test_lines_starting_with_a_dot_arrive_as_they_were_built(
    smtp_plain_server: SmtpTestServer, smtp_tls_server: SmtpTestServer,
    smtp_client_context: ssl.SSLContext, data: bytes,
) -> None:  # fmt: skip
    """SMTP doubles a line's leading dot on the wire and the server takes it off again
    (RFC 5321 4.5.2); a lone "." must never end the message early. Over both connections."""
    mail = Mail(data, envelope_from="alerts@councilwatch.example", recipients=("b@example.org",))
    SmtpTransport(smtp_plain_server.host, smtp_plain_server.port, security="none").send(mail)
    starttls(smtp_tls_server, smtp_client_context, security="tls").send(mail)
    ended = data if data.endswith(b"\r\n") else data + b"\r\n"
    assert [r.raw for r in smtp_plain_server.received] == [ended]
    assert [r.raw for r in smtp_tls_server.received] == [ended]


def test_a_plain_relay_never_loads_the_tls_certificates(
    smtp_plain_server: SmtpTestServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*args: object, **kwargs: object) -> ssl.SSLContext:
        raise AssertionError("a security='none' transport built a TLS context")

    monkeypatch.setattr(ssl, "create_default_context", refuse)
    SmtpTransport(smtp_plain_server.host, smtp_plain_server.port, security="none").send(
        digest_message("plain")
    )
    assert len(smtp_plain_server.received) == 1


def test_batch_reuses_one_connection(
    smtp_server: SmtpTestServer, smtp_client_context: ssl.SSLContext
) -> None:
    with starttls(smtp_server, smtp_client_context) as smtp:
        for n in range(3):
            smtp.send(digest_message(f"k{n}", f"reader{n}@example.org"))
    peers = {r.peer for r in smtp_server.received}
    assert len(smtp_server.received) == 3 and len(peers) == 1


def test_without_a_batch_each_send_has_its_own_connection(
    smtp_server: SmtpTestServer, smtp_client_context: ssl.SSLContext
) -> None:
    smtp = starttls(smtp_server, smtp_client_context)
    smtp.send(digest_message("k1"))
    smtp.send(digest_message("k2"))
    assert len({r.peer for r in smtp_server.received}) == 2


def test_implicit_tls(smtp_tls_server: SmtpTestServer, smtp_client_context: ssl.SSLContext) -> None:
    starttls(smtp_tls_server, smtp_client_context, security="tls").send(digest_message())
    [received] = smtp_tls_server.received
    assert received.tls and received.authenticated


def test_plain_sink_without_auth(smtp_plain_server: SmtpTestServer) -> None:
    SmtpTransport(smtp_plain_server.host, smtp_plain_server.port, security="none").send(
        digest_message()
    )
    [received] = smtp_plain_server.received
    assert not received.tls


@pytest.mark.parametrize(
    ("where", "reply", "error", "code"),
    [
        ("rcpt", "451 4.3.0 Mailbox busy, try later", SmtpTransientError, 451),
        ("rcpt", "550 5.1.1 No such user", SmtpPermanentError, 550),
        ("data", "452 4.3.1 Insufficient storage", SmtpTransientError, 452),
        ("data", "554 5.7.1 Message rejected as spam", SmtpPermanentError, 554),
    ],
)
def test_smtp_replies_map_to_transient_or_permanent(
    smtp_server: SmtpTestServer,
    smtp_client_context: ssl.SSLContext,
    where: str,
    reply: str,
    error: type[Exception],
    code: int,
) -> None:
    setattr(smtp_server, f"{where}_reply", reply)
    with pytest.raises(error) as caught:
        starttls(smtp_server, smtp_client_context).send(digest_message())
    assert caught.value.smtp_code == code  # type: ignore[attr-defined]
    assert str(code) in str(caught.value)
    expected_base = PermanentDeliveryError if code >= 500 else TransientDeliveryError
    assert isinstance(caught.value, expected_base)
    assert smtp_server.received == []


def test_batch_goes_on_after_a_refused_recipient(
    smtp_server: SmtpTestServer, smtp_client_context: ssl.SSLContext
) -> None:
    with starttls(smtp_server, smtp_client_context) as smtp:
        smtp_server.rcpt_reply = "550 5.1.1 No such user"
        with pytest.raises(PermanentDeliveryError):
            smtp.send(digest_message("k1", "gone@example.org"))
        smtp_server.rcpt_reply = None
        smtp.send(digest_message("k2", "here@example.org"))
    [received] = smtp_server.received
    assert received.rcpt_tos == ["here@example.org"]


def test_a_stored_message_with_no_recipient_is_refused_for_good_and_the_batch_goes_on(
    smtp_plain_server: SmtpTestServer,
) -> None:
    # An outbox row whose To header was lost (hand-edited, or an older release's bug) loads
    # with no recipients; smtplib refuses it with an empty refusal map, which once escaped as
    # StopIteration and stopped the whole sending thread.
    stored = digest_message("k0").as_text()
    headless = "".join(
        line for line in stored.splitlines(keepends=True) if not line.startswith("To:")
    )
    orphan = Mail.load(headless)
    assert orphan.recipients == ()
    with SmtpTransport(
        smtp_plain_server.host, smtp_plain_server.port, security="none", timeout=5.0
    ) as smtp:
        with pytest.raises(PermanentDeliveryError, match="no recipient"):
            smtp.send(orphan)
        smtp.send(digest_message("k1", "here@example.org"))
    [received] = smtp_plain_server.received
    assert received.rcpt_tos == ["here@example.org"]


def test_server_down_is_transient(closed_port: int) -> None:
    smtp = SmtpTransport("127.0.0.1", closed_port, security="none", timeout=2.0)
    with pytest.raises(TransientDeliveryError, match="cannot reach SMTP server"):
        smtp.send(digest_message())


def test_server_down_then_up_loses_nothing(
    smtp_server: SmtpTestServer, smtp_client_context: ssl.SSLContext
) -> None:
    smtp_server.stop()
    smtp = starttls(smtp_server, smtp_client_context)
    pending = [digest_message("k1"), digest_message("k2")]
    for msg in pending:
        with pytest.raises(TransientDeliveryError):
            smtp.send(msg)
    smtp_server.start()
    with smtp:
        for msg in pending:
            smtp.send(msg)
    assert sorted(m["Message-ID"] for m in smtp_server.messages) == sorted(
        m["Message-ID"] for m in pending
    )


def test_server_stopping_mid_batch_is_transient_and_next_batch_reconnects(
    smtp_server: SmtpTestServer, smtp_client_context: ssl.SSLContext
) -> None:
    smtp = starttls(smtp_server, smtp_client_context)
    with smtp:
        smtp.send(digest_message("k1"))
        smtp_server.stop()
        with pytest.raises(TransientDeliveryError):
            smtp.send(digest_message("k2"))
        smtp_server.start()
        smtp.send(digest_message("k2"))
    assert len(smtp_server.received) == 2


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts TCP connections but never says hello."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        yield int(sock.getsockname()[1])


def test_timeout_is_transient(silent_port: int) -> None:
    smtp = SmtpTransport("127.0.0.1", silent_port, security="none", timeout=0.3)
    with pytest.raises(TransientDeliveryError, match="cannot reach"):
        smtp.send(digest_message())


def test_wrong_password_is_transient_not_a_bounce(
    smtp_server: SmtpTestServer, smtp_client_context: ssl.SSLContext
) -> None:
    smtp = starttls(smtp_server, smtp_client_context, password="wrong")
    with pytest.raises(SmtpTransientError, match="authentication failed") as caught:
        smtp.send(digest_message())
    assert caught.value.smtp_code == 535
    assert not isinstance(caught.value, PermanentDeliveryError)


def test_untrusted_certificate_is_refused(smtp_server: SmtpTestServer) -> None:
    # The default context verifies certificates; the test server's is self-signed.
    smtp = starttls(smtp_server, ssl.create_default_context())
    with pytest.raises(TransientDeliveryError, match="certificate"):
        smtp.send(digest_message())
    assert smtp_server.received == []


def test_bad_security_setting_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="starttls, tls or none"):
        SmtpTransport("127.0.0.1", 25, security="ssl")  # type: ignore[arg-type]


def test_password_is_not_in_repr() -> None:
    smtp = SmtpTransport("mail.example", 587, username="u", password="hunter2-secret")
    assert "hunter2" not in repr(smtp)


def test_file_transport_writes_one_complete_eml(tmp_path: Path) -> None:
    outbox = tmp_path / "outbox"
    transport = FileTransport(outbox, clock=lambda: datetime(2025, 3, 4, 8, 0, 1, 5, tzinfo=UTC))
    msg = digest_message("k1")
    transport.send(msg)

    [written] = list(outbox.iterdir())
    assert written.name.startswith("20250304T080001000005Z-")
    assert written.suffix == ".eml"
    data = written.read_bytes()
    assert b"\r\n" in data
    rawmail.check(data)
    assert rawmail.header(data, "Message-ID") == msg["Message-ID"]
    parsed = message_from_bytes(data, policy=default_policy)
    assert parsed.get_content_type() == "multipart/alternative"


def test_a_message_being_written_is_never_visible_as_an_eml(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A reader polling the folder for *.eml (a mail tool, our own tests) must not pick up the
    temporary file while it is written: it once ended in .eml, and a test read it empty."""
    import os

    seen: list[list[str]] = []
    real_replace = os.replace

    def replace(src: str, dst: Path) -> None:
        seen.append(sorted(p.name for p in tmp_path.glob("*.eml")))  # just before the rename
        real_replace(src, dst)

    monkeypatch.setattr("alerts.mail.transports.os.replace", replace)
    FileTransport(tmp_path, clock=lambda: WHEN).send(digest_message("k1"))
    assert seen == [[]]
    assert len(list(tmp_path.glob("*.eml"))) == 1


def test_file_transport_names_differ_by_message_id(tmp_path: Path) -> None:
    transport = FileTransport(tmp_path, clock=lambda: WHEN)
    transport.send(digest_message("k1"))
    transport.send(digest_message("k2"))
    names = sorted(p.name for p in tmp_path.iterdir())
    assert len(names) == 2 and names[0] != names[1]
    assert not [n for n in names if n.startswith(".tmp-")]


def test_file_transport_failure_is_transient_and_leaves_no_temp_file(tmp_path: Path) -> None:
    blocker = tmp_path / "outbox"
    blocker.write_text("not a directory")
    with pytest.raises(TransientDeliveryError, match="cannot write"):
        FileTransport(blocker).send(digest_message())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["outbox"]


def test_a_row_queued_by_the_previous_release_still_sends(
    smtp_plain_server: SmtpTestServer,
) -> None:
    # Rows written before the raw serialiser hold EmailMessage.as_string() text (LF ends).
    from email.message import EmailMessage

    old = EmailMessage()
    old["From"] = "Councilwatch <alerts@councilwatch.example>"
    old["To"] = "mrs.b@example.org"
    old["Subject"] = "1 decision: Norfolk County Council"
    old["Message-ID"] = "<abc@councilwatch.example>"
    old["List-Unsubscribe"] = "<https://councilwatch.example/unsubscribe/tok>"
    old.set_content("Upheld. £700 to Mrs B.\n", cte="quoted-printable")
    stored = old.as_string(policy=default_policy)
    mail = Mail.load(stored)
    assert (mail.envelope_from, mail.recipients) == (
        "alerts@councilwatch.example",
        ("mrs.b@example.org",),
    )
    SmtpTransport(smtp_plain_server.host, smtp_plain_server.port, security="none").send(mail)
    [received] = smtp_plain_server.received
    assert b"\n" not in received.raw.replace(b"\r\n", b"")
    assert rawmail.header(received.raw, "Message-ID") == "<abc@councilwatch.example>"
    assert "£700 to Mrs B" in received.message.get_content()
