"""A story that reports a decision, as the subscriber reads it: one item when the digest holds
both, "Reports ombudsman decision ..." when it holds only the story. SQLite and PostgreSQL,
real SMTP, read as the client reads the bytes."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from councilwatch import mailer
from councilwatch.digests import run_digests
from db.matches import pending_matches
from tests.digestkit import (
    T1,
    Setup,
    add_alert,
    decision,
    ingest,
    make_setup,
    part,
    remedies,
    story,
)
from tests.smtpd import SmtpTestServer, smtp_certificate, smtp_server

__all__ = ["smtp_certificate", "smtp_server"]

DECISION = decision(
    "26 003 118",
    "Cumberland Council",
    "Mr T complained the Council let a child protection enquiry drift for months.",
    category="Children's care services",
    decided_on=date(2026, 10, 20),
    summary="Mr T complained the Council let a child protection enquiry drift for months.",
    extra=remedies((60000, "Mr T"), (15000, "each daughter"), (15000, "each daughter")),
)
STORY = story(
    "father-awarded", "News and Star",
    "Father awarded £600 over drifting child protection inquiry",
    "Cumberland Council must pay Mr T £600 and £150 to each of his daughters, the Local "
    "Government and Social Care Ombudsman said after a child protection inquiry drifted.",
)


@pytest.fixture
def setup(
    database_url: str,
    tmp_path: Path,
    smtp_server: SmtpTestServer,
    smtp_certificate: tuple[Path, Path],
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Setup]:
    yield from make_setup(database_url, tmp_path, smtp_server, smtp_certificate, monkeypatch)


def _one_digest(setup: Setup) -> tuple[str, str]:
    """The one digest sent: its plain text (whitespace folded) and its HTML."""
    assert run_digests(setup.runtime, "daily").queued == 1
    assert mailer.send_outbox(setup.runtime).sent == 1
    (message,) = setup.server.messages[-1:]
    return " ".join(part(message, "plain").split()), part(message, "html")


def test_a_digest_holding_a_decision_and_its_story_shows_one_item(setup: Setup) -> None:
    add_alert(setup.engine, "reader@example.org", "Cumberland", councils=["cumberland"])
    setup.clock.current = T1
    ingest(setup, [DECISION])
    report = ingest(setup, [STORY])
    assert report.linked == 1
    text, html = _one_digest(setup)
    assert text.count("Father awarded £600") == 0  # no separate story item
    assert f"Reported by News and Star: {STORY.url}" in text
    # css-inline adds style attributes: read the link as a client renders it
    assert re.search(rf'In the news: <a [^>]*href="{re.escape(STORY.url)}"[^>]*>News and Star</a>',
                     html)
    assert "26 003 118" in text
    assert pending_matches(setup.engine) == []  # the story's match was settled with it


def test_a_story_alone_says_which_decision_it_reports(setup: Setup) -> None:
    setup.clock.current = T1
    ingest(setup, [DECISION])  # before the alert: not news to it
    add_alert(setup.engine, "reader@example.org", "Cumberland", councils=["cumberland"],
              now=T1)
    setup.clock.advance(hours=1)
    ingest(setup, [STORY])
    text, html = _one_digest(setup)
    assert "Father awarded £600" in text
    assert "Reports ombudsman decision 26 003 118 (Upheld, £900)" in text
    assert "Reports ombudsman decision 26 003 118 (Upheld, £900)" in html
