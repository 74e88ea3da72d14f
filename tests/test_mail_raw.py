"""A sent digest read as its receiver reads it: raw header bytes, and its DKIM signature
checked with dkimpy against the public key an operator would publish in DNS."""

from __future__ import annotations

import base64
import subprocess
from collections.abc import Iterator
from pathlib import Path

import dkim
import pytest

from councilwatch import mailer
from councilwatch.digests import run_digests
from cwerrors import ConfigError
from tests import rawmail
from tests.digestkit import T1, T2, Clock, Setup, add_alert, decision, ingest, make_setup
from tests.runtimes import make_runtime
from tests.smtpd import SmtpTestServer, smtp_certificate, smtp_server

__all__ = ["smtp_certificate", "smtp_server"]  # fixtures used by name below

SELECTOR = "cw2026"
DOMAIN = "councilwatch.example"


@pytest.fixture(scope="module")
def dkim_key(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, bytes]:
    """A 2048-bit RSA key as an operator makes one, and the DNS TXT record for it."""
    directory = tmp_path_factory.mktemp("dkim")
    key = directory / "dkim.pem"
    subprocess.run(
        ["openssl", "genrsa", "-traditional", "-out", str(key), "2048"],
        check=True,
        capture_output=True,
    )
    der = subprocess.run(
        ["openssl", "rsa", "-in", str(key), "-pubout", "-outform", "DER"],
        check=True,
        capture_output=True,
    ).stdout
    record = b"v=DKIM1; k=rsa; p=" + base64.b64encode(der)
    return key, record


def dns_for(record: bytes) -> object:
    def lookup(name: bytes, timeout: int = 5) -> bytes | None:
        return record if name == f"{SELECTOR}._domainkey.{DOMAIN}.".encode() else None

    return lookup


def file_runtime_digest(database_url: str, tmp_path: Path, env: dict[str, str]) -> bytes:
    clock = Clock(T1)
    runtime = make_runtime(
        database_url,
        tmp_path,
        now=clock,
        env={"COUNCILWATCH_MAIL__FROM": f"Councilwatch <alerts@{DOMAIN}>", **env},
    )
    try:
        setup = Setup(runtime, clock, server=None)  # type: ignore[arg-type]
        add_alert(setup.engine, "mrs.b@example.org", "Norfolk", councils=["norfolk"])
        ingest(setup, [decision("26 006 001")])
        clock.current = T2
        assert run_digests(runtime, "daily").queued == 1
        assert mailer.send_outbox(runtime).sent == 1
    finally:
        runtime.close()
    [written] = list((tmp_path / "outbox").glob("*.eml"))
    return written.read_bytes()


def dkim_env(key: Path) -> dict[str, str]:
    return {
        "COUNCILWATCH_MAIL__DKIM__DOMAIN": DOMAIN,
        "COUNCILWATCH_MAIL__DKIM__SELECTOR": SELECTOR,
        "COUNCILWATCH_MAIL__DKIM__PRIVATE_KEY_FILE": str(key),
    }


def test_a_sent_digest_is_dkim_signed_and_verifies_against_the_published_key(
    database_url: str, tmp_path: Path, dkim_key: tuple[Path, bytes]
) -> None:
    key, record = dkim_key
    data = file_runtime_digest(database_url, tmp_path, dkim_env(key))
    rawmail.check(data)
    assert data.startswith(b"DKIM-Signature: ")
    signature = rawmail.header(data, "DKIM-Signature")
    assert f"d={DOMAIN}" in signature and f"s={SELECTOR}" in signature
    signed = signature.split("h=")[1].split(";")[0].lower()
    assert {"from", "subject", "list-unsubscribe", "list-unsubscribe-post"} <= set(
        signed.replace(" ", "").split(":")
    )
    assert dkim.verify(data, dnsfunc=dns_for(record))

    head, body = rawmail.split(data)
    changed_body = head + b"\r\n\r\n" + body.replace(b"Norfolk", b"Suffolk", 1)
    assert changed_body != data and not dkim.verify(changed_body, dnsfunc=dns_for(record))
    changed_link = data.replace(b"/unsubscribe/", b"/unsubscribe/x", 1)
    assert not dkim.verify(changed_link, dnsfunc=dns_for(record))


def test_without_dkim_settings_nothing_is_signed(database_url: str, tmp_path: Path) -> None:
    data = file_runtime_digest(database_url, tmp_path, {})
    rawmail.check(data)
    assert b"DKIM-Signature" not in data


def test_an_unreadable_or_wrong_key_is_a_one_line_config_error(
    database_url: str, tmp_path: Path
) -> None:
    runtime = make_runtime(database_url, tmp_path, env=dkim_env(tmp_path / "missing.pem"))
    with pytest.raises(ConfigError, match=r"^mail.dkim.private_key_file: cannot read .*missing"):
        mailer.make_transport(runtime.settings)
    wrong = tmp_path / "cert.pem"
    wrong.write_text("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
    runtime = make_runtime(database_url, tmp_path, env=dkim_env(wrong))
    with pytest.raises(ConfigError, match="not a PEM RSA private key"):
        mailer.make_transport(runtime.settings)
    half = {"COUNCILWATCH_MAIL__DKIM__DOMAIN": DOMAIN}
    runtime = make_runtime(database_url, tmp_path, env=half)
    with pytest.raises(ConfigError, match="domain, selector and private_key_file together"):
        mailer.make_transport(runtime.settings)


@pytest.fixture
def setup(
    database_url: str,
    tmp_path: Path,
    smtp_server: SmtpTestServer,
    smtp_certificate: tuple[Path, Path],
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Setup]:
    yield from make_setup(database_url, tmp_path, smtp_server, smtp_certificate, monkeypatch)


def test_a_digest_on_the_wire_has_plain_one_click_unsubscribe_headers(setup: Setup) -> None:
    add_alert(setup.engine, "mrs.b@example.org", "Norfolk", councils=["norfolk"])
    setup.clock.current = T1
    ingest(setup, [decision("26 006 001")])
    setup.clock.current = T2
    run_digests(setup.runtime, "daily")
    assert mailer.send_outbox(setup.runtime).sent == 1
    [received] = setup.server.received
    rawmail.check(received.raw)
    base = setup.runtime.settings.web.base_url.rstrip("/")
    unsubscribe = rawmail.header(received.raw, "List-Unsubscribe")
    assert unsubscribe.startswith(f"<{base}/unsubscribe/") and unsubscribe.endswith(">")
    assert f"\r\nList-Unsubscribe: <{base}/unsubscribe/".encode() in received.raw
    assert b"=?utf-8?" not in rawmail.split(received.raw)[0].split(b"\r\nSubject:")[0]
