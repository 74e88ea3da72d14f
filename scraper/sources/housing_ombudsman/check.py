"""The Housing Ombudsman's ``Source.check``: archive page 1 and its first decision page.

``councilwatch sources check housing-ombudsman`` after deploying: every field each parse
found, each request's time, and what a digest needs that is missing (the case id, the
landlord, the decision date, the findings and so the outcome). Nothing is stored.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date

from scraper.fetcher import Fetcher
from scraper.sources.base import CheckField, CheckReport, CheckSection
from scraper.sources.check import check_decision, run_step
from scraper.sources.housing_ombudsman.archive import archive_url, parse_archive
from scraper.sources.housing_ombudsman.decision import parse_decision
from scraper.sources.housing_ombudsman.models import ArchivePage, HoDecision


def decision_fields(decision: HoDecision) -> list[CheckField]:
    """Every field of a decision as printed, flagged when a digest needs it."""
    findings = " | ".join(f"{f.complaint}: {f.finding.value}" for f in decision.findings)
    remedies = " | ".join(
        f"{r.kind} £{r.amount_pence / 100:,.2f}" if r.amount_pence else r.kind
        for r in decision.remedies
    )
    return [
        CheckField("case id", decision.case_id, True),
        CheckField("landlord", decision.landlord, True),
        CheckField("title", decision.title),
        CheckField("url", decision.url, True),
        CheckField("landlord type", decision.landlord_type or ""),
        CheckField("decision type", decision.decision_type or ""),
        CheckField("jurisdiction", decision.jurisdiction or ""),
        CheckField("occupancy", decision.occupancy or ""),
        CheckField("decision date", decision.decision_date.isoformat(), True),
        CheckField("layout", decision.layout),
        CheckField("outcome", decision.outcome.value if decision.findings else "", True),
        CheckField("findings", findings, True),
        CheckField("remedies", remedies),
        CheckField("compensation", f"£{decision.compensation_pence / 100:,.2f}"),
        CheckField("summary", decision.summary),
        CheckField("sections", " | ".join(s.heading or "(untitled)" for s in decision.sections)),
    ]


def check_site(
    client: Fetcher,
    *,
    base_url: str,
    today: date,
    timer: Callable[[], float] = time.perf_counter,
) -> CheckReport:
    report = CheckReport(base_url=base_url)
    archive = run_step(
        report, "archive", archive_url(base_url.rstrip("/"), 1), client, parse_archive, timer
    )
    if not isinstance(archive, ArchivePage):
        return report
    report.sections.append(
        CheckSection(
            f"archive: page {archive.page} of {archive.last_page}, "
            f"{len(archive.entries)} decisions listed"
        )
    )
    if not archive.entries:
        report.missing.append("archive: no decision listed on page 1")
        return report
    entry = archive.entries[0]
    report.sections.append(
        CheckSection(
            "first entry:",
            [
                CheckField("case id", entry.case_id),
                CheckField("title", entry.title),
                CheckField("url", entry.url),
            ],
        )
    )
    check_decision(
        report,
        entry.url,
        client,
        lambda content, got: parse_decision(content, got, today=today),
        decision_fields,
        timer,
    )
    return report
