"""A publisher whose every story is one template, through clustering and two digests: each
story is delivered once, and a sister title's copy of a story already sent is not resent."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from councilwatch import mailer
from councilwatch.clustering import cluster_news
from councilwatch.digests import run_digests
from db.ingest import DocumentRecord
from tests import rawmail
from tests.digestkit import T1, T2, Setup, add_alert, ingest, make_setup, part
from tests.smtpd import SmtpTestServer, smtp_certificate, smtp_server
from tests.test_facts import template_story

__all__ = ["smtp_certificate", "smtp_server"]  # fixtures used by name below

WINDOW = timedelta(days=14)


@pytest.fixture
def setup(
    database_url: str,
    tmp_path: Path,
    smtp_server: SmtpTestServer,
    smtp_certificate: tuple[Path, Path],
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Setup]:
    yield from make_setup(database_url, tmp_path, smtp_server, smtp_certificate, monkeypatch)


def news(key: str, site: str, n: int, text: str, hours: float) -> DocumentRecord:
    host = site.lower().replace(" ", "")
    return DocumentRecord(
        kind="news",
        source="news",
        source_key=key,
        url=f"https://{host}.example/news/{key}",
        title=f"Breckland District Council criticised in ombudsman ruling number {n}",
        summary=text[:160],
        body=text,
        published_at=T1 + timedelta(hours=hours),
        site_name=site,
    )


def arrive(setup: Setup, records: list[DocumentRecord]) -> None:
    """Store and cluster as the news run does."""
    report = ingest(setup, records)
    changed = {doc_id: key for (_, key), doc_id in report.upsert.ids.items()}
    cluster_news(setup.engine, changed, since=setup.clock.current - WINDOW, window=WINDOW)


def headlines(setup: Setup, index: int) -> list[str]:
    text = part(setup.server.messages[index], "plain")
    return sorted(line for line in text.splitlines() if line.startswith("NEWS - "))


def test_each_template_story_is_sent_and_a_copy_of_a_sent_one_is_not(setup: Setup) -> None:
    add_alert(setup.engine, "mrs.b@example.org", "Breckland housing", query="housing")
    setup.clock.current = T1
    arrive(setup, [news("edp-1", "Eastern Daily Press", 1, template_story(1), 0)])
    setup.clock.current = T2
    assert run_digests(setup.runtime, "daily").items == 1
    mailer.send_outbox(setup.runtime)

    setup.clock.current = T2 + timedelta(hours=1)
    later = [
        news(f"edp-{n}", "Eastern Daily Press", n, template_story(n), 20 + n) for n in (2, 3, 4)
    ]
    copy = news("dt-1", "Dereham Times", 1, template_story(1)[:1000], 21)
    arrive(setup, [*later, copy])
    setup.clock.current = T2 + timedelta(days=1)
    report = run_digests(setup.runtime, "daily")
    assert (report.items, report.dropped) == (3, 1)
    mailer.send_outbox(setup.runtime)

    assert headlines(setup, 0) == [
        "NEWS - Breckland District Council criticised in ombudsman ruling number 1"
    ]
    assert headlines(setup, 1) == [
        f"NEWS - Breckland District Council criticised in ombudsman ruling number {n}"
        for n in (2, 3, 4)
    ]
    assert "Dereham Times" not in part(setup.server.messages[1], "plain")
    for received in setup.server.received:
        rawmail.check(received.raw)


def test_a_story_snippet_is_the_sentence_naming_the_council_not_everything_run_together(
    setup: Setup,
) -> None:
    add_alert(setup.engine, "mrs.b@example.org", "Norfolk", councils=["norfolk"])
    add_alert(setup.engine, "mr.k@example.org", "Transport", query="transport")
    setup.clock.current = T1
    headline = "Norfolk County Council criticised in ombudsman ruling number 7"
    body = (
        f"{headline}\n\n"
        "A family from Attleborough waited eight months for an answer. "
        "Norfolk County Council has been told to apologise after the ombudsman found fault. "
        "The council said school transport would now be reviewed every term."
    )
    record = DocumentRecord(
        kind="news",
        source="news",
        source_key="edp-7",
        url="https://edp.example/news/edp-7",
        title=headline,
        summary="The council has apologised.",
        body=body,
        published_at=T1,
        site_name="Eastern Daily Press",
    )
    ingest(setup, [record])
    setup.clock.current = T2
    run_digests(setup.runtime, "daily")
    mailer.send_outbox(setup.runtime)
    mails = {r.rcpt_tos[0]: r.message for r in setup.server.received}
    council_only = part(mails["mrs.b@example.org"], "plain")
    quoted = [line for line in council_only.splitlines() if line.startswith('"')]
    assert quoted == ['"Norfolk County Council has been told to apologise after the ombudsman'], (
        council_only
    )
    assert "has apologised" not in council_only and "number 7 Norfolk" not in council_only
    keyword = part(mails["mr.k@example.org"], "plain")
    assert '"The council said school *transport* would now be reviewed every term."' in (
        " ".join(keyword.split())
    )
