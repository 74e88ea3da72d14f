"""Linking news stories to the decisions they report: quality on the labelled set beside two
first-attempt baselines, and the cost on the path the pipeline runs (SQLite store).

    .venv/bin/python bench/news_links.py [--quick]

Baselines, what a competent engineer writes first: "nearest" links a story naming an ombudsman
to the closest earlier decision about the same council; "same sum" links it to a decision that
ordered a sum the story reports (the first such, by date).
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from alerts.councils import Register
from alerts.news_links import DecisionFacts, StoryFacts, best_link, story_facts
from bench.common import print_table
from tests.news_links_cases import CASES, DECISIONS, Case


def _facts(case: Case) -> StoryFacts:
    return story_facts(case.id, case.text, councils=case.councils, published=case.published)


def nearest(story: StoryFacts, decisions: tuple[DecisionFacts, ...]) -> str | None:
    if not story.mentions_ombudsman:
        return None
    before = [
        d for d in decisions if d.councils & story.councils and d.decided_on <= story.published
    ]
    return str(max(before, key=lambda d: d.decided_on).id) if before else None


def same_sum(story: StoryFacts, decisions: tuple[DecisionFacts, ...]) -> str | None:
    for d in sorted(decisions, key=lambda d: d.decided_on):
        if d.councils & story.councils and story.amounts_pence & d.amounts_pence:
            return str(d.id)
    return None


def ours(story: StoryFacts, decisions: tuple[DecisionFacts, ...]) -> str | None:
    link = best_link(story, decisions)
    return None if link is None else str(link.decision_id)


def scores(linker, cases: tuple[Case, ...]) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    tp = fp = fn = 0
    for case in cases:
        got = linker(_facts(case), DECISIONS)
        if got is not None and got == case.reports:
            tp += 1
        else:
            fp += got is not None
            fn += case.reports is not None
    return (tp / (tp + fp) if tp + fp else 1.0, tp / (tp + fn) if tp + fn else 1.0)


def rewritten(cases: tuple[Case, ...]) -> tuple[Case, ...]:
    """The same stories as another paper might print them: reflowed, "Mr." for "Mr",
    sums without thousands separators, the ombudsman as "the watchdog (LGSCO)"."""
    out = []
    for case in cases:
        text = " ".join(case.text.split()).replace("Mr ", "Mr. ").replace("£1,", "£1")
        text = text.replace("the ombudsman", "the watchdog (LGSCO)")
        out.append(replace(case, text=text))
    return tuple(out)


def pipeline_cost(decisions: int, stories: int) -> tuple[float, float, int]:
    """CPU seconds to store ``stories`` new stories (and link them) into a store holding
    ``decisions`` decisions about ten councils, through councilwatch.pipeline.process."""
    from councilwatch.pipeline import process
    from db.engine import make_engine
    from db.ingest import DocumentRecord
    from db.migrate import upgrade

    rng = random.Random(7)
    register = Register.builtin()
    councils = ["Norfolk County Council", "Cumberland Council", "Suffolk County Council",
                "Breckland Council", "Norwich City Council", "Essex County Council",
                "Kent County Council", "Devon County Council", "Lancashire County Council",
                "Surrey County Council"]
    start = date(2025, 6, 1)
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{tmp}/bench.db")
        upgrade(engine)
        records = []
        for i in range(decisions):
            org = councils[i % len(councils)]
            pounds = rng.choice([100, 150, 250, 300, 500, 750, 950, 1200])
            records.append(DocumentRecord(
                kind="decision", source="lgsco", source_key=f"25 {i:03d} {i % 997:03d}",
                url=f"https://lgsco.example/{i}", title=f"{org} (25 {i:03d})",
                summary=f"Mr {chr(65 + i % 26)} complained about the Council's handling.",
                body="The complaint. What I found. " * 20,
                decided_on=start + timedelta(days=i % 300), reference=f"25 {i:03d} {i % 997:03d}",
                organisation=org, outcome="upheld", category="Children's care services",
                extra={"remedies": {"payments": [{"amount_pence": pounds * 100}]}},
            ))
        now = datetime(2026, 5, 1, tzinfo=UTC)
        process(engine, records, register=register, now=now)
        news = [
            DocumentRecord(
                kind="news", source="news", source_key=f"https://paper.example/{i}",
                url=f"https://paper.example/{i}", title=f"Council told to pay £{950 + i}",
                body=f"{councils[i % len(councils)]} must pay Mr {chr(65 + i % 26)} "
                     f"£{rng.choice([100, 250, 950])}, the ombudsman said. " * 3,
                published_at=datetime(2026, 3, 1, tzinfo=UTC) + timedelta(hours=i),
            )
            for i in range(stories)
        ]
        from councilwatch.news_linking import link_documents

        cpu = time.process_time()
        report = process(engine, news, register=register, now=now)
        spent = time.process_time() - cpu
        cpu = time.process_time()
        link_documents(engine, register, list(report.upsert.ids.values()), now=now)
        linking = time.process_time() - cpu
        engine.dispose()
    return spent, linking, report.linked


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a smaller store")
    args = parser.parse_args()
    rows = []
    for name, cases in (("labelled set", CASES), ("rewritten by another paper", rewritten(CASES))):
        for label, linker in (("nearest decision", nearest), ("same sum", same_sum),
                              ("councilwatch", ours)):
            precision, recall = scores(linker, cases)
            rows.append((name, label, f"{precision:.2f}", f"{recall:.2f}"))
    print_table(f"Linking on {len(CASES)} labelled stories, {len(DECISIONS)} decisions",
                ("set", "linker", "precision", "recall"), rows)
    sizes = [(500, 50)] if args.quick else [(500, 50), (5000, 50)]
    cost_rows = []
    for decisions, stories in sizes:
        spent, linking, linked = pipeline_cost(decisions, stories)
        cost_rows.append((decisions, stories, f"{spent:.2f}", f"{linking:.2f}", linked))
    print_table("New stories through the pipeline (store, tag, match, link), CPU seconds",
                ("decisions stored", "new stories", "pipeline", "of which linking",
                 "stories linked"), cost_rows)


if __name__ == "__main__":
    main()
