"""Stories linked to the decisions they report, through the pipeline every source runs,
on SQLite and PostgreSQL: whichever of the two is stored first."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import Engine

from alerts.councils import Register
from councilwatch.pipeline import process
from db.export import iter_documents
from db.ingest import DocumentRecord
from db.links import links_of

REGISTER = Register.builtin()
NOW = datetime(2026, 5, 20, 9, tzinfo=UTC)


def _decision(ref: str, organisation: str, decided: date, pounds: list[int], summary: str,
              category: str = "Children's care services") -> DocumentRecord:
    payments = [{"amount_pence": p * 100, "recipient": None, "sentence": ""} for p in pounds]
    return DocumentRecord(
        kind="decision", source="lgsco", source_key=ref, url=f"https://lgsco.example/{ref}",
        title=f"{organisation} ({ref})", summary=summary,
        body="The complaint. " + summary + " What I found. The council was at fault.",
        decided_on=decided, reference=ref, organisation=organisation, outcome="upheld",
        category=category,
        extra={"remedies": {"payments": payments, "total_pence": sum(pounds) * 100}},
    )


def _story(slug: str, published: datetime, title: str, body: str) -> DocumentRecord:
    return DocumentRecord(
        kind="news", source="news", source_key=f"https://paper.example/{slug}",
        url=f"https://paper.example/{slug}", title=title, body=body, published_at=published,
        site_name="Paper",
    )


CUMBRIA_DECISION = _decision(
    "25 002 118", "Cumberland Council", date(2026, 4, 2), [600, 150, 150],
    "Mr T complained the Council let a child protection enquiry drift.",
)
NORFOLK_DECISION = _decision(
    "24 011 307", "Norfolk County Council", date(2026, 4, 10), [950],
    "Mrs K complained about delays in early help for her children.",
)
STORY = _story(
    "cumbria-father", datetime(2026, 4, 20, 7, tzinfo=UTC),
    "Council ordered to pay father after child protection failings",
    "Cumbria County Council's successor, Cumberland Council, must pay Mr T £600 and £150 to "
    "each daughter, the Local Government and Social Care Ombudsman said after a child "
    "protection enquiry drifted for months.",
)
UNRELATED = _story(
    "norfolk-budget", datetime(2026, 4, 21, 7, tzinfo=UTC),
    "Norfolk County Council sets its budget",
    "Norfolk County Council approved £1.2m for roads; the ombudsman was not mentioned again.",
)


def _links(engine: Engine) -> dict[str, list[str]]:
    ids = {row["url"]: row["id"] for row in iter_documents(engine)}
    names = {v: k for k, v in ids.items()}
    out: dict[str, list[str]] = {}
    for owner, links in links_of(engine, list(ids.values())).items():
        for link in links:
            other = link.decision_id if owner == link.story_id else link.story_id
            out.setdefault(names[owner], []).append(names[other])
    return out


def test_a_story_is_linked_to_the_decision_stored_before_it(engine: Engine) -> None:
    process(engine, [CUMBRIA_DECISION, NORFOLK_DECISION], register=REGISTER, now=NOW)
    report = process(engine, [STORY, UNRELATED], register=REGISTER, now=NOW)
    assert report.linked == 1 and "1 stories linked to decisions" in report.summary()
    assert _links(engine) == {
        STORY.url: [CUMBRIA_DECISION.url],
        CUMBRIA_DECISION.url: [STORY.url],
    }


def test_a_decision_stored_after_the_story_brings_the_link(engine: Engine) -> None:
    process(engine, [STORY, UNRELATED], register=REGISTER, now=NOW)
    assert _links(engine) == {}
    report = process(engine, [NORFOLK_DECISION, CUMBRIA_DECISION], register=REGISTER, now=NOW)
    assert report.linked == 1
    assert _links(engine)[CUMBRIA_DECISION.url] == [STORY.url]
    # Processing again changes nothing and doubles nothing.
    process(engine, [STORY, CUMBRIA_DECISION], register=REGISTER, now=NOW)
    assert _links(engine)[STORY.url] == [CUMBRIA_DECISION.url]


def test_the_link_keeps_its_score_and_reasons(engine: Engine) -> None:
    process(engine, [CUMBRIA_DECISION, STORY], register=REGISTER, now=NOW)
    ids = {row["url"]: row["id"] for row in iter_documents(engine)}
    (link,) = links_of(engine, [ids[STORY.url]])[ids[STORY.url]]
    assert link.other_reference == "25 002 118" and link.other_outcome == "upheld"
    assert link.score >= 0.6
    assert "complainant Mr T" in link.reasons and any(r.startswith("amounts") for r in link.reasons)


def test_export_carries_the_links_both_ways(engine: Engine) -> None:
    process(engine, [CUMBRIA_DECISION, STORY, UNRELATED], register=REGISTER, now=NOW)
    rows = {row["url"]: row for row in iter_documents(engine)}
    (story_link,) = rows[STORY.url]["links"]
    assert story_link["role"] == "reports" and story_link["reference"] == "25 002 118"
    (decision_link,) = rows[CUMBRIA_DECISION.url]["links"]
    assert decision_link["role"] == "reported by" and decision_link["url"] == STORY.url
    assert rows[UNRELATED.url]["links"] == []


def test_document_pages_show_the_link_both_ways(database_url: str, tmp_path: Path) -> None:
    from tests.test_web_support import page_text, serve, store

    for web in serve(database_url, tmp_path):
        ids = store(web, CUMBRIA_DECISION, STORY, UNRELATED)
        story_page = page_text(web.client.get(f"/documents/{ids[STORY.source_key]}").text)
        assert "Reports decision 25 002 118 (Upheld, £900)" in " ".join(story_page.split())
        decision_html = web.client.get(f"/documents/{ids[CUMBRIA_DECISION.source_key]}").text
        assert "Reported by" in decision_html
        assert f'href="/documents/{ids[STORY.source_key]}">{STORY.title}</a>' in decision_html
        unrelated = page_text(web.client.get(f"/documents/{ids[UNRELATED.source_key]}").text)
        assert "Reports decision" not in unrelated and "Reported by" not in unrelated


def test_a_decision_brings_back_a_story_naming_the_ombudsman_only_in_its_summary(
    engine: Engine,
) -> None:
    # The store keeps back stories that name no ombudsman before their text is read
    # (db.links.stories_near): the title, summary and body all count, in any case.
    story = DocumentRecord(
        kind="news", source="news", source_key="https://paper.example/cumbria-summary",
        url="https://paper.example/cumbria-summary", published_at=STORY.published_at,
        title="Council ordered to pay father after child protection failings",
        summary="A ruling by the LGSCO on Cumberland Council",
        body="Cumberland Council must pay Mr T £600 and £150 to each daughter after a child "
        "protection enquiry drifted for months.",
        site_name="Paper",
    )
    process(engine, [story, UNRELATED], register=REGISTER, now=NOW)
    assert _links(engine) == {}
    process(engine, [CUMBRIA_DECISION], register=REGISTER, now=NOW)
    assert _links(engine)[CUMBRIA_DECISION.url] == [story.url]


def test_every_ombudsman_name_holds_one_of_the_words_the_store_filters_by() -> None:
    from alerts.news_links import _OMBUDSMAN, OMBUDSMAN_WORDS

    names = _OMBUDSMAN.pattern.split("(?:", 1)[1].rsplit(")", 1)[0].split("|")
    assert len(names) >= 5
    for name in names:
        assert any(word in name.lower() for word in OMBUDSMAN_WORDS), name


def test_a_batch_of_decisions_reads_the_stories_near_them_in_one_query(engine: Engine) -> None:
    # A query per new decision read the same stories' bodies again for each one: on PostgreSQL
    # that was most of a full-size cycle. The batch's decisions share one read of stories.
    from sqlalchemy import event

    from councilwatch.news_linking import link_documents

    decisions = [CUMBRIA_DECISION, NORFOLK_DECISION] + [
        _decision(f"25 00{k} 11{k}", name, date(2026, 4, 3 + k), [100 * (k + 1)],
                  f"Mr {'ABCD'[k]} complained about the Council's delays.")
        for k, name in enumerate(
            ["Leeds City Council", "Kent County Council", "Devon County Council",
             "Cornwall Council"]
        )
    ]
    process(engine, [STORY, UNRELATED, *decisions], register=REGISTER, now=NOW)
    ids = {row["url"]: row["id"] for row in iter_documents(engine)}
    seen: list[str] = []

    def count(conn: object, cursor: object, statement: str, *args: object) -> None:
        seen.append(statement)

    def stories_read(urls: list[str]) -> int:
        seen.clear()
        event.listen(engine, "before_cursor_execute", count)
        try:
            link_documents(engine, REGISTER, [ids[url] for url in urls], now=NOW)
        finally:
            event.remove(engine, "before_cursor_execute", count)
        return sum(1 for statement in seen if "like" in statement.lower())

    one = stories_read([decisions[0].url])
    assert one == 1
    assert stories_read([d.url for d in decisions]) == one
    assert _links(engine)[STORY.url] == [CUMBRIA_DECISION.url]
