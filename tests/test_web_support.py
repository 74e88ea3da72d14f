"""Fixtures and helpers for the web tests (imported by tests/test_web_*.py and the browser test).

No tests here. Starlette's TestClient warns at import that it prefers httpx2; that is a note for
the future, not a fault, so the import is made with that one warning silenced.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from html import unescape
from pathlib import Path
from typing import Any

from sqlalchemy import update

from alerts.mail.message import Mail
from councilwatch.mailer import deserialise
from councilwatch.pipeline import process
from councilwatch.runtime import Runtime
from councilwatch.web import create_app
from councilwatch.web.security import RateLimit
from db import outbox
from db.ingest import DocumentRecord
from db.models import Document
from db.outbox import OutboxRow
from tests.runtimes import make_runtime

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from starlette.testclient import TestClient

__all__ = ["TestClient"]

START = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
_LINK = re.compile(r"https?://[^\s<>/]+/(confirm|add|manage|unsubscribe)/[A-Za-z0-9_\-.]+")


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, start: datetime = START) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass
class WebHarness:
    runtime: Runtime
    clock: Clock
    client: TestClient

    @property
    def engine(self) -> Any:
        return self.runtime.migrated_engine()

    def fresh_client(self, **kwargs: Any) -> TestClient:
        """Another browser: no cookies."""
        return TestClient(self.client.app, **kwargs)


def make_harness(
    database_url: str,
    tmp_path: Path,
    *,
    toml: str = "",
    per_address: RateLimit | None = None,
    per_client: RateLimit | None = None,
) -> WebHarness:
    clock = Clock()
    runtime = make_runtime(database_url, tmp_path, now=clock, toml=toml)
    app = create_app(runtime, per_address=per_address, per_client=per_client)
    return WebHarness(runtime, clock, TestClient(app, follow_redirects=False))


def serve(database_url: str, tmp_path: Path) -> Iterator[WebHarness]:
    """Body of each module's ``web`` fixture (a fixture imported by name trips linters)."""
    harness = make_harness(database_url, tmp_path)
    with harness.client:
        yield harness
    harness.runtime.close()


def csrf(html: str) -> str:
    found = _CSRF.search(html)
    assert found, "page has no CSRF field"
    return found.group(1)


def form_token(client: TestClient, path: str = "/subscribe") -> str:
    page = client.get(path)
    assert page.status_code == 200, page.text
    return csrf(page.text)


def subscribe(
    client: TestClient,
    email: str = "mrs.b@example.org",
    *,
    councils: tuple[str, ...] = ("Norfolk County Council",),
    query: str = "",
    frequency: str = "daily",
    extra: dict[str, Any] | None = None,
) -> Any:
    data: dict[str, Any] = {
        "csrf_token": form_token(client),
        "email": email,
        "council": list(councils),
        "query": query,
        "frequency": frequency,
        **(extra or {}),
    }
    return client.post("/subscribe", data=data)


def outbox_messages(harness: WebHarness) -> list[OutboxRow]:
    return outbox.pending(harness.engine, limit=1000)


def text_of(message: EmailMessage | Mail) -> str:
    parsed = message.parse() if isinstance(message, Mail) else message
    part = parsed.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content()).replace("\r\n", "\n")


def link_in(row: OutboxRow, kind: str) -> str:
    """The path of the first /<kind>/ link in a queued email's text."""
    for found in _LINK.finditer(text_of(deserialise(row.message))):
        if found.group(1) == kind:
            return "/" + found.group(0).split("/", 3)[3]
    raise AssertionError(f"no /{kind}/ link in the email")


def list_unsubscribe(row: OutboxRow) -> str:
    """The path of the https link in a queued email's List-Unsubscribe header (RFC 8058)."""
    header = str(deserialise(row.message)["List-Unsubscribe"])
    found = _LINK.search(header)
    assert found and found.group(1) == "unsubscribe", header
    return "/" + found.group(0).split("/", 3)[3]


def confirm(harness: WebHarness, client: TestClient, email: str) -> str:
    """Follow the confirmation link queued for ``email``; returns the manage path."""
    row = next(r for r in outbox_messages(harness) if r.to_address == email)
    path = link_in(row, "confirm")
    page = client.get(path)
    response = client.post(path, data={"csrf_token": csrf(page.text)})
    assert response.status_code == 303, response.text
    return str(response.headers["location"]).split("?")[0]


def page_text(html: str) -> str:
    return unescape(re.sub(r"<[^>]+>", " ", html))


def decision(key: str, **fields: Any) -> DocumentRecord:
    values: dict[str, Any] = {
        "kind": "decision",
        "source": "lgsco",
        "source_key": key,
        "url": f"https://www.lgo.org.uk/decisions/{key}",
        "title": f"Decision {key}",
        "summary": "Mrs B complained about delays in the council's handling of her son's plan.",
        "decided_on": date(2026, 2, 10),
        "reference": key,
        "organisation": "Norfolk County Council",
        "category": "Education",
        "outcome": "upheld",
        **fields,
    }
    return DocumentRecord(**values)


def story(key: str, **fields: Any) -> DocumentRecord:
    values: dict[str, Any] = {
        "kind": "news",
        "source": "edp-news",
        "source_key": key,
        "url": f"https://news.example.org/{key}",
        "title": f"Story {key}",
        "summary": "Parents in Breckland say bus passes arrived weeks late.",
        "published_at": datetime(2026, 2, 20, 8, tzinfo=UTC),
        "site_name": "Eastern Daily Press",
        **fields,
    }
    return DocumentRecord(**values)


def store(harness: WebHarness, *records: DocumentRecord) -> dict[str, int]:
    """Store documents through the real pipeline (council tagging included); ids by key."""
    report = process(
        harness.engine, list(records), register=harness.runtime.register, now=harness.clock()
    )
    return {key: doc_id for (_, key), doc_id in report.upsert.ids.items()}


def set_cluster(harness: WebHarness, cluster_key: str, *ids: int) -> None:
    docs = Document.__table__  # type: ignore[attr-defined]
    with harness.engine.begin() as connection:
        connection.execute(update(docs).where(docs.c.id.in_(ids)).values(cluster_key=cluster_key))
