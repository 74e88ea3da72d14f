"""The confirmation and add-an-alert emails as their reader gets them: raw headers a client
accepts, a text and an HTML part, and what is being confirmed spelled out in both."""

from __future__ import annotations

from collections.abc import Iterator
from html import unescape
from pathlib import Path

import pytest

from alerts.mail.message import Mail
from tests import rawmail
from tests.digestkit import part
from tests.test_web_support import WebHarness, confirm, outbox_messages, serve, subscribe


@pytest.fixture
def web(database_url: str, tmp_path: Path) -> Iterator[WebHarness]:
    yield from serve(database_url, tmp_path)


def text_and_html(mail: Mail) -> tuple[str, str]:
    rawmail.check(mail.data)
    parsed = mail.parse()
    assert parsed.get_content_type() == "multipart/alternative"
    html = " ".join(unescape(part(mail, "html")).split())
    return part(mail, "plain"), html


def test_the_confirmation_lists_councils_keywords_filters_and_frequency(web: WebHarness) -> None:
    subscribe(
        web.client,
        "mrs.b@example.org",
        councils=("Norfolk County Council", "Breckland"),
        query='"school transport"',
        frequency="weekly",
    )
    [row] = outbox_messages(web)
    text, html = text_and_html(Mail.load(row.message))
    flat = " ".join(text.split())
    for shown in (flat, html):
        assert "Councils: Norfolk County Council, Breckland Council" in shown
        assert 'Keywords: "school transport"' in shown
        assert "Emails: once a week" in shown
    assert "/confirm/" in text and 'href="http://127.0.0.1:8080/confirm/' in html


def test_the_add_an_alert_email_has_an_html_part_describing_the_alert(web: WebHarness) -> None:
    subscribe(web.client, "active@example.org")
    confirm(web, web.client, "active@example.org")
    stranger = web.fresh_client(follow_redirects=False)
    subscribe(stranger, "active@example.org", councils=("Breckland",), frequency="immediate")
    [row] = [r for r in outbox_messages(web) if r.subject.startswith("Add this alert")]
    mail = Mail.load(row.message)
    text, html = text_and_html(mail)
    for shown in (" ".join(text.split()), html):
        assert "Councils: Breckland Council" in shown
        assert "Emails: as soon as something matches" in shown
    assert "/add/" in text and 'class="button"' in part(mail, "html") and "/add/" in html
    assert rawmail.header(mail.data, "Subject") == "Add this alert to your councilwatch emails?"
