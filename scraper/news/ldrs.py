"""Local Democracy Reporting Service attribution.

LDRS stories are written by BBC-funded reporters placed with local publishers and then run by
many titles. They say so in the byline or a footer ("Local Democracy Reporter", "Local Democracy
Reporting Service", "(LDRS)"). Knowing it lets syndicated copies be expected and grouped.
"""

from __future__ import annotations

import re

# Words may be split across lines or non-breaking spaces in extracted text, hence \s+.
_LDRS = re.compile(
    r"\blocal\s+democracy\s+report(?:er|ers|ing\s+service|ing\s+scheme|ing)\b",
    re.IGNORECASE,
)
# The acronym alone, upper case only: "ldrs" in running text is not attribution.
_ACRONYM = re.compile(r"\bLDRS\b")


def is_ldrs(text: str) -> bool:
    """True when ``text`` (article text or byline) carries LDRS attribution."""
    return bool(_LDRS.search(text) or _ACRONYM.search(text))
