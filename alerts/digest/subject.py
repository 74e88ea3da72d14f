"""The subject line: what is inside and for whom, readable in a phone's inbox list.

"3 decisions and 2 stories: Norfolk County Council, Cumberland Council and 1 more". At most two
council names are spelled out: inbox lists cut subjects at 40-70 characters and the counts come
first because they carry the news.
"""

from __future__ import annotations

from alerts.digest.model import Digest
from alerts.digest.wording import join_names, plural

MAX_NAMED_COUNCILS = 2


def council_summary(names: list[str]) -> str:
    """Name up to two councils: "A", "A and B", "A, B and 3 more"."""
    if len(names) <= MAX_NAMED_COUNCILS:
        return join_names(names)
    shown = names[:MAX_NAMED_COUNCILS]
    return f"{', '.join(shown)} and {len(names) - len(shown)} more"


def count_summary(decisions: int, stories: int) -> str:
    parts = []
    if decisions:
        parts.append(plural(decisions, "decision"))
    if stories:
        parts.append(plural(stories, "story"))
    return " and ".join(parts)


def digest_subject(digest: Digest) -> str:
    """Summarise ``digest`` in one line (councils in the order of its groups)."""
    counts = count_summary(digest.decision_count, digest.story_count)
    if counts:
        names = [group.council_name for group in digest.groups if group.items]
        return f"{counts}: {council_summary(names)}"
    if digest.catch_up:
        # A backfill alone: one summary instead of a flood, and say so in the subject.
        total = sum(line.count for line in digest.catch_up)
        names = [line.council_name for line in digest.catch_up]
        nouns = {line.noun for line in digest.catch_up}
        noun = nouns.pop() if len(nouns) == 1 else "document"
        return f"Catch-up: {plural(total, 'earlier ' + noun)} for {council_summary(names)}"
    return "No new decisions or stories"
