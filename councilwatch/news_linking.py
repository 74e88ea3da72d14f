"""Link stored news stories to the stored decisions they report (alerts.news_links), both ways:
a new story is judged among the decisions about its councils before it, and a new decision
brings back the stories after it, each judged again among all of its candidates (so a story
stored before the decision it reports is linked when the decision arrives)."""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Engine

from alerts.councils import Register
from alerts.news_links import (
    MAX_LAG_DAYS,
    OMBUDSMAN_WORDS,
    DecisionFacts,
    StoryFacts,
    best_link,
    story_facts,
)
from db.links import LinkDocument, decisions_near, documents, replace_links, stories_near

log = logging.getLogger("councilwatch.news_linking")


def link_documents(
    engine: Engine, register: Register, ids: Collection[int], *, now: datetime
) -> int:
    """Judge the links of the stories among ``ids`` and of the stories near the decisions among
    them; returns how many stories are linked now."""
    if not ids:
        return 0
    lag = timedelta(days=MAX_LAG_DAYS)
    new = documents(engine, ids)
    stories = {doc.id: doc for doc in new if doc.kind == "news"}
    windows = [
        (_expand(register, doc.councils), doc.day, doc.day + lag)
        for doc in new
        if doc.kind == "decision" and doc.day is not None
    ]
    if windows:
        # One query for all the batch's new decisions (their councils, the span of their
        # windows), then each story kept if it falls in some decision's own window: a query
        # per decision read the same stories' bodies again and again (on PostgreSQL 0.3 s
        # each, most of a full-size cycle).
        near = stories_near(
            engine,
            frozenset().union(*(councils for councils, _, _ in windows)),
            first=min(first for _, first, _ in windows),
            last=max(last for _, _, last in windows),
            containing=OMBUDSMAN_WORDS,  # only those can report it (mentions_ombudsman)
        )
        stories.update(
            (story.id, story)
            for story in near
            if any(
                story.day is not None
                and first <= story.day <= last
                and not councils.isdisjoint(story.councils)
                for councils, first, last in windows
            )
        )
    facts: list[StoryFacts] = []
    for story in stories.values():
        councils = _expand(register, story.councils)
        if story.day is None or not councils:
            continue
        said = story_facts(story.id, story.text, councils=councils, published=story.day)
        if said.mentions_ombudsman:
            facts.append(said)
    links: dict[int, tuple[int, float, tuple[str, ...]] | None] = {}
    if facts:
        # One query for the whole batch: the decisions about any of its councils in its
        # window; each story is then judged among those its own gates admit.
        candidates = [
            _decision_facts(register, decision)
            for decision in decisions_near(
                engine,
                frozenset().union(*(f.councils for f in facts)),
                first=min(f.published for f in facts) - lag,
                last=max(f.published for f in facts),
            )
        ]
        for said in facts:
            admitted = [d for d in candidates if not d.councils.isdisjoint(said.councils)]
            link = best_link(said, admitted)
            links[int(said.id)] = (
                None if link is None else (int(link.decision_id), link.score, link.reasons)
            )
    linked = replace_links(engine, links, now=now)
    if linked:
        log.debug("linked %d stories to decisions they report", linked)
    return linked


def _expand(register: Register, councils: Collection[str]) -> frozenset[str]:
    known = [c for c in councils if c in register]
    return frozenset(councils) | register.expand(known, county_wide=False)


def _decision_facts(register: Register, doc: LinkDocument) -> DecisionFacts:
    said = story_facts(doc.id, doc.text, councils=(), published=doc.day or date.min)
    return DecisionFacts(
        id=doc.id,
        reference=doc.reference or "",
        councils=_expand(register, doc.councils),
        decided_on=doc.day or date.min,
        outcome=doc.outcome,
        category=doc.category,
        amounts_pence=_ordered(doc.extra),
        complainants=said.complainants,
    )


def _ordered(extra: Mapping[str, Any]) -> frozenset[int]:
    """The sums a stored decision ordered (each payment and their total), in pence."""
    remedies = extra.get("remedies") or {}
    amounts = {
        int(p["amount_pence"])
        for p in remedies.get("payments", ())
        if isinstance(p, Mapping) and isinstance(p.get("amount_pence"), int)
    }
    if amounts:
        amounts.add(sum(int(p["amount_pence"]) for p in remedies.get("payments", ())))
    return frozenset(amounts)
