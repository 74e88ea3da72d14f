"""Input a visitor controls, feature by feature: numbers, control characters, exclusion-only
council alerts, and the query limits at the CLI and /documents."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from alerts.query import MAX_TERMS
from councilwatch.mailer import deserialise
from cwerrors.numbers import MAX_DIGITS, ascii_int
from db.subscriptions import find_subscriber
from tests.cli import run_cli
from tests.test_web_support import (
    WebHarness,
    decision,
    outbox_messages,
    page_text,
    serve,
    store,
    subscribe,
    text_of,
)

HUNDRED_ORS = " OR ".join(f"word{i}" for i in range(100))


@pytest.fixture
def web(database_url: str, tmp_path: Path) -> Iterator[WebHarness]:
    yield from serve(database_url, tmp_path)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("7", 7), ("007", 7), ("0", 0), ("65535", 65535), ("9" * MAX_DIGITS, int("9" * MAX_DIGITS))],
)
def test_ascii_int_reads_ascii_digits(text: str, expected: int) -> None:
    assert ascii_int(text) == expected


@pytest.mark.parametrize(
    "text",
    ["", None, "²", "٣", "１", "-1", "+1", " 1", "1 ", "1_000", "1e3", "0x1", "9" * 19, "7\x00"],
)
def test_ascii_int_refuses_everything_else(text: str | None) -> None:
    assert ascii_int(text) is None


def test_ascii_int_bounds() -> None:
    assert ascii_int("0", minimum=1) is None
    assert ascii_int("24", maximum=23) is None
    assert ascii_int("23", maximum=23) == 23


@pytest.mark.parametrize("page", ["²", "٣", "-1", "9" * 40, "1\x00"])
def test_documents_page_number_that_is_not_ascii_digits_is_page_one(
    web: WebHarness, page: str
) -> None:
    store(web, decision("24 002 001"))
    response = web.client.get("/documents", params={"page": page})
    assert response.status_code == 200
    assert "Decision 24 002 001" in response.text


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", "My alert\r\nBcc: victim@example.org\r\n\r\nWin a prize at example.net"),
        ("name", "Respite\x00care"),
        ("query", "respite\x00care"),
        ("query", "respite\ncare"),
        ("email", "mrs.b@example.org\r\nBcc: victim@example.org"),
        ("council", "Norfolk\x00"),
    ],
)
def test_control_characters_are_a_field_error_and_nothing_is_stored(
    web: WebHarness, field: str, value: str
) -> None:
    response = subscribe(web.client, extra={field: value})
    assert response.status_code == 400
    assert 'class="field field-error"' in response.text or "field-error" in response.text
    assert "control characters" in page_text(response.text)
    assert find_subscriber(web.engine, email="mrs.b@example.org") is None
    assert outbox_messages(web) == []


def test_a_plain_name_still_reaches_the_confirmation_email_on_one_line(web: WebHarness) -> None:
    assert subscribe(web.client, extra={"name": "Norfolk respite"}).status_code == 303
    [mail] = outbox_messages(web)
    lines = text_of(deserialise(mail.message)).splitlines()
    assert sum("Norfolk respite" in line for line in lines) == 1


def test_a_council_alert_of_exclusions_only_is_accepted_by_the_form(web: WebHarness) -> None:
    assert subscribe(web.client, query="-parking").status_code == 303
    response = subscribe(web.client, "x@example.org", councils=(), query="-parking")
    assert response.status_code == 400
    assert "would match almost every document" in page_text(response.text)


def test_documents_search_over_the_limits_is_a_field_error(web: WebHarness) -> None:
    many = " ".join(chr(97 + i % 26) + chr(97 + i // 26) for i in range(MAX_TERMS + 10))
    for q in (many, "(" * 30 + "respite" + ")" * 30, "-" * 150 + "respite"):
        response = web.client.get("/documents", params={"q": q})
        assert response.status_code == 400, q
        assert "The search did not make sense: too " in page_text(response.text)


@pytest.fixture
def config(tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(f'[database]\nurl = "{database_url}"\n')
    monkeypatch.delenv("COUNCILWATCH_DATABASE_URL", raising=False)
    return path


def test_cli_search_with_100_ored_words_is_one_line(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    result = run_cli(capsys, "--config", str(config), "search", HUNDRED_ORS[:499])
    assert result.code == 1
    assert result.err.startswith("error: too many terms at position ")
    assert f"at most {MAX_TERMS} words" in result.err and result.err.count("\n") == 1
    ok = " OR ".join(f"word{i}" for i in range(MAX_TERMS))
    result = run_cli(capsys, "--config", str(config), "search", ok, "--json")
    assert result.code == 0 and json.loads(result.out) == []


def test_cli_accepts_a_council_alert_of_exclusions_only_and_refuses_control_characters(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ("--config", str(config), "subscribe", "mrs.b@example.org", "--confirmed")
    result = run_cli(capsys, *args, "--council", "Norfolk County Council", "--keywords", "-parking")
    assert result.code == 0, result.err
    result = run_cli(capsys, *args, "--keywords", "-parking")
    assert result.code == 1 and "would match almost every document" in result.err
    result = run_cli(capsys, *args, "--keywords", "respite\x00care")
    assert result.code == 1 and "control character" in result.err
    deep = "-" * 200 + "respite OR care"
    result = run_cli(capsys, *args, "--council", "Norfolk County Council", "--keywords", deep)
    assert result.code == 1 and result.err.startswith("error: too deeply nested at position 10")


def test_an_atom_feed_stays_xml_whatever_was_stored_before(web: WebHarness) -> None:
    import xml.etree.ElementTree as ET

    from councilwatch.web.links import atom_token
    from db.matches import NewMatchSet, add_match_sets
    from db.subscriptions import subscriptions, update_alert
    from tests.test_web_support import confirm

    ids = store(web, decision("24 002 009", title="Bins\x0c and\x1b parking"))
    subscribe(web.client, "mrs.b@example.org")
    confirm(web, web.client, "mrs.b@example.org")
    [view] = subscriptions(web.engine)
    [alert] = view.alerts
    update_alert(web.engine, alert.id or 0, name="Saved\x0b before the\x1b check")
    add_match_sets(web.engine, [NewMatchSet(ids["24 002 009"], [alert.id or 0])], now=web.clock())
    token = atom_token(web.runtime.settings, alert, view.subscriber)
    feed = ET.fromstring(web.client.get(f"/alerts/{token}.atom").content)
    ns = "{http://www.w3.org/2005/Atom}"
    assert feed.findtext(f"{ns}title") == "councilwatch: Saved before the check"
    assert feed.findtext(f"{ns}entry/{ns}title") == "Bins and parking"
