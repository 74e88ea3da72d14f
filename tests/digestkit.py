"""Shared pieces for the digest tests: a driven clock, invented documents, subscribers, and a
Runtime whose mail goes over SMTP (STARTTLS + AUTH) to the aiosmtpd server of tests.smtpd.

Every decision, story, person and amount here is invented; council names are real.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select, update

from alerts.mail.message import Mail
from councilwatch.pipeline import PipelineReport, process
from councilwatch.runtime import Runtime
from db.ingest import DocumentRecord
from db.models import Document
from db.subscriptions import AlertFields, subscribe
from tests.runtimes import disable_sources, make_runtime
from tests.smtpd import SMTP_PASSWORD, SMTP_USER, SmtpTestServer

T0 = datetime(2026, 11, 2, 6, 0, tzinfo=UTC)  # alerts are made
T1 = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)  # documents arrive
T2 = datetime(2026, 11, 3, 7, 0, tzinfo=UTC)  # the daily digest runs


class Clock:
    """runtime.now, moved by the test."""

    def __init__(self, now: datetime) -> None:
        self.current = now

    def __call__(self) -> datetime:
        return self.current

    def advance(self, **delta: float) -> datetime:
        self.current += timedelta(**delta)
        return self.current


def smtp_toml(server: SmtpTestServer, **digest: object) -> str:
    # make_runtime's config already opened [mail] (outbox_dir); TOML cannot reopen a table, so
    # the transport itself is chosen through the environment (see MAIL_ENV).
    lines = [
        "[mail.smtp]",
        f'host = "{server.host}"',
        f"port = {server.port}",
        f'security = "{server.mode}"',
        f'username = "{SMTP_USER}"',
        "timeout_seconds = 5",
    ]
    if digest:
        lines.append("[digest]")
        lines += [f"{key} = {value}" for key, value in digest.items()]
    return "\n".join(lines) + "\n"


MAIL_ENV = {
    "COUNCILWATCH_MAIL__TRANSPORT": "smtp",
    "COUNCILWATCH_MAIL__FROM": "Councilwatch <alerts@councilwatch.example>",
    "COUNCILWATCH_SMTP_PASSWORD": SMTP_PASSWORD,
}


@dataclass
class Setup:
    runtime: Runtime
    clock: Clock
    server: SmtpTestServer

    @property
    def engine(self) -> Engine:
        return self.runtime.migrated_engine()


def make_setup(
    database_url: str,
    tmp_path: Path,
    server: SmtpTestServer,
    certificate: tuple[Path, Path],
    monkeypatch: pytest.MonkeyPatch,
    **digest: object,
) -> Iterator[Setup]:
    """A runtime sending through ``server``; the test certificate is trusted the way an
    operator trusts a private CA: through SSL_CERT_FILE, read by ssl.create_default_context."""
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate[0]))
    clock = Clock(T0)
    runtime = make_runtime(
        database_url,
        tmp_path,
        now=clock,
        env=MAIL_ENV,
        toml=smtp_toml(server, **digest) + disable_sources(keep=("lgsco",)),
    )
    yield Setup(runtime, clock, server)
    runtime.close()


def count(setup: Setup, table: Any) -> int:
    """Rows in ``table`` (a Core table or model class) of the setup's database."""
    with setup.engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(table)).scalar_one())


def add_alert(
    engine: Engine,
    email: str,
    name: str,
    *,
    now: datetime = T0,
    confirmed: bool = True,
    **fields: Any,
) -> int:
    result = subscribe(
        engine,
        email=email,
        new_token="tok-" + email,
        alert=AlertFields(name=name, **fields),
        confirmed=confirmed,
        now=now,
    )
    return result.subscriber.id or 0


def remedies(*payments: tuple[int, str], apology: bool = False) -> dict[str, Any]:
    return {
        "remedies": {
            "apology": apology,
            "payments": [
                {"amount_pence": pence, "recipient": who, "sentence": f"pay {who}"}
                for pence, who in payments
            ],
            "total_pence": sum(pence for pence, _ in payments),
            "service_improvements": False,
            "reconsideration": False,
            "sentences": [],
        }
    }


def decision(
    ref: str,
    organisation: str = "Norfolk County Council",
    body: str = "Mrs B waited eleven months for respite care for her son.",
    *,
    outcome: str = "upheld",
    category: str = "Adult care services",
    decided_on: date = date(2026, 10, 20),
    summary: str = "",
    extra: dict[str, Any] | None = None,
) -> DocumentRecord:
    return DocumentRecord(
        kind="decision",
        source="lgsco",
        source_key=ref,
        url=f"https://www.lgo.org.uk/decisions/x/{ref.replace(' ', '-')}",
        title=f"{organisation} ({ref})",
        summary=summary or f"The council was at fault in decision {ref}.",
        body=body,
        decided_on=decided_on,
        reference=ref,
        organisation=organisation,
        outcome=outcome,
        outcome_text="Upheld: fault and injustice" if outcome == "upheld" else "Not upheld",
        category=category,
        extra=extra or {},
    )


def story(
    key: str,
    site: str,
    title: str,
    body: str,
    *,
    published: datetime = T1,
) -> DocumentRecord:
    return DocumentRecord(
        kind="news",
        source=site.lower().replace(" ", "-"),
        source_key=key,
        url=f"https://{site.lower().replace(' ', '')}.example/news/{key}",
        title=title,
        summary=body[:120],
        body=body,
        published_at=published,
        site_name=site,
    )


def ingest(
    setup: Setup, records: Sequence[DocumentRecord], *, backfill: bool = False
) -> PipelineReport:
    runtime = setup.runtime
    return process(
        setup.engine, records, register=runtime.register, now=runtime.now(), backfill=backfill
    )


def set_cluster(engine: Engine, report: PipelineReport, keys: Sequence[str], cluster: str) -> None:
    """Mark stored stories as copies of one story (the news pipeline's clustering)."""
    ids = [doc_id for (_, key), doc_id in report.upsert.ids.items() if key in keys]
    table = Document.__table__  # type: ignore[attr-defined]
    with engine.begin() as connection:
        connection.execute(update(table).where(table.c.id.in_(ids)).values(cluster_key=cluster))


def part(msg: EmailMessage | Mail, subtype: str) -> str:
    """A body part as a client shows it (decoded, line ends normalised to the local ones)."""
    parsed = msg.parse() if isinstance(msg, Mail) else msg
    body = parsed.get_body(preferencelist=(subtype,))
    assert body is not None, f"no text/{subtype} part"
    return str(body.get_content()).replace("\r\n", "\n")
