"""The Housing Ombudsman end to end: `councilwatch fetch` on the simulated site, storage on
SQLite and PostgreSQL, council landlords recognised as councils, and a council alert's digest
read as the raw bytes a mail client gets."""

from __future__ import annotations

import email
import email.policy
from collections.abc import Iterator
from datetime import datetime
from email.message import EmailMessage
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, select

from councilwatch.digests import run_digests
from councilwatch.mailer import send_outbox
from councilwatch.source_run import fetch_source
from db.engine import make_engine
from db.tables import DOCUMENT_COUNCILS as TAGS
from db.tables import DOCUMENTS as DOCS
from db.tables import FETCH_RUNS as RUNS
from tests.cli import run_cli
from tests.digestkit import Clock, add_alert
from tests.housing_ombudsman_site import SimulatedHousingOmbudsman
from tests.runtimes import make_runtime
from tests.testweb import LocalWeb

SOURCE = "housing-ombudsman"
NOW = datetime(2026, 6, 30, 9, 0, tzinfo=ZoneInfo("Europe/London"))


@pytest.fixture
def site(testweb: LocalWeb) -> SimulatedHousingOmbudsman:
    return SimulatedHousingOmbudsman(testweb, today=NOW.date(), count=35, seed=3).install()


def source_toml(testweb: LocalWeb) -> str:
    return (
        "[http]\nmin_interval_seconds = 0\nmax_attempts = 1\n"
        f'[sources.housing_ombudsman]\nbase_url = "{testweb.url("")}"\n'
        "[sources.lgsco]\nenabled = false\n[sources.news]\nenabled = false\n"
    )


