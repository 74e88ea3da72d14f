from datetime import UTC, datetime
from pathlib import Path

import pytest

from councilwatch.health import check_and_notify, statuses
from councilwatch.runtime import Runtime
from db import outbox
from db.ingest import DocumentRecord, upsert_documents
from db.runs import finish_run, start_run
from tests.digestkit import Clock
from tests.runtimes import make_runtime

T0 = datetime(2026, 11, 2, 8, tzinfo=UTC)


@pytest.fixture
def runtime(database_url: str, tmp_path: Path) -> Runtime:
    return make_runtime(
        database_url,
        tmp_path,
        now=Clock(T0),
        env={"COUNCILWATCH_MAIL__OPERATOR": "ops@example.org"},
        toml="[http]\nunhealthy_after_failed_runs = 2\n[sources.news]\nenabled = false\n",
    )


def run(runtime: Runtime, ok: bool) -> None:
    engine = runtime.migrated_engine()
    run_id = start_run(engine, "lgsco", "incremental", now=runtime.now())
    finish_run(engine, run_id, now=runtime.now(), ok=ok, error=None if ok else "HTTP 503")


def operator_mail(runtime: Runtime) -> list[str]:
    return [m.subject for m in outbox.pending(runtime.migrated_engine()) if m.kind == "operator"]


def test_operator_hears_once_when_a_source_breaks_and_once_when_it_recovers(
    runtime: Runtime,
) -> None:
    run(runtime, ok=True)
    assert check_and_notify(runtime) == []
    run(runtime, ok=False)
    assert check_and_notify(runtime) == []  # one failure is not yet a broken source
    run(runtime, ok=False)
    [changed] = check_and_notify(runtime)
    assert not changed.healthy and "2 failed runs in a row: HTTP 503" in (changed.reason or "")
    assert check_and_notify(runtime) == []  # still broken: no second email
    run(runtime, ok=True)
    [recovered] = check_and_notify(runtime)
    assert recovered.healthy
    assert operator_mail(runtime) == [
        "councilwatch: source lgsco is failing",
        "councilwatch: source lgsco recovered",
    ]


def test_a_source_that_goes_quiet_is_unhealthy(runtime: Runtime) -> None:
    clock = runtime.now
    assert isinstance(clock, Clock)
    upsert_documents(
        runtime.migrated_engine(),
        [DocumentRecord(kind="decision", source="lgsco", source_key="1", url="https://x/1")],
        now=clock(),
    )
    run(runtime, ok=True)
    [status] = [s for s in statuses(runtime) if s.name == "lgsco"]
    assert status.healthy
    clock.advance(days=8)  # expect_new_within_days is 7 for LGSCO
    run(runtime, ok=True)
    [status] = [s for s in statuses(runtime) if s.name == "lgsco"]
    assert not status.healthy and status.reason == f"no new document since {T0:%Y-%m-%d}"


def test_the_failing_email_names_the_pages_kept_and_how_to_reproduce_them(
    runtime: Runtime,
) -> None:
    import email
    from email.message import EmailMessage
    from email.policy import default

    url = "https://www.lgo.org.uk/decisions/housing/allocations/24-011-052"
    kept = runtime.quarantine().keep("lgsco", url, b"<html>new layout</html>", f"{url}: no date")
    assert kept is not None
    run(runtime, ok=True)
    run(runtime, ok=False)
    run(runtime, ok=False)
    [changed] = check_and_notify(runtime)
    assert not changed.healthy
    [message] = [m for m in outbox.pending(runtime.migrated_engine()) if m.kind == "operator"]
    parsed = email.message_from_bytes(message.message.encode(), policy=default)
    assert isinstance(parsed, EmailMessage)
    body = parsed.get_body(("plain",))
    assert body is not None
    text = body.get_content()
    assert "Pages that failed to parse, kept to reproduce (newest first):" in text
    assert f"{url}: no date" in text
    assert f"councilwatch parse lgsco {kept} --url {url}" in text
