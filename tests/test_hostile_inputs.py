"""A corpus of hostile input, tried against the running web app and the CLI on SQLite and
PostgreSQL: link tokens, form fields, query strings and search strings.

Each case asserts what a visitor may never see: a 5xx page, or an error logged with a
traceback. What each input *should* do (a field error, the "link no longer works" page) is
asserted by the tests of that feature; this file is the net under all of them. Built from an
adversarial review that found a 500 (``page=²``), 503s (NUL on PostgreSQL), a SyntaxError
(200 dashes) and a RecursionError (300 brackets).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlencode

import pytest

from alerts.mail.tokens import sign
from alerts.query import MAX_TERMS
from councilwatch.mailer import secret
from councilwatch.web.security import RateLimit
from tests.cli import run_cli
from tests.dbfixtures import fresh_database_url
from tests.test_web_support import (
    TestClient,
    WebHarness,
    confirm,
    csrf,
    decision,
    make_harness,
    store,
    story,
    subscribe,
)

CONTROLS = ["\x00", "\r\n", "\n", "\r", "\t", "\x1b[31m", "\x7f", "\x85", "\u2028", "\x0c"]
TEXTS = [
    *(f"Respite{c}Bcc: victim@example.org" for c in CONTROLS),
    "x" * 10_000,
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    '"; DROP TABLE alerts; --',
    "²",
    "٣٤",
    "\U0001f642" * 60,
    "%00",
    "${jndi:ldap://example.org/a}",
    "{{ 7 * 7 }}",
    "\\",
    "NULL",
    " ",
    "\ufeffNorfolk",
    "Nor\u200bfolk",
    "e\u0301" * 100,
]
NUMBERS = ["²", "٣", "-1", "0", "1e3", "9" * 30, "1_000", " 7", "0x10", "+5", "7\x00", "٣".upper()]
WORDS = [f"w{i}" for i in range(2 * MAX_TERMS)]
QUERIES = [
    "-" * 200 + "respite OR care",
    "(" * 300 + "respite" + ")" * 300,
    "(" * 60 + "respite" + ")" * 60,
    "NOT " * 100 + "respite",
    " OR ".join(WORDS),
    " ".join(f"-{w}" for w in WORDS),
    " ".join(WORDS),
    '"' + " ".join(WORDS) + '"',
    "-parking",
    "respite OR -parking",
    "a OR",
    "OR",
    "AND",
    "NOT",
    ")",
    "(",
    "()",
    '"',
    '""',
    '"unterminated phrase',
    "*",
    "a*",
    "ab*c",
    "-",
    "--",
    "- -",
    "NEAR(respite care)",
    "title:respite",
    "^respite",
    "{respite care}",
    "respite + care",
    "respite & | !",
    "respite:*",
    "“smart quotes”",
    "respite\x00care",
    "respite\r\nBcc: victim@example.org",
    "r" * 600,
]


@dataclass(frozen=True)
class Case:
    """One request: method, path, form data (POST) and query parameters (GET)."""

    method: str
    path: str
    form: tuple[tuple[str, str], ...] = ()
    params: tuple[tuple[str, str], ...] = ()
    signed: str = ""  # a value to sign with the real secret into the path's token


def _token_values() -> list[str]:
    return [*TEXTS[:12], "", ".", "..", "a.b", "a.b.c", "==", "=.=", "A" * 5000 + ".x", "é.é"]


# Tokens we sign ourselves (with the real secret) around values a forger cannot make but a bug
# could: ids that are not ASCII digits, too large for PostgreSQL, or missing.
SIGNED_VALUES = [
    "².x",
    "٣.x",
    f"{'9' * 30}.x",
    f"{2**31}.x",
    "-1.x",
    " 1.x",
    "1",
    "1.",
    ".x",
    "1.x\x00",
    "1.2.3",
]
TOKEN_PATHS = [
    ("GET", "/manage/{}"),
    ("POST", "/manage/{}/unsubscribe"),
    ("GET", "/manage/{}/alerts/1/edit"),
    ("POST", "/manage/{}/alerts/1"),
    ("GET", "/confirm/{}"),
    ("POST", "/confirm/{}"),
    ("GET", "/unsubscribe/{}"),
    ("POST", "/unsubscribe/{}"),
    ("GET", "/add/{}"),
    ("GET", "/alerts/{}.atom"),
]
FORM_FIELDS = ("email", "council", "query", "name", "frequency", "kind", "outcome")
DOCUMENT_PARAMS = ("page", "council", "kind", "outcome", "category", "q")


def _cases() -> list[pytest.param]:
    out: list[pytest.param] = []

    def add(kind: str, case: Case | tuple[str, ...], label: str) -> None:
        out.append(pytest.param(kind, case, id=f"{kind}-{len(out)}-{label[:24]!r}"))

    for method, template in TOKEN_PATHS:
        for value in _token_values():
            add("token", Case(method, template.format(quote(value, safe=""))), value)
        for value in SIGNED_VALUES:
            add("signed", Case(method, template, signed=value), value)
    for name in FORM_FIELDS:
        for value in [*TEXTS, *(QUERIES if name == "query" else ())]:
            add("form", Case("POST", "/subscribe", form=((name, value),)), f"{name}={value}")
    for name in ("query", "name", "council"):
        for value in TEXTS[:10] + QUERIES[:4]:
            add("edit", Case("POST", "/manage/{}/alerts/1/edit", form=((name, value),)), value)
    for name in DOCUMENT_PARAMS:
        values = [*TEXTS, *NUMBERS, *(QUERIES if name == "q" else ())]
        for value in values:
            add("query-string", Case("GET", "/documents", params=((name, value),)), value)
    for value in ["0", "9" * 30, str(2**31), str(2**63), "1"]:
        add("query-string", Case("GET", f"/documents/{value}"), value)
    for path in ("/metrics", "/healthz", "/subscribe/sent", "/", "/nowhere"):
        add("query-string", Case("GET", path, params=(("page", "²"), ("x", "\x00"))), path)
    for value in QUERIES:
        add("search", ("search", "--", value), value)  # "--": dashes are not options
        add("search", ("search", "--kind", "decision", "--json", "--", value), value)
    return out


CASES = _cases()


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def site(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[WebHarness, str, Path]]:
    """The web app with one confirmed subscriber (alert 1) and a few documents."""
    tmp = tmp_path_factory.mktemp(f"hostile-{request.param}")
    for url in fresh_database_url(request.param, tmp):
        unlimited = RateLimit(limit=10**9, window_seconds=1)
        harness = make_harness(url, tmp, per_address=unlimited, per_client=unlimited)
        with harness.client:
            subscribe(harness.client, "mrs.b@example.org", query="respite")
            manage = confirm(harness, harness.client, "mrs.b@example.org")
            store(harness, decision("24 002 001"), story("respite-cuts"))
            config = tmp / "cli.toml"
            config.write_text(f'[database]\nurl = "{url}"\n')
            yield harness, manage.rsplit("/", 1)[1], config
        _CLIENTS.pop(id(harness), None)
        harness.runtime.close()


_CLIENTS: dict[int, tuple[TestClient, str]] = {}


def _client(harness: WebHarness) -> tuple[TestClient, str]:
    """One browser per site (cookie and CSRF token fetched once): 930 requests, not 1,600."""
    if id(harness) not in _CLIENTS:
        client = harness.fresh_client(raise_server_exceptions=False, follow_redirects=False)
        _CLIENTS[id(harness)] = client, csrf(client.get("/subscribe").text)
    return _CLIENTS[id(harness)]


def _request(harness: WebHarness, manage_token: str, kind: str, case: Case) -> int:
    client, token = _client(harness)
    path = case.path
    if case.signed:
        purpose = path.split("/")[1].replace("alerts", "atom")
        link = sign(secret(harness.runtime.settings), purpose, case.signed)
        path = path.format(quote(link, safe=""))
    elif "{}" in path:
        path = path.format(manage_token)
    if case.params:
        path += "?" + urlencode(case.params)
    if case.method == "GET":
        return client.get(path).status_code
    form = {
        "csrf_token": token,
        "email": "hostile@example.org",
        "council": "Norfolk County Council",
        "frequency": "daily",
        "action": "pause",
        **dict(case.form),
    }
    return client.post(path, data=form).status_code


@pytest.mark.parametrize(("kind", "case"), CASES)
def test_hostile_input_never_gets_a_5xx_or_a_traceback(
    site: tuple[WebHarness, str, Path],
    kind: str,
    case: Case | tuple[str, ...],
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    harness, manage_token, config = site
    caplog.set_level(logging.WARNING)
    if kind == "search":
        assert isinstance(case, tuple)
        try:
            result = run_cli(capsys, "--config", str(config), *case)
        except Exception as exc:  # the CLI let a non-project error out: a traceback
            pytest.fail(f"traceback from the CLI: {type(exc).__name__}: {exc}")
        assert result.code in (0, 1), result.err
        assert "Traceback" not in result.err
        assert len(result.err.strip().splitlines()) <= 1  # one line a person can read
    else:
        assert isinstance(case, Case)
        status = _request(harness, manage_token, kind, case)
        assert status < 500, status
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert not errors, [r.getMessage() for r in errors]
