"""Name normalisation shared by the register's lookup and the recogniser.

One canonical form for a council name, so that "King's Lynn & West Norfolk",
"Kings Lynn and West Norfolk" and "KING’S LYNN AND WEST NORFOLK" are the same key:
case folded, "&" read as "and", "St"/"St." read as "saint", "King's"/"Kings" as "kings",
hyphens, commas and other punctuation read as one space, a leading "the" dropped.

``token_regex`` is the other half: it turns one canonical token back into a pattern that
accepts every spelling the canonical form collapses, so a regex built from canonical names
matches raw text without normalising the text first (offsets stay those of the input).
"""

from __future__ import annotations

import re

_APOSTROPHES = re.compile(r"[’‘`´]")
_KINGS = re.compile(r"\bking'?s\b")
_SAINT = re.compile(r"\bst\b\.?")
_NON_WORD = re.compile(r"[^\w']+")

# Between two tokens of a name: spaces (any, incl. line breaks), hyphens, dashes, a comma.
TOKEN_SEPARATOR = r"[\s,\-\u2010-\u2013]+"

# Canonical tokens that stand for several spellings in running text.
_TOKEN_PATTERNS = {
    "and": r"(?:and|&)",
    "saint": r"(?:saint|st\.?)",
    "kings": r"king['’]?s",
}


def canonical(name: str) -> str:
    """The lookup key of a name: see the module docstring for what it folds together."""
    text = _APOSTROPHES.sub("'", name.casefold())
    text = _KINGS.sub("kings", text)
    text = text.replace("&", " and ")
    text = _SAINT.sub("saint", text)
    text = _NON_WORD.sub(" ", text).replace("'", "")
    words = text.split()
    if words and words[0] == "the" and len(words) > 1:
        words = words[1:]
    return " ".join(words)


def token_regex(token: str) -> str:
    """The pattern for one canonical token (``and`` also accepts ``&``, and so on)."""
    return _TOKEN_PATTERNS.get(token) or re.escape(token)


def slug(name: str) -> str:
    """A stable id from a name: canonical form with hyphens ("King's Lynn" -> kings-lynn)."""
    return canonical(name).replace(" ", "-")