@pytest.fixture
def db(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


def stored(db: Engine) -> dict[str, dict[str, object]]:
    with db.connect() as connection:
        rows = connection.execute(select(DOCS).where(DOCS.c.source == SOURCE)).mappings()
        return {row["source_key"]: dict(row) for row in rows}


def test_two_fetches_store_every_decision_once_and_the_second_reads_only_what_is_new(
    site: SimulatedHousingOmbudsman,
    testweb: LocalWeb,
    database_url: str,
    db: Engine,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f'[database]\nurl = "{database_url}"\n' + source_toml(testweb))
    monkeypatch.delenv("COUNCILWATCH_DATABASE_URL", raising=False)
    assert run_cli(capsys, "--config", str(config), "db", "upgrade").code == 0

    first = run_cli(capsys, "--config", str(config), "fetch", "--source", SOURCE)
    assert first.code == 0, first.err
    assert first.out.startswith(f"{SOURCE}: ok,") and "35 new" in first.out
    assert set(stored(db)) == {d.case_id for d in site.published}

    new = site.publish(2, landlord="Leeds City Council")
    testweb.requests.clear()
    second = run_cli(capsys, "--config", str(config), "fetch", "--source", SOURCE)
    assert second.code == 0, second.err
    assert "2 new" in second.out and "0 updated" in second.out
    assert set(site.decision_requests()) == {d.path for d in new}
    assert site.archive_requests() == [1, 2]  # page 2 is all stored: the walk ends
    rows = stored(db)
    assert len(rows) == 37 and set(rows) == {d.case_id for d in site.published}

    sample = rows[new[0].case_id]
    assert sample["organisation"] == "Leeds City Council"
    assert sample["reference"] == new[0].case_id and sample["decided_on"] == NOW.date()
    assert sample["outcome_text"] in {f for _, f in new[0].findings}
    extra = sample["extra"]
    assert isinstance(extra, dict)
    assert extra["landlord_type"] == "Local Authority / ALMO"
    assert [f["finding"] for f in extra["findings"]] == [f.lower() for _, f in new[0].findings]
    assert extra["remedies"]["total_pence"] == new[0].compensation * 100
    with db.connect() as connection:
        runs = connection.execute(select(RUNS).where(RUNS.c.source == SOURCE)).all()
    assert [run.ok for run in runs] == [True, True]
    assert runs[-1].stats["stopped_at_known_page"] == 2

    shown = run_cli(capsys, "--config", str(config), "sources")
    assert f"{SOURCE:24} {SOURCE:12} healthy" in shown.out


def test_council_landlords_are_councils_and_housing_associations_are_not(
    site: SimulatedHousingOmbudsman, testweb: LocalWeb, database_url: str, tmp_path: Path
) -> None:
    runtime = make_runtime(database_url, tmp_path, now=lambda: NOW, toml=source_toml(testweb))
    try:
        assert fetch_source(runtime, SOURCE).ok
        engine = runtime.migrated_engine()
        with engine.connect() as connection:
            tags = connection.execute(
                select(DOCS.c.organisation, TAGS.c.council_id).join(
                    TAGS, TAGS.c.document_id == DOCS.c.id, isouter=True
                )
            ).all()
    finally:
        runtime.close()
    by_landlord: dict[str, set[str | None]] = {}
    for organisation, council_id in tags:
        by_landlord.setdefault(organisation, set()).add(council_id)
    assert by_landlord["Birmingham City Council"] == {"birmingham"}
    assert by_landlord["Brookvale Housing Association Limited"] == {None}


def raw_messages(outbox: Path) -> list[EmailMessage]:
    found = []
    for path in sorted(outbox.glob("*.eml")):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        found.append(message)
    return found


def plain(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


def test_a_council_alert_gets_its_council_landlords_decision_in_a_digest(
    site: SimulatedHousingOmbudsman, testweb: LocalWeb, database_url: str, tmp_path: Path
) -> None:
    clock = Clock(NOW)
    runtime = make_runtime(database_url, tmp_path, now=clock, toml=source_toml(testweb))
    try:
        engine = runtime.migrated_engine()
        add_alert(
            engine,
            "tenant@example.org",
            "Birmingham",
            councils=["birmingham"],
            frequency="immediate",
            now=clock(),
        )
        assert fetch_source(runtime, SOURCE).ok  # the seeding run: history, not news
        run_digests(runtime, "immediate")
        send_outbox(runtime)
        before = len(raw_messages(tmp_path / "outbox"))

        clock.advance(hours=6)
        [council] = site.publish(1, landlord="Birmingham City Council")
        [association] = site.publish(1, landlord="Brookvale Housing Association Limited")
        assert fetch_source(runtime, SOURCE).ok
        assert run_digests(runtime, "immediate").queued == 1
        send_outbox(runtime)
    finally:
        runtime.close()
    [digest] = raw_messages(tmp_path / "outbox")[before:]
    assert digest["To"] == "tenant@example.org"
    text = plain(digest)
    assert council.case_id in text and association.case_id not in text
    assert "HOUSING OMBUDSMAN DECISION - " in text
    if council.compensation:
        assert f"£{council.compensation:,}" in text


def test_the_web_shows_a_decision_labelled_with_its_ombudsman(
    database_url: str, tmp_path: Path
) -> None:
    from councilwatch.source_run import document_record
    from scraper.sources.housing_ombudsman import decision_item, parse_decision
    from tests.test_web_support import page_text, serve, store

    example = Path(__file__).parent / "sources" / SOURCE / "decision-investigation-council.html"
    url = "https://www.housing-ombudsman.org.uk/decisions/northfield-city-council-202418237/"
    item = decision_item(parse_decision(example.read_bytes(), url, today=NOW.date()))
    for web in serve(database_url, tmp_path):
        ids = store(web, document_record(SOURCE, item))
        listing = page_text(web.client.get("/documents").text)
        shown = page_text(web.client.get(f"/documents/{ids[item.key]}").text)
    assert "Housing Ombudsman decision" in listing
    assert "Housing Ombudsman decision" in shown
    assert "Severe maladministration: The landlord's handling of the resident's reports" in shown
    assert "Local Authority / ALMO" in shown and "£1,350.00" in shown
